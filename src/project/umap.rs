//! UMAP (McInnes, Healy & Melville 2018) as umap-learn computes it: kNN graph, smooth kNN
//! distances, fuzzy union, spectral initialisation, `a`/`b` fitted from `min_dist` and
//! `spread`, and SGD with negative sampling over `n_epochs` (500 up to 10,000 rows, else 200).
//! Deterministic for a seed, also in parallel (see [`super::layout`]).

use std::time::Instant;

use serde::Serialize;

use super::fuzzy::{fuzzy_union, membership_strengths, smooth_knn_dist, Csr};
use super::layout::{find_ab_params, optimize, LayoutConfig};
use super::pca::Pca;
use super::spectral::{components, multi_component, spectral_connected};
use crate::embeddings::Embeddings;
use crate::error::{Error, Result};
use crate::metric::Metric;
use crate::neighbors::{nn_descent, recall_sample, NnDescent};
use crate::progress::{Progress, Silent};
use crate::rng::{gaussian, Rng};

/// How the layout starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "cli", derive(clap::ValueEnum))]
pub enum UmapInit {
    /// Leading eigenvectors of the graph Laplacian (umap-learn's default), per component for a
    /// disconnected graph; PCA when the eigensolver does not converge.
    Spectral,
    /// The first principal components of the data.
    Pca,
    /// Uniform in `[-10, 10]`.
    Random,
}

/// How the kNN graph is found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "cli", derive(clap::ValueEnum))]
pub enum UmapKnn {
    /// Exact below 4,096 rows, NN-descent above: umap-learn's own rule (it calls pynndescent
    /// above 4,096 rows).
    Auto,
    /// Exact, through the similarity kernel (`O(n²·d)` work, `O(n·k)` memory).
    Exact,
    /// Approximate, by NN-descent from a random-projection forest.
    NnDescent,
}

/// Parameters of [`Umap`]; build with [`Umap::params`].
#[derive(Debug, Clone, PartialEq)]
pub struct UmapParams {
    n_neighbors: usize,
    n_components: usize,
    min_dist: f64,
    spread: f64,
    metric: Metric,
    n_epochs: Option<usize>,
    learning_rate: f64,
    negative_sample_rate: usize,
    repulsion_strength: f64,
    local_connectivity: f64,
    init: UmapInit,
    knn: UmapKnn,
    seed: u64,
}

/// Uniform Manifold Approximation and Projection.
///
/// ```
/// use embedscope::{project::Umap, Embeddings};
/// // Two well separated groups of 40 points in 8 dimensions.
/// let mut x = Vec::new();
/// for i in 0..80 {
///     let mut row = vec![0.05 * ((i * 7 % 13) as f32); 8];
///     row[if i < 40 { 0 } else { 1 }] = 3.0;
///     x.extend(row);
/// }
/// let data = Embeddings::new(x, 8)?;
/// let model = Umap::params().n_neighbors(10).seed(1).fit(&data)?;
/// assert_eq!(model.embedding().len(), 80 * 2);
/// # Ok::<(), embedscope::Error>(())
/// ```
#[derive(Debug, Clone, Copy)]
pub struct Umap;

impl Umap {
    /// umap-learn's defaults, with the cosine metric (the right one for text embeddings).
    pub fn params() -> UmapParams {
        UmapParams {
            n_neighbors: 15,
            n_components: 2,
            min_dist: 0.1,
            spread: 1.0,
            metric: Metric::Cosine,
            n_epochs: None,
            learning_rate: 1.0,
            negative_sample_rate: 5,
            repulsion_strength: 1.0,
            local_connectivity: 1.0,
            init: UmapInit::Spectral,
            knn: UmapKnn::Auto,
            seed: 42,
        }
    }
}

impl UmapParams {
    /// Neighbours per point, the point itself included (default 15, umap-learn
    /// `n_neighbors`): larger values favour global structure.
    pub fn n_neighbors(mut self, k: usize) -> Self {
        self.n_neighbors = k;
        self
    }

