//! K-Means (Lloyd) with greedy k-means++ seeding, as scikit-learn's `KMeans`.
//!
//! Params -> check -> fit -> model: `KMeans::params(k).n_init(10).seed(42).fit(&embeddings)`.
//! Assignment runs through the similarity kernel ([`crate::kernel::nearest`]); centroid sums are
//! accumulated in row order in f64, so results do not depend on the thread count.

mod hamerly;
mod init;
mod lloyd;

use rayon::prelude::*;

use crate::embeddings::Embeddings;
use crate::error::{Error, Result};
use crate::kernel::nearest;
use crate::linalg::row_sq_norms;
use crate::rng::Rng;
use hamerly::hamerly;
pub(crate) use init::kmeans_plus_plus;
use init::mean_variance;
use lloyd::{finish, lloyd};

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
    train_per_cluster: Option<usize>,
    polish_iter: Option<usize>,
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

/// FAISS's training rows per cluster (`max_points_per_centroid`), the automatic choice.
pub const TRAIN_PER_CLUSTER: usize = 256;

impl KMeans {
    /// The automatic training sample ([`KMeansParams::train_per_cluster`]):
    /// [`TRAIN_PER_CLUSTER`] rows per cluster when the corpus holds more than four times that,
    /// else `None` (every run on every row, as scikit-learn; the sample would save little).
    pub fn auto_train_per_cluster(rows: usize, k: usize) -> Option<usize> {
        (rows > 4 * TRAIN_PER_CLUSTER * k).then_some(TRAIN_PER_CLUSTER)
    }

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
            train_per_cluster: None,
            polish_iter: None,
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

    /// Train each initialisation on a seeded sample of `rows` rows per cluster (FAISS's
    /// `max_points_per_centroid`, 256 there), then continue the best one on every row until it
    /// converges (a "polish": Lloyd's iterations from centroids that are already close, so few
    /// are needed). The restarts then cost a sample's time, not the corpus's, and the result is
    /// still a converged K-Means of all rows. Default `None`: every run on every row, as
    /// scikit-learn. No effect when the sample would hold every row.
    pub fn train_per_cluster(mut self, rows: Option<usize>) -> Self {
        self.train_per_cluster = rows;
        self
    }

