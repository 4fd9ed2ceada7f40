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

use crate::linalg::{matmul_abt, refine_sq_dist, row_sq_norms};
use crate::matrix::View;

/// Rows of `a` per tile.
pub const TILE_ROWS: usize = 256;

/// Two rows whose cosine passed a threshold test, `row_a < row_b`: what the threshold
/// reductions over the kernel's tiles (near duplicates, an index's range search) find.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct Pair {
    /// First row.
    pub row_a: usize,
    /// Second row.
    pub row_b: usize,
    /// Their cosine similarity.
    pub cosine: f32,
}

/// For each tile of rows of `a` (`n x d`), computes the dot products with every row of `b`
/// (`m x d`) into a `tile x m` buffer and hands `(first_row, rows, dots)` to `f`; returns the
/// per-tile results in tile order. `a` may be half floats ([`View::F16`]): each tile is widened
/// as it is multiplied.
pub fn for_each_tile<'a, T, F>(a: impl Into<View<'a>>, b: &[f32], d: usize, f: F) -> Vec<T>
where
    T: Send,
    F: Fn(usize, usize, &[f32]) -> T + Sync,
{
    tiles(a.into(), d, |_| b, f)
}

/// [`for_each_tile`] over the upper triangle of `x` against itself: the tile of rows
/// `start..start + rows` is multiplied only with rows `start..n` (pairs `i < j` once, half the
/// work of the full product) and `f` gets `(start, rows, dots)` with `dots` of width
/// `n - start` (column `c` is row `start + c`).
pub fn for_each_upper_tile<T, F>(x: &[f32], d: usize, f: F) -> Vec<T>
where
    T: Send,
    F: Fn(usize, usize, &[f32]) -> T + Sync,
{
    tiles(View::F32(x), d, |start| &x[start * d..], f)
}

/// The tile loop: row tiles of `a` in parallel (widened when half), each multiplied with
/// `b_for(first row)`.
fn tiles<'b, T, F, B>(a: View<'_>, d: usize, b_for: B, f: F) -> Vec<T>
where
    T: Send,
    F: Fn(usize, usize, &[f32]) -> T + Sync,
    B: Fn(usize) -> &'b [f32] + Sync,
{
    let n = a.len() / d;
    let tiles = n.div_ceil(TILE_ROWS);
    (0..tiles)
        .into_par_iter()
        .map_init(
            || (Vec::new(), Vec::new()),
            |(buf, wide): &mut (Vec<f32>, Vec<f32>), t| {
                let start = t * TILE_ROWS;
                let rows = TILE_ROWS.min(n - start);
                let b = b_for(start);
                let m = b.len() / d;
                buf.resize(rows * m, 0.0);
                matmul_abt(
                    buf,
                    a.rows(start, start + rows, d).to_f32(wide),
                    b,
                    (rows, m, d),
                    false,
                    Par::Seq,
                );
                f(start, rows, buf)
            },
        )
        .collect()
}

/// For every row of `x` (f32 or half), the nearest row of `c` in squared Euclidean distance,
/// and that distance: `‖x‖² + ‖c‖² − 2x·c`, clamped at 0. Ties go to the lower index.
pub fn nearest<'a>(
    x: impl Into<View<'a>>,
    x_sq: &[f32],
    c: &[f32],
    c_sq: &[f32],
    d: usize,
) -> (Vec<usize>, Vec<f32>) {
    nearest_two(x, x_sq, c, c_sq, d)
        .into_iter()
        .map(|n| (n.index, n.sq_dist))
        .unzip()
}

/// The nearest row of `c` to a row of `x`, and how far the runner-up is.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Nearest {
    /// Index of the nearest row (lowest index on ties).
    pub index: usize,
    /// Its squared distance.
    pub sq_dist: f32,
    /// Squared distance of the second nearest row (infinite when `c` has one row).
    pub second_sq_dist: f32,
}

/// For every row of `x` (f32 or half), the nearest and second-nearest rows of `c` (squared
/// Euclidean).
pub fn nearest_two<'a>(
    x: impl Into<View<'a>>,
    x_sq: &[f32],
    c: &[f32],
    c_sq: &[f32],
    d: usize,
) -> Vec<Nearest> {
    let m = c_sq.len();
    let parts = for_each_tile(x, c, d, |start, rows, dots| {
        (0..rows)
            .map(|r| {
                let row = &dots[r * m..(r + 1) * m];
                let (mut best, mut best_d, mut second_d) = (0, f32::INFINITY, f32::INFINITY);
                for (j, &dot) in row.iter().enumerate() {
                    let dist = x_sq[start + r] + c_sq[j] - 2.0 * dot;
                    if dist < best_d {
                        second_d = best_d;
                        best = j;
                        best_d = dist;
                    } else if dist < second_d {
                        second_d = dist;
                    }
                }
                Nearest {
                    index: best,
                    sq_dist: best_d.max(0.0),
                    second_sq_dist: second_d.max(0.0),
                }
            })
            .collect::<Vec<_>>()
    });
    parts.concat()
}

