//! Output tables: cluster assignments, as CSV or Parquet by extension.

use std::io::Write;
use std::path::Path;

use polars::prelude::*;

use super::{write_atomic, Format};
use crate::error::{Error, Result};

/// Writes `columns` (`height` rows each) as a Parquet file, atomically.
fn write_parquet(path: &Path, height: usize, columns: Vec<Column>) -> Result<()> {
    let mut df = DataFrame::new(height, columns).map_err(|e| Error::Unsupported(e.to_string()))?;
    write_atomic(path, |w| {
        ParquetWriter::new(w)
            .finish(&mut df)
            .map(|_| ())
            .map_err(std::io::Error::other)
    })
}

/// Writes near-duplicate pairs `row_a, row_b, cosine` to `.csv` or `.parquet`.
pub fn write_pairs(path: &Path, pairs: &[crate::dedup::Pair]) -> Result<()> {
    match Format::from_path(path)? {
        Format::Csv => write_atomic(path, |w: &mut dyn Write| {
            w.write_all(b"row_a,row_b,cosine\n")?;
            for p in pairs {
                writeln!(w, "{},{},{}", p.row_a, p.row_b, p.cosine)?;
            }
            Ok(())
        }),
        Format::Parquet => {
            let col = |name: &'static str, f: &dyn Fn(&crate::dedup::Pair) -> u32| {
                UInt32Chunked::from_iter_values(PlSmallStr::from_static(name), pairs.iter().map(f))
                    .into_series()
                    .into_column()
            };
            let cos = Float32Chunked::from_iter_values(
                PlSmallStr::from_static("cosine"),
                pairs.iter().map(|p| p.cosine),
            );
            write_parquet(
                path,
                pairs.len(),
                vec![
                    col("row_a", &|p| p.row_a as u32),
                    col("row_b", &|p| p.row_b as u32),
                    cos.into_series().into_column(),
                ],
            )
        }
        _ => Err(Error::param(
            "out",
            path.display(),
            "pairs are written as .csv or .parquet",
        )),
    }
}

/// Writes `row, cluster` (0-based row; cluster `-1` for noise) to `.csv` or `.parquet`.
pub fn write_assignments(path: &Path, labels: &[Option<usize>]) -> Result<()> {
    match Format::from_path(path)? {
        Format::Csv => write_atomic(path, |w: &mut dyn Write| {
            w.write_all(b"row,cluster\n")?;
            for (i, l) in labels.iter().enumerate() {
                match l {
                    Some(c) => writeln!(w, "{i},{c}")?,
                    None => writeln!(w, "{i},-1")?,
                }
            }
            Ok(())
        }),
        Format::Parquet => {
            let rows = UInt32Chunked::from_iter_values(
                PlSmallStr::from_static("row"),
                0..labels.len() as u32,
            );
            let clusters = Int32Chunked::from_iter_values(
                PlSmallStr::from_static("cluster"),
                labels.iter().map(|l| l.map_or(-1, |c| c as i32)),
            );
            write_parquet(
                path,
                labels.len(),
                vec![
                    rows.into_series().into_column(),
                    clusters.into_series().into_column(),
                ],
            )
        }
        _ => Err(Error::param(
            "out",
            path.display(),
            "assignments are written as .csv or .parquet",
        )),
    }
}

/// Reads `row, cluster` assignments written by [`write_assignments`] (CSV or Parquet); rows
/// are taken in file order.
pub fn read_assignments(path: &Path) -> Result<Vec<Option<usize>>> {
    let bad = |i: usize, v: String| Error::Malformed {
        path: path.to_path_buf(),
        location: format!("row {i}"),
        message: format!("column `cluster`: {v} is not a cluster id (-1 for noise)"),
    };
    let parse = |i: usize, c: i64| match c {
        -1 => Ok(None),
        c if c >= 0 => Ok(Some(c as usize)),
        c => Err(bad(i, c.to_string())),
    };
    match Format::from_path(path)? {
        Format::Parquet => {
            let file = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
            let df = ParquetReader::new(file)
                .with_columns(Some(vec!["cluster".into()]))
                .finish()
                .map_err(|e| Error::Malformed {
                    path: path.to_path_buf(),
                    location: "file".into(),
                    message: format!("no integer column `cluster`: {e}"),
                })?;
            let col = df
                .column("cluster")
                .and_then(|c| c.cast(&DataType::Int64))
                .map_err(|e| Error::Unsupported(e.to_string()))?;
            let ca = col.i64().map_err(|e| Error::Unsupported(e.to_string()))?;
            ca.iter()
                .enumerate()
                .map(|(i, c)| c.map_or_else(|| Err(bad(i, "null".into())), |c| parse(i, c)))
                .collect()
        }
        _ => {
            let options = super::LoadOptions {
                text_column: "cluster".into(),
                ..Default::default()
            };
            let corpus = super::load(path, &options)?;
            corpus
                .texts
                .unwrap_or_default()
                .iter()
                .enumerate()
                .map(|(i, t)| {
                    t.trim()
                        .parse::<i64>()
                        .map_err(|_| bad(i, format!("{t:?}")))
                        .and_then(|c| parse(i, c))
                })
                .collect()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_csv_and_parquet() {
        let dir = tempfile::tempdir().unwrap();
        let labels = vec![Some(1), None, Some(0)];
        for name in ["a.csv", "a.parquet"] {
            let p = dir.path().join(name);
            write_assignments(&p, &labels).unwrap();
            assert_eq!(read_assignments(&p).unwrap(), labels, "{name}");
        }
        assert!(write_assignments(&dir.path().join("a.npy"), &labels).is_err());
    }
}