    /// With [`Self::train_per_cluster`]: at most this many iterations of the polish on all
    /// rows. Default `None`: [`Self::max_iter`], in practice until it converges. `Some(0)` is
    /// FAISS's recipe: the sample's centroids and one exact assignment of every row.
    pub fn polish_iter(mut self, iterations: Option<usize>) -> Self {
        self.polish_iter = iterations;
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
        if self.train_per_cluster == Some(0) {
            return Err(Error::param(
                "train_per_cluster",
                0,
                "must be at least 1 row per cluster",
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
        let x = data.as_f32();
        let x_sq = row_sq_norms(&x, d);
        let cfg = RunConfig {
            max_iter: self.max_iter,
            tol: self.tol * mean_variance(&x, d),
            spherical: self.spherical,
        };
        let train = self
            .train_per_cluster
            .map(|m| m.saturating_mul(k))
            .filter(|&t| t < n);
        let Some(train) = train else {
            let best = self.best_of_runs(&x, &x_sq, d, cfg);
            return Ok(KMeansModel::ordered_by_size(best, d, n));
        };
        // The restarts on a seeded sample (its own random stream), the best continued on all.
        let mut rows = Rng::new(self.seed, TRAIN_SAMPLE_STREAM).sample(n, train);
        rows.sort_unstable();
        let sample: Vec<f32> = rows
            .iter()
            .flat_map(|&r| x[r * d..(r + 1) * d].iter().copied())
            .collect();
        let sample_sq: Vec<f32> = rows.iter().map(|&r| x_sq[r]).collect();
        let start = self.best_of_runs(&sample, &sample_sq, d, cfg).centroids;
        let polish = RunConfig {
            max_iter: self.polish_iter.unwrap_or(self.max_iter),
            ..cfg
        };
        let polished = if polish.max_iter == 0 {
            let labels = nearest(&*x, &x_sq, &start, &row_sq_norms(&start, d), d).0;
            finish(&x, d, start, labels, 0)
        } else {
            match self.algorithm {
                KMeansAlgorithm::Lloyd => lloyd(&x, &x_sq, d, start, polish),
                KMeansAlgorithm::Hamerly => hamerly(&x, &x_sq, d, start, polish),
            }
        };
        Ok(KMeansModel::ordered_by_size(polished, d, train))
    }

    /// `n_init` runs over `x` in parallel; the lowest inertia wins, then the lowest run index,
    /// so the result does not depend on scheduling.
    fn best_of_runs(&self, x: &[f32], x_sq: &[f32], d: usize, cfg: RunConfig) -> Run {
        let (n, k) = (x_sq.len(), self.n_clusters);
        let runs: Vec<Run> = (0..self.n_init)
            .into_par_iter()
            .map(|run| {
                let mut rng = Rng::new(self.seed, run as u64);
                let init = match self.init {
                    KMeansInit::KMeansPlusPlus => kmeans_plus_plus(x, x_sq, d, k, &mut rng),
                    KMeansInit::Random => {
                        let mut rows = rng.sample(n, k);
                        rows.sort_unstable();
                        rows.iter()
                            .flat_map(|&r| x[r * d..(r + 1) * d].iter().copied())
                            .collect()
                    }
                };
                match self.algorithm {
                    KMeansAlgorithm::Lloyd => lloyd(x, x_sq, d, init, cfg),
                    KMeansAlgorithm::Hamerly => hamerly(x, x_sq, d, init, cfg),
                }
            })
            .collect();
        let mut best: Option<Run> = None;
        for r in runs {
            if best.as_ref().is_none_or(|b| r.inertia < b.inertia) {
                best = Some(r);
            }
        }
        best.expect("n_init >= 1")
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
    train_rows: usize,
}

impl KMeansModel {
    fn ordered_by_size(run: Run, dim: usize, train_rows: usize) -> KMeansModel {
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
            train_rows,
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
        let n = x.len() / dim;
        KMeansModel::ordered_by_size(finish(x, dim, centroids, labels, n_iter), dim, n)
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

    /// Lloyd iterations of the winning run (with a training sample: of the polish on all
    /// rows).
    pub fn n_iter(&self) -> usize {
        self.n_iter
    }

    /// Rows each initialisation ran on: all rows, or the training sample
    /// ([`KMeansParams::train_per_cluster`]).
    pub fn train_rows(&self) -> usize {
        self.train_rows
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
        Ok(nearest_centroids(data, &self.centroids)?.0)
    }
}

/// The nearest of `centroids` (`k x dim`, row-major) to each row of `data`, and the squared
/// Euclidean distance to it (ties to the lower index): [`KMeansModel::predict`] for centroids
/// fitted elsewhere, such as on a cluster's driver and applied on its workers.
pub fn nearest_centroids(data: &Embeddings, centroids: &[f32]) -> Result<(Vec<usize>, Vec<f32>)> {
    let d = data.dim();
    Error::check_centroids(centroids.len(), d, "k")?;
    let x = data.view();
    Ok(nearest(
        x,
        &x.row_sq_norms(d),
        centroids,
        &row_sq_norms(centroids, d),
        d,
    ))
}

/// The random stream of the training sample (the runs use streams `0..n_init`).
const TRAIN_SAMPLE_STREAM: u64 = u64::MAX;

/// Per-run settings shared by Lloyd and Hamerly.
#[derive(Debug, Clone, Copy)]
struct RunConfig {
    max_iter: usize,
    /// Absolute tolerance on the summed squared centroid shift.
    tol: f64,
    spherical: bool,
}

struct Run {
    centroids: Vec<f32>,
    labels: Vec<usize>,
    inertia: f64,
    n_iter: usize,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_centroids_is_predict_for_centroids_from_elsewhere() {
        let data = Embeddings::new(
            vec![1.0, 0.0, 0.9, 0.1, 0.0, 1.0, 0.1, 0.9, -1.0, 0.1, -0.9, 0.0],
            2,
        )
        .unwrap();
        let model = KMeans::params(3).seed(1).fit(&data).unwrap();
        let (labels, dist) = nearest_centroids(&data, model.centroids()).unwrap();
        assert_eq!(labels, model.predict(&data).unwrap());
        assert!(dist.iter().all(|d| (0.0..0.1).contains(d)));
        assert_eq!(
            Error::rule(nearest_centroids(&data, &[1.0, 0.0, 1.0])),
            "centroids"
        );
    }

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
    fn restarts_on_a_sample_then_a_polish_on_every_row() {
        let e = cloud(6000, 16, 6, 11);
        let full = KMeans::params(6).n_init(3).fit(&e).unwrap();
        assert_eq!(full.train_rows(), 6000);
        let sampled = KMeans::params(6)
            .n_init(3)
            .train_per_cluster(Some(100))
            .fit(&e)
            .unwrap();
        assert_eq!(sampled.train_rows(), 600);
        // Polished until it converged: every row sits at its nearest centroid.
        assert_eq!(sampled.predict(&e).unwrap(), sampled.labels());
        assert!(
            sampled.inertia() <= full.inertia() * 1.01,
            "{} vs {}",
            sampled.inertia(),
            full.inertia()
        );
        // FAISS's recipe: the sample's centroids, one exact assignment.
        let faiss = KMeans::params(6)
            .n_init(3)
            .train_per_cluster(Some(100))
            .polish_iter(Some(0))
            .fit(&e)
            .unwrap();
        assert_eq!(faiss.n_iter(), 0);
        assert_eq!(faiss.predict(&e).unwrap(), faiss.labels());
        assert!(faiss.inertia() >= sampled.inertia() - 1e-6);
        // A sample as large as the corpus is the corpus.
        let all = KMeans::params(6)
            .n_init(3)
            .train_per_cluster(Some(1000))
            .fit(&e)
            .unwrap();
        assert_eq!(all, full);
        // The thread count does not change the sample or the result.
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(1)
            .build()
            .unwrap();
        let serial = pool.install(|| {
            KMeans::params(6)
                .n_init(3)
                .train_per_cluster(Some(100))
                .fit(&e)
                .unwrap()
        });
        assert_eq!(serial, sampled);
        let rule = |p: KMeansParams| crate::error::Error::rule(p.check());
        assert_eq!(
            rule(KMeans::params(2).train_per_cluster(Some(0))),
            "train_per_cluster"
        );
        assert_eq!(KMeans::auto_train_per_cluster(30_000, 58), None);
        assert_eq!(KMeans::auto_train_per_cluster(1_000_000, 58), Some(256));
    }

    #[test]
    fn model_is_send_sync_clone() {
        fn check<T: Send + Sync + Clone>() {}
        check::<KMeansModel>();
    }
}