/// The `k` best candidates of one row, sorted by (squared distance, index): the reduction
/// fused into the kNN tiles.
pub(crate) struct Shortlist {
    k: usize,
    best: Vec<(f32, u32)>,
}

impl Shortlist {
    pub(crate) fn new(k: usize) -> Self {
        Shortlist {
            k,
            best: Vec::with_capacity(k + 1),
        }
    }

    pub(crate) fn clear(&mut self) {
        self.best.clear();
    }

    /// Considers candidate `j` at squared distance `d2` (insertion; `k` is small).
    #[inline]
    pub(crate) fn offer(&mut self, d2: f32, j: u32) {
        if self.best.len() == self.k && (d2, j) >= self.best[self.k - 1] {
            return;
        }
        let at = self.best.partition_point(|&e| e < (d2, j));
        self.best.insert(at, (d2, j));
        self.best.truncate(self.k);
    }

    /// Makes tiny distances of row `i`'s shortlist exact ([`refine_sq_dist`]) and restores the
    /// order; returns the sorted `(squared distance, index)` pairs.
    pub(crate) fn finish(&mut self, x: &[f32], d: usize, sq: &[f32], i: usize) -> &[(f32, u32)] {
        self.finish_by(|j, d2| refine_sq_dist(x, d, sq, i, j as usize, d2))
    }

    /// Replaces each distance by `refine(index, distance)` and restores the order.
    pub(crate) fn finish_by(&mut self, refine: impl Fn(u32, f32) -> f32) -> &[(f32, u32)] {
        for e in self.best.iter_mut() {
            e.0 = refine(e.1, e.0);
        }
        self.best
            .sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
        &self.best
    }
}

/// The `k` nearest rows of `x` to each row of `x` (the row itself included, normally first),
/// by Euclidean distance: `(indices, distances)`, each `n x k` row-major, sorted by
/// (distance, index). Exact, through the tiles; memory `O(n·k)` plus one tile.
pub fn knn(x: &[f32], d: usize, k: usize) -> (Vec<u32>, Vec<f32>) {
    knn_tiles(x, x, d, k, true)
}

/// The `k` nearest rows of `b` (`m x d`) to each row of `a` (`n x d`), by Euclidean distance:
/// `(indices into b, distances)`, each `n x k` row-major, sorted by (distance, index). Exact,
/// through the tiles (queries against a reference set, as UMAP's `transform` needs).
pub fn knn_between(a: &[f32], b: &[f32], d: usize, k: usize) -> (Vec<u32>, Vec<f32>) {
    knn_tiles(a, b, d, k, false)
}

/// Columns of `b` per block in [`shortlists`]: a tile's buffer holds `TILE_ROWS x COL_BLOCK`
/// values (32 MB) however many rows `b` has.
pub const COL_BLOCK: usize = 32_768;

/// Per row `i` of `a` (`n x d`), the `k` smallest `(key, id) = key(i, j, dot)` over the rows
/// `j` of `b` (`m x d`) that `key` does not skip (`None`), sorted. Row tiles run in
/// parallel; each is multiplied with `b` one block of [`COL_BLOCK`] rows at a time, so memory
/// stays `TILE_ROWS x COL_BLOCK` per thread: a thousand queries against ten million rows
/// need no more than against ten thousand. The result does not depend on the blocking.
pub(crate) fn shortlists<'b, K>(
    a: &[f32],
    b: impl Into<View<'b>>,
    d: usize,
    k: usize,
    key: K,
) -> Vec<Vec<(f32, u32)>>
where
    K: Fn(usize, usize, f32) -> Option<(f32, u32)> + Sync,
{
    let b = b.into();
    let k = k.min(b.len() / d);
    tile_blocks(
        a,
        b,
        d,
        |_, rows| (0..rows).map(|_| Shortlist::new(k)).collect::<Vec<_>>(),
        |best, start, _, c0, cols, dots| {
            for (r, list) in best.iter_mut().enumerate() {
                let i = start + r;
                for (c, &dot) in dots[r * cols..(r + 1) * cols].iter().enumerate() {
                    if let Some((v, id)) = key(i, c0 + c, dot) {
                        list.offer(v, id);
                    }
                }
            }
        },
    )
    .into_iter()
    .flatten()
    .map(|list| list.best)
    .collect()
}

/// [`for_each_tile`] with `b` cut into blocks of [`COL_BLOCK`] rows: `f(first_row, rows,
/// first_col, cols, dots)` per tile and block, `dots` row-major `rows x cols`; results in
/// (tile, block) order. Memory stays `TILE_ROWS x COL_BLOCK` per thread however long `b` is
/// (a sample of rows against a corpus of millions); `b` may be half floats, widened a block
/// at a time.
pub fn for_each_tile_block<'b, T, F>(a: &[f32], b: impl Into<View<'b>>, d: usize, f: F) -> Vec<T>
where
    T: Send,
    F: Fn(usize, usize, usize, usize, &[f32]) -> T + Sync,
{
    tile_blocks(
        a,
        b.into(),
        d,
        |_, _| Vec::new(),
        |out, start, rows, c0, cols, dots| out.push(f(start, rows, c0, cols, dots)),
    )
    .into_iter()
    .flatten()
    .collect()
}

