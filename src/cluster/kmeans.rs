//! K-Means (Lloyd) with greedy k-means++ seeding, as scikit-learn's `KMeans`.
//!
//! Params -> check -> fit -> model: `KMeans::params(k).n_init(10).seed(42).fit(&embeddings)`.
//! Assignment runs through the similarity kernel ([`crate::kernel::nearest`]); centroid sums are
//! accumulated in row order in f64, so results do not depend on the thread count.

use crate::embeddings::Embeddings;
use crate::error::{Error, Result};
use crate::kernel::{nearest, nearest_two};
use crate::linalg::{normalise, row_sq_norms, sq_dist, sq_dist_f64};
use crate::rng::Rng;
use rayon::prelude::*;

/// K-Means parameters. Defaults follow scikit-learn's `KMeans`.
#[derive(Debug, Clone, PartialEq)]
pub struct KMeansParams {
    n_clusters: usize,
    algorithm: KMeansAlgorithm,
    n_init: usize,
    max_iter: usize,
    tol: f64,
    seed: u64,
    spherical: bool,
    init: KMeansInit,
}

/// How the first centroids are chosen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum KMeansInit {
    /// Greedy k-means++ (scikit-learn's default): each centre the best of `2 + ln k` draws
    /// weighted by squared distance. Better starts, `O(n·k·(2 + ln k))` products.
    #[default]
    KMeansPlusPlus,
    /// `k` distinct random rows (scikit-learn's `init="random"`, FAISS's choice): no cost, for
    /// many clusters where the iterations fix the start (an index's cells).
    Random,
}

/// How the assignment step finds each row's nearest centroid.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum KMeansAlgorithm {
    /// Every row against every centroid each iteration (scikit-learn's `lloyd`).
    Lloyd,
    /// Hamerly's bounds: a row whose upper bound to its centroid is below both half the
    /// distance to that centroid's nearest other centroid and its lower bound to every other
    /// centroid keeps its label without a distance computation. Same result as Lloyd, far
    /// fewer distances once few rows move.
    #[default]
    Hamerly,
}

/// Entry point: `KMeans::params(n_clusters)`.
#[derive(Debug, Clone, Copy)]
pub struct KMeans;

impl KMeans {
    /// Parameters for `n_clusters` clusters (scikit-learn `n_clusters`), other settings at their
    /// defaults.
    pub fn params(n_clusters: usize) -> KMeansParams {
        KMeansParams {
            n_clusters,
            algorithm: KMeansAlgorithm::Hamerly,
            n_init: 10,
            max_iter: 300,
            tol: 1e-4,
            seed: 42,
            spherical: false,
            init: KMeansInit::KMeansPlusPlus,
        }
    }
}

impl KMeansParams {
    /// Independent k-means++ initialisations; the lowest inertia wins. Default 10
    /// (scikit-learn `n_init`; the reference workflow passes 10).
    pub fn n_init(mut self, n_init: usize) -> Self {
        self.n_init = n_init;
        self
    }

    /// Assignment strategy. Default [`KMeansAlgorithm::Hamerly`] (results as scikit-learn's
    /// `algorithm="lloyd"`, computed with fewer distances).
    pub fn algorithm(mut self, algorithm: KMeansAlgorithm) -> Self {
        self.algorithm = algorithm;
        self
    }

    /// Maximum Lloyd iterations per run. Default 300 (scikit-learn `max_iter`).
    pub fn max_iter(mut self, max_iter: usize) -> Self {
        self.max_iter = max_iter;
        self
    }

    /// Convergence tolerance, relative to the mean per-feature variance of the data: a run stops
    /// when the summed squared centroid shift falls below `tol · mean(var(X))`. Default 1e-4
    /// (scikit-learn `tol`).
    pub fn tol(mut self, tol: f64) -> Self {
        self.tol = tol;
        self
    }

