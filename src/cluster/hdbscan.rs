//! HDBSCAN (Campello, Moulavi & Sander 2013; McInnes & Healy 2017), as the `hdbscan` Python
//! library computes it: core distances, the minimum spanning tree of mutual reachability, the
//! single-linkage hierarchy, the condensed tree, stability, and excess-of-mass or leaf
//! selection with `cluster_selection_epsilon`; labels with typed noise, membership
//! probabilities and GLOSH outlier scores.
//!
//! On 384-d embeddings space-partitioning trees prune nothing, so the exact route is dense: all
//! pairwise distances in one `n x n` f32 matrix built from GEMM tiles (the upper ones, then
//! mirrored; tiny distances recomputed directly, so duplicates are exactly 0 apart as in the
//! reference), core distances
//! by selection per row, then Prim's algorithm over the matrix. Memory `4n²` bytes: 3.6 GB at
//! 30k rows. Above [`MAX_ROWS`] (or with [`HdbscanParams::knn_graph`] or
//! [`HdbscanParams::nn_descent`]) the tree is built on a k-nearest-neighbour graph instead, in
//! `O(n·k)` memory: by default NN-descent's, as fast_hdbscan does, or the exact one.

use rayon::prelude::*;
use serde::Serialize;

use crate::embeddings::Embeddings;
use crate::error::{Error, Result};
use crate::linalg::{matmul_abt, refine_sq_dist, row_sq_norms};
use crate::metric::Metric;
use crate::union_find::find_root;

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
    /// Mini-Batch K-Means cells per row ([`crate::neighbors::ivf`]); 0 (default) searches exactly. Only
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
        // max(3 x min_samples, 15) neighbours; fast_hdbscan's graph has them besides the row
        // itself (our graphs count the row).
        let neighbours = (3 * self.samples()).max(15);
        let fast_k = neighbours + 1;
        let (graph_k, probes, nn_descent) = match self.knn_graph {
            Some(k) => (Some(k), self.knn_probes, self.nn_descent),
            None if self.nn_descent => (Some(fast_k), 0, true),
            None if n > MAX_ROWS && self.knn_probes > 0 => {
                tracing::warn!("hdbscan: {n} rows > {MAX_ROWS}: using the IVF kNN-graph route");
                (Some(neighbours), self.knn_probes, false)
            }
            None if n > MAX_ROWS => {
                tracing::warn!(
                    "hdbscan: {n} rows > {MAX_ROWS}: using the NN-descent kNN-graph route"
                );
                (Some(fast_k), 0, true)
            }
            None => (None, 0, false),
        };
        let (core, mut mst) = match graph_k {
            None => {
                let dist = distance_matrix(data, self.metric);
                tracing::debug!(
                    "hdbscan: distance matrix {:.2} s",
                    clock.elapsed().as_secs_f64()
                );
                let core = core_distances(&dist, n, self.samples());
                tracing::debug!(
                    "hdbscan: core distances {:.2} s",
                    clock.elapsed().as_secs_f64()
                );
                let mst = prim_mst(&dist, &core, n);
                (core, mst)
            }
            Some(k) => {
                let k = k.max(self.samples() + 1).min(n);
                let graph = if nn_descent {
                    // pynndescent's own default candidate count, min(60, k), as fast_hdbscan
                    // calls it (umap-learn passes 60).
                    let mut p = crate::neighbors::NnDescentParams::new(k);
                    p.max_candidates = k.min(60);
                    p.seed = self.seed;
                    crate::neighbors::nn_descent(data, &p)
                } else if probes == 0 {
                    crate::neighbors::exact(data, k)
                } else {
                    ivf_graph(data, k, probes, self.seed)?
                };
                tracing::debug!(
                    "hdbscan: {k}-NN graph {:.2} s",
                    clock.elapsed().as_secs_f64()
                );
                knn_graph_mst(&graph, self.metric, self.samples())
            }
        };
        tracing::debug!(
            "hdbscan: minimum spanning tree {:.2} s",
            clock.elapsed().as_secs_f64()
        );
        // Stable: edges of equal weight keep the order in which Prim's algorithm added them,
        // which is what the reference's hierarchy ends up with.
        mst.sort_by(|x, y| x.2.total_cmp(&y.2));
        let hierarchy = single_linkage(&mst, n);
        let tree = condense(&hierarchy, n, self.min_cluster_size);
        let mut model = extract(tree, n, self);
        model.core_distances = core.iter().map(|&c| f64::from(c)).collect();
        tracing::debug!("hdbscan: done {:.2} s", clock.elapsed().as_secs_f64());
        model.minimum_spanning_tree = mst;
        Ok(model)
    }
}