/// The loop under [`shortlists`] and [`for_each_tile_block`]: row tiles of `a` in parallel,
/// each with a state `init(first_row, rows)` that `step(state, first_row, rows, first_col,
/// cols, dots)` updates block by block of [`COL_BLOCK`] rows of `b`; the states in tile order.
fn tile_blocks<S, I, F>(a: &[f32], b: View<'_>, d: usize, init: I, step: F) -> Vec<S>
where
    S: Send,
    I: Fn(usize, usize) -> S + Sync,
    F: Fn(&mut S, usize, usize, usize, usize, &[f32]) + Sync,
{
    let n = a.len() / d;
    let m = b.len() / d;
    (0..n.div_ceil(TILE_ROWS))
        .into_par_iter()
        .map(|t| {
            let start = t * TILE_ROWS;
            let rows = TILE_ROWS.min(n - start);
            let mut state = init(start, rows);
            let (mut buf, mut wide) = (Vec::new(), Vec::new());
            for c0 in (0..m).step_by(COL_BLOCK) {
                let cols = COL_BLOCK.min(m - c0);
                buf.resize(rows * cols, 0.0);
                matmul_abt(
                    &mut buf,
                    &a[start * d..(start + rows) * d],
                    b.rows(c0, c0 + cols, d).to_f32(&mut wide),
                    (rows, cols, d),
                    false,
                    Par::Seq,
                );
                step(&mut state, start, rows, c0, cols, &buf);
            }
            state
        })
        .collect()
}

/// [`knn`] (`same`: `a` and `b` are one matrix, a row is 0 from itself) and [`knn_between`].
fn knn_tiles(a: &[f32], b: &[f32], d: usize, k: usize, same: bool) -> (Vec<u32>, Vec<f32>) {
    let m = b.len() / d;
    let k = k.min(m);
    let (sa, sb) = (row_sq_norms(a, d), row_sq_norms(b, d));
    let lists = shortlists(a, b, d, k, |i, j, dot| {
        let d2 = if same && j == i {
            0.0
        } else {
            (sa[i] + sb[j] - 2.0 * dot).max(0.0)
        };
        Some((d2, j as u32))
    });
    let n = a.len() / d;
    let mut idx = Vec::with_capacity(n * k);
    let mut dist = Vec::with_capacity(n * k);
    for (i, list) in lists.into_iter().enumerate() {
        let mut best = Shortlist { k, best: list };
        let ai = &a[i * d..(i + 1) * d];
        // Tiny distances exactly (the GEMM form loses their low digits).
        for &(d2, j) in best.finish_by(|j, d2| {
            let j = j as usize;
            if d2 < 1e-3 * (sa[i] + sb[j]) {
                crate::linalg::sq_dist(ai, &b[j * d..(j + 1) * d])
            } else {
                d2
            }
        }) {
            idx.push(j);
            dist.push(d2.sqrt());
        }
    }
    (idx, dist)
}

#[cfg(test)]
mod tests {
    use super::*;

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
    fn second_nearest_matches_naive() {
        let d = 3;
        let x: Vec<f32> = (0..40 * d)
            .map(|i| ((i * 17 % 23) as f32 / 23.0) - 0.5)
            .collect();
        let c: Vec<f32> = (0..5 * d)
            .map(|i| ((i * 11 % 19) as f32 / 19.0) - 0.5)
            .collect();
        let got = nearest_two(&x, &row_sq_norms(&x, d), &c, &row_sq_norms(&c, d), d);
        for (i, g) in got.iter().enumerate() {
            let mut all: Vec<f32> = (0..5)
                .map(|j| (0..d).map(|t| (x[i * d + t] - c[j * d + t]).powi(2)).sum())
                .collect();
            all.sort_by(f32::total_cmp);
            assert!((g.sq_dist - all[0]).abs() < 1e-5 && (g.second_sq_dist - all[1]).abs() < 1e-5);
        }
    }

    #[test]
    fn knn_matches_naive() {
        let d = 6;
        let n = 300;
        let mut x: Vec<f32> = (0..n * d)
            .map(|i| ((i * 7919 % 613) as f32 / 613.0) - 0.5)
            .collect();
        // A duplicate row must come out at distance 0.
        let dup: Vec<f32> = x[..d].to_vec();
        x[5 * d..6 * d].copy_from_slice(&dup);
        let k = 7;
        let (idx, dist) = knn(&x, d, k);
        for i in 0..n {
            let mut all: Vec<(f32, usize)> = (0..n)
                .map(|j| {
                    (
                        (0..d)
                            .map(|t| (x[i * d + t] - x[j * d + t]).powi(2))
                            .sum::<f32>()
                            .sqrt(),
                        j,
                    )
                })
                .collect();
            all.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
            for r in 0..k {
                assert!(
                    (dist[i * k + r] - all[r].0).abs() < 1e-4,
                    "row {i} rank {r}"
                );
            }
            assert_eq!(dist[i * k], 0.0);
        }
        assert_eq!(dist[5 * k + 1], 0.0, "the duplicate is exactly 0 away");
        assert!(idx[..k].contains(&5));
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
