//! Corpora read from where RAG teams keep them, and the audit's findings written back there.
//!
//! A store is a database of rows (id, text, vector, metadata) behind one trait, [`Store`]:
//! it names the columns it has, streams the rows in batches (never the whole table as one
//! result), and takes the per-row findings back ([`WriteBack`]) without touching the user's
//! vectors or texts. [`open`] picks the store by the URL's scheme:
//!
//! - `postgres://user@host:port/db` (or `postgresql://`): PostgreSQL, with `table` or
//!   `query` in [`StoreOptions`]; vectors in pgvector `vector` or `halfvec` columns, or plain
//!   `real[]` / `double precision[]`; read with one binary `COPY ... TO STDOUT`; written back
//!   into a table of its own in one transaction ([`postgres`]).
//! - `chroma://host:port/COLLECTION`: a Chroma server's REST API, paged `get` requests;
//!   written back into metadata fields under an `embedscope_` prefix ([`chroma`]).
//!
//! A new store is one file implementing [`Store`] and one line in [`open`].
//!
//! Secrets (a password in the URL, `PGPASSWORD`, `.pgpass`, `CHROMA_API_KEY`) never appear in
//! [`Store::location`], errors, logs or `Debug`: the location is the URL without them.

pub mod chroma;
#[cfg(feature = "postgres")]
pub mod postgres;

use std::path::Path;

use crate::error::{Error, Result};
use crate::io::{resolve_columns, Corpus, LoadOptions, Location, Sink};

/// Schemes [`open`] knows.
pub const SCHEMES: [&str; 3] = ["postgres://", "postgresql://", "chroma://"];

/// Whether `input` names a store rather than a file.
pub fn is_store(input: &str) -> bool {
    SCHEMES.iter().any(|s| input.starts_with(s))
}

/// What to read from a store besides the columns of [`LoadOptions`].
#[derive(Debug, Clone, PartialEq)]
pub struct StoreOptions {
    /// Postgres: the table (optionally `schema.table`).
    pub table: Option<String>,
    /// Postgres: a `SELECT` whose rows are the corpus (instead of `table`).
    pub query: Option<String>,
    /// Rows per batch read (and per request written back to Chroma). Default 10,000.
    pub batch_rows: usize,
    /// Chroma tenant. Default `default_tenant`.
    pub tenant: String,
    /// Chroma database. Default `default_database`.
    pub database: String,
    /// Give up connecting after this long. Default 5 s.
    pub connect_timeout: std::time::Duration,
    /// Postgres: the write-back table (default `embedscope_audit`).
    pub write_back_table: Option<String>,
    /// Postgres: the column rows are read in order of (the server sorts). None: a table's
    /// rows in order of their ids, sorted here after a read in the table's physical order
    /// (which changes with every update and vacuum, so an audit would not repeat; a sort
    /// here costs far less than one on the server), a query's rows in its own order;
    /// `none`: the physical order, unsorted.
    pub order_by: Option<String>,
}

impl Default for StoreOptions {
    fn default() -> Self {
        StoreOptions {
            table: None,
            query: None,
            batch_rows: 10_000,
            tenant: "default_tenant".into(),
            database: "default_database".into(),
            connect_timeout: std::time::Duration::from_secs(5),
            write_back_table: None,
            order_by: None,
        }
    }
}

/// A column of a store as the store reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoreColumn {
    /// Its name.
    pub name: String,
    /// The store's type name (`vector`, `halfvec`, `real[]`, `text`, `metadata`, ...).
    pub kind: String,
}

/// The columns a read asks the store for (resolved against [`Store::columns`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReadColumns {
    /// The id column (None: the row number).
    pub id: Option<String>,
    /// The text column.
    pub text: Option<String>,
    /// The vector column.
    pub vector: Option<String>,
    /// The label column.
    pub label: Option<String>,
}

/// One row as a store hands it over.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Record {
    /// Its id (None when no id column is read, or the id is NULL).
    pub id: Option<String>,
    /// Its text.
    pub text: Option<String>,
    /// Its label.
    pub label: Option<String>,
    /// Its vector (None when NULL).
    pub vector: Option<Vec<f32>>,
}

/// Per-row findings to write back, keyed by the store's id: one value per row of each column.
#[derive(Debug, Clone, PartialEq)]
pub struct WriteBack {
    /// The rows' ids in the store.
    pub ids: Vec<String>,
    /// The columns, each as long as `ids`.
    pub columns: Vec<(String, Values)>,
    /// The audit's id (written beside every row).
    pub audit_id: String,
}

/// One write-back column's values.
#[derive(Debug, Clone, PartialEq)]
pub enum Values {
    /// Integers.
    Int(Vec<Option<i64>>),
    /// Floating-point numbers.
    Float(Vec<Option<f64>>),
    /// Booleans.
    Bool(Vec<Option<bool>>),
    /// Texts.
    Text(Vec<Option<String>>),
}

