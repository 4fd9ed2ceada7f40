//! The exact minimum spanning tree of mutual reachability for low-dimensional points, by
//! Borůvka's algorithm over a kd-tree: the `hdbscan` library's `boruvka_kdtree` (its choice
//! below 60 dimensions) and fast_hdbscan's `parallel_boruvka`, which is what BERTopic's UMAP
//! 5-D + HDBSCAN route runs. Cost about `n log n` per round and `log n` rounds, memory `O(n)`,
//! where the dense route costs `n²` (365 s at 300k rows, 4n² bytes below 50k).
//!
//! 1. Core distances from the tree's exact `min_samples + 2` nearest neighbours (the extra one
//!    proves that no other point ties with the core distance).
//! 2. The first round from those lists: a point whose nearest neighbours include one with a
//!    core distance no larger than its own has its lightest edge there, of weight its own core
//!    distance (every edge from it weighs at least that).
//! 3. Each later round: every point searches the tree for its lightest edge to another
//!    component, skipping nodes whose points all share its component and nodes that cannot
//!    beat the best edge its component has so far (a bound shared by the threads); each
//!    component keeps its lightest edge and the components join.
//!
//! Edges are ordered by (weight, lower end, higher end), a strict total order, so the tree is
//! unique and every component's lightest edge belongs to it, whatever the threads' timing.
//! The work is done in squared Euclidean distances; cosine distance on unit vectors
//! (`|a - b|² / 2`) is a monotone function of them, so the tree is the same and only the
//! weights are converted.

use std::sync::atomic::{AtomicU32, Ordering::Relaxed};

use rayon::prelude::*;

use super::mst::Edges;
use crate::metric::Metric;
use crate::neighbors::{sq_dist, KdTree};
use crate::union_find::find_root;

/// Largest dimension the kd-tree route is taken for. On 5-D points (BERTopic's route) it
/// replaced an exact kNN graph that took 365 s at 300k rows.
pub(crate) const MAX_DIM: usize = 16;

/// An edge key: (squared weight's bits, lower end, higher end), tree positions. Non-negative
/// floats order like their bits.
type Key = (u32, u32, u32);

const NONE: Key = (u32::MAX, u32::MAX, u32::MAX);
const MIXED: u32 = u32::MAX;

fn key(w: f32, a: usize, b: usize) -> Key {
    (w.to_bits(), a.min(b) as u32, a.max(b) as u32)
}

