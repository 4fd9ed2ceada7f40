//! Reading corpora and writing tables.
//!
//! A corpus is a JSONL, CSV or Parquet table with a text column (default `text`), optionally an
//! id column and a precomputed vector column; or a `.npy` matrix of vectors alone. [`load`]
//! reads any of them into a [`Corpus`], streaming row by row where the format allows, and
//! reports the first bad value with its file, line or row, and column.

mod atomic;
mod csv_table;
pub(crate) mod frame;
mod jsonl;
mod memory;
pub mod npy;
mod parquet;
mod shards;
mod sink;
mod tables;

use std::path::{Path, PathBuf};

pub use atomic::{remove_unfinished, write_atomic};
pub use memory::{from_columns, resolve, ColumnCells, ResolvedColumns, RowRanges};
pub use parquet::{vector_batches, write_vectors_parquet, VectorBatches};
pub use shards::shard_paths;
pub(crate) use sink::{resolve_columns, Location, Sink};
pub use tables::{
    pairs_frame, parquet_bytes, read_assignments, write_assignments, write_coordinates,
    write_corpus_rows, write_groups, write_pairs,
};
pub(crate) use tables::{write_frame, write_parquet};

use crate::embeddings::Embeddings;
use crate::error::{Error, Result};

/// Column names tried, in order, for precomputed vectors when none is named.
pub const DEFAULT_VECTOR_COLUMNS: [&str; 2] = ["embedding", "vector"];

/// What to read from a corpus file.
#[derive(Debug, Clone)]
pub struct LoadOptions {
    /// Column holding the texts. Default `text`. A file without it must carry vectors.
    pub text_column: String,
    /// Column holding document ids. Default: `id` when present, else the row number.
    pub id_column: Option<String>,
    /// Column holding precomputed vectors (list of floats). Default: `embedding` or `vector`
    /// when present. Must exist when named.
    pub vector_column: Option<String>,
    /// Column holding reference labels (for example Debian's `section`), if any. Must exist
    /// when named.
    pub label_column: Option<String>,
}

impl Default for LoadOptions {
    fn default() -> Self {
        LoadOptions {
            text_column: "text".into(),
            id_column: None,
            vector_column: None,
            label_column: None,
        }
    }
}

/// A loaded corpus: ids, texts and/or vectors, row-aligned.
#[derive(Debug, Clone)]
pub struct Corpus {
    /// The file it came from.
    pub source: PathBuf,
    /// One id per row.
    pub ids: Vec<String>,
    /// The texts, if the file has a text column.
    pub texts: Option<Vec<String>>,
    /// Reference labels, if a label column was asked for.
    pub labels: Option<Vec<String>>,
    /// Precomputed vectors, validated and normalised, if the file carries them.
    pub vectors: Option<Embeddings>,
}

impl Corpus {
    /// Number of rows.
    pub fn len(&self) -> usize {
        self.ids.len()
    }

    /// Whether the corpus has no rows (never true for a loaded corpus).
    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }

    /// The corpus' rows `rows`, in that order (ids, texts, labels and vectors alike): a
    /// snapshot, a sample, one cluster. Panics on a row out of range.
    pub fn select(&self, rows: &[usize]) -> Corpus {
        let pick = |v: &Vec<String>| rows.iter().map(|&r| v[r].clone()).collect();
        Corpus {
            source: self.source.clone(),
            ids: pick(&self.ids),
            texts: self.texts.as_ref().map(pick),
            labels: self.labels.as_ref().map(pick),
            vectors: self.vectors.as_ref().map(|v| v.select(rows)),
        }
    }

    /// A corpus built in memory from texts, with ids `0..n`.
    pub fn from_texts<S: Into<String>>(texts: impl IntoIterator<Item = S>) -> Self {
        let texts: Vec<String> = texts.into_iter().map(Into::into).collect();
        Corpus {
            source: PathBuf::from("<memory>"),
            ids: (0..texts.len()).map(|i| i.to_string()).collect(),
            texts: Some(texts),
            labels: None,
            vectors: None,
        }
    }
}

/// Input formats, by file extension.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// One JSON object per line.
    Jsonl,
    /// Comma-separated with a header row.
    Csv,
    /// Apache Parquet.
    Parquet,
    /// A numpy matrix.
    Npy,
}

impl Format {
    /// The format a path's extension names.
    pub fn from_path(path: &Path) -> Result<Format> {
        let ext = path
            .extension()
            .and_then(|e| e.to_str())
            .unwrap_or("")
            .to_ascii_lowercase();
        match ext.as_str() {
            "jsonl" | "ndjson" => Ok(Format::Jsonl),
            "csv" => Ok(Format::Csv),
            "parquet" | "pq" => Ok(Format::Parquet),
            "npy" => Ok(Format::Npy),
            _ => Err(Error::UnsupportedFormat {
                path: path.to_path_buf(),
                extension: ext,
            }),
        }
    }
}

/// Loads a corpus file, or a Parquet dataset in shards (a folder of `.parquet` files, or a
/// glob such as `data/train-*.parquet`; see [`shard_paths`]). See [`LoadOptions`] for the
/// columns read.
///
/// ```no_run
/// use embedscope::io::{load, LoadOptions};
/// let corpus = load("samples/debian-2k.parquet".as_ref(), &LoadOptions::default())?;
/// println!("{} rows, vectors: {}", corpus.len(), corpus.vectors.is_some());
/// # Ok::<(), embedscope::Error>(())
/// ```
pub fn load(path: &Path, options: &LoadOptions) -> Result<Corpus> {
    let corpus = if shards::is_sharded(path) {
        shards::load(path, options)?
    } else {
        let format = Format::from_path(path)?;
        if !path.is_file() {
            return Err(Error::FileNotFound {
                path: path.to_path_buf(),
            });
        }
        match format {
            Format::Jsonl => jsonl::load(path, options)?,
            Format::Csv => csv_table::load(path, options)?,
            Format::Parquet => parquet::load(path, options)?,
            Format::Npy => load_npy(path)?,
        }
    };
    if corpus.is_empty() {
        return Err(Error::EmptyCorpus {
            path: path.to_path_buf(),
        });
    }
    Ok(corpus)
}

fn load_npy(path: &Path) -> Result<Corpus> {
    let (values, rows, cols) = npy::read_npy_values(path)?;
    if rows == 0 {
        return Err(Error::EmptyCorpus {
            path: path.to_path_buf(),
        });
    }
    // Half floats stay half: half the memory for every pass over the corpus.
    let vectors = match values {
        npy::NpyValues::F32(v) => Embeddings::new(v, cols),
        npy::NpyValues::F16(v) => Embeddings::new_half(v, cols),
    }
    .map_err(|e| Error::Malformed {
        path: path.to_path_buf(),
        location: e
            .row()
            .map_or_else(|| "data".into(), |r| format!("row {r}")),
        message: e.to_string(),
    })?;
    Ok(Corpus {
        source: path.to_path_buf(),
        ids: (0..rows).map(|i| i.to_string()).collect(),
        texts: None,
        labels: None,
        vectors: Some(vectors),
    })
}

/// Comma-separated column names, for error messages.
fn list_columns<'a>(names: impl IntoIterator<Item = &'a str>) -> String {
    let v: Vec<&str> = names.into_iter().collect();
    if v.is_empty() {
        "none".into()
    } else {
        v.join(", ")
    }
}