impl Values {
    fn len(&self) -> usize {
        match self {
            Values::Int(v) => v.len(),
            Values::Float(v) => v.len(),
            Values::Bool(v) => v.len(),
            Values::Text(v) => v.len(),
        }
    }
}

impl WriteBack {
    /// The rows of a table (polars), keyed by its `id_column`; every other column is written.
    /// Unsigned and signed integers become `Int`, floats `Float`, booleans `Bool`, strings
    /// `Text`; any other type is refused, naming the column.
    pub fn from_frame(
        frame: &polars::prelude::DataFrame,
        id_column: &str,
        audit_id: impl Into<String>,
    ) -> Result<WriteBack> {
        use polars::prelude::DataType;
        let table_err = |context: String| {
            move |source: polars::error::PolarsError| Error::Table { context, source }
        };
        let id = frame
            .column(id_column)
            .map_err(table_err(format!("write-back: column `{id_column}`")))?;
        let ids: Vec<String> = id
            .str()
            .map_err(table_err(format!("write-back: column `{id_column}`")))?
            .iter()
            .enumerate()
            .map(|(r, v)| {
                v.map(str::to_string)
                    .ok_or_else(|| Error::Unsupported(format!("write-back: row {r} has no id")))
            })
            .collect::<Result<_>>()?;
        let mut columns = Vec::new();
        for c in frame.columns() {
            let name = c.name().to_string();
            if name == id_column {
                continue;
            }
            let err = table_err(format!("write-back: column `{name}`"));
            let values = match c.dtype() {
                DataType::UInt8
                | DataType::UInt16
                | DataType::UInt32
                | DataType::UInt64
                | DataType::Int8
                | DataType::Int16
                | DataType::Int32
                | DataType::Int64 => {
                    let c = c.cast(&DataType::Int64).map_err(err)?;
                    Values::Int(c.i64().expect("cast to i64").iter().collect())
                }
                DataType::Float32 | DataType::Float64 => {
                    let c = c.cast(&DataType::Float64).map_err(err)?;
                    Values::Float(c.f64().expect("cast to f64").iter().collect())
                }
                DataType::Boolean => Values::Bool(c.bool().map_err(err)?.iter().collect()),
                DataType::String => Values::Text(
                    c.str()
                        .map_err(err)?
                        .iter()
                        .map(|v| v.map(str::to_string))
                        .collect(),
                ),
                other => {
                    return Err(Error::Unsupported(format!(
                        "write-back: column `{name}` is of type {other}, which no store takes"
                    )))
                }
            };
            columns.push((name, values));
        }
        let wb = WriteBack {
            ids,
            columns,
            audit_id: audit_id.into(),
        };
        wb.check()?;
        Ok(wb)
    }

    /// Every column as long as the ids; the column names unique and not the reserved ones.
    pub fn check(&self) -> Result<()> {
        for (name, v) in &self.columns {
            if v.len() != self.ids.len() {
                return Err(Error::param(
                    "write_back",
                    name,
                    format!("has {} values for {} ids", v.len(), self.ids.len()),
                ));
            }
            if ["id", "source", "audit_id", "audited_at"].contains(&name.as_str()) {
                return Err(Error::param(
                    "write_back",
                    name,
                    "is a reserved column name",
                ));
            }
        }
        Ok(())
    }
}

/// What a write-back did.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct WriteBackSummary {
    /// Where (the store's location and its table or field prefix).
    pub target: String,
    /// Rows written.
    pub rows: usize,
    /// Columns (or metadata fields) written per row.
    pub columns: Vec<String>,
}

/// A store of rows: a database table, a collection. `Debug` shows its location only, never a
/// secret.
pub trait Store: std::fmt::Debug {
    /// Where it is, for messages and the report: the URL without secrets, and what is read.
    fn location(&self) -> String;
    /// The columns rows can be read from.
    fn columns(&mut self) -> Result<Vec<StoreColumn>>;
    /// Streams the rows, `batch` at a time, to `out` (which owns them); `out` may stop the
    /// read with an error.
    /// Vectors of half floats are handed over as f32 (exact) with `half` true in the result.
    fn read(
        &mut self,
        columns: &ReadColumns,
        batch: usize,
        out: &mut dyn FnMut(Vec<Record>) -> Result<()>,
    ) -> Result<ReadSummary>;
    /// Writes `rows` back, replacing this store's previous write-back for the same rows.
    fn write_back(&mut self, rows: &WriteBack) -> Result<WriteBackSummary>;
}

/// What a read found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ReadSummary {
    /// Rows read.
    pub rows: usize,
    /// The vectors were stored as half floats.
    pub half: bool,
    /// The rows came in no defined order: [`load`] puts them in order of their ids.
    pub sort_by_id: bool,
}