    /// Spherical K-Means: centroids are re-normalised to unit length after every update, so
    /// clusters are of directions and assignment maximises cosine similarity (Dhillon & Modha).
    /// Default false (scikit-learn has no equivalent; the inertia is still the summed squared
    /// Euclidean distance, to the unit centroids).
    pub fn spherical(mut self, yes: bool) -> Self {
        self.spherical = yes;
        self
    }

    /// How the first centroids are chosen. Default [`KMeansInit::KMeansPlusPlus`].
    pub fn init(mut self, init: KMeansInit) -> Self {
        self.init = init;
        self
    }

    /// Seed of the initialisations. Default 42 (scikit-learn `random_state`).
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    /// The number of clusters asked for.
    pub fn n_clusters(&self) -> usize {
        self.n_clusters
    }

    /// Validates the parameters that do not depend on the data.
    pub fn check(&self) -> Result<()> {
        if self.n_clusters == 0 {
            return Err(Error::param("k", self.n_clusters, "must be at least 1"));
        }
        if self.n_init == 0 {
            return Err(Error::param("n_init", self.n_init, "must be at least 1"));
        }
        if self.max_iter == 0 {
            return Err(Error::param(
                "max_iter",
                self.max_iter,
                "must be at least 1",
            ));
        }
        if !(self.tol >= 0.0 && self.tol.is_finite()) {
            return Err(Error::param(
                "tol",
                self.tol,
                "must be a finite number >= 0",
            ));
        }
        Ok(())
    }

    /// Clusters the rows of `data`.
    pub fn fit(&self, data: &Embeddings) -> Result<KMeansModel> {
        self.check()?;
        if self.spherical {
            data.require_unit("spherical", "true")?;
        }
        let (n, d, k) = (data.rows(), data.dim(), self.n_clusters);
        if k > n {
            return Err(Error::param(
                "k",
                k,
                format!("is more than the {n} rows to cluster"),
            ));
        }
        let x = data.as_slice();
        let x_sq = row_sq_norms(x, d);
        let cfg = RunConfig {
            max_iter: self.max_iter,
            tol: self.tol * mean_variance(x, d),
            spherical: self.spherical,
        };
        // Independent runs in parallel; the winner is the lowest inertia, then the lowest run
        // index, so the result does not depend on scheduling.
        let runs: Vec<Run> = (0..self.n_init)
            .into_par_iter()
            .map(|run| {
                let mut rng = Rng::new(self.seed, run as u64);
                let init = match self.init {
                    KMeansInit::KMeansPlusPlus => kmeans_plus_plus(x, &x_sq, d, k, &mut rng),
                    KMeansInit::Random => {
                        let mut rows = rng.sample(n, k);
                        rows.sort_unstable();
                        rows.iter()
                            .flat_map(|&r| x[r * d..(r + 1) * d].iter().copied())
                            .collect()
                    }
                };
                match self.algorithm {
                    KMeansAlgorithm::Lloyd => lloyd(x, &x_sq, d, init, cfg),
                    KMeansAlgorithm::Hamerly => hamerly(x, &x_sq, d, init, cfg),
                }
            })
            .collect();
        let mut best: Option<Run> = None;
        for r in runs {
            if best.as_ref().is_none_or(|b| r.inertia < b.inertia) {
                best = Some(r);
            }
        }
        let best = best.expect("n_init >= 1");
        Ok(KMeansModel::ordered_by_size(best, d))
    }
}

/// A fitted K-Means model. Cluster ids are ordered by size, largest first.
#[derive(Debug, Clone, PartialEq)]
pub struct KMeansModel {
    centroids: Vec<f32>,
    dim: usize,
    labels: Vec<usize>,
    sizes: Vec<usize>,
    inertia: f64,
    n_iter: usize,
}