    /// Output dimensions (default 2; BERTopic reduces to 5 before HDBSCAN).
    pub fn n_components(mut self, d: usize) -> Self {
        self.n_components = d;
        self
    }

    /// Smallest distance between embedded points (default 0.1, umap-learn `min_dist`).
    pub fn min_dist(mut self, d: f64) -> Self {
        self.min_dist = d;
        self
    }

    /// Scale of the embedded points (default 1.0, umap-learn `spread`).
    pub fn spread(mut self, s: f64) -> Self {
        self.spread = s;
        self
    }

    /// Input metric (default cosine; euclidean is between the normalised rows).
    pub fn metric(mut self, m: Metric) -> Self {
        self.metric = m;
        self
    }

    /// Training epochs (default: 500 up to 10,000 rows, else 200, as umap-learn).
    pub fn n_epochs(mut self, n: usize) -> Self {
        self.n_epochs = Some(n);
        self
    }

    /// Initial SGD learning rate (default 1.0, umap-learn `learning_rate`).
    pub fn learning_rate(mut self, r: f64) -> Self {
        self.learning_rate = r;
        self
    }

    /// Negative samples per positive sample (default 5, umap-learn `negative_sample_rate`).
    pub fn negative_sample_rate(mut self, r: usize) -> Self {
        self.negative_sample_rate = r;
        self
    }

    /// Weight of the repulsive term (default 1.0, umap-learn `repulsion_strength`).
    pub fn repulsion_strength(mut self, g: f64) -> Self {
        self.repulsion_strength = g;
        self
    }

    /// Neighbours assumed connected at full strength (default 1.0, umap-learn
    /// `local_connectivity`).
    pub fn local_connectivity(mut self, l: f64) -> Self {
        self.local_connectivity = l;
        self
    }

    /// Initial layout (default spectral, as umap-learn).
    pub fn init(mut self, init: UmapInit) -> Self {
        self.init = init;
        self
    }

    /// How to find the kNN graph (default [`UmapKnn::Auto`], as umap-learn).
    pub fn knn(mut self, knn: UmapKnn) -> Self {
        self.knn = knn;
        self
    }

    /// Seed of every random step (default 42; umap-learn `random_state`).
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    /// Output dimensions configured.
    pub fn get_n_components(&self) -> usize {
        self.n_components
    }

    /// Validates the parameters that do not depend on the data.
    pub fn check(&self) -> Result<()> {
        if self.n_neighbors < 2 {
            return Err(Error::param(
                "n_neighbors",
                self.n_neighbors,
                "must be at least 2",
            ));
        }
        if self.n_components == 0 || self.n_components > super::layout::MAX_COMPONENTS {
            return Err(Error::param(
                "n_components",
                self.n_components,
                format!("must be in 1..={}", super::layout::MAX_COMPONENTS),
            ));
        }
        if !(self.spread.is_finite() && self.spread > 0.0) {
            return Err(Error::param("spread", self.spread, "must be positive"));
        }
        if !(self.min_dist.is_finite() && self.min_dist >= 0.0 && self.min_dist <= self.spread) {
            return Err(Error::param(
                "min_dist",
                self.min_dist,
                format!("must be in [0, spread = {}]", self.spread),
            ));
        }
        if self.n_epochs == Some(0) {
            return Err(Error::param("n_epochs", 0, "must be at least 1"));
        }
        if !(self.learning_rate.is_finite() && self.learning_rate > 0.0) {
            return Err(Error::param(
                "learning_rate",
                self.learning_rate,
                "must be positive",
            ));
        }
        if !(self.repulsion_strength.is_finite() && self.repulsion_strength >= 0.0) {
            return Err(Error::param(
                "repulsion_strength",
                self.repulsion_strength,
                "must be non-negative",
            ));
        }
        if !(self.local_connectivity.is_finite() && self.local_connectivity >= 0.0) {
            return Err(Error::param(
                "local_connectivity",
                self.local_connectivity,
                "must be non-negative",
            ));
        }
        Ok(())
    }

