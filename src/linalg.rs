//! Dense matrix products on faer, over plain row-major slices.
//!
//! faer's f32 GEMM dispatches to AVX-512 at run time and measured ~112 GFLOP/s a core here, the
//! fastest option on this platform (see FINDINGS in the design notes); every dense product in
//! the crate goes through [`matmul_abt`].

use faer::linalg::matmul::matmul;
use faer::{Accum, MatMut, MatRef, Par};

/// `out[m x n] (+)= a[m x k] · b[n x k]ᵀ`, all row-major and contiguous.
///
/// With `accumulate`, the product is added to what `out` holds (used to add a bias that was
/// written first); otherwise `out` is overwritten.
pub(crate) fn matmul_abt(
    out: &mut [f32],
    a: &[f32],
    b: &[f32],
    (m, n, k): (usize, usize, usize),
    accumulate: bool,
    par: Par,
) {
    debug_assert_eq!(out.len(), m * n);
    debug_assert_eq!(a.len(), m * k);
    debug_assert_eq!(b.len(), n * k);
    if m == 0 || n == 0 {
        return;
    }
    let dst = MatMut::from_row_major_slice_mut(out, m, n);
    let lhs = MatRef::from_row_major_slice(a, m, k);
    let rhs = MatRef::from_row_major_slice(b, n, k).transpose();
    let beta = if accumulate {
        Accum::Add
    } else {
        Accum::Replace
    };
    matmul(dst, beta, lhs, rhs, 1.0f32, par);
}

