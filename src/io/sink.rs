//! Row accumulator shared by the table readers: one place checks what every format must satisfy
//! (texts present, vectors of equal length and finite) and words the errors the same way.

use std::fmt;
use std::path::{Path, PathBuf};

use super::Corpus;
use crate::embeddings::Embeddings;
use crate::error::{Error, Result};

/// Where a row came from, for error messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Location {
    /// 1-based line of a text file.
    Line(u64),
    /// 0-based row of a binary table.
    Row(usize),
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Location::Line(l) => write!(f, "line {l}"),
            Location::Row(r) => write!(f, "row {r}"),
        }
    }
}

/// Which columns the file turned out to have.
pub(crate) struct Columns<'a> {
    pub text: Option<&'a str>,
    pub vector: Option<&'a str>,
    pub label: Option<&'a str>,
}

pub(crate) struct Sink<'a> {
    path: &'a Path,
    cols: Columns<'a>,
    ids: Vec<String>,
    texts: Vec<String>,
    labels: Vec<String>,
    vectors: Vec<f32>,
    /// Keep the vectors as half floats (they were read from half floats).
    half: bool,
    dim: Option<(usize, Location)>,
    locations: Vec<Location>,
}

impl<'a> Sink<'a> {
    pub fn new(path: &'a Path, cols: Columns<'a>) -> Self {
        Sink {
            path,
            cols,
            ids: Vec::new(),
            texts: Vec::new(),
            labels: Vec::new(),
            vectors: Vec::new(),
            half: false,
            dim: None,
            locations: Vec::new(),
        }
    }

    /// The (text, vector, label) columns this sink expects.
    pub fn columns(&self) -> (Option<&'a str>, Option<&'a str>, Option<&'a str>) {
        (self.cols.text, self.cols.vector, self.cols.label)
    }

    pub fn error(&self, at: Location, message: impl Into<String>) -> Error {
        Error::Malformed {
            path: self.path.to_path_buf(),
            location: at.to_string(),
            message: message.into(),
        }
    }

    /// Adds one row. `id` defaults to the row number; `text`, `label` and `vector` must be
    /// present exactly when their columns are.
    pub fn push(
        &mut self,
        at: Location,
        id: Option<String>,
        text: Option<String>,
        label: Option<String>,
        vector: Option<&[f32]>,
    ) -> Result<()> {
        if let Some(col) = self.cols.text {
            let t =
                text.ok_or_else(|| self.error(at, format!("column `{col}` is missing or null")))?;
            self.texts.push(t);
        }
        if let Some(col) = self.cols.label {
            let l = label
                .ok_or_else(|| self.error(at, format!("column `{col}` is missing or null")))?;
            self.labels.push(l);
        }
        if let Some(col) = self.cols.vector {
            let v = vector
                .ok_or_else(|| self.error(at, format!("column `{col}` is missing or null")))?;
            match self.dim {
                None => self.dim = Some((v.len(), at)),
                Some((d, first)) if d != v.len() => {
                    return Err(self.error(
                        at,
                        format!(
                            "column `{col}` has {} values, expected {d} like {first}",
                            v.len()
                        ),
                    ))
                }
                Some(_) => {}
            }
            if let Some(i) = v.iter().position(|x| !x.is_finite()) {
                return Err(self.error(
                    at,
                    format!("column `{col}`, element {i}: value {} is not finite", v[i]),
                ));
            }
            self.vectors.extend_from_slice(v);
            self.locations.push(at);
        }
        self.ids
            .push(id.unwrap_or_else(|| self.ids.len().to_string()));
        Ok(())
    }

    /// The vectors were read from half floats: keep them half ([`Embeddings::new_half`]); the
    /// values round-trip exactly.
    pub fn keep_half(&mut self) {
        self.half = true;
    }

    pub fn finish(self) -> Result<Corpus> {
        let path: PathBuf = self.path.to_path_buf();
        if self.ids.is_empty() {
            return Err(Error::EmptyCorpus { path });
        }
        let vectors = match (self.cols.vector, self.dim) {
            (Some(col), Some((dim, at))) => {
                if dim == 0 {
                    return Err(Error::Malformed {
                        path,
                        location: at.to_string(),
                        message: format!("column `{col}` holds an empty vector"),
                    });
                }
                let locations = self.locations;
                Some(
                    Embeddings::new_as(self.vectors, dim, self.half).map_err(|e| {
                        Error::Malformed {
                            path: path.clone(),
                            location: e
                                .row()
                                .and_then(|r| locations.get(r))
                                .map_or_else(|| "data".into(), |l| l.to_string()),
                            message: format!("column `{col}`: {e}"),
                        }
                    })?,
                )
            }
            _ => None,
        };
        Ok(Corpus {
            source: path,
            ids: self.ids,
            texts: self.cols.text.map(|_| self.texts),
            labels: self.cols.label.map(|_| self.labels),
            vectors,
        })
    }
}

/// Resolves which of the requested/default columns a file has, given its column names.
pub(crate) fn resolve_columns<'o>(
    path: &Path,
    names: &[String],
    options: &'o super::LoadOptions,
) -> Result<(Columns<'o>, Option<&'o str>)> {
    let has = |c: &str| names.iter().any(|n| n == c);
    let missing = |c: &str| Error::MissingColumn {
        path: path.to_path_buf(),
        column: c.to_string(),
        available: super::list_columns(names.iter().map(String::as_str)),
    };
    let vector = match &options.vector_column {
        Some(c) if has(c) => Some(c.as_str()),
        Some(c) => return Err(missing(c)),
        None => super::DEFAULT_VECTOR_COLUMNS
            .iter()
            .copied()
            .find(|c| has(c)),
    };
    let text = if has(&options.text_column) {
        Some(options.text_column.as_str())
    } else if vector.is_some() {
        None
    } else {
        return Err(missing(&options.text_column));
    };
    let label = match &options.label_column {
        Some(c) if has(c) => Some(c.as_str()),
        Some(c) => return Err(missing(c)),
        None => None,
    };
    let id = match &options.id_column {
        Some(c) if has(c) => Some(c.as_str()),
        Some(c) => return Err(missing(c)),
        None if has("id") => Some("id"),
        None => None,
    };
    Ok((
        Columns {
            text,
            vector,
            label,
        },
        id,
    ))
}