impl KMeansModel {
    fn ordered_by_size(run: Run, dim: usize) -> KMeansModel {
        let k = run.centroids.len() / dim;
        let mut sizes = vec![0usize; k];
        for &l in &run.labels {
            sizes[l] += 1;
        }
        let (order, rank) = super::rank_by_size(&sizes);
        let centroids = order
            .iter()
            .flat_map(|&c| run.centroids[c * dim..(c + 1) * dim].iter().copied())
            .collect();
        KMeansModel {
            centroids,
            dim,
            labels: run.labels.iter().map(|&l| rank[l]).collect(),
            sizes: order.iter().map(|&c| sizes[c]).collect(),
            inertia: run.inertia,
            n_iter: run.n_iter,
        }
    }

    /// A model from centroids and labels (for algorithms that share this result type), with
    /// its inertia computed exactly and ids reordered by size.
    pub(crate) fn from_parts(
        x: &[f32],
        dim: usize,
        centroids: Vec<f32>,
        labels: Vec<usize>,
        n_iter: usize,
    ) -> KMeansModel {
        KMeansModel::ordered_by_size(finish(x, dim, centroids, labels, n_iter), dim)
    }

    /// Cluster of each row, `0..k`, 0 the largest.
    pub fn labels(&self) -> &[usize] {
        &self.labels
    }

    /// Number of clusters.
    pub fn n_clusters(&self) -> usize {
        self.sizes.len()
    }

    /// Rows per cluster.
    pub fn sizes(&self) -> &[usize] {
        &self.sizes
    }

    /// Centroids, `k x dim` row-major (not normalised).
    pub fn centroids(&self) -> &[f32] {
        &self.centroids
    }

    /// Centroid of cluster `c`.
    pub fn centroid(&self, c: usize) -> &[f32] {
        &self.centroids[c * self.dim..(c + 1) * self.dim]
    }

    /// Sum of squared distances of rows to their centroid (scikit-learn's `inertia_`).
    pub fn inertia(&self) -> f64 {
        self.inertia
    }

    /// Lloyd iterations of the winning run.
    pub fn n_iter(&self) -> usize {
        self.n_iter
    }

    /// Nearest centroid of each row of `data`.
    pub fn predict(&self, data: &Embeddings) -> Result<Vec<usize>> {
        if data.dim() != self.dim {
            return Err(Error::param(
                "dim",
                data.dim(),
                format!("the model was fitted on {}-dimensional vectors", self.dim),
            ));
        }
        let x = data.as_slice();
        let (labels, _) = nearest(
            x,
            &row_sq_norms(x, self.dim),
            &self.centroids,
            &row_sq_norms(&self.centroids, self.dim),
            self.dim,
        );
        Ok(labels)
    }
}

/// Per-run settings shared by Lloyd and Hamerly.
#[derive(Debug, Clone, Copy)]
struct RunConfig {
    max_iter: usize,
    /// Absolute tolerance on the summed squared centroid shift.
    tol: f64,
    spherical: bool,
}

/// Scales every non-zero row to unit length.
fn normalise_rows(m: &mut [f32], d: usize) {
    for row in m.chunks_exact_mut(d) {
        normalise(row);
    }
}

struct Run {
    centroids: Vec<f32>,
    labels: Vec<usize>,
    inertia: f64,
    n_iter: usize,
}

fn mean_variance(x: &[f32], d: usize) -> f64 {
    let n = (x.len() / d) as f64;
    let mut mean = vec![0.0f64; d];
    for row in x.chunks_exact(d) {
        for (m, v) in mean.iter_mut().zip(row) {
            *m += f64::from(*v);
        }
    }
    mean.iter_mut().for_each(|m| *m /= n);
    let mut var = 0.0f64;
    for row in x.chunks_exact(d) {
        for (m, v) in mean.iter().zip(row) {
            var += (f64::from(*v) - m).powi(2);
        }
    }
    var / n / d as f64
}