/// Squared Euclidean distance between two vectors in f32 with 16 independent accumulators
/// (vectorised; AVX2+FMA when the CPU has them), for the many short distance computations
/// (K-Means bound checks, seeding) where a GEMM would not pay.
#[inline]
pub(crate) fn sq_dist(a: &[f32], b: &[f32]) -> f32 {
    #[cfg(target_arch = "x86_64")]
    {
        if std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma")
        {
            // SAFETY: the CPU supports AVX2 and FMA, the only requirement of `sq_dist_avx2`.
            return unsafe { sq_dist_avx2(a, b) };
        }
    }
    sq_dist_generic::<16>(a, b)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn sq_dist_avx2(a: &[f32], b: &[f32]) -> f32 {
    sq_dist_generic::<16>(a, b)
}

#[inline(always)]
fn sq_dist_generic<const LANES: usize>(a: &[f32], b: &[f32]) -> f32 {
    let mut acc = [0.0f32; LANES];
    for (x, y) in a.chunks_exact(LANES).zip(b.chunks_exact(LANES)) {
        for l in 0..LANES {
            let t = x[l] - y[l];
            acc[l] += t * t;
        }
    }
    acc.iter().sum::<f32>() + tail(a, b, a.len() / LANES * LANES)
}

/// Squared Euclidean distances from `a` to four vectors at once (pynndescent's 1x4 join
/// kernel): the loads of `a` are shared, the four accumulator chains run side by side, and
/// with FMA each lane costs a subtraction and a fused multiply-add. A pair's result does not
/// depend on its slot or on the other three vectors, but may differ from [`sq_dist`] in the
/// last bits (fused rounding), so callers that compare distances use this function for all
/// of them.
#[inline]
pub(crate) fn sq_dist4(a: &[f32], b: [&[f32]; 4]) -> [f32; 4] {
    #[cfg(target_arch = "x86_64")]
    {
        if std::arch::is_x86_feature_detected!("avx512f") {
            // SAFETY: the CPU supports AVX-512F, the only requirement of `sq_dist4_avx512`.
            return unsafe { sq_dist4_avx512(a, b) };
        }
        if std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma")
        {
            // SAFETY: the CPU supports AVX2 and FMA, the only requirement of `sq_dist4_avx2`.
            return unsafe { sq_dist4_avx2(a, b) };
        }
    }
    sq_dist4_generic(a, b)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
unsafe fn sq_dist4_avx512(a: &[f32], b: [&[f32]; 4]) -> [f32; 4] {
    use std::arch::x86_64::*;
    let n = a.len();
    let b = b.map(|v| &v[..n]);
    let full = n / 16 * 16;
    // Two accumulators per vector, so the four fused chains are twice as short.
    let mut acc0 = [_mm512_setzero_ps(); 4];
    let mut acc1 = [_mm512_setzero_ps(); 4];
    let mut at = 0;
    while at + 32 <= full {
        // SAFETY: `at + 32 <= full <= n`, and every slice holds `n` values.
        unsafe {
            let x0 = _mm512_loadu_ps(a.as_ptr().add(at));
            let x1 = _mm512_loadu_ps(a.as_ptr().add(at + 16));
            for q in 0..4 {
                let t0 = _mm512_sub_ps(x0, _mm512_loadu_ps(b[q].as_ptr().add(at)));
                let t1 = _mm512_sub_ps(x1, _mm512_loadu_ps(b[q].as_ptr().add(at + 16)));
                acc0[q] = _mm512_fmadd_ps(t0, t0, acc0[q]);
                acc1[q] = _mm512_fmadd_ps(t1, t1, acc1[q]);
            }
        }
        at += 32;
    }
    if at < full {
        // SAFETY: `at + 16 == full <= n`.
        unsafe {
            let x0 = _mm512_loadu_ps(a.as_ptr().add(at));
            for q in 0..4 {
                let t0 = _mm512_sub_ps(x0, _mm512_loadu_ps(b[q].as_ptr().add(at)));
                acc0[q] = _mm512_fmadd_ps(t0, t0, acc0[q]);
            }
        }
    }
    let mut out = [0.0f32; 4];
    for q in 0..4 {
        out[q] = _mm512_reduce_add_ps(_mm512_add_ps(acc0[q], acc1[q])) + tail(a, b[q], full);
    }
    out
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn sq_dist4_avx2(a: &[f32], b: [&[f32]; 4]) -> [f32; 4] {
    use std::arch::x86_64::*;
    let n = a.len();
    let b = b.map(|v| &v[..n]);
    let full = n / 16 * 16;
    let mut lo = [_mm256_setzero_ps(); 4];
    let mut hi = [_mm256_setzero_ps(); 4];
    let mut at = 0;
    while at < full {
        // SAFETY: `at + 16 <= full <= n`, and every slice holds `n` values.
        unsafe {
            let x0 = _mm256_loadu_ps(a.as_ptr().add(at));
            let x1 = _mm256_loadu_ps(a.as_ptr().add(at + 8));
            for q in 0..4 {
                let t0 = _mm256_sub_ps(x0, _mm256_loadu_ps(b[q].as_ptr().add(at)));
                let t1 = _mm256_sub_ps(x1, _mm256_loadu_ps(b[q].as_ptr().add(at + 8)));
                lo[q] = _mm256_fmadd_ps(t0, t0, lo[q]);
                hi[q] = _mm256_fmadd_ps(t1, t1, hi[q]);
            }
        }
        at += 16;
    }
    let mut out = [0.0f32; 4];
    for q in 0..4 {
        let v = _mm256_add_ps(lo[q], hi[q]);
        let v = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
        let v = _mm_add_ps(v, _mm_movehl_ps(v, v));
        let v = _mm_add_ss(v, _mm_movehdup_ps(v));
        out[q] = _mm_cvtss_f32(v) + tail(a, b[q], full);
    }
    out
}

/// The squared distance over `a[full..]`.
#[inline(always)]
fn tail(a: &[f32], b: &[f32], full: usize) -> f32 {
    let mut t = 0.0f32;
    for (x, y) in a[full..].iter().zip(&b[full..]) {
        t += (x - y) * (x - y);
    }
    t
}

#[inline(always)]
fn sq_dist4_generic(a: &[f32], b: [&[f32]; 4]) -> [f32; 4] {
    const LANES: usize = 16;
    let n = a.len();
    let b = b.map(|v| &v[..n]);
    let mut acc = [[0.0f32; LANES]; 4];
    let full = n / LANES * LANES;
    let mut at = 0;
    while at < full {
        let x = &a[at..at + LANES];
        for (q, bq) in b.iter().enumerate() {
            let y = &bq[at..at + LANES];
            for l in 0..LANES {
                let t = x[l] - y[l];
                acc[q][l] += t * t;
            }
        }
        at += LANES;
    }
    std::array::from_fn(|q| acc[q].iter().sum::<f32>() + tail(a, b[q], full))
}

/// Rows copied into 64-byte-aligned storage, each padded with zeros to a multiple of 16
/// floats: every 16-float load of a row is then one cache line (a copy of a `Vec<f32>` is
/// only 16-byte aligned, so half or all of its wide loads straddle two lines), and zero
/// padding changes no distance or dot product.
pub(crate) struct AlignedRows {
    lines: Vec<Line>,
    stride: usize,
}

#[repr(C, align(64))]
#[derive(Clone, Copy)]
struct Line([f32; 16]);

impl AlignedRows {
    /// Copies the rows of `x` (`dim` wide) in the order `order`.
    pub(crate) fn gather(x: &[f32], dim: usize, order: &[u32]) -> AlignedRows {
        let per_row = dim.div_ceil(16);
        let mut lines = vec![Line([0.0; 16]); order.len() * per_row];
        for (dst, &src) in lines.chunks_mut(per_row.max(1)).zip(order) {
            let row = &x[src as usize * dim..(src as usize + 1) * dim];
            for (line, part) in dst.iter_mut().zip(row.chunks(16)) {
                line.0[..part.len()].copy_from_slice(part);
            }
        }
        AlignedRows {
            lines,
            stride: per_row * 16,
        }
    }

    /// Floats per row, padding included.
    pub(crate) fn stride(&self) -> usize {
        self.stride
    }

    /// All rows, `stride` floats each.
    pub(crate) fn as_slice(&self) -> &[f32] {
        // SAFETY: `Line` is `repr(C)` over `[f32; 16]`, so the vector's memory is
        // `16 * len` initialised, properly aligned floats.
        unsafe {
            std::slice::from_raw_parts(self.lines.as_ptr().cast::<f32>(), self.lines.len() * 16)
        }
    }
}

/// A squared distance from its GEMM form `‖a‖² + ‖b‖² − 2a·b`, made exact where it is tiny:
/// the GEMM form loses the low digits there (duplicates come out ~1e-4 apart instead of 0), so
/// such pairs of rows `i`, `j` of `x` are recomputed directly.
#[inline]
pub(crate) fn refine_sq_dist(x: &[f32], d: usize, sq: &[f32], i: usize, j: usize, d2: f32) -> f32 {
    if d2 < 1e-3 * (sq[i] + sq[j]) {
        sq_dist(&x[i * d..(i + 1) * d], &x[j * d..(j + 1) * d])
    } else {
        d2
    }
}

/// Scales `row` to unit length: the norm accumulated in f64 (rows from some models have large
/// norms, and the result must not depend on summation order more than f32 rounding allows),
/// then one f32 factor. Returns false, leaving the row as it is, when it is all zeros. Every
/// row normalisation of the crate goes through here.
pub(crate) fn normalise(row: &mut [f32]) -> bool {
    let norm = row
        .iter()
        .map(|&x| f64::from(x) * f64::from(x))
        .sum::<f64>()
        .sqrt();
    if norm == 0.0 {
        return false;
    }
    let inv = (1.0 / norm) as f32;
    row.iter_mut().for_each(|x| *x *= inv);
    true
}

/// Squared Euclidean distance summed in order, for few dimensions (UMAP's layout coordinates),
/// where [`sq_dist`]'s lanes would buy nothing and the order of the sum must stay put.
#[inline]
pub(crate) fn sq_dist_seq(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| (x - y) * (x - y)).sum()
}

/// Squared Euclidean distance in f64 (K-Means' final inertia).
pub(crate) fn sq_dist_f64(a: &[f32], b: &[f32]) -> f64 {
    a.iter().zip(b).map(|(x, y)| f64::from(x - y).powi(2)).sum()
}

/// Dot product in f64 (the exact check of pairs near a threshold).
pub(crate) fn dot_f64(a: &[f32], b: &[f32]) -> f64 {
    a.iter()
        .zip(b)
        .map(|(&a, &b)| f64::from(a) * f64::from(b))
        .sum()
}

/// Squared L2 norm of each row.
pub(crate) fn row_sq_norms(x: &[f32], dim: usize) -> Vec<f32> {
    use rayon::prelude::*;
    // Rows in parallel (each row's sum in the same order whatever the threads).
    x.par_chunks_exact(dim)
        .with_min_len(4096)
        .map(|r| r.iter().map(|v| v * v).sum())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn naive(a: &[f32], b: &[f32], m: usize, n: usize, k: usize) -> Vec<f32> {
        let mut out = vec![0.0; m * n];
        for i in 0..m {
            for j in 0..n {
                out[i * n + j] = (0..k).map(|t| a[i * k + t] * b[j * k + t]).sum();
            }
        }
        out
    }

    #[test]
    fn sq_dist_matches_naive() {
        for len in [0, 1, 15, 16, 17, 384, 385] {
            let a: Vec<f32> = (0..len).map(|i| (i as f32 * 0.37).sin()).collect();
            let b: Vec<f32> = (0..len).map(|i| (i as f32 * 0.11).cos()).collect();
            let want: f64 = a
                .iter()
                .zip(&b)
                .map(|(x, y)| f64::from(x - y).powi(2))
                .sum();
            assert!(
                (f64::from(sq_dist(&a, &b)) - want).abs() <= 1e-5 * (1.0 + want),
                "len {len}"
            );
        }
    }

    #[test]
    fn sq_dist4_matches_naive_whatever_the_slot() {
        for len in [0, 1, 15, 16, 17, 384, 385] {
            let row = |s: f32| -> Vec<f32> { (0..len).map(|i| (i as f32 * s).sin()).collect() };
            let (a, b0, b1, b2, b3) = (row(0.37), row(0.11), row(0.5), row(1.3), row(2.9));
            let got = sq_dist4(&a, [&b0, &b1, &b2, &b3]);
            let turned = sq_dist4(&a, [&b3, &b2, &b1, &b0]);
            let padded = sq_dist4(&a, [&b2, &b2, &b2, &b2]);
            for (q, b) in [&b0, &b1, &b2, &b3].iter().enumerate() {
                let want: f64 = a
                    .iter()
                    .zip(b.iter())
                    .map(|(x, y)| f64::from(x - y).powi(2))
                    .sum();
                assert!(
                    (f64::from(got[q]) - want).abs() <= 1e-5 * (1.0 + want),
                    "len {len}"
                );
                assert_eq!(got[q].to_bits(), turned[3 - q].to_bits(), "len {len}");
            }
            assert_eq!(padded[0].to_bits(), got[2].to_bits());
        }
    }

    #[test]
    fn aligned_rows_are_padded_copies_in_order() {
        let x: Vec<f32> = (0..3 * 20).map(|i| i as f32).collect();
        let rows = AlignedRows::gather(&x, 20, &[2, 0]);
        assert_eq!(rows.stride(), 32);
        let s = rows.as_slice();
        assert_eq!(s.as_ptr() as usize % 64, 0);
        assert_eq!(&s[..20], &x[40..60]);
        assert!(s[20..32].iter().all(|&v| v == 0.0));
        assert_eq!(&s[32..52], &x[..20]);
        let d = sq_dist4(&s[..32], [&s[32..64]; 4]);
        assert_eq!(d[0], sq_dist(&x[40..60], &x[..20]));
    }

    #[test]
    fn matches_naive_and_accumulates() {
        let (m, n, k) = (37, 19, 23);
        let a: Vec<f32> = (0..m * k)
            .map(|i| ((i * 7 % 13) as f32 - 6.0) / 5.0)
            .collect();
        let b: Vec<f32> = (0..n * k)
            .map(|i| ((i * 5 % 11) as f32 - 5.0) / 3.0)
            .collect();
        let want = naive(&a, &b, m, n, k);
        let mut got = vec![1.0; m * n];
        matmul_abt(&mut got, &a, &b, (m, n, k), false, Par::Seq);
        for (g, w) in got.iter().zip(&want) {
            assert!((g - w).abs() < 1e-4, "{g} vs {w}");
        }
        let mut acc = vec![1.0; m * n];
        matmul_abt(&mut acc, &a, &b, (m, n, k), true, Par::rayon(0));
        for (g, w) in acc.iter().zip(&want) {
            assert!((g - (w + 1.0)).abs() < 1e-4);
        }
    }
}
