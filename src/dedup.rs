//! Duplicates: exact (same text after normalisation, by hash) and near (cosine at or above a
//! threshold, every pair found through the similarity kernel: tiles of the upper triangle of
//! the all-pairs product with the threshold fused, never an `n x n` matrix), grouped by
//! union-find.

use rayon::prelude::*;
use serde::Serialize;

use crate::embeddings::Embeddings;
use crate::error::{Error, Result};
use crate::kernel::for_each_upper_tile;

/// A near-duplicate pair, `row_a < row_b`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Pair {
    /// First row.
    pub row_a: usize,
    /// Second row.
    pub row_b: usize,
    /// Their cosine similarity.
    pub cosine: f32,
}

/// Every pair of rows with cosine similarity `>= threshold`, sorted by (row_a, row_b). Exact:
/// the tiles' f32 products decide clear cases, and pairs within 1e-5 of the threshold are
/// recomputed in f64, so a pair exactly at the threshold is in.
///
/// ```
/// use embedscope::{dedup::near_duplicates, Embeddings};
/// let data = Embeddings::new(vec![1.0, 0.0, 1.0, 0.001, 0.0, 1.0], 2)?;
/// let pairs = near_duplicates(&data, 0.95)?;
/// assert_eq!((pairs.len(), pairs[0].row_a, pairs[0].row_b), (1, 0, 1));
/// # Ok::<(), embedscope::Error>(())
/// ```
pub fn near_duplicates(data: &Embeddings, threshold: f64) -> Result<Vec<Pair>> {
    if !(threshold > 0.0 && threshold <= 1.0) {
        return Err(Error::param("threshold", threshold, "must be in (0, 1]"));
    }
    data.require_unit("cosine threshold", &threshold.to_string())?;
    let (n, d) = (data.rows(), data.dim());
    let x = data.as_slice();
    let loose = (threshold - 1e-5) as f32;
    let parts = for_each_upper_tile(x, d, |start, rows, dots| {
        let m = n - start;
        let mut out = Vec::new();
        for r in 0..rows {
            let i = start + r;
            // Columns are rows start.., so row j sits at column j - start; only j > i count.
            for (c, &dot) in dots[r * m..(r + 1) * m].iter().enumerate().skip(r + 1) {
                if dot >= loose {
                    let j = start + c;
                    let exact: f64 = data
                        .row(i)
                        .iter()
                        .zip(data.row(j))
                        .map(|(&a, &b)| f64::from(a) * f64::from(b))
                        .sum();
                    if exact >= threshold {
                        out.push(Pair {
                            row_a: i,
                            row_b: j,
                            cosine: exact as f32,
                        });
                    }
                }
            }
        }
        out
    });
    Ok(parts.concat())
}

/// Each row's highest cosine similarity to another row (the nearest neighbour), through the
/// kernel's tiles with a fused row maximum: the distribution that tells where a duplicate
/// threshold sits.
pub fn nearest_cosines(data: &Embeddings) -> Result<Vec<f32>> {
    data.require_unit("nearest cosine", "")?;
    let (n, d) = (data.rows(), data.dim());
    let x = data.as_slice();
    if n < 2 {
        return Ok(vec![f32::NAN; n]);
    }
    let parts = crate::kernel::for_each_tile(x, x, d, |start, rows, dots| {
        (0..rows)
            .map(|r| {
                let i = start + r;
                dots[r * n..(r + 1) * n]
                    .iter()
                    .enumerate()
                    .filter(|&(j, _)| j != i)
                    .map(|(_, &v)| v.min(1.0))
                    .fold(f32::NEG_INFINITY, f32::max)
            })
            .collect::<Vec<f32>>()
    });
    Ok(parts.concat())
}

/// Counts of `values` in `bins` equal bins over `[lo, hi]` (`hi` falls in the last bin;
/// values below `lo`, above `hi` or not finite are not counted): `(left edges, counts)`.
pub fn histogram(values: &[f32], lo: f64, hi: f64, bins: usize) -> (Vec<f64>, Vec<usize>) {
    let width = (hi - lo) / bins as f64;
    let mut counts = vec![0usize; bins];
    for &v in values {
        let v = f64::from(v);
        if v.is_finite() && v >= lo && v <= hi {
            counts[(((v - lo) / width) as usize).min(bins - 1)] += 1;
        }
    }
    let edges = (0..bins)
        .map(|b| ((lo + b as f64 * width) * 1e6).round() / 1e6)
        .collect();
    (edges, counts)
}

/// Groups of rows joined by `pairs` (union-find), each sorted, groups ordered by their first
/// row; rows in no pair are left out.
pub fn groups(n: usize, pairs: impl IntoIterator<Item = (usize, usize)>) -> Vec<Vec<usize>> {
    let mut parent: Vec<usize> = (0..n).collect();
    let mut touched = vec![false; n];
    for (a, b) in pairs {
        touched[a] = true;
        touched[b] = true;
        let (ra, rb) = (
            crate::cluster::find_root(&mut parent, a),
            crate::cluster::find_root(&mut parent, b),
        );
        if ra != rb {
            parent[ra.max(rb)] = ra.min(rb);
        }
    }
    let mut by_root: std::collections::BTreeMap<usize, Vec<usize>> = Default::default();
    for i in (0..n).filter(|&i| touched[i]) {
        by_root
            .entry(crate::cluster::find_root(&mut parent, i))
            .or_default()
            .push(i);
    }
    by_root.into_values().collect()
}