    /// Fits the projection of `data`.
    pub fn fit(&self, data: &Embeddings) -> Result<UmapModel> {
        self.fit_with_progress(data, &Silent)
    }

    /// [`fit`](Self::fit), reporting the kNN graph and the epochs to `progress`.
    pub fn fit_with_progress(
        &self,
        data: &Embeddings,
        progress: &dyn Progress,
    ) -> Result<UmapModel> {
        self.check()?;
        if self.metric == Metric::Cosine {
            data.require_unit("metric", "cosine")?;
        }
        let n = data.rows();
        if self.n_neighbors >= n {
            return Err(Error::param(
                "n_neighbors",
                self.n_neighbors,
                format!("must be below the number of rows ({n})"),
            ));
        }
        let k = self.n_neighbors;
        let mut timings = UmapTimings::default();

        let t = Instant::now();
        progress.start("UMAP kNN graph", 0);
        let (indices, dists, knn_recall) = self.neighbours(data);
        progress.finish();
        timings.knn = t.elapsed().as_secs_f64();

        let t = Instant::now();
        let (sigmas, rhos) = smooth_knn_dist(&dists, k, self.local_connectivity);
        let vals = membership_strengths(&indices, &dists, k, &sigmas, &rhos, true);
        let mut graph = fuzzy_union(&indices, &vals, k);
        let n_epochs = self.n_epochs.unwrap_or(if n <= 10_000 { 500 } else { 200 });
        let default_epochs = if n <= 10_000 { 500 } else { 200 };
        let prune_epochs = if n_epochs > 10 {
            n_epochs
        } else {
            default_epochs
        };
        graph.prune_below(graph.max_weight() / prune_epochs as f32);
        timings.graph = t.elapsed().as_secs_f64();

        let t = Instant::now();
        let dim = self.n_components;
        let (mut embedding, init_used) = self.initialise(data, &graph)?;
        // umap-learn rescales every column to [0, 10] before optimising.
        for c in 0..dim {
            let (lo, hi) = (0..n).fold((f32::INFINITY, f32::NEG_INFINITY), |(lo, hi), i| {
                let v = embedding[i * dim + c];
                (lo.min(v), hi.max(v))
            });
            let span = if hi > lo { hi - lo } else { 1.0 };
            for i in 0..n {
                embedding[i * dim + c] = 10.0 * (embedding[i * dim + c] - lo) / span;
            }
        }
        timings.init = t.elapsed().as_secs_f64();

        let t = Instant::now();
        let (a, b) = find_ab_params(self.spread, self.min_dist);
        let cfg = LayoutConfig {
            a: a as f32,
            b: b as f32,
            gamma: self.repulsion_strength as f32,
            initial_alpha: self.learning_rate as f32,
            negative_sample_rate: self.negative_sample_rate as f64,
            n_epochs,
            seed: self.seed,
        };
        progress.start("UMAP layout (epochs)", n_epochs as u64);
        if self.negative_sample_rate > 0 || graph.nnz() > 0 {
            optimize(&mut embedding, None, dim, &graph, &cfg, &|| {
                progress.advance(1)
            });
        }
        progress.finish();
        timings.layout = t.elapsed().as_secs_f64();

        Ok(UmapModel {
            params: self.clone(),
            embedding,
            a,
            b,
            init_used,
            n_epochs,
            edges: graph.nnz(),
            train: data.clone(),
            knn_recall,
            knn: (indices, dists),
            timings,
        })
    }

