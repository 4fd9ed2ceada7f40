//! [`Embeddings`]: the one matrix every stage reads.

use crate::display::{block, evcxr_display, facts, table, Rich};
use crate::error::EmbeddingsError;

/// A corpus' vectors: one contiguous row-major `f32` matrix, validated and L2-normalised once,
/// so that cosine similarity is a dot product everywhere downstream.
///
/// ```
/// use embedscope::Embeddings;
/// let e = Embeddings::new(vec![3.0, 4.0, 0.0, 2.0], 2).unwrap();
/// assert_eq!(e.row(0), &[0.6, 0.8]);
/// assert_eq!(e.row(1), &[0.0, 1.0]);
/// assert!(Embeddings::new(vec![f32::NAN, 1.0], 2).is_err());
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Embeddings {
    data: Vec<f32>,
    rows: usize,
    dim: usize,
    unit: bool,
}

impl Embeddings {
    /// Validates a row-major buffer of `dim`-dimensional vectors (non-empty, finite, no
    /// all-zero row) and normalises every row to unit length in place.
    pub fn new(mut data: Vec<f32>, dim: usize) -> Result<Self, EmbeddingsError> {
        let rows = shape(&data, dim)?;
        for (row, v) in data.chunks_exact_mut(dim).enumerate() {
            if let Some(d) = v.iter().position(|x| !x.is_finite()) {
                return Err(EmbeddingsError::NonFinite {
                    row,
                    dim: d,
                    value: v[d],
                });
            }
            if !crate::linalg::normalise(v) {
                return Err(EmbeddingsError::ZeroRow { row });
            }
        }
        Ok(Embeddings {
            data,
            rows,
            dim,
            unit: true,
        })
    }

    /// Stacks unit-row blocks of one dimension (the shards of a dataset) without normalising
    /// again, so the rows are bit for bit those of each block.
    pub(crate) fn concat(parts: Vec<Embeddings>) -> Embeddings {
        let dim = parts[0].dim;
        assert!(
            parts.iter().all(|p| p.dim == dim && p.unit),
            "unit rows of one dimension"
        );
        let rows = parts.iter().map(|p| p.rows).sum();
        let mut data = Vec::with_capacity(rows * dim);
        for p in parts {
            data.extend_from_slice(&p.data);
        }
        Embeddings {
            data,
            rows,
            dim,
            unit: true,
        }
    }

    /// Validates points whose length carries meaning (finite, non-empty, equal dimensions) and
    /// keeps them as they are: the coordinates of a projection (a 5-D UMAP reduction before
    /// HDBSCAN, as BERTopic does). Cosine metrics refuse such rows ([`is_unit`](Self::is_unit)).
    ///
    /// ```
    /// use embedscope::Embeddings;
    /// let p = Embeddings::points(vec![3.0, 4.0, 0.0, 0.0], 2).unwrap();
    /// assert_eq!(p.row(0), &[3.0, 4.0]);
    /// assert!(!p.is_unit());
    /// ```
    pub fn points(data: Vec<f32>, dim: usize) -> Result<Self, EmbeddingsError> {
        let rows = shape(&data, dim)?;
        if let Some(at) = data.iter().position(|x| !x.is_finite()) {
            return Err(EmbeddingsError::NonFinite {
                row: at / dim,
                dim: at % dim,
                value: data[at],
            });
        }
        Ok(Embeddings {
            data,
            rows,
            dim,
            unit: false,
        })
    }

    /// Fails unless the rows are unit vectors: cosine similarity as a dot product (and the
    /// cosine distance `d² / 2`) holds only for them. `name`/`value` name the parameter that
    /// asked for cosine.
    pub(crate) fn require_unit(&self, name: &'static str, value: &str) -> crate::Result<()> {
        if self.unit {
            Ok(())
        } else {
            Err(crate::Error::param(
                name,
                value,
                "needs unit vectors, and these rows are projected points: use euclidean",
            ))
        }
    }

    /// Whether every row has unit length (true for [`new`](Self::new), false for
    /// [`points`](Self::points)).
    pub fn is_unit(&self) -> bool {
        self.unit
    }

    /// Number of vectors.
    pub fn rows(&self) -> usize {
        self.rows
    }

