//! Did the corpus move? A two-sample test between the snapshots (maximum mean discrepancy
//! with a Gaussian kernel, its p-value by permutation) over the whole corpus and per matched
//! topic, and the new documents that copy old ones.
//!
//! MMD² (Gretton et al. 2012, the unbiased estimate) compares every pair of rows: the mean
//! kernel within A plus the mean within B less twice the mean across. The kernel is
//! `exp(-‖x − y‖² / h)` with `h` the median squared distance over the pooled rows (the median
//! heuristic). Under "no drift" the rows' side is exchangeable, so the p-value is the share of
//! random relabellings whose MMD² is at least the observed one, `(1 + #) / (1 + permutations)`.

use serde::Serialize;

use super::DocRef;
use crate::embeddings::Embeddings;
use crate::io::Corpus;
use crate::label::summary::snippet_of;
use crate::rng::Rng;

/// A two-sample test between two sets of rows.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct TwoSample {
    /// Rows of A in the test (a seeded sample).
    pub rows_a: usize,
    /// Rows of B in the test.
    pub rows_b: usize,
    /// The unbiased MMD² (0 when the two sides come from one distribution; may dip below 0).
    pub mmd2: f64,
    /// The kernel's bandwidth: the median squared distance between pooled rows.
    pub bandwidth: f64,
    /// Share of random relabellings with an MMD² at least as large (small: the sides differ).
    pub p_value: f64,
    /// Relabellings drawn.
    pub permutations: usize,
}

/// The unbiased MMD² of the split `side` (1.0: B, 0.0: A) over the kernel matrix `k`
/// (`n x n`, zero diagonal) whose row sums are `total`: one masked pass over the matrix.
fn mmd2(k: &[f32], total: &[f64], side: &[f32]) -> f64 {
    let n = side.len();
    let (mut aa, mut bb, mut ab) = (0.0f64, 0.0f64, 0.0f64);
    for i in 0..n {
        let row = &k[i * n..(i + 1) * n];
        // The row's sum over B, in f32 lanes (rows are short enough), summed up in f64.
        let to_b: f32 = row.iter().zip(side).map(|(x, m)| x * m).sum();
        let to_b = f64::from(to_b);
        if side[i] > 0.5 {
            bb += to_b;
        } else {
            ab += to_b;
            aa += total[i] - to_b;
        }
    }
    let nb = side.iter().filter(|&&s| s > 0.5).count() as f64;
    let na = n as f64 - nb;
    aa / (na * (na - 1.0)) + bb / (nb * (nb - 1.0)) - 2.0 * ab / (na * nb)
}

/// MMD² between `a` and `b` (unit rows, one space) on seeded samples of at most `max_rows`
/// each, with `permutations` relabellings; None when a side has fewer than 2 rows.
pub(super) fn two_sample(
    a: &Embeddings,
    b: &Embeddings,
    max_rows: usize,
    permutations: usize,
    seed: u64,
) -> Option<TwoSample> {
    let mut rng = Rng::new(seed, 0x33D);
    let pick = |rng: &mut Rng, x: &Embeddings| {
        let mut r = rng.sample(x.rows(), max_rows.min(x.rows()));
        r.sort_unstable();
        x.select(&r)
    };
    let (sa, sb) = (pick(&mut rng, a), pick(&mut rng, b));
    let (na, nb) = (sa.rows(), sb.rows());
    if na < 2 || nb < 2 {
        return None;
    }
    let n = na + nb;
    let dim = sa.dim();
    let mut pooled = sa.as_f32().into_owned();
    pooled.extend_from_slice(&sb.as_f32());
    // Squared distances of unit rows, 2 - 2 cos, from the blocked kernel's dot products
    // (f32: 16 MB a thousand rows squared).
    let mut k: Vec<f32> = crate::kernel::for_each_tile(&pooled[..], &pooled, dim, |_, _, dots| {
        dots.iter()
            .map(|&c| (2.0 - 2.0 * c).max(0.0))
            .collect::<Vec<f32>>()
    })
    .concat();
    let mut upper: Vec<f32> = (0..n)
        .flat_map(|i| {
            let k = &k;
            (i + 1..n).map(move |j| k[i * n + j])
        })
        .collect();
    let mid = upper.len() / 2;
    let h = f64::from(*upper.select_nth_unstable_by(mid, |p, q| p.total_cmp(q)).1);
    drop(upper);
    let h = if h > 0.0 { h } else { 1.0 };
    for (at, d) in k.iter_mut().enumerate() {
        *d = if at / n == at % n {
            0.0
        } else {
            (-f64::from(*d) / h).exp() as f32
        };
    }
    let total: Vec<f64> = k
        .chunks(n)
        .map(|r| r.iter().map(|&x| f64::from(x)).sum())
        .collect();
    let mut side: Vec<f32> = (0..n).map(|i| if i >= na { 1.0 } else { 0.0 }).collect();
    let observed = mmd2(&k, &total, &side);
    // The relabellings drawn in order from the seeded stream, then scored in parallel.
    let splits: Vec<Vec<f32>> = (0..permutations)
        .map(|_| {
            for i in (1..n).rev() {
                let j = rng.below(i + 1);
                side.swap(i, j);
            }
            side.clone()
        })
        .collect();
    use rayon::prelude::*;
    let at_least = splits
        .par_iter()
        .filter(|s| mmd2(&k, &total, s) >= observed)
        .count();
    Some(TwoSample {
        rows_a: na,
        rows_b: nb,
        mmd2: observed,
        bandwidth: h,
        p_value: (1 + at_least) as f64 / (1 + permutations) as f64,
        permutations,
    })
}

