//! How a matrix's values are held: `f32`, or IEEE half floats (`f16`, half the memory) that
//! are widened to `f32` where they are read, a tile or a block of rows at a time. Every
//! product runs in `f32`; only storage differs.

use std::borrow::Cow;

use half::f16;
use half::slice::HalfFloatSliceExt;

/// Row-major values, owned.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Store {
    F32(Vec<f32>),
    F16(Vec<f16>),
}

impl Store {
    pub(crate) fn view(&self) -> View<'_> {
        match self {
            Store::F32(v) => View::F32(v),
            Store::F16(v) => View::F16(v),
        }
    }

    /// Appends `values`, narrowed or widened to this store's precision.
    pub(crate) fn extend(&mut self, values: View<'_>) {
        match (self, values) {
            (Store::F32(s), View::F32(v)) => s.extend_from_slice(v),
            (Store::F16(s), View::F16(v)) => s.extend_from_slice(v),
            (Store::F32(s), v) => v.extend_into(s),
            (Store::F16(s), View::F32(v)) => s.extend(v.iter().map(|&x| f16::from_f32(x))),
        }
    }
}

/// Row-major values, borrowed: [`View::F32`] is read in place, [`View::F16`] is widened into a
/// caller's buffer a block at a time.
#[derive(Debug, Clone, Copy)]
pub enum View<'a> {
    /// Single precision, read as it is.
    F32(&'a [f32]),
    /// Half precision, widened to `f32` where read.
    F16(&'a [f16]),
}

impl<'a> From<&'a [f32]> for View<'a> {
    fn from(v: &'a [f32]) -> Self {
        View::F32(v)
    }
}

impl<'a> From<&'a Vec<f32>> for View<'a> {
    fn from(v: &'a Vec<f32>) -> Self {
        View::F32(v)
    }
}

impl<'a> View<'a> {
    /// Number of values.
    pub fn len(self) -> usize {
        match self {
            View::F32(v) => v.len(),
            View::F16(v) => v.len(),
        }
    }

    /// Whether there are no values.
    pub fn is_empty(self) -> bool {
        self.len() == 0
    }

    /// Rows `lo..hi` of a `d`-wide matrix.
    pub fn rows(self, lo: usize, hi: usize, d: usize) -> View<'a> {
        match self {
            View::F32(v) => View::F32(&v[lo * d..hi * d]),
            View::F16(v) => View::F16(&v[lo * d..hi * d]),
        }
    }

    /// The values as `f32`: borrowed when they are, else widened into `buf` (cleared first).
    pub fn to_f32<'b>(self, buf: &'b mut Vec<f32>) -> &'b [f32]
    where
        'a: 'b,
    {
        match self {
            View::F32(v) => v,
            View::F16(_) => {
                buf.clear();
                self.extend_into(buf);
                buf
            }
        }
    }

    /// The values as `f32`, widened (a copy) when half.
    pub fn cow(self) -> Cow<'a, [f32]> {
        match self {
            View::F32(v) => Cow::Borrowed(v),
            View::F16(v) => Cow::Owned(v.to_f32_vec()),
        }
    }

    /// Appends the values, widened, to `out`.
    pub fn extend_into(self, out: &mut Vec<f32>) {
        match self {
            View::F32(v) => out.extend_from_slice(v),
            View::F16(v) => {
                let at = out.len();
                out.resize(at + v.len(), 0.0);
                v.convert_to_f32_slice(&mut out[at..]);
            }
        }
    }

    /// Squared norm of each `d`-wide row.
    pub fn row_sq_norms(self, d: usize) -> Vec<f32> {
        let mut out = Vec::with_capacity(self.len() / d);
        self.for_each_block(d, |_, x| out.extend(crate::linalg::row_sq_norms(x, d)));
        out
    }

    /// The sum of each group's `d`-wide rows (`labels[i]` in `0..k`) in f64, in row order:
    /// `k x d`. Sums of several parts add up to the whole's (a cluster's workers each sum
    /// their rows; the driver adds them and normalises).
    pub fn group_sums(self, d: usize, labels: &[usize], k: usize) -> Vec<f64> {
        let mut sums = vec![0.0f64; k * d];
        self.for_each_row(d, |i, row| {
            let c = labels[i];
            for (s, &v) in sums[c * d..(c + 1) * d].iter_mut().zip(row) {
                *s += f64::from(v);
            }
        });
        sums
    }

    /// The mean direction of each group's `d`-wide rows (`labels[i]` in `0..k`), unit length in
    /// f64: [`group_sums`](Self::group_sums), then divided by their norm (an empty group stays
    /// zero).
    pub(crate) fn mean_directions(self, d: usize, labels: &[usize], k: usize) -> Vec<f64> {
        let mut sums = self.group_sums(d, labels, k);
        for c in sums.chunks_exact_mut(d) {
            let norm = c
                .iter()
                .map(|v| v * v)
                .sum::<f64>()
                .sqrt()
                .max(f64::MIN_POSITIVE);
            c.iter_mut().for_each(|v| *v /= norm);
        }
        sums
    }

    /// Each `d`-wide row's inner product (in f64, returned as f32) with its group's direction
    /// (`directions`: `k x d`, `labels[i]` in `0..k`): its cosine to a mean direction.
    pub fn cosines_to(self, d: usize, labels: &[usize], directions: &[f64]) -> Vec<f32> {
        let mut out = vec![0.0f32; labels.len()];
        self.for_each_row(d, |i, row| {
            let c = labels[i];
            out[i] = row
                .iter()
                .zip(&directions[c * d..(c + 1) * d])
                .map(|(&a, &b)| f64::from(a) * b)
                .sum::<f64>() as f32;
        });
        out
    }

    /// Calls `f(i, row)` for each `d`-wide row in order, half rows widened a block at a time.
    pub fn for_each_row(self, d: usize, mut f: impl FnMut(usize, &[f32])) {
        self.for_each_block(d, |lo, x| {
            for (r, row) in x.chunks_exact(d).enumerate() {
                f(lo + r, row);
            }
        });
    }

    /// Calls `f(first_row, rows)` for each block of [`BLOCK_ROWS`] `d`-wide rows in order, as
    /// `f32` (half rows widened into one reused buffer).
    fn for_each_block(self, d: usize, mut f: impl FnMut(usize, &[f32])) {
        let n = self.len() / d;
        let mut buf = Vec::new();
        for lo in (0..n).step_by(BLOCK_ROWS) {
            let hi = (lo + BLOCK_ROWS).min(n);
            f(lo, self.rows(lo, hi, d).to_f32(&mut buf));
        }
    }
}

/// Rows widened at a time where a pass reads a half-precision matrix block by block.
pub const BLOCK_ROWS: usize = 4096;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn half_views_widen_and_single_views_borrow() {
        let x = [1.0f32, -0.5, 0.25, 2.0];
        let h: Vec<f16> = x.iter().map(|&v| f16::from_f32(v)).collect();
        let mut buf = Vec::new();
        assert_eq!(View::F16(&h).rows(1, 2, 2).to_f32(&mut buf), &[0.25, 2.0]);
        assert_eq!(View::F32(&x).to_f32(&mut buf).as_ptr(), x.as_ptr());
        assert_eq!(&*View::F16(&h).cow(), &x);
        assert_eq!(View::F16(&h).row_sq_norms(2), vec![1.25, 4.0625]);
        let mut s = Store::F16(Vec::new());
        s.extend(View::F32(&x));
        s.extend(View::F16(&h));
        assert_eq!(s.view().len(), 8);
        assert_eq!(&*s.view().cow(), &[x, x].concat()[..]);
    }
}