/// Greedy k-means++ (Arthur & Vassilvitskii; scikit-learn's variant): each new centre is the
/// best of `2 + ln k` candidates drawn with probability proportional to the squared distance
/// to the nearest centre so far.
pub(crate) fn kmeans_plus_plus(
    x: &[f32],
    x_sq: &[f32],
    d: usize,
    k: usize,
    rng: &mut Rng,
) -> Vec<f32> {
    let n = x_sq.len();
    let trials = 2 + (k as f64).ln() as usize;
    let mut centers = Vec::with_capacity(k * d);
    let first = rng.below(n);
    centers.extend_from_slice(&x[first * d..(first + 1) * d]);
    let first_sq = x_sq[first];
    let mut closest: Vec<f32> =
        crate::kernel::for_each_tile(x, &centers, d, |start, rows, dots| {
            (0..rows)
                .map(|r| (x_sq[start + r] + first_sq - 2.0 * dots[r]).max(0.0))
                .collect::<Vec<f32>>()
        })
        .concat();
    let mut pot: f64 = closest.iter().map(|&v| f64::from(v)).sum();
    let mut cum = Vec::with_capacity(n);
    for _ in 1..k {
        cum.clear();
        let mut acc = 0.0f64;
        for &v in &closest {
            acc += f64::from(v);
            cum.push(acc);
        }
        let candidates: Vec<usize> = (0..trials)
            .map(|_| {
                let target = rng.next_f64() * pot;
                cum.partition_point(|&c| c < target).min(n - 1)
            })
            .collect();
        let cand: Vec<f32> = candidates
            .iter()
            .flat_map(|&c| x[c * d..(c + 1) * d].iter().copied())
            .collect();
        let cand_sq = row_sq_norms(&cand, d);
        let t = candidates.len();
        // Per tile: each candidate's squared distances, and its partial potential (the sum of
        // min(closest, distance)) in f64; partials are added in tile order (deterministic).
        let tiles = crate::kernel::for_each_tile(x, &cand, d, |start, rows, dots| {
            let mut dist = vec![0.0f32; rows * t];
            let mut pots = vec![0.0f64; t];
            for r in 0..rows {
                let cl = closest[start + r];
                for j in 0..t {
                    let v = (x_sq[start + r] + cand_sq[j] - 2.0 * dots[r * t + j]).max(0.0);
                    dist[r * t + j] = v;
                    pots[j] += f64::from(cl.min(v));
                }
            }
            (dist, pots)
        });
        let mut totals = vec![0.0f64; t];
        for (_, pots) in &tiles {
            totals.iter_mut().zip(pots).for_each(|(a, b)| *a += b);
        }
        let (j, p) = totals
            .iter()
            .enumerate()
            .fold(
                (0, f64::INFINITY),
                |best, (j, &p)| if p < best.1 { (j, p) } else { best },
            );
        pot = p;
        for (tile, (dist, _)) in tiles.iter().enumerate() {
            let start = tile * crate::kernel::TILE_ROWS;
            for (r, c) in closest[start..start + dist.len() / t]
                .iter_mut()
                .enumerate()
            {
                *c = c.min(dist[r * t + j]);
            }
        }
        let c = candidates[j];
        centers.extend_from_slice(&x[c * d..(c + 1) * d]);
    }
    centers
}

fn lloyd(x: &[f32], x_sq: &[f32], d: usize, mut centers: Vec<f32>, run: RunConfig) -> Run {
    let RunConfig {
        max_iter,
        tol,
        spherical,
    } = run;
    let k = centers.len() / d;
    let mut labels_old: Vec<usize> = Vec::new();
    let mut n_iter = 0;
    let mut converged_strictly = false;
    let mut labels = Vec::new();
    for it in 0..max_iter {
        n_iter = it + 1;
        let (l, dists) = nearest(x, x_sq, &centers, &row_sq_norms(&centers, d), d);
        labels = l;
        let mut new = update_centers(x, d, k, &mut labels, &dists, &centers);
        if spherical {
            normalise_rows(&mut new, d);
        }
        let shift: f64 = centers
            .iter()
            .zip(&new)
            .map(|(a, b)| f64::from(a - b).powi(2))
            .sum();
        centers = new;
        if labels == labels_old {
            converged_strictly = true;
            break;
        }
        if shift <= tol {
            break;
        }
        labels_old.clone_from(&labels);
    }
    if !converged_strictly {
        labels = nearest(x, x_sq, &centers, &row_sq_norms(&centers, d), d).0;
    }
    finish(x, d, centers, labels, n_iter)
}