/// Opens the store `url` names (see the module's documentation).
pub fn open(url: &str, options: &StoreOptions) -> Result<Box<dyn Store>> {
    if url.starts_with("chroma://") {
        return Ok(Box::new(chroma::Chroma::open(url, options)?));
    }
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        #[cfg(feature = "postgres")]
        return Ok(Box::new(postgres::Postgres::open(url, options)?));
        #[cfg(not(feature = "postgres"))]
        return Err(Error::Unsupported(format!(
            "{}: this build has no Postgres support (the `postgres` feature)",
            redact_url(url)
        )));
    }
    Err(Error::Unsupported(format!(
        "{}: not a store URL (expected one of {})",
        redact_url(url),
        SCHEMES.join(", ")
    )))
}

/// Reads a store into a corpus, checked as files are (texts present, vectors of one
/// dimension, finite), each bad row named by its row number and id.
///
/// ```no_run
/// use embedscope::io::LoadOptions;
/// use embedscope::store::{load, open, StoreOptions};
/// let options = StoreOptions { table: Some("chunks".into()), ..Default::default() };
/// let mut store = open("postgres://rag@127.0.0.1:5432/docs", &options)?;
/// let corpus = load(store.as_mut(), &LoadOptions::default(), options.batch_rows)?;
/// # Ok::<(), embedscope::Error>(())
/// ```
pub fn load(store: &mut dyn Store, options: &LoadOptions, batch: usize) -> Result<Corpus> {
    let location = store.location();
    let source = Path::new(&location);
    let names: Vec<String> = store.columns()?.into_iter().map(|c| c.name).collect();
    let (cols, id) = resolve_columns(source, &names, options)?;
    let read = ReadColumns {
        id: id.map(str::to_string),
        text: cols.text.map(str::to_string),
        vector: cols.vector.map(str::to_string),
        label: cols.label.map(str::to_string),
    };
    let mut sink = Sink::new(source, cols).with_ids_in_errors();
    let mut row = 0usize;
    let summary = store.read(&read, batch.max(1), &mut |records| {
        for r in records {
            sink.push(
                Location::Row(row),
                r.id,
                r.text,
                r.label,
                r.vector.as_deref(),
            )?;
            row += 1;
        }
        Ok(())
    })?;
    if summary.half {
        sink.keep_half();
    }
    if summary.sort_by_id && read.id.is_some() {
        sink.sort_by_id();
    }
    sink.finish()
}

/// `url` without a password: the user info's `:password` and any `password=` parameter
/// dropped, for messages written before the URL is parsed.
///
/// ```
/// use embedscope::store::redact_url;
/// assert_eq!(redact_url("postgres://ann:s3cret@db:5432/x"), "postgres://ann@db:5432/x");
/// assert_eq!(redact_url("postgres://db/x?password=s3cret&sslmode=disable"), "postgres://db/x?sslmode=disable");
/// ```
pub fn redact_url(url: &str) -> String {
    let (scheme, rest) = match url.find("://") {
        Some(at) => (&url[..at + 3], &url[at + 3..]),
        None => ("", url),
    };
    let (authority, tail) = match rest.find(['/', '?']) {
        Some(at) => (&rest[..at], &rest[at..]),
        None => (rest, ""),
    };
    let authority = match authority.rfind('@') {
        Some(at) => {
            let user = &authority[..at];
            let user = user.split(':').next().unwrap_or("");
            format!("{user}@{}", &authority[at + 1..])
        }
        None => authority.to_string(),
    };
    let tail = match tail.find('?') {
        Some(q) => {
            let kept: Vec<&str> = tail[q + 1..]
                .split('&')
                .filter(|p| !p.to_ascii_lowercase().starts_with("password="))
                .collect();
            if kept.is_empty() {
                tail[..q].to_string()
            } else {
                format!("{}?{}", &tail[..q], kept.join("&"))
            }
        }
        None => tail.to_string(),
    };
    format!("{scheme}{authority}{tail}")
}

/// A store's `Debug`: its type and location, nothing else (no client, no secret).
pub(crate) fn debug_location(
    f: &mut std::fmt::Formatter<'_>,
    name: &str,
    store: &dyn Store,
) -> std::fmt::Result {
    f.debug_struct(name)
        .field("location", &store.location())
        .finish()
}

/// An error with its causes, each once: `connecting: refused` rather than the outer message
/// alone (clients such as reqwest and tokio-postgres keep the reason in the sources).
pub(crate) fn with_causes(e: &dyn std::error::Error) -> String {
    let mut m = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        let more = s.to_string();
        if !m.contains(&more) {
            m += &format!(": {more}");
        }
        source = s.source();
    }
    m
}

/// The store error: `location: message`.
pub(crate) fn store_error(location: &str, message: impl Into<String>) -> Error {
    Error::Store {
        store: location.to_string(),
        message: message.into(),
    }
}