    /// The `n_neighbors` nearest rows of every row (itself first), distances in the metric,
    /// and for an approximate graph its recall against exact search on 1,000 rows.
    fn neighbours(&self, data: &Embeddings) -> (Vec<u32>, Vec<f32>, Option<f64>) {
        let k = self.n_neighbors;
        let approximate = match self.knn {
            UmapKnn::Auto => data.rows() >= 4096,
            UmapKnn::Exact => false,
            UmapKnn::NnDescent => true,
        };
        let (mut indices, mut dists, recall) = if approximate {
            let g = nn_descent(data, &NnDescent::params(k).seed(self.seed));
            let r = recall_sample(data, &g, 1000, self.seed);
            (g.indices, g.distances, Some(r))
        } else {
            let (i, d) = crate::kernel::knn(&data.as_f32(), data.dim(), k);
            (i, d, None)
        };
        // Exact duplicates tie with the row itself at distance 0; umap-learn's smoothing
        // expects the row itself in column 0.
        for i in 0..data.rows() {
            let row = &mut indices[i * k..(i + 1) * k];
            if let Some(p) = row.iter().position(|&j| j as usize == i) {
                if p > 0 {
                    row[..=p].rotate_right(1);
                    dists[i * k..(i + 1) * k][..=p].rotate_right(1);
                }
            }
        }
        self.to_metric(&mut dists);
        (indices, dists, recall)
    }

    /// Euclidean distances between unit rows to the configured metric.
    fn to_metric(&self, dists: &mut [f32]) {
        if self.metric == Metric::Cosine {
            // ‖x - y‖² = 2 - 2cos for unit rows.
            dists.iter_mut().for_each(|d| *d = 0.5 * *d * *d);
        }
    }

    /// The starting layout and the method that produced it.
    fn initialise(&self, data: &Embeddings, graph: &Csr) -> Result<(Vec<f32>, UmapInit)> {
        let (n, dim) = (data.rows(), self.n_components);
        let mut rng = Rng::new(self.seed, 0x1a17);
        let random = |rng: &mut Rng| -> Vec<f32> {
            (0..n * dim)
                .map(|_| (rng.next_f64() * 20.0 - 10.0) as f32)
                .collect()
        };
        let noisy_scale = |coords: Vec<f64>, rng: &mut Rng| -> Vec<f32> {
            let big = coords.iter().fold(0.0f64, |m, x| m.max(x.abs()));
            let expansion = if big > 0.0 { 10.0 / big } else { 1.0 };
            coords
                .iter()
                .map(|&x| (x * expansion + 1e-4 * gaussian(rng)) as f32)
                .collect()
        };
        match self.init {
            UmapInit::Random => Ok((random(&mut rng), UmapInit::Random)),
            UmapInit::Pca => {
                let coords = self.pca_coords(data)?;
                Ok((noisy_scale(coords, &mut rng), UmapInit::Pca))
            }
            UmapInit::Spectral => {
                let (count, labels) = components(graph);
                let layout = if count == 1 {
                    spectral_connected(graph, dim, self.seed)
                } else {
                    let meta = component_centres(data, &labels, count, dim, self.seed);
                    Some(multi_component(
                        graph, &labels, count, &meta, dim, self.seed,
                    ))
                };
                match layout {
                    Some(coords) => Ok((noisy_scale(coords, &mut rng), UmapInit::Spectral)),
                    None => {
                        tracing::warn!(
                            "UMAP: the spectral initialisation did not converge; using PCA"
                        );
                        let coords = self.pca_coords(data)?;
                        Ok((noisy_scale(coords, &mut rng), UmapInit::Pca))
                    }
                }
            }
        }
    }

    fn pca_coords(&self, data: &Embeddings) -> Result<Vec<f64>> {
        let dim = self.n_components.min(data.dim()).min(data.rows());
        let pca = Pca::params(dim).seed(self.seed).fit(data)?;
        let y = pca.transform(data)?;
        let mut out = vec![0.0f64; data.rows() * self.n_components];
        for i in 0..data.rows() {
            for c in 0..dim {
                out[i * self.n_components + c] = y[i * dim + c] as f64;
            }
        }
        Ok(out)
    }
}

