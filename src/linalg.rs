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
    let (ca, cb) = (a.chunks_exact(LANES), b.chunks_exact(LANES));
    let (ra, rb) = (ca.remainder(), cb.remainder());
    for (x, y) in ca.zip(cb) {
        for l in 0..LANES {
            let t = x[l] - y[l];
            acc[l] += t * t;
        }
    }
    let mut tail = 0.0f32;
    for (x, y) in ra.iter().zip(rb) {
        tail += (x - y) * (x - y);
    }
    acc.iter().sum::<f32>() + tail
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

/// Squared L2 norm of each row.
pub(crate) fn row_sq_norms(x: &[f32], dim: usize) -> Vec<f32> {
    x.chunks_exact(dim)
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