/// The run's result with its exact inertia (direct differences in f64, not the GEMM form).
fn finish(x: &[f32], d: usize, centers: Vec<f32>, labels: Vec<usize>, n_iter: usize) -> Run {
    let inertia = labels
        .iter()
        .enumerate()
        .map(|(i, &l)| sq_dist_f64(&x[i * d..(i + 1) * d], &centers[l * d..(l + 1) * d]))
        .sum();
    Run {
        centroids: centers,
        labels,
        inertia,
        n_iter,
    }
}

/// Lloyd's iteration with Hamerly's bounds (Hamerly 2010, "Making k-means even faster").
///
/// Per row: `upper` ≥ distance to its centroid, `lower` ≤ distance to every other centroid.
/// After centroids move by `p`, `upper += p[own]`, `lower -= max p[other]`. A row is skipped when
/// `upper ≤ max(lower, s[own])` (`s` = half the distance from a centroid to its nearest other).
/// Rows that fail are gathered and re-assigned in one blocked product through the kernel.
/// Bounds carry a small safety margin for rounding, so decisions match Lloyd's.
fn hamerly(x: &[f32], x_sq: &[f32], d: usize, mut centers: Vec<f32>, run: RunConfig) -> Run {
    let RunConfig {
        max_iter,
        tol,
        spherical,
    } = run;
    let n = x_sq.len();
    let k = centers.len() / d;
    let scale = x_sq.iter().fold(0.0f32, |m, &v| m.max(v)).sqrt().max(1e-30);
    let margin = 1e-5 * scale;
    let first = nearest_two(x, x_sq, &centers, &row_sq_norms(&centers, d), d);
    let mut labels: Vec<usize> = first.iter().map(|f| f.index).collect();
    let mut upper: Vec<f32> = first.iter().map(|f| f.sq_dist.sqrt()).collect();
    let mut lower: Vec<f32> = first.iter().map(|f| f.second_sq_dist.sqrt()).collect();
    let mut sums = vec![0.0f64; k * d];
    let mut counts = vec![0usize; k];
    for (i, &l) in labels.iter().enumerate() {
        add_row(&mut sums, &mut counts, x, d, i, l, 1.0);
    }
    let mut n_iter = 0;
    let mut converged_strictly = false;
    let mut moved = n; // rows whose label changed in the last assignment
    let mut candidates: Vec<usize> = Vec::new();
    let mut gathered: Vec<f32> = Vec::new();
    for it in 0..max_iter {
        n_iter = it + 1;
        if it > 0 {
            // Assignment with the current centers, bounds first.
            let half_gap = half_nearest_gap(&centers, k, d);
            candidates.clear();
            for i in 0..n {
                let bound = lower[i].max(half_gap[labels[i]]);
                if upper[i] + margin <= bound {
                    continue;
                }
                let l = labels[i];
                upper[i] = sq_dist(&x[i * d..(i + 1) * d], &centers[l * d..(l + 1) * d]).sqrt();
                if upper[i] + margin <= bound {
                    continue;
                }
                candidates.push(i);
            }
            // Re-assign the candidates in bounded chunks (a chunk of rows gathered, one
            // blocked product), so memory stays O(chunk) whatever the corpus size.
            const CHUNK: usize = 8192;
            let c_sq = row_sq_norms(&centers, d);
            moved = 0;
            for part in candidates.chunks(CHUNK) {
                gathered.clear();
                for &i in part {
                    gathered.extend_from_slice(&x[i * d..(i + 1) * d]);
                }
                let g_sq: Vec<f32> = part.iter().map(|&i| x_sq[i]).collect();
                let fresh = nearest_two(&gathered, &g_sq, &centers, &c_sq, d);
                for (&i, f) in part.iter().zip(&fresh) {
                    if f.index != labels[i] {
                        add_row(&mut sums, &mut counts, x, d, i, labels[i], -1.0);
                        add_row(&mut sums, &mut counts, x, d, i, f.index, 1.0);
                        labels[i] = f.index;
                        moved += 1;
                    }
                    upper[i] = f.sq_dist.sqrt();
                    lower[i] = f.second_sq_dist.sqrt();
                }
            }
        }
        // Update step; an empty cluster takes the row farthest from its centre, as in Lloyd.
        if counts.contains(&0) {
            let dists: Vec<f32> = (0..n)
                .map(|i| {
                    sq_dist(
                        &x[i * d..(i + 1) * d],
                        &centers[labels[i] * d..(labels[i] + 1) * d],
                    )
                })
                .collect();
            let before = labels.clone();
            update_centers(x, d, k, &mut labels, &dists, &centers);
            for i in 0..n {
                if labels[i] != before[i] {
                    add_row(&mut sums, &mut counts, x, d, i, before[i], -1.0);
                    add_row(&mut sums, &mut counts, x, d, i, labels[i], 1.0);
                    // Its bounds no longer describe it: force a recomputation.
                    upper[i] = f32::INFINITY;
                    lower[i] = 0.0;
                    moved += 1;
                }
            }
        }
        let mut new = centers.clone();
        for c in 0..k {
            if counts[c] > 0 {
                let inv = 1.0 / counts[c] as f64;
                for t in 0..d {
                    new[c * d + t] = (sums[c * d + t] * inv) as f32;
                }
            }
        }
        if spherical {
            normalise_rows(&mut new, d);
        }
        let shifts: Vec<f32> = (0..k)
            .map(|c| sq_dist(&centers[c * d..(c + 1) * d], &new[c * d..(c + 1) * d]).sqrt())
            .collect();
        let shift_total: f64 = shifts.iter().map(|&p| f64::from(p).powi(2)).sum();
        centers = new;
        if it > 0 && moved == 0 {
            converged_strictly = true;
            break;
        }
        if shift_total <= tol {
            break;
        }
        // Move the bounds with the centroids.
        let (mut top, mut top_c, mut second) = (0.0f32, 0usize, 0.0f32);
        for (c, &p) in shifts.iter().enumerate() {
            if p > top {
                second = top;
                top = p;
                top_c = c;
            } else if p > second {
                second = p;
            }
        }
        for i in 0..n {
            upper[i] += shifts[labels[i]];
            lower[i] -= if labels[i] == top_c { second } else { top };
        }
    }
    if !converged_strictly {
        labels = nearest(x, x_sq, &centers, &row_sq_norms(&centers, d), d).0;
    }
    finish(x, d, centers, labels, n_iter)
}

