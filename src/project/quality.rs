//! How faithful a projection is: trustworthiness (Venna & Kaski 2001), as scikit-learn's
//! `sklearn.manifold.trustworthiness` defines it.

use rayon::prelude::*;

use crate::embeddings::Embeddings;
use crate::error::{Error, Result};
use crate::kernel::for_each_tile;
use crate::rng::Rng;

/// Trustworthiness of `embedded` (`rows x dim`, row-major) as a picture of `original` with
/// `k` neighbours: 1 minus a normalised penalty for every embedded neighbour that is not among
/// the `k` nearest in the original space, weighted by how far down the original ranking it
/// sits. 1 is perfect. Original distances are Euclidean between the rows (for unit rows, the same
/// order as cosine). Cost `O(n²·d)`: use [`trustworthiness_sample`] for large corpora.
pub fn trustworthiness(
    original: &Embeddings,
    embedded: &[f32],
    dim: usize,
    k: usize,
) -> Result<f64> {
    let n = original.rows();
    if dim == 0 || embedded.len() != n * dim {
        return Err(Error::InvalidParameter {
            name: "embedded",
            value: format!("{} values", embedded.len()),
            reason: format!("expected {n} rows x {dim} dimensions"),
        });
    }
    if k == 0 || 2 * k >= n {
        return Err(Error::InvalidParameter {
            name: "n_neighbors",
            value: k.to_string(),
            reason: format!("must be at least 1 and below half the rows ({n} rows)"),
        });
    }
    let x = original.as_f32();
    let d = original.dim();
    let sq = crate::linalg::row_sq_norms(&x, d);
    // For every row: its k nearest in the embedding (self excluded), then the rank of each in
    // the original distances.
    let penalties: Vec<f64> = for_each_tile(&*x, &x, d, |start, rows, dots| {
        let mut sum = 0.0f64;
        let mut emb = Vec::with_capacity(n);
        for r in 0..rows {
            let i = start + r;
            // Larger `sq_j - 2·dot` = farther (the row's own norm is common to all j).
            let row_dots: Vec<f32> = dots[r * n..(r + 1) * n]
                .iter()
                .zip(&sq)
                .map(|(&dot, &s)| 2.0 * dot - s)
                .collect();
            emb.clear();
            let ei = &embedded[i * dim..(i + 1) * dim];
            for j in 0..n {
                if j != i {
                    let ej = &embedded[j * dim..(j + 1) * dim];
                    let e2: f32 = ei.iter().zip(ej).map(|(a, b)| (a - b) * (a - b)).sum();
                    emb.push((e2, j));
                }
            }
            emb.select_nth_unstable_by(k - 1, |a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
            for &(_, j) in &emb[..k] {
                // Larger `2·dot - sq_j` = closer. Rank 1 = nearest (self excluded), ties by
                // index as a stable argsort would order them.
                let dj = row_dots[j];
                let mut rank = 1usize;
                for (m, &dm) in row_dots.iter().enumerate() {
                    if m != i && m != j && (dm > dj || (dm == dj && m < j)) {
                        rank += 1;
                    }
                }
                if rank > k {
                    sum += (rank - k) as f64;
                }
            }
        }
        sum
    });
    let t: f64 = penalties.iter().sum();
    let (nf, kf) = (n as f64, k as f64);
    Ok(1.0 - t * 2.0 / (nf * kf * (2.0 * nf - 3.0 * kf - 1.0)))
}

/// [`trustworthiness`] on `sample` rows drawn without replacement with `seed` (all rows when
/// the corpus is smaller), as the benchmarks report it (k = 10 on 5,000 rows).
pub fn trustworthiness_sample(
    original: &Embeddings,
    embedded: &[f32],
    dim: usize,
    k: usize,
    sample: usize,
    seed: u64,
) -> Result<f64> {
    let n = original.rows();
    if embedded.len() != n * dim {
        return Err(Error::InvalidParameter {
            name: "embedded",
            value: format!("{} values", embedded.len()),
            reason: format!("expected {n} rows x {dim} dimensions"),
        });
    }
    if sample >= n {
        return trustworthiness(original, embedded, dim, k);
    }
    let mut rows = Rng::new(seed, 0x7305).sample(n, sample);
    rows.sort_unstable();
    let sub = original.select(&rows);
    let emb: Vec<f32> = rows
        .par_iter()
        .flat_map_iter(|&i| embedded[i * dim..(i + 1) * dim].iter().copied())
        .collect();
    trustworthiness(&sub, &emb, dim, k)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn circle(n: usize) -> Embeddings {
        let x: Vec<f32> = (0..n)
            .flat_map(|i| {
                // Irregular angles, so no two original distances tie.
                let t = 2.0 * std::f32::consts::PI * (i as f32 + 0.3 * ((i * i) as f32).sin())
                    / n as f32;
                [t.cos(), t.sin(), 0.0]
            })
            .collect();
        Embeddings::new(x, 3).unwrap()
    }

    #[test]
    fn a_perfect_picture_scores_one() {
        let data = circle(60);
        let emb: Vec<f32> = (0..60).flat_map(|i| data.row(i)[..2].to_vec()).collect();
        assert!((trustworthiness(&data, &emb, 2, 5).unwrap() - 1.0).abs() < 1e-12);
    }

    #[test]
    fn a_scrambled_picture_scores_lower_and_matches_the_formula() {
        let n = 40;
        let data = circle(n);
        // 1-D picture where rows are laid out by i*7 mod n: neighbours scrambled.
        let emb: Vec<f32> = (0..n).map(|i| ((i * 7) % n) as f32).collect();
        let t = trustworthiness(&data, &emb, 1, 3).unwrap();
        // Naive reference with explicit rank tables.
        let dist = |a: usize, b: usize| -> f32 {
            let (x, y) = (data.row(a), data.row(b));
            x.iter().zip(y.iter()).map(|(p, q)| (p - q) * (p - q)).sum()
        };
        let mut pen = 0.0;
        for i in 0..n {
            let mut orig: Vec<usize> = (0..n).filter(|&j| j != i).collect();
            orig.sort_by(|&a, &b| dist(i, a).total_cmp(&dist(i, b)).then(a.cmp(&b)));
            let mut e: Vec<usize> = (0..n).filter(|&j| j != i).collect();
            e.sort_by(|&a, &b| {
                (emb[i] - emb[a])
                    .abs()
                    .total_cmp(&(emb[i] - emb[b]).abs())
                    .then(a.cmp(&b))
            });
            for &j in &e[..3] {
                let r = orig.iter().position(|&m| m == j).unwrap() + 1;
                if r > 3 {
                    pen += (r - 3) as f64;
                }
            }
        }
        let (nf, kf) = (n as f64, 3.0);
        let want = 1.0 - pen * 2.0 / (nf * kf * (2.0 * nf - 3.0 * kf - 1.0));
        assert!((t - want).abs() < 1e-9, "{t} vs {want}");
        assert!(t < 0.9);
    }
}
