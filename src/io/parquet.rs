//! Parquet through polars: only the needed columns are read; vectors are copied out of the
//! arrow list arrays by walking their offsets (`ListChunked::get_inner()` ignores offsets).

use std::path::Path;

use polars::prelude::*;
use polars_arrow::array::{Array as _, PrimitiveArray};

use super::sink::{resolve_columns, Location, Sink};
use super::{Corpus, LoadOptions};
use crate::error::{Error, Result};

pub(crate) fn polars_error(path: &Path, e: PolarsError) -> Error {
    Error::Malformed {
        path: path.to_path_buf(),
        location: "file".into(),
        message: format!("cannot read as Parquet: {e}"),
    }
}

pub(crate) fn load(path: &Path, options: &LoadOptions) -> Result<Corpus> {
    let open = || std::fs::File::open(path).map_err(|e| Error::io(path, e));
    let schema = ParquetReader::new(open()?)
        .schema()
        .map_err(|e| polars_error(path, e))?;
    let names: Vec<String> = schema.iter_names().map(|n| n.to_string()).collect();
    let (cols, id_col) = resolve_columns(path, &names, options)?;
    let wanted: Vec<String> = [cols.text, cols.vector, cols.label, id_col]
        .into_iter()
        .flatten()
        .map(str::to_string)
        .collect();
    let df = ParquetReader::new(open()?)
        .with_columns(Some(wanted))
        .finish()
        .map_err(|e| polars_error(path, e))?;
    let n = df.height();

    let strings = |col: Option<&str>, cast: bool| -> Result<Option<Vec<Option<String>>>> {
        let Some(c) = col else { return Ok(None) };
        let column = df.column(c).map_err(|e| polars_error(path, e))?;
        let series = column.as_materialized_series();
        let series = if cast {
            series
                .cast(&DataType::String)
                .map_err(|e| polars_error(path, e))?
        } else if series.dtype() == &DataType::String {
            series.clone()
        } else {
            return Err(Error::Malformed {
                path: path.to_path_buf(),
                location: format!("column `{c}`"),
                message: format!("has type {}, expected strings", series.dtype()),
            });
        };
        let ca = series.str().map_err(|e| polars_error(path, e))?;
        Ok(Some(ca.iter().map(|s| s.map(str::to_string)).collect()))
    };
    let mut texts = strings(cols.text, false)?.map(Vec::into_iter);
    let mut labels = strings(cols.label, true)?.map(Vec::into_iter);
    let mut ids = strings(id_col, true)?.map(Vec::into_iter);
    let vectors = match cols.vector {
        Some(c) => Some(read_vectors(path, &df, c)?),
        None => None,
    };

    let mut sink = Sink::new(path, cols);
    if vectors.as_ref().is_some_and(|v| v.half) {
        sink.keep_half();
    }
    for row in 0..n {
        let vector = match &vectors {
            Some(v) => v[row]
                .as_ref()
                .map(|(start, end)| &v.values()[*start..*end]),
            None => None,
        };
        sink.push(
            Location::Row(row),
            ids.as_mut().and_then(|it| it.next().flatten()),
            texts.as_mut().and_then(|it| it.next().flatten()),
            labels.as_mut().and_then(|it| it.next().flatten()),
            vector,
        )?;
    }
    sink.finish()
}

/// A vector column flattened: every value once, and per row its range (None for null).
struct FlatVectors {
    values: Vec<f32>,
    ranges: Vec<Option<(usize, usize)>>,
    /// The column held half floats (widened here; exact).
    half: bool,
}

impl FlatVectors {
    fn values(&self) -> &[f32] {
        &self.values
    }
}

impl std::ops::Index<usize> for FlatVectors {
    type Output = Option<(usize, usize)>;
    fn index(&self, i: usize) -> &Self::Output {
        &self.ranges[i]
    }
}