fn add_row(
    sums: &mut [f64],
    counts: &mut [usize],
    x: &[f32],
    d: usize,
    i: usize,
    c: usize,
    sign: f64,
) {
    for (s, v) in sums[c * d..(c + 1) * d]
        .iter_mut()
        .zip(&x[i * d..(i + 1) * d])
    {
        *s += sign * f64::from(*v);
    }
    if sign > 0.0 {
        counts[c] += 1;
    } else {
        counts[c] -= 1;
    }
}

/// Half the distance from each centroid to its nearest other centroid.
fn half_nearest_gap(centers: &[f32], k: usize, d: usize) -> Vec<f32> {
    if k < 2 {
        return vec![f32::INFINITY; k];
    }
    let c_sq = row_sq_norms(centers, d);
    let mut gram = vec![0.0f32; k * k];
    crate::linalg::matmul_abt(
        &mut gram,
        centers,
        centers,
        (k, k, d),
        false,
        faer::Par::Seq,
    );
    (0..k)
        .map(|a| {
            let mut best = f32::INFINITY;
            for b in 0..k {
                if a != b {
                    best = best.min((c_sq[a] + c_sq[b] - 2.0 * gram[a * k + b]).max(0.0));
                }
            }
            0.5 * best.sqrt()
        })
        .collect()
}

