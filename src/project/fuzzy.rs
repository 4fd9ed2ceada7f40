//! The fuzzy simplicial set of UMAP (McInnes, Healy & Melville 2018, section 3; umap-learn's
//! `smooth_knn_dist`, `compute_membership_strengths`, `fuzzy_simplicial_set`): per row a local
//! distance scale, memberships `exp(-(d - rho) / sigma)`, and the fuzzy union
//! `A + Aᵀ - A∘Aᵀ` as a symmetric sparse graph.

/// Binary-search tolerance of umap-learn (`SMOOTH_K_TOLERANCE`).
const SMOOTH_K_TOLERANCE: f64 = 1e-5;
/// Lower bound of sigma relative to the mean distance (`MIN_K_DIST_SCALE`).
const MIN_K_DIST_SCALE: f64 = 1e-3;

/// A square sparse matrix in compressed rows; every row's columns are sorted.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Csr {
    pub(crate) n: usize,
    pub(crate) indptr: Vec<usize>,
    pub(crate) indices: Vec<u32>,
    pub(crate) weights: Vec<f32>,
}

impl Csr {
    /// Columns and weights of row `i`.
    pub(crate) fn row(&self, i: usize) -> (&[u32], &[f32]) {
        let r = self.indptr[i]..self.indptr[i + 1];
        (&self.indices[r.clone()], &self.weights[r])
    }

    /// Number of stored entries.
    pub(crate) fn nnz(&self) -> usize {
        self.indices.len()
    }

    /// Drops entries below `threshold` (umap-learn drops weights `< max / n_epochs` before the
    /// layout: they would never be sampled).
    pub(crate) fn prune_below(&mut self, threshold: f32) {
        let mut indptr = Vec::with_capacity(self.n + 1);
        indptr.push(0);
        let (mut w_out, mut i_out) = (0usize, 0usize);
        for i in 0..self.n {
            for e in self.indptr[i]..self.indptr[i + 1] {
                if self.weights[e] >= threshold {
                    self.indices[i_out] = self.indices[e];
                    self.weights[w_out] = self.weights[e];
                    i_out += 1;
                    w_out += 1;
                }
            }
            indptr.push(i_out);
        }
        self.indices.truncate(i_out);
        self.weights.truncate(w_out);
        self.indptr = indptr;
    }

    /// The largest weight (0 for an empty graph).
    pub(crate) fn max_weight(&self) -> f32 {
        self.weights.iter().copied().fold(0.0, f32::max)
    }
}

/// Per row, the distance to the nearest neighbour at positive distance (`rho`, with
/// `local_connectivity` 1 as umap-learn's default; interpolated for fractional values) and the
/// scale `sigma` found by binary search so that `Σ_j exp(-(d_j - rho) / sigma) = log2(k)`.
///
/// `dists` is `rows x k`, sorted per row, with the row itself (distance 0) first, as umap-learn
/// expects (the sum skips column 0).
pub(crate) fn smooth_knn_dist(
    dists: &[f32],
    k: usize,
    local_connectivity: f64,
) -> (Vec<f32>, Vec<f32>) {
    let rows = dists.len() / k;
    let target = (k as f64).log2();
    let mean_all = dists.iter().map(|&d| d as f64).sum::<f64>() / dists.len().max(1) as f64;
    let mut sigmas = vec![0.0f32; rows];
    let mut rhos = vec![0.0f32; rows];
    for i in 0..rows {
        let row = &dists[i * k..(i + 1) * k];
        let non_zero: Vec<f64> = row
            .iter()
            .filter(|&&d| d > 0.0)
            .map(|&d| d as f64)
            .collect();
        let mut rho = 0.0f64;
        if non_zero.len() as f64 >= local_connectivity {
            let index = local_connectivity.floor() as usize;
            let interpolation = local_connectivity - index as f64;
            if index > 0 {
                rho = non_zero[index - 1];
                if interpolation > SMOOTH_K_TOLERANCE {
                    rho += interpolation * (non_zero[index] - non_zero[index - 1]);
                }
            } else {
                rho = interpolation * non_zero[0];
            }
        } else if let Some(&m) = non_zero.last() {
            rho = m;
        }
        // umap-learn keeps rho in float32.
        let rho32 = rho as f32;
        let (mut lo, mut hi, mut mid) = (0.0f64, f64::INFINITY, 1.0f64);
        for _ in 0..64 {
            let mut psum = 0.0f64;
            for &d in &row[1..] {
                let d = (d - rho32) as f64;
                psum += if d > 0.0 { (-(d / mid)).exp() } else { 1.0 };
            }
            if (psum - target).abs() < SMOOTH_K_TOLERANCE {
                break;
            }
            if psum > target {
                hi = mid;
                mid = (lo + hi) / 2.0;
            } else {
                lo = mid;
                if hi.is_infinite() {
                    mid *= 2.0;
                } else {
                    mid = (lo + hi) / 2.0;
                }
            }
        }
        let floor = if rho > 0.0 {
            MIN_K_DIST_SCALE * row.iter().map(|&d| d as f64).sum::<f64>() / k as f64
        } else {
            MIN_K_DIST_SCALE * mean_all
        };
        sigmas[i] = mid.max(floor) as f32;
        rhos[i] = rho32;
    }
    (sigmas, rhos)
}

