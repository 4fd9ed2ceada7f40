//! Output tables: cluster assignments, as CSV or Parquet by extension.

use std::io::Write;
use std::path::Path;

use polars::prelude::*;

use super::{write_atomic, Format};
use crate::error::{Error, Result};

/// Writes `columns` (`height` rows each) as a Parquet file, atomically.
pub(crate) fn write_parquet(path: &Path, height: usize, columns: Vec<Column>) -> Result<()> {
    let mut df = DataFrame::new(height, columns)
        .map_err(|e| Error::table(format!("{}: the table", path.display()), e))?;
    write_atomic(path, |w| {
        ParquetWriter::new(w)
            .finish(&mut df)
            .map(|_| ())
            .map_err(std::io::Error::other)
    })
}

/// Writes a table as Parquet, atomically.
pub(crate) fn write_frame(path: &Path, mut df: DataFrame) -> Result<()> {
    write_atomic(path, |w| {
        ParquetWriter::new(w)
            .finish(&mut df)
            .map(|_| ())
            .map_err(std::io::Error::other)
    })
}

/// A table in Parquet, in memory (what a Python caller reads with pyarrow or polars).
pub fn parquet_bytes(mut df: DataFrame) -> Result<Vec<u8>> {
    let mut out = Vec::new();
    ParquetWriter::new(&mut out)
        .finish(&mut df)
        .map_err(|e| Error::table("the table", e))?;
    Ok(out)
}

/// Near-duplicate pairs as a table: `row_a`, `row_b` (u32), `cosine` (f32).
pub fn pairs_frame(pairs: &[crate::kernel::Pair]) -> Result<DataFrame> {
    let col = |name: &'static str, f: &dyn Fn(&crate::kernel::Pair) -> u32| {
        UInt32Chunked::from_iter_values(PlSmallStr::from_static(name), pairs.iter().map(f))
            .into_series()
            .into_column()
    };
    let cos = Float32Chunked::from_iter_values(
        PlSmallStr::from_static("cosine"),
        pairs.iter().map(|p| p.cosine),
    );
    DataFrame::new(
        pairs.len(),
        vec![
            col("row_a", &|p| p.row_a as u32),
            col("row_b", &|p| p.row_b as u32),
            cos.into_series().into_column(),
        ],
    )
    .map_err(|e| Error::table("the pairs table", e))
}