/// Means of the assigned rows. An empty cluster takes the row farthest from its centre (as
/// scikit-learn relocates empty clusters), which leaves its old cluster.
fn update_centers(
    x: &[f32],
    d: usize,
    k: usize,
    labels: &mut [usize],
    dists: &[f32],
    old: &[f32],
) -> Vec<f32> {
    let mut sums = vec![0.0f64; k * d];
    let mut counts = vec![0usize; k];
    for (i, &l) in labels.iter().enumerate() {
        counts[l] += 1;
        for (s, v) in sums[l * d..(l + 1) * d]
            .iter_mut()
            .zip(&x[i * d..(i + 1) * d])
        {
            *s += f64::from(*v);
        }
    }
    let empty: Vec<usize> = (0..k).filter(|&c| counts[c] == 0).collect();
    if !empty.is_empty() {
        let mut far: Vec<usize> = (0..labels.len()).collect();
        far.sort_by(|&a, &b| dists[b].total_cmp(&dists[a]).then(a.cmp(&b)));
        let mut far = far.into_iter();
        for c in empty {
            // The farthest row whose cluster keeps at least one member.
            let Some(i) = far.by_ref().find(|&i| counts[labels[i]] > 1) else {
                break;
            };
            let from = labels[i];
            for t in 0..d {
                let v = f64::from(x[i * d + t]);
                sums[from * d + t] -= v;
                sums[c * d + t] = v;
            }
            counts[from] -= 1;
            counts[c] = 1;
            labels[i] = c;
        }
    }
    let mut centers = vec![0.0f32; k * d];
    for c in 0..k {
        if counts[c] == 0 {
            centers[c * d..(c + 1) * d].copy_from_slice(&old[c * d..(c + 1) * d]);
            continue;
        }
        let inv = 1.0 / counts[c] as f64;
        for t in 0..d {
            centers[c * d + t] = (sums[c * d + t] * inv) as f32;
        }
    }
    centers
}

#[cfg(test)]
mod tests {
    use super::*;

    fn blobs() -> Embeddings {
        // Three tight groups on the unit circle's quarter points, 5 rows each.
        let mut v = Vec::new();
        for (cx, cy) in [(1.0f32, 0.0f32), (0.0, 1.0), (-1.0, 0.0)] {
            for j in 0..5 {
                let e = j as f32 * 0.01;
                v.extend_from_slice(&[cx + e, cy - e]);
            }
        }
        Embeddings::new(v, 2).unwrap()
    }

    #[test]
    fn finds_planted_groups() {
        let m = KMeans::params(3).fit(&blobs()).unwrap();
        let l = m.labels();
        for g in 0..3 {
            assert!(l[g * 5..g * 5 + 5].iter().all(|&x| x == l[g * 5]), "{l:?}");
        }
        assert_eq!(m.sizes(), &[5, 5, 5]);
        assert!(m.inertia() < 1e-2, "{}", m.inertia());
        assert_eq!(m.predict(&blobs()).unwrap(), l);
    }

