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
    /// Name each bad row's id beside its row number (a store's rows have no line to name).
    ids_in_errors: bool,
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
            ids_in_errors: false,
        }
    }

    /// Errors name the row's id too: `row 17 (id "doc-17")`.
    pub fn with_ids_in_errors(mut self) -> Self {
        self.ids_in_errors = true;
        self
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

    /// [`error`](Self::error), naming the row's id when the sink names ids.
    fn row_error(&self, at: Location, id: Option<&str>, message: impl Into<String>) -> Error {
        match (self.ids_in_errors, id) {
            (true, Some(id)) => Error::Malformed {
                path: self.path.to_path_buf(),
                location: format!("{at} (id {id:?})"),
                message: message.into(),
            },
            _ => self.error(at, message),
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
        let named = id.as_deref();
        if let Some(col) = self.cols.text {
            let t = text.ok_or_else(|| {
                self.row_error(at, named, format!("column `{col}` is missing or null"))
            })?;
            self.texts.push(t);
        }
        if let Some(col) = self.cols.label {
            let l = label.ok_or_else(|| {
                self.row_error(at, named, format!("column `{col}` is missing or null"))
            })?;
            self.labels.push(l);
        }
        if let Some(col) = self.cols.vector {
            let v = vector.ok_or_else(|| {
                self.row_error(at, named, format!("column `{col}` is missing or null"))
            })?;
            match self.dim {
                None => self.dim = Some((v.len(), at)),
                Some((d, first)) if d != v.len() => {
                    return Err(self.row_error(
                        at,
                        named,
                        format!(
                            "column `{col}` has {} values, expected {d} like {first}",
                            v.len()
                        ),
                    ))
                }
                Some(_) => {}
            }
            if let Some(i) = v.iter().position(|x| !x.is_finite()) {
                return Err(self.row_error(
                    at,
                    named,
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

    /// Puts the rows in order of their ids (numerically when every id is an integer, else by
    /// bytes; ties keep their order), in place: a store's physical order changes with every
    /// update, the ids' does not. The vectors move one row at a time (no second copy).
    pub fn sort_by_id(&mut self) {
        let n = self.ids.len();
        let mut order: Vec<usize> = (0..n).collect();
        let numeric: Option<Vec<i64>> = self.ids.iter().map(|s| s.parse().ok()).collect();
        match &numeric {
            Some(keys) => order.sort_by_key(|&i| keys[i]),
            None => order.sort_by(|&a, &b| self.ids[a].cmp(&self.ids[b])),
        }
        if order.iter().enumerate().all(|(i, &o)| i == o) {
            return;
        }
        fn permute<T>(v: &mut Vec<T>, order: &[usize]) {
            if v.len() != order.len() {
                return;
            }
            let mut old: Vec<Option<T>> = std::mem::take(v).into_iter().map(Some).collect();
            *v = order
                .iter()
                .map(|&i| old[i].take().expect("a permutation"))
                .collect();
        }
        permute(&mut self.ids, &order);
        permute(&mut self.texts, &order);
        permute(&mut self.labels, &order);
        permute(&mut self.locations, &order);
        if let Some((dim, _)) = self.dim {
            if self.vectors.len() == n * dim && dim > 0 {
                // Row i takes row order[i]: follow each cycle with one spare row.
                let mut done = vec![false; n];
                let mut spare = vec![0f32; dim];
                for start in 0..n {
                    if done[start] || order[start] == start {
                        done[start] = true;
                        continue;
                    }
                    spare.copy_from_slice(&self.vectors[start * dim..(start + 1) * dim]);
                    let mut at = start;
                    loop {
                        done[at] = true;
                        let from = order[at];
                        if from == start {
                            self.vectors[at * dim..(at + 1) * dim].copy_from_slice(&spare);
                            break;
                        }
                        self.vectors
                            .copy_within(from * dim..(from + 1) * dim, at * dim);
                        at = from;
                    }
                }
            }
        }
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

#[cfg(test)]
mod tests {
    use super::*;

    fn sink_of(ids: &[&str]) -> Sink<'static> {
        let mut s = Sink::new(
            Path::new("store"),
            Columns {
                text: Some("text"),
                vector: Some("embedding"),
                label: None,
            },
        );
        for (r, id) in ids.iter().enumerate() {
            let v = [r as f32 + 1.0, 1.0];
            s.push(
                Location::Row(r),
                Some(id.to_string()),
                Some(format!("t{id}")),
                None,
                Some(&v),
            )
            .unwrap();
        }
        s
    }

    #[test]
    fn rows_sort_by_numeric_ids_else_by_bytes_moving_their_vectors() {
        let mut s = sink_of(&["10", "2", "1", "33"]);
        s.sort_by_id();
        assert_eq!(s.ids, ["1", "2", "10", "33"]);
        assert_eq!(s.texts, ["t1", "t2", "t10", "t33"]);
        assert_eq!(s.vectors, [3.0, 1.0, 2.0, 1.0, 1.0, 1.0, 4.0, 1.0]);
        assert_eq!(
            s.locations,
            [
                Location::Row(2),
                Location::Row(1),
                Location::Row(0),
                Location::Row(3)
            ]
        );
        let mut s = sink_of(&["b", "a10", "a9"]);
        s.sort_by_id();
        assert_eq!(s.ids, ["a10", "a9", "b"]);
        assert_eq!(s.vectors, [2.0, 1.0, 3.0, 1.0, 1.0, 1.0]);
    }
}