/// The membership strength of each kNN edge: 0 for the row itself, 1 within `rho`, else
/// `exp(-(d - rho) / sigma)`. `self_row` is `Some(offset)` when the neighbours come from the
/// same point set (fit), `None` for new points against the training set (transform).
pub(crate) fn membership_strengths(
    indices: &[u32],
    dists: &[f32],
    k: usize,
    sigmas: &[f32],
    rhos: &[f32],
    same_set: bool,
) -> Vec<f32> {
    let mut vals = vec![0.0f32; indices.len()];
    for (e, v) in vals.iter_mut().enumerate() {
        let i = e / k;
        if same_set && indices[e] as usize == i {
            continue;
        }
        let d = dists[e] - rhos[i];
        *v = if d <= 0.0 || sigmas[i] == 0.0 {
            1.0
        } else {
            (-(d as f64 / sigmas[i] as f64)).exp() as f32
        };
    }
    vals
}

/// The fuzzy union `P = A + Aᵀ - A∘Aᵀ` of the directed kNN memberships `A` (`n x k`), zeros
/// dropped: a symmetric graph with sorted rows.
pub(crate) fn fuzzy_union(indices: &[u32], vals: &[f32], k: usize) -> Csr {
    let n = indices.len() / k;
    // Entries (row, col, forward value a_rc, transposed value a_cr), bucketed by row.
    let mut count = vec![0usize; n + 1];
    for (e, &j) in indices.iter().enumerate() {
        if vals[e] > 0.0 {
            count[e / k + 1] += 1;
            count[j as usize + 1] += 1;
        }
    }
    for i in 0..n {
        count[i + 1] += count[i];
    }
    let total = count[n];
    let mut fill = count.clone();
    let mut entries = vec![(0u32, 0.0f32, 0.0f32); total];
    for (e, &j) in indices.iter().enumerate() {
        let v = vals[e];
        if v > 0.0 {
            let i = e / k;
            entries[fill[i]] = (j, v, 0.0);
            fill[i] += 1;
            entries[fill[j as usize]] = (i as u32, 0.0, v);
            fill[j as usize] += 1;
        }
    }
    let mut indptr = Vec::with_capacity(n + 1);
    indptr.push(0);
    let mut out_idx = Vec::with_capacity(total);
    let mut out_w = Vec::with_capacity(total);
    for i in 0..n {
        let row = &mut entries[count[i]..count[i + 1]];
        row.sort_unstable_by_key(|e| e.0);
        let mut t = 0;
        while t < row.len() {
            let col = row[t].0;
            let (mut a, mut b) = (0.0f32, 0.0f32);
            while t < row.len() && row[t].0 == col {
                a += row[t].1;
                b += row[t].2;
                t += 1;
            }
            let p = a + b - a * b;
            if p > 0.0 {
                out_idx.push(col);
                out_w.push(p);
            }
        }
        indptr.push(out_idx.len());
    }
    Csr {
        n,
        indptr,
        indices: out_idx,
        weights: out_w,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sigma_solves_the_target_sum() {
        // One row: self, then distances 1..=5.
        let dists = [0.0f32, 1.0, 2.0, 3.0, 4.0, 5.0];
        let (sig, rho) = smooth_knn_dist(&dists, 6, 1.0);
        assert_eq!(rho[0], 1.0);
        let s: f64 = dists[1..]
            .iter()
            .map(|&d| (-((d - rho[0]) as f64 / sig[0] as f64)).exp())
            .sum();
        assert!((s - 6f64.log2()).abs() < 1e-4, "sum {s}");
    }

    #[test]
    fn union_is_symmetric_and_follows_the_formula() {
        // Three points, k = 2 (self + one neighbour): 0->1 (0.5), 1->0 (0.25), 2->1 (1.0).
        let idx = [0u32, 1, 1, 0, 2, 1];
        let vals = [0.0f32, 0.5, 0.0, 0.25, 0.0, 1.0];
        let g = fuzzy_union(&idx, &vals, 2);
        let get = |i: usize, j: u32| {
            let (c, w) = g.row(i);
            c.iter().position(|&x| x == j).map(|p| w[p]).unwrap_or(0.0)
        };
        assert!((get(0, 1) - (0.5 + 0.25 - 0.125)).abs() < 1e-7);
        assert_eq!(get(0, 1), get(1, 0));
        assert_eq!(get(1, 2), 1.0);
        assert_eq!(get(2, 1), 1.0);
        assert_eq!(get(0, 2), 0.0);
        assert_eq!(g.nnz(), 4);
    }
}