/// Writes near-duplicate pairs `row_a, row_b, cosine` to `.csv` or `.parquet`.
pub fn write_pairs(path: &Path, pairs: &[crate::kernel::Pair]) -> Result<()> {
    match Format::from_path(path)? {
        Format::Csv => write_atomic(path, |w: &mut dyn Write| {
            w.write_all(b"row_a,row_b,cosine\n")?;
            for p in pairs {
                writeln!(w, "{},{},{}", p.row_a, p.row_b, p.cosine)?;
            }
            Ok(())
        }),
        Format::Parquet => write_frame(path, pairs_frame(pairs)?),
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
                .map_err(|e| Error::table(format!("{}: column `cluster`", path.display()), e))?;
            let ca = col
                .i64()
                .map_err(|e| Error::table(format!("{}: column `cluster`", path.display()), e))?;
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

/// Writes rows `rows` of `corpus` (for example those a deduplication keeps) in the format of
/// `path`'s extension, atomically: Parquet (`id`, `text`, the label column as `label_name`,
/// `embedding`), JSONL (the same keys per line), CSV (`id`, `text`, label; no vectors) or `.npy`
/// (the vectors only). `vectors` stand in for the corpus's own (which a caller has usually
/// taken out of it); they are written as loaded, that is L2-normalised.
pub fn write_corpus_rows(
    path: &Path,
    corpus: &super::Corpus,
    vectors: Option<&crate::Embeddings>,
    label_name: &str,
    rows: &[usize],
) -> Result<()> {
    let vectors = vectors.or(corpus.vectors.as_ref());
    let cols = super::parquet::CorpusColumns {
        ids: &corpus.ids,
        texts: corpus.texts.as_deref(),
        labels: corpus.labels.as_deref().map(|l| (label_name, l)),
        vectors,
    };
    match Format::from_path(path)? {
        Format::Parquet => super::parquet::write_corpus_parquet(path, &cols, rows),
        Format::Jsonl => write_atomic(path, |w: &mut dyn Write| {
            for &r in rows {
                let mut o = serde_json::Map::new();
                o.insert("id".into(), cols.ids[r].clone().into());
                if let Some(t) = cols.texts {
                    o.insert("text".into(), t[r].clone().into());
                }
                if let Some((name, l)) = cols.labels {
                    o.insert(name.into(), l[r].clone().into());
                }
                if let Some(v) = cols.vectors {
                    o.insert(
                        "embedding".into(),
                        v.row(r).iter().map(|&x| f64::from(x)).collect(),
                    );
                }
                serde_json::to_writer(&mut *w, &o).map_err(std::io::Error::other)?;
                w.write_all(b"\n")?;
            }
            Ok(())
        }),
        Format::Csv => write_atomic(path, |w: &mut dyn Write| {
            let mut out = csv::Writer::from_writer(w);
            let mut header = vec!["id"];
            if cols.texts.is_some() {
                header.push("text");
            }
            if let Some((name, _)) = cols.labels {
                header.push(name);
            }
            out.write_record(&header).map_err(std::io::Error::other)?;
            for &r in rows {
                let mut rec = vec![cols.ids[r].as_str()];
                if let Some(t) = cols.texts {
                    rec.push(&t[r]);
                }
                if let Some((_, l)) = cols.labels {
                    rec.push(&l[r]);
                }
                out.write_record(&rec).map_err(std::io::Error::other)?;
            }
            out.flush()
        }),
        Format::Npy => {
            let v = vectors.ok_or_else(|| {
                Error::param(
                    "out",
                    path.display(),
                    "the corpus has no vectors to write as .npy",
                )
            })?;
            let d = v.dim();
            let mut flat = Vec::with_capacity(rows.len() * d);
            for &r in rows {
                flat.extend_from_slice(&v.row(r));
            }
            write_atomic(path, |w| super::npy::write_npy(w, &flat, rows.len(), d))
        }
    }
}

/// Writes projected coordinates (`rows x dim`, row-major) atomically: `.csv` as
/// `row, x0, x1, ...`, or `.npy` as a float32 matrix.
pub fn write_coordinates(path: &Path, coords: &[f32], dim: usize) -> Result<()> {
    let rows = coords.len() / dim.max(1);
    match Format::from_path(path)? {
        Format::Npy => write_atomic(path, |w| super::npy::write_npy(w, coords, rows, dim)),
        Format::Csv => write_atomic(path, |w: &mut dyn Write| {
            let mut line = String::from("row");
            for c in 0..dim {
                line.push_str(&format!(",x{c}"));
            }
            writeln!(w, "{line}")?;
            for (i, row) in coords.chunks_exact(dim).enumerate() {
                line.clear();
                line.push_str(&i.to_string());
                for v in row {
                    line.push_str(&format!(",{v}"));
                }
                writeln!(w, "{line}")?;
            }
            Ok(())
        }),
        _ => Err(Error::param(
            "path",
            path.display(),
            "coordinates are written as .csv or .npy",
        )),
    }
}

/// Writes duplicate groups as `row, group, kept` (one line per grouped row; `kept` is true for
/// the group's keeper) to `.csv` or `.parquet`, atomically.
pub fn write_groups(path: &Path, groups: &[Vec<usize>], keepers: &[usize]) -> Result<()> {
    let rows: Vec<(u32, u32, bool)> = groups
        .iter()
        .zip(keepers)
        .enumerate()
        .flat_map(|(g, (members, &k))| members.iter().map(move |&r| (r as u32, g as u32, r == k)))
        .collect();
    match Format::from_path(path)? {
        Format::Csv => write_atomic(path, |w: &mut dyn Write| {
            w.write_all(b"row,group,kept\n")?;
            for (r, g, k) in &rows {
                writeln!(w, "{r},{g},{k}")?;
            }
            Ok(())
        }),
        Format::Parquet => write_parquet(
            path,
            rows.len(),
            vec![
                UInt32Chunked::from_iter_values("row".into(), rows.iter().map(|x| x.0))
                    .into_series()
                    .into_column(),
                UInt32Chunked::from_iter_values("group".into(), rows.iter().map(|x| x.1))
                    .into_series()
                    .into_column(),
                BooleanChunked::from_iter_values("kept".into(), rows.iter().map(|x| x.2))
                    .into_series()
                    .into_column(),
            ],
        ),
        _ => Err(Error::param(
            "groups",
            path.display(),
            "groups are written as .csv or .parquet",
        )),
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
