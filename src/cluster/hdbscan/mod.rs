//! HDBSCAN (Campello, Moulavi & Sander 2013; McInnes & Healy 2017), as the `hdbscan` Python
//! library computes it: core distances, the minimum spanning tree of mutual reachability, the
//! single-linkage hierarchy, the condensed tree, stability, and excess-of-mass or leaf
//! selection with `cluster_selection_epsilon`; labels with typed noise, membership
//! probabilities and GLOSH outlier scores.
//!
//! Points of up to 16 dimensions (BERTopic's 5-D UMAP reduction) take the
//! library's own low-dimensional route, exact Borůvka over a kd-tree (`boruvka.rs`): memory
//! `O(n)`, 0.15 s at 30k rows and 9.4 s at 300k.
//!
//! On 384-d embeddings space-partitioning trees prune nothing, so the exact route is dense: all
//! pairwise distances in one `n x n` f32 matrix built from GEMM tiles (the upper ones, then
//! mirrored; tiny distances recomputed directly, so duplicates are exactly 0 apart as in the
//! reference), core distances
//! by selection per row, then Prim's algorithm over the matrix. Memory `4n²` bytes: 3.6 GB at
//! 30k rows. Above [`MAX_ROWS`] (or with [`HdbscanParams::knn_graph`] or
//! [`HdbscanParams::nn_descent`]) the tree is built on a k-nearest-neighbour graph instead, in
//! `O(n·k)` memory: by default NN-descent's, as fast_hdbscan does, or the exact one.

mod boruvka;
mod extract;
mod mst;
mod tree;

use serde::Serialize;

use crate::embeddings::Embeddings;
use crate::error::{Error, Result};
use crate::metric::Metric;
pub use tree::CondensedEdge;

/// Largest corpus clustered by the dense exact route (the matrix takes `4n²` bytes).
pub const MAX_ROWS: usize = 50_000;

/// How flat clusters are chosen from the condensed tree.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "cli", derive(clap::ValueEnum))]
pub enum Selection {
    /// Excess of mass: the most persistent clusters (the default).
    Eom,
    /// The leaves of the condensed tree: many small, homogeneous clusters.
    Leaf,
}

/// HDBSCAN parameters; names and defaults as the `hdbscan` library's.
#[derive(Debug, Clone, PartialEq)]
pub struct HdbscanParams {
    min_cluster_size: usize,
    min_samples: Option<usize>,
    selection: Selection,
    epsilon: f64,
    metric: Metric,
    allow_single_cluster: bool,
    knn_graph: Option<usize>,
    knn_probes: usize,
    nn_descent: bool,
    seed: u64,
}

/// Entry point: `Hdbscan::params()`.
#[derive(Debug, Clone, Copy)]
pub struct Hdbscan;

impl Hdbscan {
    /// Default parameters: `min_cluster_size` 5, `min_samples` = `min_cluster_size`, EOM.
    pub fn params() -> HdbscanParams {
        HdbscanParams {
            min_cluster_size: 5,
            min_samples: None,
            selection: Selection::Eom,
            epsilon: 0.0,
            metric: Metric::Euclidean,
            allow_single_cluster: false,
            knn_graph: None,
            knn_probes: 0,
            nn_descent: false,
            seed: 42,
        }
    }
}

impl HdbscanParams {
    /// Smallest group that counts as a cluster. Default 5 (`min_cluster_size`).
    pub fn min_cluster_size(mut self, m: usize) -> Self {
        self.min_cluster_size = m;
        self
    }
    /// Neighbours defining a core point (the point itself not counted, as in the `hdbscan`
    /// library). Default: `min_cluster_size` (`min_samples`).
    pub fn min_samples(mut self, m: usize) -> Self {
        self.min_samples = Some(m);
        self
    }
    /// Cluster selection. Default EOM (`cluster_selection_method`).
    pub fn selection(mut self, s: Selection) -> Self {
        self.selection = s;
        self
    }
    /// Clusters split below this distance are merged back. Default 0
    /// (`cluster_selection_epsilon`).
    pub fn cluster_selection_epsilon(mut self, e: f64) -> Self {
        self.epsilon = e;
        self
    }
    /// Distance: Euclidean (default) or cosine (`1 - cos`).
    pub fn metric(mut self, m: Metric) -> Self {
        self.metric = m;
        self
    }
    /// Let EOM return the root as the only cluster. Default false (`allow_single_cluster`).
    pub fn allow_single_cluster(mut self, yes: bool) -> Self {
        self.allow_single_cluster = yes;
        self
    }