/// A new document that copies an old one.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct CrossPair {
    /// The new document (in B only).
    pub new: DocRef,
    /// The old document nearest to it (in A).
    pub old: DocRef,
    /// Their cosine.
    pub cosine: f32,
}

/// New documents (ids in B only) that copy documents of A.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct CrossDuplicates {
    /// Cosine at or above which a new document copies an old one.
    pub threshold: f64,
    /// New documents searched (a seeded sample above 20,000).
    pub searched: usize,
    /// New documents in all.
    pub added: usize,
    /// Searched new documents with an old one at `threshold` or above.
    pub copies: usize,
    /// `copies` over `searched`.
    pub share: f64,
    /// The closest copies (up to 10), closest first.
    pub examples: Vec<CrossPair>,
}

/// The added rows of `b` (`added`: B's rows whose ids A lacks) against every row of `a`.
pub(super) fn cross_duplicates(
    a: (&Corpus, &Embeddings),
    b: (&Corpus, &Embeddings),
    added: &[usize],
    threshold: f64,
    seed: u64,
) -> CrossDuplicates {
    const MAX: usize = 20_000;
    let rows: Vec<usize> = if added.len() > MAX {
        let mut p = Rng::new(seed, 0xD0B).sample(added.len(), MAX);
        p.sort_unstable();
        p.into_iter().map(|i| added[i]).collect()
    } else {
        added.to_vec()
    };
    let mut copies = Vec::new();
    if !rows.is_empty() {
        let q = b.1.select(&rows);
        // Euclidean distances of unit rows: cosine = 1 - d²/2.
        let (idx, dist) = crate::kernel::knn_between(&q.as_f32(), &a.1.as_f32(), a.1.dim(), 1);
        for (i, (&j, &d)) in idx.iter().zip(&dist).enumerate() {
            let s = 1.0 - d * d / 2.0;
            if f64::from(s) >= threshold {
                copies.push((rows[i], j as usize, s));
            }
        }
    }
    let doc = |c: &Corpus, r: usize| DocRef {
        id: c.ids[r].clone(),
        text: c
            .texts
            .as_ref()
            .map_or_else(String::new, |t| snippet_of(&t[r], 160)),
    };
    let n = copies.len();
    copies.sort_by(|x, y| y.2.total_cmp(&x.2).then(x.0.cmp(&y.0)));
    CrossDuplicates {
        threshold,
        searched: rows.len(),
        added: added.len(),
        copies: n,
        share: if rows.is_empty() {
            0.0
        } else {
            n as f64 / rows.len() as f64
        },
        examples: copies
            .iter()
            .take(10)
            .map(|&(nb, oa, s)| CrossPair {
                new: doc(b.0, nb),
                old: doc(a.0, oa),
                cosine: s,
            })
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cloud(n: usize, centre: &[f32], spread: f32, seed: u64) -> Embeddings {
        let mut rng = Rng::new(seed, 9);
        let d = centre.len();
        let data: Vec<f32> = (0..n * d)
            .map(|i| centre[i % d] + spread * (rng.next_f64() as f32 - 0.5))
            .collect();
        Embeddings::new(data, d).unwrap()
    }

    #[test]
    fn one_distribution_gives_a_large_p_and_two_a_small_one() {
        let c = [1.0f32, 0.0, 0.0, 0.0];
        let a = cloud(200, &c, 0.8, 1);
        let b = cloud(200, &c, 0.8, 2);
        let same = two_sample(&a, &b, 200, 200, 3).unwrap();
        assert!(same.p_value > 0.05, "{same:?}");
        let moved = cloud(200, &[0.7, 0.7, 0.0, 0.0], 0.8, 4);
        let diff = two_sample(&a, &moved, 200, 200, 3).unwrap();
        assert!(diff.p_value < 0.01 && diff.mmd2 > same.mmd2, "{diff:?}");
        assert!((diff.p_value - 1.0 / 201.0).abs() < 1e-12);
    }
}