fn read_vectors(path: &Path, df: &DataFrame, c: &str) -> Result<FlatVectors> {
    let column = df.column(c).map_err(|e| polars_error(path, e))?;
    let series = column.as_materialized_series();
    let bad_type = || Error::Malformed {
        path: path.to_path_buf(),
        location: format!("column `{c}`"),
        message: format!(
            "has type {}, expected a list or array of floats",
            series.dtype()
        ),
    };
    let inner_is_numeric = match series.dtype() {
        DataType::List(inner) => inner.is_primitive_numeric(),
        DataType::Array(inner, _) => inner.is_primitive_numeric(),
        _ => false,
    };
    let half = matches!(
        series.dtype(),
        DataType::List(inner) | DataType::Array(inner, _) if **inner == DataType::Float16
    );
    if !inner_is_numeric {
        return Err(bad_type());
    }
    let list = series
        .cast(&DataType::List(Box::new(DataType::Float32)))
        .map_err(|e| polars_error(path, e))?;
    let ca = list.list().map_err(|e| polars_error(path, e))?;
    let mut values = Vec::with_capacity(ca.len() * 384);
    let mut ranges = Vec::with_capacity(ca.len());
    let mut row = 0usize;
    for arr in ca.downcast_iter() {
        let inner = arr
            .values()
            .as_any()
            .downcast_ref::<PrimitiveArray<f32>>()
            .ok_or_else(bad_type)?;
        let offsets = arr.offsets().buffer();
        for i in 0..arr.len() {
            if !arr.is_valid(i) {
                ranges.push(None);
                row += 1;
                continue;
            }
            let (s, e) = (offsets[i] as usize, offsets[i + 1] as usize);
            if let Some(j) = (s..e).find(|&j| !inner.is_valid(j)) {
                return Err(Error::Malformed {
                    path: path.to_path_buf(),
                    location: format!("row {row}"),
                    message: format!("column `{c}`, element {}: null", j - s),
                });
            }
            let start = values.len();
            values.extend_from_slice(&inner.values()[s..e]);
            ranges.push(Some((start, values.len())));
            row += 1;
        }
    }
    Ok(FlatVectors {
        values,
        ranges,
        half,
    })
}

/// Writes `id` and `embedding` (list of f32) columns to a Parquet file, atomically.
pub fn write_vectors_parquet(
    path: &Path,
    ids: &[String],
    vectors: &crate::Embeddings,
) -> Result<()> {
    let all: Vec<usize> = (0..ids.len()).collect();
    write_corpus_parquet(
        path,
        &CorpusColumns {
            ids,
            texts: None,
            labels: None,
            vectors: Some(vectors),
        },
        &all,
    )
}

/// The columns of a corpus to write: ids always, the others when present.
pub(crate) struct CorpusColumns<'a> {
    pub ids: &'a [String],
    pub texts: Option<&'a [String]>,
    /// Column name and values.
    pub labels: Option<(&'a str, &'a [String])>,
    pub vectors: Option<&'a crate::Embeddings>,
}

/// Writes rows `rows` of a corpus as Parquet (`id`, `text`, the label column, `embedding` as a
/// list of f32), atomically.
pub(crate) fn write_corpus_parquet(
    path: &Path,
    c: &CorpusColumns<'_>,
    rows: &[usize],
) -> Result<()> {
    let strings = |name: &str, v: &[String]| {
        StringChunked::from_iter_values(name.into(), rows.iter().map(|&r| v[r].as_str()))
            .into_series()
            .into_column()
    };
    let mut columns = vec![strings("id", c.ids)];
    if let Some(t) = c.texts {
        columns.push(strings("text", t));
    }
    if let Some((name, l)) = c.labels {
        columns.push(strings(name, l));
    }
    if let Some(vectors) = c.vectors {
        let d = vectors.dim();
        let mut flat = Vec::with_capacity(rows.len() * d);
        for &r in rows {
            flat.extend_from_slice(&vectors.row(r));
        }
        let values = Float32Chunked::from_vec(PlSmallStr::EMPTY, flat);
        let offsets: Vec<i64> = (0..=rows.len()).map(|r| (r * d) as i64).collect();
        let list = polars_arrow::array::ListArray::<i64>::new(
            ArrowDataType::LargeList(Box::new(polars_arrow::datatypes::Field::new(
                PlSmallStr::from_static("item"),
                ArrowDataType::Float32,
                true,
            ))),
            polars_arrow::offset::OffsetsBuffer::try_from(offsets)
                .map_err(|e| polars_error(path, e))?,
            values.rechunk().downcast_as_array().clone().boxed(),
            None,
        );
        columns.push(
            ListChunked::with_chunk(PlSmallStr::from_static("embedding"), list)
                .into_series()
                .into_column(),
        );
    }
    let mut df = DataFrame::new(rows.len(), columns).map_err(|e| polars_error(path, e))?;
    crate::io::write_atomic(path, |w| {
        ParquetWriter::new(w)
            .finish(&mut df)
            .map(|_| ())
            .map_err(std::io::Error::other)
    })
}

/// The vector column of a Parquet file read in slices of rows, for data larger than memory.
#[derive(Debug)]
pub struct VectorBatches {
    path: std::path::PathBuf,
    column: String,
    rows: usize,
    next: usize,
    batch: usize,
}