/// Core distances (original row order) and the MST's `n - 1` edges `(a, b, weight)` in
/// `metric`'s units, for points `x` (`n x dim`).
pub(super) fn spanning_tree(
    x: &[f32],
    dim: usize,
    min_samples: usize,
    metric: Metric,
) -> (Vec<f32>, Edges) {
    let n = x.len() / dim;
    let clock = std::time::Instant::now();
    let tree = KdTree::build(x, dim);
    let k = (min_samples + 2).min(n);
    let knn = tree.knn(k);
    let core: Vec<f32> = (0..n).map(|i| knn[i * k + min_samples].0).collect();
    tracing::debug!(
        "hdbscan: kd-tree and {k}-NN {:.2} s",
        clock.elapsed().as_secs_f64()
    );
    let mut parent: Vec<usize> = (0..n).collect();
    let mut edges: Vec<(usize, usize, f32)> = Vec::with_capacity(n.saturating_sub(1));
    let join = |parent: &mut Vec<usize>, edges: &mut Vec<_>, (w, a, b): Key| {
        let (ra, rb) = (find_root(parent, a as usize), find_root(parent, b as usize));
        if ra != rb {
            parent[ra] = rb;
            edges.push((a as usize, b as usize, f32::from_bits(w)));
        }
    };
    // Round one from the neighbour lists.
    if k > min_samples + 1 {
        for i in 0..n {
            if knn[i * k + min_samples + 1].0 <= core[i] {
                continue; // a tie at the core distance may sit outside the list
            }
            let best = knn[i * k..i * k + min_samples + 1]
                .iter()
                .filter(|&&(_, j)| j as usize != i && core[j as usize] <= core[i])
                .map(|&(_, j)| key(core[i], i, j as usize))
                .min();
            if let Some(e) = best {
                join(&mut parent, &mut edges, e);
            }
        }
    }
    drop(knn);
    let mut comp = vec![0u32; n];
    let mut node_comp = vec![MIXED; tree.nodes()];
    let bound: Vec<AtomicU32> = (0..n).map(|_| AtomicU32::new(u32::MAX)).collect();
    let mut best_of = vec![NONE; n];
    let mut rounds = 1;
    while edges.len() + 1 < n {
        for (i, c) in comp.iter_mut().enumerate() {
            *c = find_root(&mut parent, i) as u32;
        }
        label_nodes(&tree, &comp, &mut node_comp);
        for b in &bound {
            b.store(f32::INFINITY.to_bits(), Relaxed);
        }
        let search = Search {
            tree: &tree,
            core: &core,
            comp: &comp,
            node_comp: &node_comp,
            bound: &bound,
        };
        let found: Vec<Key> = (0..n)
            .into_par_iter()
            .with_min_len(256)
            .map(|i| search.lightest(i))
            .collect();
        best_of.fill(NONE);
        for (i, e) in found.into_iter().enumerate() {
            let c = comp[i] as usize;
            best_of[c] = best_of[c].min(e);
        }
        let before = edges.len();
        for &e in &best_of {
            if e != NONE {
                join(&mut parent, &mut edges, e);
            }
        }
        rounds += 1;
        assert!(edges.len() > before, "Borůvka round joined no components");
    }
    tracing::debug!(
        "hdbscan: Borůvka, {rounds} rounds, {:.2} s",
        clock.elapsed().as_secs_f64()
    );
    let unit = |sq: f32| match metric {
        Metric::Euclidean => sq.sqrt(),
        Metric::Cosine => 0.5 * sq,
    };
    let mut core_out = vec![0f32; n];
    for (i, &c) in core.iter().enumerate() {
        core_out[tree.original(i)] = unit(c);
    }
    let edges = edges
        .into_iter()
        .map(|(a, b, w)| (tree.original(a), tree.original(b), f64::from(unit(w))))
        .collect();
    (core_out, edges)
}

/// Each node's component, or [`MIXED`] when its points belong to more than one.
fn label_nodes(tree: &KdTree, comp: &[u32], node_comp: &mut [u32]) {
    for node in (0..tree.nodes()).rev() {
        node_comp[node] = if tree.is_leaf(node) {
            let span = tree.span(node);
            let first = comp[span.start];
            if comp[span].iter().all(|&c| c == first) {
                first
            } else {
                MIXED
            }
        } else {
            let (l, r) = (node_comp[2 * node + 1], node_comp[2 * node + 2]);
            if l == r {
                l
            } else {
                MIXED
            }
        };
    }
}

/// One round's shared state.
struct Search<'a> {
    tree: &'a KdTree,
    /// Squared core distances, tree order.
    core: &'a [f32],
    comp: &'a [u32],
    node_comp: &'a [u32],
    /// Per component: the lightest squared weight found so far by any of its points.
    bound: &'a [AtomicU32],
}