/// Places of the graph's components (`count x dim`, within the unit box): the principal axes
/// of their centroids when there are more components than dimensions, else evenly on a
/// circle.
fn component_centres(
    data: &Embeddings,
    labels: &[usize],
    count: usize,
    dim: usize,
    seed: u64,
) -> Vec<f64> {
    let d = data.dim();
    let mut sums = vec![0.0f32; count * d];
    for (i, &c) in labels.iter().enumerate() {
        for (s, &v) in sums[c * d..(c + 1) * d].iter_mut().zip(data.row(i).iter()) {
            *s += v;
        }
    }
    let mut meta = vec![0.0f64; count * dim];
    let placed = if count > dim && dim <= d {
        Embeddings::new(sums, d)
            .ok()
            .and_then(|centroids| {
                let p = Pca::params(dim).seed(seed).fit(&centroids).ok()?;
                p.transform(&centroids).ok()
            })
            .map(|y| {
                for (m, v) in meta.iter_mut().zip(&y) {
                    *m = *v as f64;
                }
            })
            .is_some()
    } else {
        false
    };
    if !placed {
        for c in 0..count {
            let t = 2.0 * std::f64::consts::PI * c as f64 / count as f64;
            meta[c * dim] = t.cos();
            if dim > 1 {
                meta[c * dim + 1] = t.sin();
            }
        }
    }
    let big = meta.iter().fold(0.0f64, |m, x| m.max(x.abs()));
    if big > 0.0 {
        meta.iter_mut().for_each(|x| *x /= big);
    }
    meta
}

/// Seconds spent in each phase of a fit.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct UmapTimings {
    /// kNN graph.
    pub knn: f64,
    /// Smoothing, fuzzy union, pruning.
    pub graph: f64,
    /// Initial layout.
    pub init: f64,
    /// SGD epochs.
    pub layout: f64,
}

/// A fitted UMAP: the embedding of the training rows, and what [`transform`](Self::transform)
/// needs to place new rows.
#[derive(Debug, Clone)]
pub struct UmapModel {
    params: UmapParams,
    embedding: Vec<f32>,
    a: f64,
    b: f64,
    init_used: UmapInit,
    n_epochs: usize,
    edges: usize,
    train: Embeddings,
    knn_recall: Option<f64>,
    /// The kNN graph the fuzzy graph came from: `n_neighbors` indices and metric distances per
    /// row, the row itself first.
    knn: (Vec<u32>, Vec<f32>),
    timings: UmapTimings,
}

impl UmapModel {
    /// The embedding, `rows x n_components` row-major.
    pub fn embedding(&self) -> &[f32] {
        &self.embedding
    }

    /// The kNN graph the layout was built from: for every row its `n_neighbors` nearest rows
    /// (itself first; approximate above 4,096 rows unless asked otherwise) and their distances
    /// in the metric (cosine distance `1 - cos` for the cosine metric), row-major.
    pub fn knn_graph(&self) -> (&[u32], &[f32]) {
        (&self.knn.0, &self.knn.1)
    }

    /// Output dimensions.
    pub fn n_components(&self) -> usize {
        self.params.n_components
    }

    /// The embedding as [`Embeddings::points`] (lengths kept), ready for a clustering with the
    /// euclidean metric: the BERTopic route is UMAP to 5-D (`min_dist` 0), then HDBSCAN.
    ///
    /// ```
    /// use embedscope::{cluster::{Hdbscan, Metric}, project::Umap, Embeddings};
    /// let mut x = Vec::new();
    /// for i in 0..90 {
    ///     let mut row = vec![0.05 * ((i * 7 % 13) as f32); 8];
    ///     row[i % 3] = 3.0;
    ///     x.extend(row);
    /// }
    /// let data = Embeddings::new(x, 8)?;
    /// let reduced = Umap::params().n_components(5).min_dist(0.0).n_neighbors(10).fit(&data)?;
    /// let model = Hdbscan::params().min_cluster_size(10).metric(Metric::Euclidean)
    ///     .fit(&reduced.points()?)?;
    /// assert_eq!(model.n_clusters(), 3);
    /// # Ok::<(), embedscope::Error>(())
    /// ```
    pub fn points(&self) -> Result<Embeddings> {
        Ok(Embeddings::points(
            self.embedding.clone(),
            self.params.n_components,
        )?)
    }

    /// Rows embedded.
    pub fn rows(&self) -> usize {
        self.train.rows()
    }