/// Streams `column` (default: `embedding` or `vector`) of a Parquet file, `batch` rows at a
/// time; each batch is validated and normalised like a whole file.
pub fn vector_batches(path: &Path, column: Option<&str>, batch: usize) -> Result<VectorBatches> {
    if !path.is_file() {
        return Err(Error::FileNotFound {
            path: path.to_path_buf(),
        });
    }
    let file = || std::fs::File::open(path).map_err(|e| Error::io(path, e));
    let mut reader = ParquetReader::new(file()?);
    let schema = reader.schema().map_err(|e| polars_error(path, e))?;
    let names: Vec<String> = schema.iter_names().map(|n| n.to_string()).collect();
    let column = match column {
        Some(c) if names.iter().any(|n| n == c) => c.to_string(),
        Some(c) => {
            return Err(Error::MissingColumn {
                path: path.to_path_buf(),
                column: c.to_string(),
                available: super::list_columns(names.iter().map(String::as_str)),
            })
        }
        None => super::DEFAULT_VECTOR_COLUMNS
            .iter()
            .find(|c| names.iter().any(|n| n == *c))
            .map(|c| c.to_string())
            .ok_or_else(|| Error::MissingColumn {
                path: path.to_path_buf(),
                column: "embedding".into(),
                available: super::list_columns(names.iter().map(String::as_str)),
            })?,
    };
    let rows = reader.num_rows().map_err(|e| polars_error(path, e))?;
    if rows == 0 {
        return Err(Error::EmptyCorpus {
            path: path.to_path_buf(),
        });
    }
    Ok(VectorBatches {
        path: path.to_path_buf(),
        column,
        rows,
        next: 0,
        batch: batch.max(1),
    })
}

impl VectorBatches {
    /// Rows in the file.
    pub fn rows(&self) -> usize {
        self.rows
    }

    fn read(&self, offset: usize, len: usize) -> Result<crate::Embeddings> {
        let path = self.path.as_path();
        let file = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
        let df = ParquetReader::new(file)
            .with_columns(Some(vec![self.column.clone()]))
            .with_slice(Some((offset, len)))
            .finish()
            .map_err(|e| polars_error(path, e))?;
        let flat = read_vectors(path, &df, &self.column)?;
        let mut dim = None;
        for (r, range) in flat.ranges.iter().enumerate() {
            let Some((s, e)) = range else {
                return Err(Error::Malformed {
                    path: path.to_path_buf(),
                    location: format!("row {}", offset + r),
                    message: format!("column `{}` is null", self.column),
                });
            };
            match dim {
                None => dim = Some(e - s),
                Some(d) if d != e - s => {
                    return Err(Error::Malformed {
                        path: path.to_path_buf(),
                        location: format!("row {}", offset + r),
                        message: format!(
                            "column `{}` has {} values, expected {d}",
                            self.column,
                            e - s
                        ),
                    })
                }
                _ => {}
            }
        }
        let dim = dim.unwrap_or(0);
        crate::Embeddings::new_as(flat.values, dim, flat.half).map_err(|e| Error::Malformed {
            path: path.to_path_buf(),
            location: e
                .row()
                .map_or_else(|| "data".into(), |r| format!("row {}", offset + r)),
            message: format!("column `{}`: {e}", self.column),
        })
    }
}

impl Iterator for VectorBatches {
    type Item = Result<crate::Embeddings>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.next >= self.rows {
            return None;
        }
        let len = self.batch.min(self.rows - self.next);
        let out = self.read(self.next, len);
        self.next += len;
        Some(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Embeddings;

    fn vectors() -> Embeddings {
        Embeddings::new((0..30).map(|i| (i % 7) as f32 + 1.0).collect(), 3).unwrap()
    }

    #[test]
    fn written_vectors_read_back_whole_and_in_batches() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("v.parquet");
        let ids: Vec<String> = (0..10).map(|i| format!("doc-{i}")).collect();
        let v = vectors();
        write_vectors_parquet(&path, &ids, &v).unwrap();
        let c = load(&path, &LoadOptions::default()).unwrap();
        assert_eq!(c.ids, ids);
        let back = c.vectors.as_ref().unwrap().as_f32();
        // Loading normalises the (already unit) rows once more: equal to the last bit or so.
        assert!(back
            .iter()
            .zip(v.as_f32().iter())
            .all(|(a, b)| (a - b).abs() < 1e-6));
        // In slices of 4 rows: 4 + 4 + 2, the same values in the same order.
        let batches = vector_batches(&path, None, 4).unwrap();
        assert_eq!(batches.rows(), 10);
        let parts: Vec<Embeddings> = batches.map(|b| b.unwrap()).collect();
        assert_eq!(
            parts.iter().map(Embeddings::rows).collect::<Vec<_>>(),
            [4, 4, 2]
        );
        let joined: Vec<f32> = parts.iter().flat_map(|p| p.as_f32().to_vec()).collect();
        assert_eq!(
            joined,
            back.to_vec(),
            "batches hold exactly what a whole read holds"
        );
    }

    #[test]
    fn a_missing_vector_column_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("v.parquet");
        let ids: Vec<String> = (0..10).map(|i| i.to_string()).collect();
        write_vectors_parquet(&path, &ids, &vectors()).unwrap();
        let e = vector_batches(&path, Some("nope"), 4)
            .err()
            .unwrap()
            .to_string();
        assert!(e.contains("nope") && e.contains("embedding"), "{e}");
        assert!(matches!(
            vector_batches(&dir.path().join("absent.parquet"), None, 4),
            Err(Error::FileNotFound { .. })
        ));
    }
}