/// Groups of rows whose texts are equal after normalisation (trimmed, inner whitespace
/// collapsed to one space, lowercased unless `keep_case`), by 128-bit hash then compared.
pub fn exact_duplicates(texts: &[String], keep_case: bool) -> Vec<Vec<usize>> {
    let norm = |t: &str| -> String {
        let joined = t.split_whitespace().collect::<Vec<_>>().join(" ");
        if keep_case {
            joined
        } else {
            joined.to_lowercase()
        }
    };
    let keys: Vec<(u128, usize)> = texts
        .par_iter()
        .enumerate()
        .map(|(i, t)| (xxhash_rust::xxh3::xxh3_128(norm(t).as_bytes()), i))
        .collect();
    let mut sorted = keys;
    sorted.sort_unstable();
    let mut pairs = Vec::new();
    for w in sorted.chunk_by(|a, b| a.0 == b.0) {
        for k in 1..w.len() {
            // A hash match is checked on the text (collisions are astronomically rare, but
            // the answer must be exact).
            if norm(&texts[w[0].1]) == norm(&texts[w[k].1]) {
                pairs.push((w[0].1, w[k].1));
            }
        }
    }
    groups(texts.len(), pairs)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::Rng;

    #[test]
    fn kernel_pairs_equal_a_naive_loop() {
        let mut rng = Rng::new(3, 0);
        let (n, d) = (700, 8);
        let mut v: Vec<f32> = (0..n * d).map(|_| rng.next_f64() as f32 - 0.5).collect();
        // Plant near copies.
        for i in (0..n).step_by(50) {
            for t in 0..d {
                v[(i + 1) * d + t] = v[i * d + t] + 0.001 * (t as f32);
            }
        }
        let data = Embeddings::new(v, d).unwrap();
        for t in [0.9, 0.95, 0.99] {
            let got: Vec<(usize, usize)> = near_duplicates(&data, t)
                .unwrap()
                .iter()
                .map(|p| (p.row_a, p.row_b))
                .collect();
            let mut want = Vec::new();
            for i in 0..n {
                for j in i + 1..n {
                    let c: f64 = data
                        .row(i)
                        .iter()
                        .zip(data.row(j))
                        .map(|(&a, &b)| f64::from(a) * f64::from(b))
                        .sum();
                    if c >= t {
                        want.push((i, j));
                    }
                }
            }
            assert_eq!(got, want, "threshold {t}");
            assert!(want.len() >= n / 50);
        }
    }

    #[test]
    fn nearest_cosines_match_a_naive_loop() {
        let mut rng = Rng::new(9, 0);
        let (n, d) = (300, 6);
        let v: Vec<f32> = (0..n * d).map(|_| rng.next_f64() as f32 - 0.5).collect();
        let data = Embeddings::new(v, d).unwrap();
        let got = nearest_cosines(&data).unwrap();
        for (i, &g) in got.iter().enumerate() {
            let cos = |j: usize| -> f32 {
                data.row(i)
                    .iter()
                    .zip(data.row(j))
                    .map(|(a, b)| a * b)
                    .sum()
            };
            let want = (0..n)
                .filter(|&j| j != i)
                .map(cos)
                .fold(f32::NEG_INFINITY, f32::max);
            assert!((g - want).abs() < 1e-5, "row {i}");
        }
        let (edges, counts) = histogram(&got, -1.0, 1.0, 20);
        assert_eq!(edges.len(), 20);
        assert_eq!(counts.iter().sum::<usize>(), n);
    }

    #[test]
    fn a_pair_exactly_at_the_threshold_is_in() {
        // cos = 0.6 exactly: (1, 0) and (0.6, 0.8).
        let data = Embeddings::new(vec![1.0, 0.0, 0.6, 0.8], 2).unwrap();
        assert_eq!(near_duplicates(&data, 0.6).unwrap().len(), 1);
        assert_eq!(near_duplicates(&data, 0.6000001).unwrap().len(), 0);
        assert!(near_duplicates(&data, 0.0).is_err());
        assert!(near_duplicates(&data, 1.5).is_err());
    }

    #[test]
    fn exact_groups_after_normalisation() {
        let t = [
            "Hello  world",
            "hello world",
            "other",
            " HELLO world ",
            "other",
        ]
        .map(String::from);
        assert_eq!(exact_duplicates(&t, false), vec![vec![0, 1, 3], vec![2, 4]]);
        // Case kept: the three spellings differ; "other" still pairs.
        assert_eq!(exact_duplicates(&t, true), vec![vec![2, 4]]);
    }
}