/// All pairwise distances, `n x n` row-major, by GEMM tiles in parallel.
fn distance_matrix(data: &Embeddings, metric: Metric) -> Vec<f32> {
    let (n, d) = (data.rows(), data.dim());
    let x = data.as_slice();
    let sq = row_sq_norms(x, d);
    let mut out = vec![0.0f32; n * n];
    const TILE: usize = 256;
    // The upper triangle only (row tile `t` against rows `t * TILE..`): the matrix is
    // symmetric, so half the product is enough, and the mirror below makes it exactly
    // symmetric, as the reference's distance function is.
    out.par_chunks_mut(TILE * n).enumerate().for_each_init(
        Vec::new,
        |prod: &mut Vec<f32>, (t, block)| {
            let start = t * TILE;
            let rows = block.len() / n;
            let width = n - start;
            prod.resize(rows * width, 0.0);
            matmul_abt(
                prod,
                &x[start * d..(start + rows) * d],
                &x[start * d..],
                (rows, width, d),
                false,
                faer::Par::Seq,
            );
            for r in 0..rows {
                let i = start + r;
                let row = &mut block[r * n..(r + 1) * n];
                for c in r..width {
                    let j = start + c;
                    let dot = prod[r * width + c];
                    // Duplicates must be exactly 0 apart: they decide infinite lambdas in the
                    // reference.
                    let d2 = refine_sq_dist(x, d, &sq, i, j, (sq[i] + sq[j] - 2.0 * dot).max(0.0));
                    row[j] = match metric {
                        Metric::Euclidean => d2.sqrt(),
                        Metric::Cosine => 0.5 * d2,
                    };
                }
                row[i] = 0.0;
            }
        },
    );
    mirror_upper(&mut out, n);
    out
}

/// Copies the upper triangle of the `n x n` row-major matrix onto the lower one, in blocks
/// (a block of rows reads the matching block of columns from the rows above it).
fn mirror_upper(m: &mut [f32], n: usize) {
    const B: usize = 64;
    let base = SyncPtr(m.as_mut_ptr());
    (0..n.div_ceil(B)).into_par_iter().for_each(|bi| {
        let p = base;
        for bj in 0..=bi {
            for i in bi * B..n.min((bi + 1) * B) {
                for j in bj * B..n.min((bj + 1) * B).min(i) {
                    // SAFETY: `j < i < n`: this writes (i, j) in the lower triangle of the rows
                    // of block `bi`, which only this task writes, and reads (j, i) in the upper
                    // triangle, which no task writes.
                    unsafe { *p.0.add(i * n + j) = *p.0.add(j * n + i) };
                }
            }
        }
    });
}

/// A raw pointer shared by the tasks of [`mirror_upper`], which touch disjoint elements.
#[derive(Clone, Copy)]
struct SyncPtr(*mut f32);
// SAFETY: see `mirror_upper`: tasks write disjoint elements and read elements nobody writes.
unsafe impl Send for SyncPtr {}
unsafe impl Sync for SyncPtr {}