    /// Dimension of each vector.
    pub fn dim(&self) -> usize {
        self.dim
    }

    /// Row `i` (unit length unless built by [`points`](Self::points)).
    pub fn row(&self, i: usize) -> &[f32] {
        &self.data[i * self.dim..(i + 1) * self.dim]
    }

    /// The whole matrix, row-major.
    pub fn as_slice(&self) -> &[f32] {
        &self.data
    }

    /// Gives the buffer back.
    pub fn into_vec(self) -> Vec<f32> {
        self.data
    }

    /// A new matrix holding the given rows, in that order.
    pub fn select(&self, rows: &[usize]) -> Embeddings {
        let mut data = Vec::with_capacity(rows.len() * self.dim);
        for &r in rows {
            data.extend_from_slice(self.row(r));
        }
        Embeddings {
            data,
            rows: rows.len(),
            dim: self.dim,
            unit: self.unit,
        }
    }
}

/// Rows of a `dim`-wide buffer, or why it is not a matrix.
fn shape(data: &[f32], dim: usize) -> Result<usize, EmbeddingsError> {
    if dim == 0 {
        return Err(EmbeddingsError::ZeroDim);
    }
    if !data.len().is_multiple_of(dim) {
        return Err(EmbeddingsError::Ragged {
            len: data.len(),
            dim,
        });
    }
    match data.len() / dim {
        0 => Err(EmbeddingsError::Empty),
        rows => Ok(rows),
    }
}

impl Rich for Embeddings {
    /// A summary: rows, dimension, whether the rows are unit vectors, the first values.
    fn to_html(&self) -> String {
        let rows: Vec<Vec<String>> = (0..self.rows().min(3))
            .map(|i| {
                let r = self.row(i);
                let mut v: Vec<String> = r.iter().take(6).map(|x| format!("{x:.4}")).collect();
                if r.len() > 6 {
                    v.push("…".into());
                }
                vec![i.to_string(), v.join(", ")]
            })
            .collect();
        block(
            "Embeddings",
            &(facts(&[
                ("rows", self.rows().to_string()),
                ("dimensions", self.dim().to_string()),
                (
                    "rows",
                    if self.is_unit() {
                        "unit length (cosine = dot product)".into()
                    } else {
                        "points (not normalised)".into()
                    },
                ),
            ]) + &table(&["row", "values"], &rows, 3)),
        )
    }
}
evcxr_display!(Embeddings);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalises_rows() {
        let e = Embeddings::new(vec![1.0, 1.0, -2.0, 0.0], 2).unwrap();
        let r0 = e.row(0);
        assert!((r0[0] - std::f32::consts::FRAC_1_SQRT_2).abs() < 1e-7);
        assert_eq!(e.row(1), &[-1.0, 0.0]);
    }

    #[test]
    fn rejects_each_bad_input() {
        assert_eq!(Embeddings::new(vec![], 3), Err(EmbeddingsError::Empty));
        assert_eq!(Embeddings::new(vec![1.0], 0), Err(EmbeddingsError::ZeroDim));
        assert_eq!(
            Embeddings::new(vec![1.0, 2.0, 3.0], 2),
            Err(EmbeddingsError::Ragged { len: 3, dim: 2 })
        );
        assert!(matches!(
            Embeddings::new(vec![1.0, 2.0, 1.0, f32::INFINITY], 2),
            Err(EmbeddingsError::NonFinite { row: 1, dim: 1, .. })
        ));
        assert_eq!(
            Embeddings::new(vec![1.0, 2.0, 0.0, 0.0], 2),
            Err(EmbeddingsError::ZeroRow { row: 1 })
        );
    }

    #[test]
    fn select_keeps_order() {
        let e = Embeddings::new(vec![1.0, 0.0, 0.0, 1.0, 1.0, 1.0], 2).unwrap();
        let s = e.select(&[2, 0]);
        assert_eq!(s.rows(), 2);
        assert_eq!(s.row(1), &[1.0, 0.0]);
    }

    #[test]
    fn embeddings_are_send_sync_clone() {
        fn check<T: Send + Sync + Clone>() {}
        check::<Embeddings>();
    }
}
