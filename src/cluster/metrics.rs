//! Internal clustering scores: silhouette, Calinski-Harabasz, Davies-Bouldin (scikit-learn's
//! definitions, Euclidean distance).

use crate::embeddings::Embeddings;
use crate::kernel::for_each_tile;
use crate::linalg::row_sq_norms;

/// Mean silhouette coefficient of each labeling of the same rows, in one pass over the pairwise
/// distances (computed tile by tile through the kernel and shared by all labelings).
///
/// Each labeling gives every row a cluster in `0..k`. A row alone in its cluster scores 0, as in
/// scikit-learn. Memory: `TILE_ROWS x n` distances plus `n x k` sums per labeling.
pub fn silhouette_many(data: &Embeddings, labelings: &[&[usize]]) -> Vec<f64> {
    silhouette_spread(data, labelings)
        .into_iter()
        .map(|s| s.mean)
        .collect()
}

/// A mean silhouette and the spread of the per-row values behind it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SilhouetteSpread {
    /// Mean silhouette coefficient.
    pub mean: f64,
    /// Standard deviation of the per-row coefficients.
    pub sd: f64,
    /// Rows.
    pub rows: usize,
}

impl SilhouetteSpread {
    /// Standard error of the mean as an estimate of the mean over `population` rows the
    /// `rows` were drawn from at random (with the finite-population correction; 0 when every
    /// row was scored).
    pub fn standard_error(&self, population: usize) -> f64 {
        if self.rows == 0 || population <= self.rows {
            return 0.0;
        }
        let fpc = (population - self.rows) as f64 / (population - 1) as f64;
        self.sd / (self.rows as f64).sqrt() * fpc.sqrt()
    }
}

/// [`silhouette_many`] with the spread of each labeling's per-row coefficients.
pub fn silhouette_spread(data: &Embeddings, labelings: &[&[usize]]) -> Vec<SilhouetteSpread> {
    let (n, d) = (data.rows(), data.dim());
    let x = data.as_f32();
    let x_sq = row_sq_norms(&x, d);
    let ks: Vec<usize> = labelings
        .iter()
        .map(|l| l.iter().copied().max().map_or(0, |m| m + 1))
        .collect();
    let sizes: Vec<Vec<usize>> = labelings
        .iter()
        .zip(&ks)
        .map(|(l, &k)| {
            let mut s = vec![0usize; k];
            l.iter().for_each(|&c| s[c] += 1);
            s
        })
        .collect();
    // Per tile: for each labeling, the sum of silhouette values of the tile's rows.
    let parts = for_each_tile(&*x, &x, d, |start, rows, dots| {
        let mut dist = vec![0.0f32; n];
        let mut totals = vec![0.0f64; labelings.len()];
        let mut squares = vec![0.0f64; labelings.len()];
        let mut sums: Vec<Vec<f64>> = ks.iter().map(|&k| vec![0.0; k]).collect();
        for r in 0..rows {
            let i = start + r;
            for (j, dj) in dist.iter_mut().enumerate() {
                *dj = (x_sq[i] + x_sq[j] - 2.0 * dots[r * n + j]).max(0.0).sqrt();
            }
            dist[i] = 0.0;
            for (li, labels) in labelings.iter().enumerate() {
                let s = &mut sums[li];
                s.iter_mut().for_each(|v| *v = 0.0);
                for (j, &c) in labels.iter().enumerate() {
                    s[c] += f64::from(dist[j]);
                }
                let own = labels[i];
                let size = sizes[li][own];
                if size <= 1 {
                    continue;
                }
                let a = s[own] / (size - 1) as f64;
                let b = (0..ks[li])
                    .filter(|&c| c != own && sizes[li][c] > 0)
                    .map(|c| s[c] / sizes[li][c] as f64)
                    .fold(f64::INFINITY, f64::min);
                if b.is_finite() {
                    let m = a.max(b);
                    if m > 0.0 {
                        totals[li] += (b - a) / m;
                        squares[li] += ((b - a) / m).powi(2);
                    }
                }
            }
        }
        (totals, squares)
    });
    let mut sum = vec![0.0f64; labelings.len()];
    let mut sum_sq = vec![0.0f64; labelings.len()];
    for (t, q) in parts {
        for (o, v) in sum.iter_mut().zip(t) {
            *o += v;
        }
        for (o, v) in sum_sq.iter_mut().zip(q) {
            *o += v;
        }
    }
    sum.iter()
        .zip(&sum_sq)
        .map(|(&s, &q)| {
            let mean = s / n as f64;
            let var = if n > 1 {
                ((q - n as f64 * mean * mean) / (n - 1) as f64).max(0.0)
            } else {
                0.0
            };
            SilhouetteSpread {
                mean,
                sd: var.sqrt(),
                rows: n,
            }
        })
        .collect()
}