/// Core distances and a spanning tree from a `k`-nearest-neighbour graph: Kruskal on
/// the graph's mutual-reachability edges; the forest's components are chained at infinite
/// weight (they merge only at the root, as in fast_hdbscan).
fn knn_graph_mst(
    graph: &crate::neighbors::KnnGraph,
    metric: Metric,
    min_samples: usize,
) -> (Vec<f32>, Vec<(usize, usize, f64)>) {
    let k = graph.k;
    let n = graph.indices.len() / k;
    let (idx, dist) = (&graph.indices, &graph.distances);
    let to_metric = |d: f32| match metric {
        Metric::Euclidean => d,
        Metric::Cosine => 0.5 * d * d,
    };
    let core: Vec<f32> = (0..n)
        .map(|i| to_metric(dist[i * k + min_samples.min(k - 1)]))
        .collect();
    let mut edges: Vec<(f32, u32, u32)> = Vec::with_capacity(n * (k - 1));
    for i in 0..n {
        for r in 0..k {
            let j = idx[i * k + r] as usize;
            if j == i {
                continue;
            }
            let w = to_metric(dist[i * k + r]).max(core[i]).max(core[j]);
            edges.push((w, i.min(j) as u32, i.max(j) as u32));
        }
    }
    edges.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)).then(a.2.cmp(&b.2)));
    edges.dedup();
    let mut parent: Vec<usize> = (0..n).collect();
    let mut mst = Vec::with_capacity(n.saturating_sub(1));
    for (w, a, b) in edges {
        let (ra, rb) = (
            find_root(&mut parent, a as usize),
            find_root(&mut parent, b as usize),
        );
        if ra != rb {
            parent[ra] = rb;
            mst.push((a as usize, b as usize, f64::from(w)));
        }
    }
    let mut roots: Vec<usize> = (0..n).filter(|&i| find_root(&mut parent, i) == i).collect();
    roots.sort_unstable();
    for pair in roots.windows(2) {
        mst.push((pair[0], pair[1], f64::INFINITY));
    }
    (core, mst)
}

/// Distance to the `min_samples`-th nearest other point (index `min_samples` of the sorted
/// row, the point itself at index 0), as the `hdbscan` library.
fn core_distances(dist: &[f32], n: usize, min_samples: usize) -> Vec<f32> {
    dist.par_chunks(n)
        .map_init(Vec::new, |low: &mut Vec<f32>, row| {
            // The `min_samples + 1` smallest, kept sorted in one pass over the row (min_samples
            // is small; a selection over a copy of the row read it three times).
            let keep = min_samples + 1;
            low.clear();
            for &v in row {
                if low.len() == keep {
                    if v.total_cmp(&low[keep - 1]).is_ge() {
                        continue;
                    }
                    low.pop();
                }
                let at = low.partition_point(|x| x.total_cmp(&v).is_le());
                low.insert(at, v);
            }
            low[keep - 1]
        })
        .collect()
}

