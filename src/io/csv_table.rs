//! CSV with a header row, read as a stream. A vector column holds numbers separated by commas
//! or whitespace, optionally in brackets: `"[0.1, 0.2, 0.3]"`.

use std::path::Path;

use super::sink::{resolve_columns, Location, Sink};
use super::{Corpus, LoadOptions};
use crate::error::{Error, Result};

pub(crate) fn load(path: &Path, options: &LoadOptions) -> Result<Corpus> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(false)
        .from_path(path)
        .map_err(|e| csv_error(path, e))?;
    let headers: Vec<String> = reader
        .headers()
        .map_err(|e| csv_error(path, e))?
        .iter()
        .map(str::to_string)
        .collect();
    let (cols, id_col) = resolve_columns(path, &headers, options)?;
    let index = |c: Option<&str>| {
        c.map(|c| {
            headers
                .iter()
                .position(|h| h == c)
                .expect("resolved column exists")
        })
    };
    let (text_i, vector_i, label_i, id_i) = (
        index(cols.text),
        index(cols.vector),
        index(cols.label),
        index(id_col),
    );
    let vector_name = cols.vector.unwrap_or("");
    let mut sink = Sink::new(path, cols);
    let mut record = csv::StringRecord::new();
    let mut buf = Vec::new();
    loop {
        match reader.read_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {}
            Err(e) => return Err(csv_error(path, e)),
        }
        let at = Location::Line(record.position().map_or(0, |p| p.line()));
        let field = |i: Option<usize>| i.map(|i| record[i].to_string());
        let vector = match vector_i {
            Some(i) => {
                parse_vector(&record[i], &mut buf)
                    .map_err(|m| sink.error(at, format!("column `{vector_name}`: {m}")))?;
                Some(buf.as_slice())
            }
            None => None,
        };
        sink.push(at, field(id_i), field(text_i), field(label_i), vector)?;
    }
    sink.finish()
}

fn parse_vector(cell: &str, out: &mut Vec<f32>) -> std::result::Result<(), String> {
    out.clear();
    let inner = cell.trim().trim_start_matches('[').trim_end_matches(']');
    for (j, tok) in inner
        .split(|c: char| c == ',' || c.is_whitespace())
        .filter(|t| !t.is_empty())
        .enumerate()
    {
        let x: f32 = tok
            .parse()
            .map_err(|_| format!("element {j}: {tok:?} is not a number"))?;
        out.push(x);
    }
    Ok(())
}

fn csv_error(path: &Path, e: csv::Error) -> Error {
    let location = e
        .position()
        .map_or_else(|| "header".to_string(), |p| format!("line {}", p.line()));
    match e.into_kind() {
        csv::ErrorKind::Io(io) => Error::io(path, io),
        csv::ErrorKind::UnequalLengths {
            expected_len, len, ..
        } => Error::Malformed {
            path: path.to_path_buf(),
            location,
            message: format!("{len} fields, expected {expected_len} like the header"),
        },
        csv::ErrorKind::Utf8 { err, .. } => Error::Malformed {
            path: path.to_path_buf(),
            location,
            message: format!("not valid UTF-8 ({err})"),
        },
        other => Error::Malformed {
            path: path.to_path_buf(),
            location,
            message: format!("{other:?}"),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::parse_vector;

    #[test]
    fn vector_cells() {
        let mut v = Vec::new();
        parse_vector("[0.5, -1, 2e-3]", &mut v).unwrap();
        assert_eq!(v, vec![0.5, -1.0, 0.002]);
        parse_vector("1 2 3", &mut v).unwrap();
        assert_eq!(v, vec![1.0, 2.0, 3.0]);
        let e = parse_vector("[1, x]", &mut v).unwrap_err();
        assert!(e.contains("element 1"), "{e}");
        parse_vector("[1, NaN]", &mut v).unwrap();
        assert!(v[1].is_nan(), "NaN parses here and is rejected by the sink");
    }
}