/// Calinski-Harabasz index: between-cluster over within-cluster dispersion, each divided by its
/// degrees of freedom. Higher is better. 1.0 when `k == 1` is undefined in scikit-learn; here 0.
pub fn calinski_harabasz(data: &Embeddings, labels: &[usize]) -> f64 {
    let (n, d) = (data.rows(), data.dim());
    let (centroids, sizes) = centroids(data, labels);
    let k = sizes.len();
    if k < 2 || n <= k {
        return 0.0;
    }
    let mut mean = vec![0.0f64; d];
    for row in data.as_f32().chunks_exact(d) {
        mean.iter_mut()
            .zip(row)
            .for_each(|(m, v)| *m += f64::from(*v));
    }
    mean.iter_mut().for_each(|m| *m /= n as f64);
    let between: f64 = (0..k)
        .map(|c| {
            sizes[c] as f64
                * (0..d)
                    .map(|t| (centroids[c * d + t] - mean[t]).powi(2))
                    .sum::<f64>()
        })
        .sum();
    let within: f64 = (0..n)
        .map(|i| {
            let c = labels[i];
            (0..d)
                .map(|t| (f64::from(data.row(i)[t]) - centroids[c * d + t]).powi(2))
                .sum::<f64>()
        })
        .sum();
    if within == 0.0 {
        return 1.0;
    }
    between * (n - k) as f64 / (within * (k - 1) as f64)
}

/// Davies-Bouldin index: the mean over clusters of the worst ratio of summed spreads to centroid
/// separation. Lower is better.
pub fn davies_bouldin(data: &Embeddings, labels: &[usize]) -> f64 {
    let d = data.dim();
    let (centroids, sizes) = centroids(data, labels);
    let k = sizes.len();
    if k < 2 {
        return 0.0;
    }
    let mut spread = vec![0.0f64; k];
    for (i, &c) in labels.iter().enumerate() {
        spread[c] += (0..d)
            .map(|t| (f64::from(data.row(i)[t]) - centroids[c * d + t]).powi(2))
            .sum::<f64>()
            .sqrt();
    }
    for c in 0..k {
        if sizes[c] > 0 {
            spread[c] /= sizes[c] as f64;
        }
    }
    let mut total = 0.0;
    for a in 0..k {
        let mut worst = 0.0f64;
        for b in 0..k {
            if a == b {
                continue;
            }
            let sep = (0..d)
                .map(|t| (centroids[a * d + t] - centroids[b * d + t]).powi(2))
                .sum::<f64>()
                .sqrt();
            let r = if sep > 0.0 {
                (spread[a] + spread[b]) / sep
            } else {
                0.0
            };
            worst = worst.max(r);
        }
        total += worst;
    }
    total / k as f64
}

fn centroids(data: &Embeddings, labels: &[usize]) -> (Vec<f64>, Vec<usize>) {
    let d = data.dim();
    let k = labels.iter().copied().max().map_or(0, |m| m + 1);
    let mut sums = vec![0.0f64; k * d];
    let mut sizes = vec![0usize; k];
    for (i, &c) in labels.iter().enumerate() {
        sizes[c] += 1;
        sums[c * d..(c + 1) * d]
            .iter_mut()
            .zip(data.row(i).iter())
            .for_each(|(s, v)| *s += f64::from(*v));
    }
    for c in 0..k {
        if sizes[c] > 0 {
            sums[c * d..(c + 1) * d]
                .iter_mut()
                .for_each(|s| *s /= sizes[c] as f64);
        }
    }
    (sums, sizes)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn data() -> Embeddings {
        // Normalisation maps these to angles; values below are scikit-learn's on the
        // normalised rows.
        Embeddings::new(vec![1.0, 0.0, 0.9, 0.1, 0.0, 1.0, 0.1, 0.9, -1.0, 0.2], 2).unwrap()
    }

    fn naive_silhouette(e: &Embeddings, labels: &[usize]) -> f64 {
        let n = e.rows();
        let dist = |i: usize, j: usize| -> f64 {
            e.row(i)
                .iter()
                .zip(e.row(j).iter())
                .map(|(a, b)| f64::from(a - b).powi(2))
                .sum::<f64>()
                .sqrt()
        };
        let k = labels.iter().max().unwrap() + 1;
        let mut total = 0.0;
        for i in 0..n {
            let own = labels[i];
            let members = |c: usize| (0..n).filter(move |&j| labels[j] == c && j != i);
            let cnt = members(own).count();
            if cnt == 0 {
                continue;
            }
            let a = members(own).map(|j| dist(i, j)).sum::<f64>() / cnt as f64;
            let b = (0..k)
                .filter(|&c| c != own)
                .map(|c| {
                    let m: Vec<usize> = members(c).collect();
                    m.iter().map(|&j| dist(i, j)).sum::<f64>() / m.len() as f64
                })
                .fold(f64::INFINITY, f64::min);
            total += (b - a) / a.max(b);
        }
        total / n as f64
    }

    #[test]
    fn silhouette_matches_naive_for_several_labelings() {
        let e = data();
        let l1 = [0, 0, 1, 1, 2];
        let l2 = [0, 0, 0, 1, 1];
        let got = silhouette_many(&e, &[&l1, &l2]);
        assert!((got[0] - naive_silhouette(&e, &l1)).abs() < 1e-6, "{got:?}");
        assert!((got[1] - naive_silhouette(&e, &l2)).abs() < 1e-6, "{got:?}");
        assert!(got[0] > got[1], "the planted split should score higher");
    }

    #[test]
    fn ch_and_db_rank_the_planted_split_first() {
        let e = data();
        let good = [0, 0, 1, 1, 2];
        let bad = [0, 1, 0, 1, 2];
        assert!(calinski_harabasz(&e, &good) > calinski_harabasz(&e, &bad));
        assert!(davies_bouldin(&e, &good) < davies_bouldin(&e, &bad));
    }
}
