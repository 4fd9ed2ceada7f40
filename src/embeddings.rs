//! [`Embeddings`]: the one matrix every stage reads.

use std::borrow::Cow;

use half::f16;
use half::slice::HalfFloatSliceExt;

use crate::display::{block, evcxr_display, facts, table, Rich};
use crate::error::EmbeddingsError;
use crate::matrix::{Store, View};

/// A corpus' vectors: one contiguous row-major matrix, validated and L2-normalised once,
/// so that cosine similarity is a dot product everywhere downstream. Held as `f32`, or as half
/// floats ([`new_half`](Self::new_half): half the memory, for corpora of millions read from
/// float16 files) that every pass widens a tile or a block of rows at a time.
///
/// ```
/// use embedscope::Embeddings;
/// let e = Embeddings::new(vec![3.0, 4.0, 0.0, 2.0], 2).unwrap();
/// assert_eq!(&*e.row(0), &[0.6, 0.8]);
/// assert_eq!(&*e.row(1), &[0.0, 1.0]);
/// assert!(Embeddings::new(vec![f32::NAN, 1.0], 2).is_err());
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Embeddings {
    data: Store,
    rows: usize,
    dim: usize,
    unit: bool,
}

impl Embeddings {
    /// Validates a row-major buffer of `dim`-dimensional vectors (non-empty, finite, no
    /// all-zero row) and normalises every row to unit length in place.
    pub fn new(mut data: Vec<f32>, dim: usize) -> Result<Self, EmbeddingsError> {
        let rows = shape(data.len(), dim)?;
        for (row, v) in data.chunks_exact_mut(dim).enumerate() {
            unit_row(row, v)?;
        }
        Ok(Embeddings {
            data: Store::F32(data),
            rows,
            dim,
            unit: true,
        })
    }

    /// [`new`](Self::new) for half floats, kept half: each row is widened, checked and
    /// normalised in `f32`, then stored rounded to `f16` (a relative error below 2⁻¹¹ per value,
    /// so a cosine moves by less than 10⁻³). Reads widen a tile at a time.
    ///
    /// ```
    /// use embedscope::Embeddings;
    /// use embedscope::f16;
    /// let h: Vec<f16> = [3.0f32, 4.0, 0.0, 2.0].iter().map(|&x| f16::from_f32(x)).collect();
    /// let e = Embeddings::new_half(h, 2).unwrap();
    /// assert!(e.is_half());
    /// assert!((e.row(0)[0] - 0.6).abs() < 1e-3);
    /// ```
    pub fn new_half(mut data: Vec<f16>, dim: usize) -> Result<Self, EmbeddingsError> {
        let rows = shape(data.len(), dim)?;
        let mut wide = vec![0.0f32; dim];
        for (row, v) in data.chunks_exact_mut(dim).enumerate() {
            v.convert_to_f32_slice(&mut wide);
            unit_row(row, &mut wide)?;
            v.convert_from_f32_slice(&wide);
        }
        Ok(Embeddings {
            data: Store::F16(data),
            rows,
            dim,
            unit: true,
        })
    }

    /// [`new`](Self::new), or [`new_half`](Self::new_half) of the values narrowed when `half`
    /// (values read from half floats and widened on the way, which narrow back exactly).
    pub(crate) fn new_as(data: Vec<f32>, dim: usize, half: bool) -> Result<Self, EmbeddingsError> {
        if half {
            let narrow = data.iter().map(|&x| f16::from_f32(x)).collect();
            drop(data);
            Embeddings::new_half(narrow, dim)
        } else {
            Embeddings::new(data, dim)
        }
    }