    /// Build the MST on the graph of each row's `k` nearest neighbours instead of all pairs
    /// (fast_hdbscan's route above 30 dimensions, with exact neighbours here): memory `O(n·k)`
    /// instead of `4n²` bytes; components the graph leaves apart are joined at infinite
    /// distance. `k` counts the row itself and is raised to `min_samples + 1` at least.
    /// Default: all pairs up to [`MAX_ROWS`] rows; above, the NN-descent graph of the row and
    /// `max(3 * min_samples, 15)` neighbours (fast_hdbscan's route, see
    /// [`nn_descent`](Self::nn_descent)); set `k` to get the exact graph there.
    pub fn knn_graph(mut self, k: usize) -> Self {
        self.knn_graph = Some(k);
        self
    }

    /// Find the graph's neighbours approximately, with an inverted file probing this many
    /// Mini-Batch K-Means cells per row ([`crate::neighbors::InvertedFile`]); 0 (default) searches exactly. Only
    /// used on the kNN-graph route. On debian-30k (min_cluster_size 5) 4, 8 and 12 probes took
    /// 3.4-4.8 s and agreed with the `hdbscan` library at ARI 0.933, 0.954 and 0.958 (exact
    /// neighbours: 7.9 s, 0.966).
    pub fn knn_probes(mut self, probes: usize) -> Self {
        self.knn_probes = probes;
        self
    }

    /// Find the graph's neighbours approximately by NN-descent
    /// ([`crate::neighbors::nn_descent`], as fast_hdbscan does with pynndescent above 30
    /// dimensions): fast_hdbscan's speed and agreement with the `hdbscan` library (debian-30k:
    /// 0.9 s, ARI 0.961 at min_cluster_size 5; synth-200k: 8.8 s). Without
    /// [`knn_graph`](Self::knn_graph) the graph holds the row and `max(3 * min_samples, 15)`
    /// neighbours, as fast_hdbscan's. Default: false up to [`MAX_ROWS`] rows, the route taken
    /// above. Takes precedence over [`knn_probes`](Self::knn_probes).
    pub fn nn_descent(mut self, yes: bool) -> Self {
        self.nn_descent = yes;
        self
    }

    /// Seed of the approximate kNN graphs (NN-descent, or the cells of
    /// [`knn_probes`](Self::knn_probes)). Default 42; the exact routes use none.
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    fn samples(&self) -> usize {
        self.min_samples.unwrap_or(self.min_cluster_size)
    }

    /// Validates the parameters that do not depend on the data.
    pub fn check(&self) -> Result<()> {
        if self.min_cluster_size < 2 {
            return Err(Error::param(
                "min_cluster_size",
                self.min_cluster_size,
                "must be at least 2",
            ));
        }
        if self.samples() < 1 {
            return Err(Error::param(
                "min_samples",
                self.samples(),
                "must be at least 1",
            ));
        }
        if !(self.epsilon >= 0.0 && self.epsilon.is_finite()) {
            return Err(Error::param(
                "cluster_selection_epsilon",
                self.epsilon,
                "must be a finite number >= 0",
            ));
        }
        Ok(())
    }

    /// Clusters the rows of `data`.
    pub fn fit(&self, data: &Embeddings) -> Result<HdbscanModel> {
        self.check()?;
        if self.metric == Metric::Cosine {
            data.require_unit("metric", "cosine")?;
        }
        let n = data.rows();
        if self.min_cluster_size > n {
            return Err(Error::param(
                "min_cluster_size",
                self.min_cluster_size,
                format!("is more than the {n} rows to cluster"),
            ));
        }
        if self.samples() >= n {
            return Err(Error::param(
                "min_samples",
                self.samples(),
                format!("must be below the {n} rows"),
            ));
        }
        let clock = std::time::Instant::now();
        let (core, mut mst) = mst::spanning_tree(data, self)?;
        tracing::debug!(
            "hdbscan: minimum spanning tree {:.2} s",
            clock.elapsed().as_secs_f64()
        );
        // Stable: edges of equal weight keep the order in which Prim's algorithm added them,
        // which is what the reference's hierarchy ends up with.
        mst.sort_by(|x, y| x.2.total_cmp(&y.2));
        let hierarchy = tree::single_linkage(&mst, n);
        let tree = tree::condense(&hierarchy, n, self.min_cluster_size);
        let mut model = extract::extract(tree, n, self);
        model.core_distances = core.iter().map(|&c| f64::from(c)).collect();
        tracing::debug!("hdbscan: done {:.2} s", clock.elapsed().as_secs_f64());
        model.minimum_spanning_tree = mst;
        Ok(model)
    }
}