    /// The curve parameters `(a, b)` fitted from `min_dist` and `spread`.
    pub fn ab(&self) -> (f64, f64) {
        (self.a, self.b)
    }

    /// The initialisation actually used (spectral falls back to PCA when it fails).
    pub fn init_used(&self) -> UmapInit {
        self.init_used
    }

    /// Epochs run.
    pub fn n_epochs(&self) -> usize {
        self.n_epochs
    }

    /// Directed edges of the fuzzy graph that the layout sampled.
    pub fn edges(&self) -> usize {
        self.edges
    }

    /// Recall of the approximate kNN graph against exact search on a 1,000-row sample
    /// (`None` when the graph was exact).
    pub fn knn_recall(&self) -> Option<f64> {
        self.knn_recall
    }

    /// Seconds per phase.
    pub fn timings(&self) -> UmapTimings {
        self.timings
    }

    /// Places new rows into the fitted embedding (umap-learn `transform`): their kNN among the
    /// training rows, memberships with `local_connectivity - 1`, start at the weighted mean of
    /// their neighbours' positions, then a third of the epochs (100 up to 10,000 new rows,
    /// else 30) with the training points fixed and a quarter of the learning rate.
    pub fn transform(&self, data: &Embeddings) -> Result<Vec<f32>> {
        if data.dim() != self.train.dim() {
            return Err(Error::param(
                "data",
                format!("{} dimensions", data.dim()),
                format!("the UMAP was fitted on {} dimensions", self.train.dim()),
            ));
        }
        let p = &self.params;
        let (m, dim, k) = (data.rows(), p.n_components, p.n_neighbors);
        let (indices, mut dists) =
            crate::kernel::knn_between(&data.as_f32(), &self.train.as_f32(), data.dim(), k);
        p.to_metric(&mut dists);
        let local = (p.local_connectivity - 1.0).max(0.0);
        let (sigmas, rhos) = smooth_knn_dist(&dists, k, local);
        let vals = membership_strengths(&indices, &dists, k, &sigmas, &rhos, false);
        let mut indptr = vec![0usize];
        let (mut cols, mut weights) = (Vec::new(), Vec::new());
        for i in 0..m {
            let mut row: Vec<(u32, f32)> = (0..k)
                .map(|t| (indices[i * k + t], vals[i * k + t]))
                .filter(|e| e.1 > 0.0)
                .collect();
            row.sort_by_key(|e| e.0);
            for (c, w) in row {
                cols.push(c);
                weights.push(w);
            }
            indptr.push(cols.len());
        }
        let mut graph = Csr {
            n: m,
            indptr,
            indices: cols,
            weights,
        };
        let base = &self.embedding;
        // Start: the weighted mean of the neighbours' positions (a neighbour at full strength
        // is taken as is), as umap-learn's init_graph_transform.
        let mut out = vec![0.0f32; m * dim];
        for i in 0..m {
            let (c, w) = graph.row(i);
            let total: f32 = w.iter().sum();
            let o = &mut out[i * dim..(i + 1) * dim];
            for (&j, &wj) in c.iter().zip(w) {
                let src = &base[j as usize * dim..(j as usize + 1) * dim];
                if wj == 1.0 {
                    o.copy_from_slice(src);
                    break;
                }
                for (x, s) in o.iter_mut().zip(src) {
                    *x += wj / total * s;
                }
            }
        }
        let n_epochs = match p.n_epochs {
            None if m <= 10_000 => 100,
            None => 30,
            Some(e) => (e / 3).max(1),
        };
        graph.prune_below(graph.max_weight() / n_epochs as f32);
        let cfg = LayoutConfig {
            a: self.a as f32,
            b: self.b as f32,
            gamma: p.repulsion_strength as f32,
            initial_alpha: p.learning_rate as f32 / 4.0,
            negative_sample_rate: p.negative_sample_rate as f64,
            n_epochs,
            seed: p.seed ^ 0x7a5f,
        };
        optimize(&mut out, Some(base), dim, &graph, &cfg, &|| {});
        Ok(out)
    }
}