    #[test]
    fn one_error_per_rule() {
        let e = blobs();
        assert!(KMeans::params(0)
            .fit(&e)
            .unwrap_err()
            .to_string()
            .contains("`k` = 0"));
        assert!(KMeans::params(16)
            .fit(&e)
            .unwrap_err()
            .to_string()
            .contains("more than the 15 rows"));
        let rule = |p: KMeansParams| crate::error::Error::rule(p.check());
        assert_eq!(rule(KMeans::params(0)), "k");
        assert_eq!(rule(KMeans::params(2).n_init(0)), "n_init");
        assert_eq!(rule(KMeans::params(2).max_iter(0)), "max_iter");
        assert_eq!(rule(KMeans::params(2).tol(f64::NAN)), "tol");
    }

    #[test]
    fn same_seed_same_result_and_k_equals_n() {
        let e = blobs();
        assert_eq!(
            KMeans::params(4).fit(&e).unwrap(),
            KMeans::params(4).fit(&e).unwrap()
        );
        let all = KMeans::params(15).fit(&e).unwrap();
        assert_eq!(all.sizes(), &[1; 15][..]);
        assert!(all.inertia() < 1e-9);
    }

    /// Rows on the unit sphere around a few random directions, like sentence embeddings.
    fn cloud(n: usize, d: usize, groups: usize, seed: u64) -> Embeddings {
        let mut rng = Rng::new(seed, 0);
        let centres: Vec<f32> = (0..groups * d)
            .map(|_| rng.next_f64() as f32 - 0.5)
            .collect();
        let mut v = Vec::with_capacity(n * d);
        for i in 0..n {
            let g = i % groups;
            for t in 0..d {
                v.push(centres[g * d + t] + 0.6 * (rng.next_f64() as f32 - 0.5));
            }
        }
        Embeddings::new(v, d).unwrap()
    }

    #[test]
    fn hamerly_equals_lloyd() {
        for (n, d, k, seed) in [(600, 16, 7, 1), (900, 32, 20, 2), (300, 8, 3, 3)] {
            let e = cloud(n, d, 5, seed);
            let lloyd = KMeans::params(k)
                .n_init(3)
                .algorithm(KMeansAlgorithm::Lloyd)
                .fit(&e)
                .unwrap();
            let hamerly = KMeans::params(k)
                .n_init(3)
                .algorithm(KMeansAlgorithm::Hamerly)
                .fit(&e)
                .unwrap();
            assert_eq!(lloyd.labels(), hamerly.labels(), "n={n} d={d} k={k}");
            assert_eq!(lloyd.n_iter(), hamerly.n_iter());
            assert!((lloyd.inertia() - hamerly.inertia()).abs() <= 1e-9 * lloyd.inertia());
        }
    }

    #[test]
    fn spherical_centroids_are_unit_and_hamerly_still_equals_lloyd() {
        let e = cloud(600, 16, 5, 4);
        let sph = KMeans::params(5).spherical(true).fit(&e).unwrap();
        for c in 0..5 {
            let n: f32 = sph.centroid(c).iter().map(|v| v * v).sum::<f32>().sqrt();
            assert!((n - 1.0).abs() < 1e-5, "centroid {c} has norm {n}");
        }
        let lloyd = KMeans::params(5)
            .spherical(true)
            .algorithm(KMeansAlgorithm::Lloyd)
            .fit(&e)
            .unwrap();
        assert_eq!(sph.labels(), lloyd.labels());
        let plain = KMeans::params(5).fit(&e).unwrap();
        assert!(label_agreement_ari(plain.labels(), sph.labels()) > 0.9);
    }

    fn label_agreement_ari(a: &[usize], b: &[usize]) -> f64 {
        crate::cluster::label_agreement(a, b).ari
    }

    #[test]
    fn thread_count_does_not_change_the_result() {
        let e = cloud(700, 12, 4, 9);
        let par = KMeans::params(6).fit(&e).unwrap();
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(1)
            .build()
            .unwrap();
        let serial = pool.install(|| KMeans::params(6).fit(&e).unwrap());
        assert_eq!(par, serial);
    }

    #[test]
    fn model_is_send_sync_clone() {
        fn check<T: Send + Sync + Clone>() {}
        check::<KMeansModel>();
    }
}