/// Prim's algorithm on the mutual reachability graph `max(core_a, core_b, d(a, b))`, dense.
/// Returns `n - 1` edges `(a, b, weight)` in the order they joined the tree.
///
/// Each step relaxes the vertices outside the tree through the newest one, reading its row of
/// the matrix in order, in parallel chunks of vertices. The next vertex is the lowest
/// `(weight, index)`, which is the first minimum of the serial scan by index of the `hdbscan`
/// library (`mst_linkage_core_vector`): the same tree, order and ties.
fn prim_mst(dist: &[f32], core: &[f32], n: usize) -> Vec<(usize, usize, f64)> {
    const CHUNK: usize = 8192;
    let mut in_tree = vec![false; n];
    let mut best = vec![f32::INFINITY; n];
    let mut from = vec![0u32; n];
    let mut edges = Vec::with_capacity(n.saturating_sub(1));
    let mut current = 0usize;
    in_tree[0] = true;
    for _ in 1..n {
        let row = &dist[current * n..(current + 1) * n];
        let c = core[current];
        // The lowest (weight, vertex) of a chunk starting at vertex `first`.
        let scan = |first: usize, t: &[bool], b: &mut [f32], f: &mut [u32]| {
            let mut low = (f32::INFINITY, usize::MAX);
            for (k, ((&done, bj), fj)) in t.iter().zip(b.iter_mut()).zip(f.iter_mut()).enumerate() {
                if done {
                    continue;
                }
                let j = first + k;
                let mr = row[j].max(c).max(core[j]);
                if mr < *bj {
                    *bj = mr;
                    *fj = current as u32;
                }
                if *bj < low.0 || low.1 == usize::MAX {
                    low = (*bj, j);
                }
            }
            low
        };
        let lower = |a: (f32, usize), b: (f32, usize)| {
            if b.1 != usize::MAX && (a.1 == usize::MAX || (b.0, b.1) < (a.0, a.1)) {
                b
            } else {
                a
            }
        };
        let (w, next) = if n > 2 * CHUNK {
            in_tree
                .par_chunks(CHUNK)
                .zip(best.par_chunks_mut(CHUNK))
                .zip(from.par_chunks_mut(CHUNK))
                .enumerate()
                .map(|(i, ((t, b), f))| scan(i * CHUNK, t, b, f))
                .reduce(|| (f32::INFINITY, usize::MAX), lower)
        } else {
            scan(0, &in_tree, &mut best, &mut from)
        };
        in_tree[next] = true;
        edges.push((from[next] as usize, next, f64::from(w)));
        current = next;
    }
    edges
}

/// One merge of the single-linkage hierarchy, scipy style: clusters `a` and `b` (ids `< n` are
/// points, `n + s` the cluster made by merge `s`) join at `distance` into `size` points.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Merge {
    a: usize,
    b: usize,
    distance: f64,
    size: usize,
}

/// The single-linkage hierarchy of MST edges sorted by weight.
fn single_linkage(mst: &[(usize, usize, f64)], n: usize) -> Vec<Merge> {
    let mut parent: Vec<usize> = (0..2 * n).collect();
    let mut size = vec![1usize; 2 * n];
    let mut out = Vec::with_capacity(mst.len());
    for (s, &(a, b, w)) in mst.iter().enumerate() {
        let (ra, rb) = (find_root(&mut parent, a), find_root(&mut parent, b));
        let new = n + s;
        size[new] = size[ra] + size[rb];
        parent[ra] = new;
        parent[rb] = new;
        out.push(Merge {
            a: ra,
            b: rb,
            distance: w,
            size: size[new],
        });
    }
    out
}

/// One edge of the condensed tree: `child` (a point `< n`, or a cluster `>= n`) leaves
/// `parent` (a cluster id `>= n`, root = `n`) at density `lambda = 1 / distance`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct CondensedEdge {
    /// Parent cluster id (`n` is the root).
    pub parent: usize,
    /// Child: a row (`< n`) or a cluster id.
    pub child: usize,
    /// `1 / distance` at which the child leaves (infinite for distance 0).
    pub lambda: f64,
    /// Rows in the child.
    pub size: usize,
}