impl Search<'_> {
    /// The lightest edge from point `i` to another component ([`NONE`] when its component
    /// already has a lighter one).
    fn lightest(&self, i: usize) -> Key {
        let p = self.tree.point(i);
        let mut best = NONE;
        self.descend(0, i, p, self.tree.box_sq_dist(0, p), &mut best);
        best
    }

    fn descend(&self, node: usize, i: usize, p: &[f32], lower: f32, best: &mut Key) {
        let c = self.comp[i];
        // Strict comparisons throughout: an edge as heavy as the best may still win on its ends.
        let limit =
            f32::from_bits(self.bound[c as usize].load(Relaxed)).min(f32::from_bits(best.0));
        if lower > limit || self.core[i] > limit || self.node_comp[node] == c {
            return;
        }
        if self.tree.is_leaf(node) {
            for q in self.tree.span(node) {
                if self.comp[q] == c || self.core[q] > f32::from_bits(best.0) {
                    continue;
                }
                let w = sq_dist(p, self.tree.point(q))
                    .max(self.core[i])
                    .max(self.core[q]);
                let e = key(w, i, q);
                if e < *best {
                    *best = e;
                    self.bound[c as usize].fetch_min(e.0, Relaxed);
                }
            }
            return;
        }
        for (child, lower) in self.tree.children_nearest_first(node, p) {
            self.descend(child, i, p, lower, best);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn blobs(n: usize, dim: usize, seed: u64) -> Vec<f32> {
        let mut rng = crate::rng::Rng::new(seed, 3);
        let mut x = Vec::with_capacity(n * dim);
        for i in 0..n {
            let centre = (i % 4) as f32 * 3.0;
            for _ in 0..dim {
                x.push(centre + rng.next_f64() as f32 - 0.5);
            }
        }
        x
    }

    /// The same tree weight and core distances as Prim's algorithm over all pairs (the MST's
    /// weight is unique even where its edges are not), with exact duplicates and rounded
    /// coordinates that tie.
    #[test]
    fn equals_prim_over_all_pairs() {
        for (n, dim, ms, seed) in [
            (1_500, 5, 3, 1),
            (900, 2, 10, 2),
            (60, 3, 1, 3),
            (2_000, 8, 5, 4),
        ] {
            let mut x = blobs(n, dim, seed);
            x.copy_within(0..dim * 10, dim * 20);
            for v in &mut x[dim * (n / 4)..dim * (n / 2)] {
                *v = (*v * 4.0).round() / 4.0;
            }
            // All pairs computed directly (the GEMM matrix is good to ~1e-5 relative here).
            let mut dense = vec![0f32; n * n];
            for a in 0..n {
                for b in 0..n {
                    dense[a * n + b] =
                        sq_dist(&x[a * dim..(a + 1) * dim], &x[b * dim..(b + 1) * dim]).sqrt();
                }
            }
            let core_dense = super::super::mst::core_distances(&dense, n, ms);
            let prim = super::super::mst::prim_mst(&dense, &core_dense, n);
            let (core, tree) = spanning_tree(&x, dim, ms, Metric::Euclidean);
            assert_eq!(tree.len(), n - 1);
            for (a, b) in core.iter().zip(&core_dense) {
                assert!((a - b).abs() <= 1e-5 * (1.0 + b), "core {a} vs {b}");
            }
            let total = |e: &Edges| e.iter().map(|x| x.2).sum::<f64>();
            let (ours, want) = (total(&tree), total(&prim));
            assert!(
                (ours - want).abs() < 1e-4 * want,
                "{n}x{dim}: {ours} vs {want}"
            );
            // A spanning tree: joins everything.
            let mut parent: Vec<usize> = (0..n).collect();
            for &(a, b, w) in &tree {
                let (ra, rb) = (find_root(&mut parent, a), find_root(&mut parent, b));
                assert_ne!(ra, rb, "cycle");
                parent[ra] = rb;
                let d = sq_dist(&x[a * dim..(a + 1) * dim], &x[b * dim..(b + 1) * dim]).sqrt();
                let mr = d.max(core[a]).max(core[b]);
                assert!((f64::from(mr) - w).abs() < 1e-5, "edge weight {w} vs {mr}");
            }
        }
    }

    #[test]
    fn same_tree_whatever_the_thread_count() {
        let x = blobs(4_000, 5, 9);
        let run = |threads| {
            rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap()
                .install(|| spanning_tree(&x, 5, 3, Metric::Euclidean))
        };
        assert_eq!(run(1), run(2));
    }
}