    /// Stacks unit-row blocks of one dimension (the shards of a dataset) without normalising
    /// again, so the rows are bit for bit those of each block. Half blocks stay half when every
    /// block is; a mix is held as `f32`.
    pub(crate) fn concat(parts: Vec<Embeddings>) -> Embeddings {
        let dim = parts[0].dim;
        assert!(
            parts.iter().all(|p| p.dim == dim && p.unit),
            "unit rows of one dimension"
        );
        let rows = parts.iter().map(|p| p.rows).sum();
        let mut data = if parts.iter().all(|p| p.is_half()) {
            Store::F16(Vec::with_capacity(rows * dim))
        } else {
            Store::F32(Vec::with_capacity(rows * dim))
        };
        for p in parts {
            data.extend(p.data.view());
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
    /// assert_eq!(&*p.row(0), &[3.0, 4.0]);
    /// assert!(!p.is_unit());
    /// ```
    pub fn points(data: Vec<f32>, dim: usize) -> Result<Self, EmbeddingsError> {
        let rows = shape(data.len(), dim)?;
        if let Some(at) = data.iter().position(|x| !x.is_finite()) {
            return Err(EmbeddingsError::NonFinite {
                row: at / dim,
                dim: at % dim,
                value: data[at],
            });
        }
        Ok(Embeddings {
            data: Store::F32(data),
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

    /// Whether the values are held as half floats ([`new_half`](Self::new_half)).
    pub fn is_half(&self) -> bool {
        matches!(self.data, Store::F16(_))
    }

    /// Number of vectors.
    pub fn rows(&self) -> usize {
        self.rows
    }

    /// Dimension of each vector.
    pub fn dim(&self) -> usize {
        self.dim
    }

    /// Row `i` (unit length unless built by [`points`](Self::points)): borrowed, or widened
    /// when half.
    pub fn row(&self, i: usize) -> Cow<'_, [f32]> {
        self.view().rows(i, i + 1, self.dim).cow()
    }

    /// The whole matrix, row-major, in the precision it is held in: what passes over every row
    /// read a block at a time.
    pub fn view(&self) -> View<'_> {
        self.data.view()
    }

    /// The whole matrix, row-major, as `f32`: borrowed, or widened (a full copy) when half.
    /// Stages that see every row of a large corpus read [`view`](Self::view) instead.
    pub fn as_f32(&self) -> Cow<'_, [f32]> {
        self.view().cow()
    }

    /// Gives the buffer back as `f32` (widened when half).
    pub fn into_vec(self) -> Vec<f32> {
        match self.data {
            Store::F32(v) => v,
            Store::F16(v) => v.to_f32_vec(),
        }
    }

    /// Appends rows `rows`, as `f32`, to `out`.
    pub fn gather_into(&self, rows: impl IntoIterator<Item = usize>, out: &mut Vec<f32>) {
        let (v, d) = (self.view(), self.dim);
        for r in rows {
            v.rows(r, r + 1, d).extend_into(out);
        }
    }

    /// A new `f32` matrix holding the given rows, in that order (a sample of a half corpus is
    /// widened once, here).
    pub fn select(&self, rows: &[usize]) -> Embeddings {
        let mut data = Vec::with_capacity(rows.len() * self.dim);
        self.gather_into(rows.iter().copied(), &mut data);
        Embeddings {
            data: Store::F32(data),
            rows: rows.len(),
            dim: self.dim,
            unit: self.unit,
        }
    }
}

/// Checks row `row` (finite, not all zero) and scales it to unit length.
fn unit_row(row: usize, v: &mut [f32]) -> Result<(), EmbeddingsError> {
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
    Ok(())
}

/// Rows of a `dim`-wide buffer, or why it is not a matrix.
fn shape(len: usize, dim: usize) -> Result<usize, EmbeddingsError> {
    if dim == 0 {
        return Err(EmbeddingsError::ZeroDim);
    }
    if !len.is_multiple_of(dim) {
        return Err(EmbeddingsError::Ragged { len, dim });
    }
    match len / dim {
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
                    "stored as",
                    if self.is_half() { "float16" } else { "float32" }.into(),
                ),
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
        assert_eq!(&*e.row(1), &[-1.0, 0.0]);
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
        assert_eq!(&*s.row(1), &[1.0, 0.0]);
    }

    #[test]
    fn half_rows_are_checked_normalised_and_widened() {
        let h = |v: &[f32]| v.iter().map(|&x| f16::from_f32(x)).collect::<Vec<_>>();
        let e = Embeddings::new_half(h(&[3.0, 4.0, 0.0, 2.0, 1.0, 1.0]), 2).unwrap();
        assert!(e.is_half() && e.is_unit());
        let full = Embeddings::new(vec![3.0, 4.0, 0.0, 2.0, 1.0, 1.0], 2).unwrap();
        for (a, b) in e.as_f32().iter().zip(full.as_f32().iter()) {
            assert!((a - b).abs() < 1e-3, "{a} {b}");
        }
        // A sample is widened once; a stack of half blocks stays half.
        assert!(!e.select(&[2, 0]).is_half());
        assert_eq!(e.select(&[2, 0]).row(0), e.row(2));
        assert!(Embeddings::concat(vec![e.clone(), e.clone()]).is_half());
        assert!(!Embeddings::concat(vec![e.clone(), full]).is_half());
        assert_eq!(
            Embeddings::new_half(h(&[1.0, 0.0, 0.0, 0.0]), 2),
            Err(EmbeddingsError::ZeroRow { row: 1 })
        );
        assert!(matches!(
            Embeddings::new_half(h(&[1.0, f32::NAN]), 2),
            Err(EmbeddingsError::NonFinite { row: 0, dim: 1, .. })
        ));
    }

    #[test]
    fn embeddings_are_send_sync_clone() {
        fn check<T: Send + Sync + Clone>() {}
        check::<Embeddings>();
    }
}
