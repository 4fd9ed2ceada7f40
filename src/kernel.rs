//! The pairwise-similarity kernel: blocked products of row tiles against a second matrix, with
//! a reduction fused per tile, parallel over tiles. Never an `n x n` matrix in memory: a tile
//! holds `TILE_ROWS x m` values.
//!
//! Every stage that compares vectors (K-Means assignment, k-means++ seeding, silhouette, and
//! later dedup, retrieval and kNN graphs) goes through [`for_each_tile`]. Tiles are processed
//! independently and results are combined in tile order, so the output does not depend on the
//! number of threads.

use faer::Par;
use rayon::prelude::*;

use crate::linalg::matmul_abt;

/// Rows of `a` per tile.
pub const TILE_ROWS: usize = 256;

/// For each tile of rows of `a` (`n x d`), computes the dot products with every row of `b`
/// (`m x d`) into a `tile x m` buffer and hands `(first_row, rows, dots)` to `f`; returns the
/// per-tile results in tile order.
pub fn for_each_tile<T, F>(a: &[f32], b: &[f32], d: usize, f: F) -> Vec<T>
where
    T: Send,
    F: Fn(usize, usize, &[f32]) -> T + Sync,
{
    let n = a.len() / d;
    let m = b.len() / d;
    let tiles = n.div_ceil(TILE_ROWS);
    (0..tiles)
        .into_par_iter()
        .map_init(Vec::new, |buf: &mut Vec<f32>, t| {
            let start = t * TILE_ROWS;
            let rows = TILE_ROWS.min(n - start);
            buf.resize(rows * m, 0.0);
            matmul_abt(
                buf,
                &a[start * d..(start + rows) * d],
                b,
                (rows, m, d),
                false,
                Par::Seq,
            );
            f(start, rows, buf)
        })
        .collect()
}

/// For every row of `x`, the nearest row of `c` in squared Euclidean distance, and that
/// distance: `‖x‖² + ‖c‖² − 2x·c`, clamped at 0. Ties go to the lower index.
pub fn nearest(
    x: &[f32],
    x_sq: &[f32],
    c: &[f32],
    c_sq: &[f32],
    d: usize,
) -> (Vec<usize>, Vec<f32>) {
    let m = c_sq.len();
    let parts = for_each_tile(x, c, d, |start, rows, dots| {
        let mut labels = Vec::with_capacity(rows);
        let mut dists = Vec::with_capacity(rows);
        for r in 0..rows {
            let row = &dots[r * m..(r + 1) * m];
            let (mut best, mut best_d) = (0, f32::INFINITY);
            for (j, &dot) in row.iter().enumerate() {
                let dist = x_sq[start + r] + c_sq[j] - 2.0 * dot;
                if dist < best_d {
                    best = j;
                    best_d = dist;
                }
            }
            labels.push(best);
            dists.push(best_d.max(0.0));
        }
        (labels, dists)
    });
    let mut labels = Vec::with_capacity(x_sq.len());
    let mut dists = Vec::with_capacity(x_sq.len());
    for (l, dd) in parts {
        labels.extend(l);
        dists.extend(dd);
    }
    (labels, dists)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::linalg::row_sq_norms;

    #[test]
    fn nearest_matches_naive_loop() {
        let d = 5;
        let n = TILE_ROWS * 2 + 17;
        let x: Vec<f32> = (0..n * d)
            .map(|i| ((i * 31 % 97) as f32 / 97.0) - 0.5)
            .collect();
        let c: Vec<f32> = (0..7 * d)
            .map(|i| ((i * 13 % 29) as f32 / 29.0) - 0.5)
            .collect();
        let (labels, dists) = nearest(&x, &row_sq_norms(&x, d), &c, &row_sq_norms(&c, d), d);
        for i in 0..n {
            let sq =
                |j: usize| -> f32 { (0..d).map(|t| (x[i * d + t] - c[j * d + t]).powi(2)).sum() };
            let (best, best_d) =
                (0..7)
                    .map(|j| (j, sq(j)))
                    .fold((0, f32::INFINITY), |a, b| if b.1 < a.1 { b } else { a });
            assert_eq!(labels[i], best, "row {i}");
            assert!((dists[i] - best_d).abs() < 1e-5);
        }
    }

    #[test]
    fn parallel_equals_serial() {
        let d = 8;
        let n = 1000;
        let x: Vec<f32> = (0..n * d)
            .map(|i| ((i * 7919 % 1009) as f32 / 1009.0) - 0.5)
            .collect();
        let c: Vec<f32> = x[..10 * d].to_vec();
        let (xs, cs) = (row_sq_norms(&x, d), row_sq_norms(&c, d));
        let par = nearest(&x, &xs, &c, &cs, d);
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(1)
            .build()
            .unwrap();
        let serial = pool.install(|| nearest(&x, &xs, &c, &cs, d));
        assert_eq!(par, serial);
    }
}
