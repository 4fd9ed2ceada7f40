//! The minimum spanning tree of mutual reachability: by Borůvka over a kd-tree for
//! low-dimensional points ([`super::boruvka`]), over the dense distance matrix (core
//! distances by selection, Prim's algorithm), or over a kNN graph (exact, NN-descent or an
//! inverted file) with Kruskal.

use rayon::prelude::*;

use super::{HdbscanParams, MAX_ROWS};
use crate::embeddings::Embeddings;
use crate::error::Result;
use crate::linalg::{matmul_abt, refine_sq_dist, row_sq_norms};
use crate::metric::Metric;
use crate::neighbors::NnDescent;
use crate::union_find::find_root;

/// The MST's edges `(a, b, weight)`.
pub(super) type Edges = Vec<(usize, usize, f64)>;

/// Core distances and the MST's edges, by the route the parameters, the dimension and the size
/// call for: Borůvka over a kd-tree up to [`super::boruvka::MAX_DIM`] dimensions (exact, any
/// size), else all pairs up to [`MAX_ROWS`] rows, else a kNN graph.
pub(super) fn spanning_tree(data: &Embeddings, p: &HdbscanParams) -> Result<(Vec<f32>, Edges)> {
    let n = data.rows();
    let clock = std::time::Instant::now();
    // max(3 x min_samples, 15) neighbours; fast_hdbscan's graph has them besides the row
    // itself (our graphs count the row).
    let neighbours = (3 * p.samples()).max(15);
    let fast_k = neighbours + 1;
    if p.knn_graph.is_none() && !p.nn_descent && data.dim() <= super::boruvka::MAX_DIM {
        let x = data.as_f32();
        return Ok(super::boruvka::spanning_tree(
            &x,
            data.dim(),
            p.samples(),
            p.metric,
        ));
    }
    let (graph_k, probes, nn_descent) = match p.knn_graph {
        Some(k) => (Some(k), p.knn_probes, p.nn_descent),
        None if p.nn_descent => (Some(fast_k), 0, true),
        None if n > MAX_ROWS && p.knn_probes > 0 => {
            tracing::warn!("hdbscan: {n} rows > {MAX_ROWS}: using the IVF kNN-graph route");
            (Some(neighbours), p.knn_probes, false)
        }
        None if n > MAX_ROWS => {
            tracing::warn!("hdbscan: {n} rows > {MAX_ROWS}: using the NN-descent kNN-graph route");
            (Some(fast_k), 0, true)
        }
        None => (None, 0, false),
    };
    let (core, mst) = match graph_k {
        None => {
            let dist = distance_matrix(data, p.metric);
            tracing::debug!(
                "hdbscan: distance matrix {:.2} s",
                clock.elapsed().as_secs_f64()
            );
            let core = core_distances(&dist, n, p.samples());
            tracing::debug!(
                "hdbscan: core distances {:.2} s",
                clock.elapsed().as_secs_f64()
            );
            let mst = prim_mst(&dist, &core, n);
            (core, mst)
        }
        Some(k) => {
            let k = k.max(p.samples() + 1).min(n);
            let graph = if nn_descent {
                // pynndescent's own default candidate count, min(60, k), as fast_hdbscan
                // calls it (umap-learn passes 60).
                let nd = NnDescent::params(k).max_candidates(k.min(60)).seed(p.seed);
                crate::neighbors::nn_descent(data, &nd)
            } else if probes == 0 {
                crate::neighbors::exact(data, k)
            } else {
                ivf_graph(data, k, probes, p.seed)?
            };
            tracing::debug!(
                "hdbscan: {k}-NN graph {:.2} s",
                clock.elapsed().as_secs_f64()
            );
            knn_graph_mst(&graph, p.metric, p.samples())
        }
    };
    Ok((core, mst))
}

/// All pairwise distances, `n x n` row-major, by GEMM tiles in parallel.
pub(super) fn distance_matrix(data: &Embeddings, metric: Metric) -> Vec<f32> {
    let (n, d) = (data.rows(), data.dim());
    let x = data.as_f32();
    let sq = row_sq_norms(&x, d);
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
                    let d2 = refine_sq_dist(&x, d, &sq, i, j, (sq[i] + sq[j] - 2.0 * dot).max(0.0));
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
pub(super) fn knn_graph_mst(
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
pub(super) fn core_distances(dist: &[f32], n: usize, min_samples: usize) -> Vec<f32> {
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
pub(super) fn prim_mst(dist: &[f32], core: &[f32], n: usize) -> Vec<(usize, usize, f64)> {
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

/// The kNN graph through an inverted file ([`crate::neighbors::InvertedFile`], Euclidean) of
/// Mini-Batch K-Means cells (4·sqrt(n) of them), each row scanning its `probes` nearest; the
/// exact graph where that would cover every row.
pub(super) fn ivf_graph(
    data: &Embeddings,
    k: usize,
    probes: usize,
    seed: u64,
) -> Result<crate::neighbors::KnnGraph> {
    use crate::neighbors::{ivf_layout, InvertedFile, Measure};
    let n = data.rows();
    let k = k.min(n);
    let Some((cells, probes)) = ivf_layout(n, k, 0, probes) else {
        return Ok(crate::neighbors::exact(data, k));
    };
    let km = crate::cluster::MiniBatchKMeans::params(cells)
        .batch_size(1024.min(n))
        .seed(seed)
        .fit(data)?;
    let cell_of = km.labels().iter().map(|&c| c as u32).collect();
    let file = InvertedFile::with_cells(data, km.centroids().to_vec(), cell_of, Measure::Euclidean);
    Ok(file.knn_graph(data, probes, k))
}