/// Runt pruning of the hierarchy at `min_cluster_size` (the reference's `condense_tree`).
fn condense(h: &[Merge], n: usize, min_cluster_size: usize) -> Vec<CondensedEdge> {
    if h.is_empty() {
        return Vec::new();
    }
    let root = 2 * h.len();
    let size_of = |node: usize| if node < n { 1 } else { h[node - n].size };
    // Points below a node, without recursion.
    let leaves_of = |node: usize, out: &mut Vec<usize>| {
        let mut stack = vec![node];
        while let Some(x) = stack.pop() {
            if x < n {
                out.push(x);
            } else {
                stack.push(h[x - n].a);
                stack.push(h[x - n].b);
            }
        }
    };
    let mut relabel = vec![0usize; root + 1];
    relabel[root] = n;
    let mut next_label = n + 1;
    let mut out = Vec::with_capacity(2 * n);
    // Breadth-first from the root over cluster nodes that survive as (part of) a cluster.
    let mut queue = std::collections::VecDeque::from([root]);
    let mut pts = Vec::new();
    while let Some(node) = queue.pop_front() {
        let m = h[node - n];
        let lambda = if m.distance > 0.0 {
            1.0 / m.distance
        } else {
            f64::INFINITY
        };
        let (l, r) = (m.a, m.b);
        let (lc, rc) = (size_of(l), size_of(r));
        let parent = relabel[node];
        let mut shed = |child: usize, out: &mut Vec<CondensedEdge>| {
            pts.clear();
            leaves_of(child, &mut pts);
            for &p in &pts {
                out.push(CondensedEdge {
                    parent,
                    child: p,
                    lambda,
                    size: 1,
                });
            }
        };
        if lc >= min_cluster_size && rc >= min_cluster_size {
            for (c, cnt) in [(l, lc), (r, rc)] {
                relabel[c] = next_label;
                next_label += 1;
                out.push(CondensedEdge {
                    parent,
                    child: relabel[c],
                    lambda,
                    size: cnt,
                });
                if c >= n {
                    queue.push_back(c);
                }
            }
        } else if lc < min_cluster_size && rc < min_cluster_size {
            shed(l, &mut out);
            shed(r, &mut out);
        } else if lc < min_cluster_size {
            relabel[r] = parent;
            shed(l, &mut out);
            if r >= n {
                queue.push_back(r);
            } else {
                out.push(CondensedEdge {
                    parent,
                    child: r,
                    lambda,
                    size: 1,
                });
            }
        } else {
            relabel[l] = parent;
            shed(r, &mut out);
            if l >= n {
                queue.push_back(l);
            } else {
                out.push(CondensedEdge {
                    parent,
                    child: l,
                    lambda,
                    size: 1,
                });
            }
        }
    }
    out
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

/// Stability, selection, labelling, probabilities and GLOSH, as the reference's
/// `get_clusters`, `do_labelling`, `get_probabilities` and `outlier_scores`.
fn extract(tree: Vec<CondensedEdge>, n: usize, p: &HdbscanParams) -> HdbscanModel {
    if tree.is_empty() {
        return HdbscanModel {
            labels: vec![None; n],
            sizes: Vec::new(),
            probabilities: vec![0.0; n],
            outlier_scores: vec![0.0; n],
            stabilities: Vec::new(),
            condensed_tree: tree,
            core_distances: Vec::new(),
            minimum_spanning_tree: Vec::new(),
        };
    }
    let root = n;
    let max_id = tree
        .iter()
        .map(|e| e.parent.max(e.child))
        .max()
        .unwrap_or(root);
    // Birth of a cluster: the lambda at which it appears as a child (root: 0).
    let mut birth = vec![0.0f64; max_id + 1];
    for e in tree.iter().filter(|e| e.child >= n) {
        birth[e.child] = e.lambda;
    }
    let n_clusters = max_id + 1 - root;
    let mut stability = vec![0.0f64; n_clusters];
    for e in &tree {
        stability[e.parent - root] += (e.lambda - birth[e.parent]) * e.size as f64;
    }
    // Death: the largest lambda at which anything leaves a cluster.
    let mut death = vec![0.0f64; max_id + 1];
    for e in &tree {
        death[e.parent] = death[e.parent].max(e.lambda);
    }
    let mut children: Vec<Vec<usize>> = vec![Vec::new(); n_clusters];
    let mut parent_of = vec![usize::MAX; n_clusters];
    let mut child_lambda = vec![0.0f64; max_id + 1];
    let mut cluster_size = vec![0usize; n_clusters];
    for e in tree.iter().filter(|e| e.child >= n) {
        children[e.parent - root].push(e.child);
        parent_of[e.child - root] = e.parent;
        child_lambda[e.child] = e.lambda;
        cluster_size[e.child - root] = e.size;
    }
    cluster_size[0] = n;
    let descendants = |c: usize| -> Vec<usize> {
        let mut out = Vec::new();
        let mut stack = vec![c];
        while let Some(x) = stack.pop() {
            for &ch in &children[x - root] {
                out.push(ch);
                stack.push(ch);
            }
        }
        out
    };
    // Candidates: every cluster but the root unless a single cluster is allowed; processed
    // from the highest id down (children before parents).
    let mut is_cluster = vec![false; n_clusters];
    let candidates: Vec<usize> = (root..=max_id)
        .rev()
        .filter(|&c| c != root || p.allow_single_cluster)
        .collect();
    for &c in &candidates {
        is_cluster[c - root] = true;
    }
    let mut selected: Vec<usize> = match p.selection {
        Selection::Eom => {
            let mut stab = stability.clone();
            for &c in &candidates {
                let subtree: f64 = children[c - root].iter().map(|&ch| stab[ch - root]).sum();
                if subtree > stab[c - root] {
                    is_cluster[c - root] = false;
                    stab[c - root] = subtree;
                } else {
                    for d in descendants(c) {
                        is_cluster[d - root] = false;
                    }
                }
            }
            let eom: Vec<usize> = (root..=max_id).filter(|&c| is_cluster[c - root]).collect();
            if p.epsilon > 0.0 && !(eom.len() == 1 && eom[0] == root) {
                epsilon_search(&eom, p, root, &parent_of, &child_lambda, &children)
            } else {
                eom
            }
        }
        Selection::Leaf => {
            let leaves: Vec<usize> = (root..=max_id)
                .filter(|&c| {
                    children[c - root].is_empty() && (c != root || tree.iter().all(|e| e.child < n))
                })
                .collect();
            if p.epsilon > 0.0 {
                epsilon_search(&leaves, p, root, &parent_of, &child_lambda, &children)
            } else {
                leaves
            }
        }
    };
    selected.sort_unstable();
    selected.dedup();
    // Labelling: union every edge whose child is not a selected cluster; each point ends in
    // the selected cluster above it, or at the root (noise).
    let mut uf: Vec<usize> = (0..=max_id).collect();
    let is_selected = |c: usize| selected.binary_search(&c).is_ok();
    for e in &tree {
        if !is_selected(e.child) {
            let (a, b) = (find_root(&mut uf, e.parent), find_root(&mut uf, e.child));
            if a != b {
                // Keep the parent side as the representative.
                uf[b] = a;
            }
        }
    }
    let mut point_lambda = vec![0.0f64; n];
    for e in tree.iter().filter(|e| e.child < n) {
        point_lambda[e.child] = e.lambda;
    }
    let mut raw: Vec<Option<usize>> = (0..n)
        .map(|i| {
            let c = find_root(&mut uf, i);
            if c < root {
                None
            } else if c == root {
                let single = selected.len() == 1 && p.allow_single_cluster && is_selected(root);
                let keep = if p.epsilon != 0.0 {
                    point_lambda[i] >= 1.0 / p.epsilon
                } else {
                    point_lambda[i] >= death[root]
                };
                (single && keep).then_some(root)
            } else {
                Some(c)
            }
        })
        .collect();
    // Probabilities: lambda at which the point left its cluster, over the cluster's death.
    let probabilities: Vec<f32> = (0..n)
        .map(|i| match raw[i] {
            None => 0.0,
            Some(c) => {
                let max_l = death[c];
                let l = point_lambda[i];
                if max_l == 0.0 || !l.is_finite() {
                    1.0
                } else {
                    (l.min(max_l) / max_l) as f32
                }
            }
        })
        .collect();
    // GLOSH: deaths propagated up the tree (children have higher ids than parents).
    let mut deepest = death.clone();
    for e in tree.iter().rev().filter(|e| e.child >= n) {
        if deepest[e.child] > deepest[e.parent] {
            deepest[e.parent] = deepest[e.child];
        }
    }
    let mut outlier_scores = vec![0.0f32; n];
    for e in tree.iter().filter(|e| e.child < n) {
        let lmax = deepest[e.parent];
        outlier_scores[e.child] = if lmax == 0.0 || !e.lambda.is_finite() {
            0.0
        } else {
            ((lmax - e.lambda) / lmax) as f32
        };
    }
    // Persistence per selected cluster, then ids by size (largest first).
    let max_lambda = tree.iter().map(|e| e.lambda).fold(0.0f64, f64::max);
    // `selected` is sorted, so dense ids (positions in it) keep ties ordered by cluster id.
    let mut counts = vec![0usize; selected.len()];
    for c in raw.iter().flatten() {
        counts[selected
            .binary_search(c)
            .expect("labels are selected clusters")] += 1;
    }
    let (order, rank) = super::rank_by_size(&counts);
    let order: Vec<usize> = order.into_iter().filter(|&c| counts[c] > 0).collect();
    let stabilities = order
        .iter()
        .map(|&c| {
            let size = counts[c] as f64;
            if !max_lambda.is_finite() || max_lambda == 0.0 {
                1.0
            } else {
                stability[selected[c] - root] / (size * max_lambda)
            }
        })
        .collect();
    for l in raw.iter_mut() {
        *l = l.map(|c| {
            rank[selected
                .binary_search(&c)
                .expect("labels are selected clusters")]
        });
    }
    HdbscanModel {
        sizes: order.iter().map(|&c| counts[c]).collect(),
        labels: raw,
        probabilities,
        outlier_scores,
        stabilities,
        condensed_tree: tree,
        core_distances: Vec::new(),
        minimum_spanning_tree: Vec::new(),
    }
}

/// `cluster_selection_epsilon`: a selected cluster born below the epsilon distance is replaced
/// by its nearest ancestor born above it (the reference's `epsilon_search`).
fn epsilon_search(
    chosen: &[usize],
    p: &HdbscanParams,
    root: usize,
    parent_of: &[usize],
    child_lambda: &[f64],
    children: &[Vec<usize>],
) -> Vec<usize> {
    let mut out = Vec::new();
    let mut processed = std::collections::HashSet::new();
    for &leaf in chosen {
        let eps = 1.0 / child_lambda[leaf];
        if eps < p.epsilon {
            if processed.contains(&leaf) {
                continue;
            }
            let mut node = leaf;
            let up = loop {
                let parent = parent_of[node - root];
                if parent == root {
                    break if p.allow_single_cluster { parent } else { node };
                }
                if 1.0 / child_lambda[parent] > p.epsilon {
                    break parent;
                }
                node = parent;
            };
            out.push(up);
            let mut stack = vec![up];
            while let Some(x) = stack.pop() {
                for &ch in &children[x - root] {
                    processed.insert(ch);
                    stack.push(ch);
                }
            }
        } else {
            out.push(leaf);
        }
    }
    out
}

/// The kNN graph through an inverted file of Mini-Batch K-Means cells (4·sqrt(n) of them),
/// each row probing its `probes` nearest; the exact graph where that would cover every row.
fn ivf_graph(
    data: &Embeddings,
    k: usize,
    probes: usize,
    seed: u64,
) -> Result<crate::neighbors::KnnGraph> {
    let n = data.rows();
    let k = k.min(n);
    let Some((cells, probes)) = crate::neighbors::ivf_layout(n, k, 0, probes) else {
        return Ok(crate::neighbors::exact(data, k));
    };
    let km = super::MiniBatchKMeans::params(cells)
        .batch_size(1024.min(n))
        .seed(seed)
        .fit(data)?;
    Ok(crate::neighbors::ivf(
        data,
        k,
        km.labels(),
        km.centroids(),
        probes,
    ))
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
            let m = distance_matrix(&data, metric);
            for i in 0..n {
                assert_eq!(m[i * n + i], 0.0);
                for j in 0..n {
                    assert_eq!(m[i * n + j].to_bits(), m[j * n + i].to_bits(), "({i}, {j})");
                }
            }
            let x = data.as_slice();
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
