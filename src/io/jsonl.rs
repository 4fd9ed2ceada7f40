//! JSON Lines: one object per line, read as a stream. Blank lines are skipped; the columns are
//! those of the first object.

use std::io::BufRead;
use std::path::Path;

use serde_json::{Map, Value};

use super::sink::{resolve_columns, Location, Sink};
use super::{Corpus, LoadOptions};
use crate::error::{Error, Result};

pub(crate) fn load(path: &Path, options: &LoadOptions) -> Result<Corpus> {
    let file = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
    let reader = std::io::BufReader::with_capacity(1 << 20, file);
    let mut sink: Option<(Sink<'_>, Option<&str>)> = None;
    let mut vector_buf: Vec<f32> = Vec::new();
    for (i, line) in reader.lines().enumerate() {
        let at = Location::Line(i as u64 + 1);
        let line = line.map_err(|e| match e.kind() {
            std::io::ErrorKind::InvalidData => Error::Malformed {
                path: path.to_path_buf(),
                location: at.to_string(),
                message: "not valid UTF-8".into(),
            },
            _ => Error::io(path, e),
        })?;
        if line.trim().is_empty() {
            continue;
        }
        let obj: Map<String, Value> =
            serde_json::from_str(&line).map_err(|e| Error::Malformed {
                path: path.to_path_buf(),
                location: at.to_string(),
                message: format!("not a JSON object: {e}"),
            })?;
        if sink.is_none() {
            let names: Vec<String> = obj.keys().cloned().collect();
            let (cols, id) = resolve_columns(path, &names, options)?;
            sink = Some((Sink::new(path, cols), id));
        }
        let (sink, id_col) = sink.as_mut().expect("initialised above");
        let cols = sink.columns();
        let id = match id_col.and_then(|c| obj.get(c)) {
            None | Some(Value::Null) => None,
            Some(Value::String(s)) => Some(s.clone()),
            Some(other) => Some(other.to_string()),
        };
        let text = match cols.0.map(|c| (c, obj.get(c))) {
            None | Some((_, None | Some(Value::Null))) => None,
            Some((_, Some(Value::String(s)))) => Some(s.clone()),
            Some((c, Some(other))) => {
                return Err(sink.error(
                    at,
                    format!("column `{c}` must be a string, got {}", kind(other)),
                ))
            }
        };
        let label = match cols.2.and_then(|c| obj.get(c)) {
            None | Some(Value::Null) => None,
            Some(Value::String(s)) => Some(s.clone()),
            Some(other) => Some(other.to_string()),
        };
        let vector = match cols.1.map(|c| (c, obj.get(c))) {
            None | Some((_, None | Some(Value::Null))) => None,
            Some((c, Some(Value::Array(items)))) => {
                vector_buf.clear();
                for (j, item) in items.iter().enumerate() {
                    match item.as_f64() {
                        Some(x) => vector_buf.push(x as f32),
                        None => {
                            return Err(sink.error(
                                at,
                                format!("column `{c}`, element {j}: expected a number, got {item}"),
                            ))
                        }
                    }
                }
                Some(vector_buf.as_slice())
            }
            Some((c, Some(other))) => {
                return Err(sink.error(
                    at,
                    format!(
                        "column `{c}` must be an array of numbers, got {}",
                        kind(other)
                    ),
                ))
            }
        };
        sink.push(at, id, text, label, vector)?;
    }
    match sink {
        Some((sink, _)) => sink.finish(),
        None => Err(Error::EmptyCorpus {
            path: path.to_path_buf(),
        }),
    }
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}