/// A fitted HDBSCAN: typed noise, probabilities, outlier scores and the condensed tree.
#[derive(Debug, Clone, PartialEq)]
pub struct HdbscanModel {
    labels: Vec<Option<usize>>,
    sizes: Vec<usize>,
    probabilities: Vec<f32>,
    outlier_scores: Vec<f32>,
    stabilities: Vec<f64>,
    condensed_tree: Vec<CondensedEdge>,
    core_distances: Vec<f64>,
    minimum_spanning_tree: Vec<(usize, usize, f64)>,
}

impl HdbscanModel {
    /// Each row's core distance (to its `min_samples`-th nearest other row).
    pub fn core_distances(&self) -> &[f64] {
        &self.core_distances
    }
    /// The minimum spanning tree of mutual reachability, `(a, b, weight)` by weight (the
    /// library's `minimum_spanning_tree_`).
    pub fn minimum_spanning_tree(&self) -> &[(usize, usize, f64)] {
        &self.minimum_spanning_tree
    }
    /// Cluster of each row (`None` = noise); ids ordered by size, 0 the largest.
    pub fn labels(&self) -> &[Option<usize>] {
        &self.labels
    }
    /// Rows per cluster.
    pub fn sizes(&self) -> &[usize] {
        &self.sizes
    }
    /// Number of clusters.
    pub fn n_clusters(&self) -> usize {
        self.sizes.len()
    }
    /// Rows labelled noise.
    pub fn noise(&self) -> usize {
        self.labels.iter().filter(|l| l.is_none()).count()
    }
    /// Membership strength of each row in its cluster, in [0, 1] (0 for noise).
    pub fn probabilities(&self) -> &[f32] {
        &self.probabilities
    }
    /// GLOSH outlier score of each row, in [0, 1]; higher is more outlying.
    pub fn outlier_scores(&self) -> &[f32] {
        &self.outlier_scores
    }
    /// Stability-based persistence of each cluster, in [0, 1] (the library's
    /// `cluster_persistence_`).
    pub fn cluster_persistence(&self) -> &[f64] {
        &self.stabilities
    }
    /// The condensed tree (the library's `condensed_tree_`).
    pub fn condensed_tree(&self) -> &[CondensedEdge] {
        &self.condensed_tree
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distance_matrix_is_the_symmetric_naive_one() {
        // 600 rows: three row tiles and ten mirror blocks, with an exact duplicate.
        let (n, d) = (600, 20);
        let mut v: Vec<f32> = (0..n * d)
            .map(|i| ((i * 7919) % 1000) as f32 / 997.0)
            .collect();
        let (a, b) = v.split_at_mut(100 * d);
        b[..d].copy_from_slice(&a[..d]); // row 100 = row 0
        let data = Embeddings::points(v.clone(), d).unwrap();
        for metric in [Metric::Euclidean, Metric::Cosine] {
            let m = mst::distance_matrix(&data, metric);
            for i in 0..n {
                assert_eq!(m[i * n + i], 0.0);
                for j in 0..n {
                    assert_eq!(m[i * n + j].to_bits(), m[j * n + i].to_bits(), "({i}, {j})");
                }
            }
            let x = data.as_f32();
            for (i, j) in [(0, 1), (5, 599), (300, 17), (256, 255), (511, 512)] {
                let d2: f64 = (0..d)
                    .map(|t| f64::from(x[i * d + t] - x[j * d + t]).powi(2))
                    .sum();
                let want = match metric {
                    Metric::Euclidean => d2.sqrt(),
                    Metric::Cosine => 0.5 * d2,
                };
                assert!((f64::from(m[i * n + j]) - want).abs() < 1e-4, "({i}, {j})");
            }
            assert_eq!(m[100], 0.0, "duplicates are exactly 0 apart");
        }
    }
}
