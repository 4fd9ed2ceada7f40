//! Approximate kNN by NN-descent (Dong, Moses & Li 2011) started from a random-projection
//! forest, as pynndescent (umap-learn's kNN above 4,096 rows) does: a neighbour of a neighbour
//! is likely a neighbour, so each round compares every row's new candidates with each other
//! and with its old ones, and stops when almost nothing improves.
//!
//! Deterministic, also in parallel: every round reads the lists as they were at its start,
//! proposals are grouped by the row they improve and applied per row, and a row's list keeps
//! the `k` best by `(distance, index)`, which does not depend on the order of proposals.

use rayon::prelude::*;

use super::KnnGraph;
use crate::embeddings::Embeddings;
use crate::linalg::{matmul_abt, sq_dist};
use crate::rng::Rng;

/// Parameters of [`nn_descent`].
#[derive(Debug, Clone, PartialEq)]
pub struct NnDescentParams {
    /// Neighbours per row, the row itself included (as [`super::exact`]).
    pub k: usize,
    /// Random-projection trees for the start (default: pynndescent's
    /// `min(64, 5 + round(sqrt(n) / 20))`).
    pub n_trees: Option<usize>,
    /// Most rows per tree leaf (default `max(k, 30)`).
    pub leaf_size: Option<usize>,
    /// Most new (and old) candidates per row per round (default 60, pynndescent's
    /// `max_candidates` in umap-learn).
    pub max_candidates: usize,
    /// Most rounds (default: pynndescent's `max(5, round(log2 n))`).
    pub n_iters: Option<usize>,
    /// Stop when a round improves fewer than `delta · n · k` entries (default 0.001).
    pub delta: f64,
    /// Seed of the trees and the candidate sampling (default 42).
    pub seed: u64,
}

impl NnDescentParams {
    /// Defaults for `k` neighbours.
    pub fn new(k: usize) -> Self {
        NnDescentParams {
            k,
            n_trees: None,
            leaf_size: None,
            max_candidates: 60,
            n_iters: None,
            delta: 0.001,
            seed: 42,
        }
    }
}

/// One row's current neighbours: sorted `(squared distance, index, new?)`, at most `k`.
#[derive(Clone, Default)]
struct Heap {
    items: Vec<(f32, u32, bool)>,
}

impl Heap {
    fn worst(&self, k: usize) -> f32 {
        if self.items.len() < k {
            f32::INFINITY
        } else {
            self.items[k - 1].0
        }
    }

    /// Offers `j` at `d2`; true if it entered the list.
    fn offer(&mut self, k: usize, d2: f32, j: u32) -> bool {
        if self.items.len() == k && (d2, j) >= (self.items[k - 1].0, self.items[k - 1].1) {
            return false;
        }
        if self.items.iter().any(|e| e.1 == j) {
            return false;
        }
        let at = self.items.partition_point(|e| (e.0, e.1) < (d2, j));
        self.items.insert(at, (d2, j, true));
        self.items.truncate(k);
        true
    }
}

/// A deterministic pseudo-random priority for sampling candidates.
fn priority(seed: u64, round: usize, a: u32, b: u32) -> u64 {
    let mut x = seed ^ ((round as u64) << 48) ^ ((a as u64) << 24) ^ b as u64;
    x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}

/// Leaves of one random-projection tree (Dasgupta & Freund's RP-tree with median splits):
/// the node at depth `l` splits at the median of its rows' projections on direction `l` of
/// this tree, until a node has at most `leaf` rows. `proj` holds every row's projections on
/// all directions (`n x dirs`, one GEMM for the whole forest: pynndescent's trees instead take
/// a dot product per row and level, which reads the data once per level and tree).
fn rp_tree(proj: &[f32], dirs: usize, first: usize, depth: usize, leaf: usize) -> Vec<Vec<u32>> {
    let n = proj.len() / dirs;
    let mut stack: Vec<(Vec<u32>, usize)> = vec![((0..n as u32).collect(), 0)];
    let mut leaves = Vec::new();
    while let Some((mut node, level)) = stack.pop() {
        if node.len() <= leaf || level >= depth {
            leaves.push(node);
            continue;
        }
        let col = first + level;
        let mid = node.len() / 2;
        node.select_nth_unstable_by(mid, |&a, &b| {
            proj[a as usize * dirs + col]
                .total_cmp(&proj[b as usize * dirs + col])
                .then(a.cmp(&b))
        });
        let right = node.split_off(mid);
        stack.push((node, level + 1));
        stack.push((right, level + 1));
    }
    leaves
}

/// Approximate kNN graph by NN-descent: per row the row itself first, then `k - 1`
/// neighbours, with Euclidean distances between the normalised rows.
pub fn nn_descent(data: &Embeddings, params: &NnDescentParams) -> KnnGraph {
    let (n, d) = (data.rows(), data.dim());
    let k_total = params.k.min(n).max(1);
    let k = k_total - 1; // neighbours besides the row itself
    let x = data.as_slice();
    let mut heaps: Vec<Heap> = vec![Heap::default(); n];
    if k > 0 {
        let n_trees = params
            .n_trees
            .unwrap_or_else(|| (5 + ((n as f64).sqrt() / 20.0).round() as usize).min(64));
        let leaf = params.leaf_size.unwrap_or(k.max(30)).max(2);
        // Start: every row against the other rows of its leaf in every tree.
        // Directions for every tree and level, and all projections in one product.
        let depth = ((n as f64 / leaf as f64).log2().ceil() as usize + 2).max(1);
        let dirs = n_trees * depth;
        let mut rng = Rng::new(params.seed, 0x7_2ee);
        let r: Vec<f32> = (0..dirs * d)
            .map(|_| crate::project::pca::gaussian(&mut rng) as f32)
            .collect();
        let mut proj = vec![0.0f32; n * dirs];
        for (c, chunk) in proj.chunks_mut(4096 * dirs).enumerate() {
            let rows = chunk.len() / dirs;
            matmul_abt(
                chunk,
                &x[c * 4096 * d..(c * 4096 + rows) * d],
                &r,
                (rows, dirs, d),
                false,
                faer::Par::rayon(0),
            );
        }
        let forests: Vec<Vec<Vec<u32>>> = (0..n_trees)
            .into_par_iter()
            .map(|t| rp_tree(&proj, dirs, t * depth, depth, leaf))
            .collect();
        drop(proj);
        tracing::debug!("nn-descent: {n_trees} trees of leaves <= {leaf}");
        // Every leaf's rows against each other, each pair computed once while the leaf's rows
        // are in cache. A row is in one leaf per tree, so the leaves of a tree touch disjoint
        // heaps; the locks are never contended, and a heap keeps the best by (distance,
        // index) whatever the order of the offers.
        let locked: Vec<std::sync::Mutex<Heap>> = (0..n)
            .map(|_| std::sync::Mutex::new(Heap::default()))
            .collect();
        for leaves in &forests {
            leaves.par_iter().for_each(|members| {
                for (p, &i) in members.iter().enumerate() {
                    let xi = &x[i as usize * d..(i as usize + 1) * d];
                    let dists: Vec<(f32, u32)> = members[p + 1..]
                        .iter()
                        .map(|&j| (sq_dist(xi, &x[j as usize * d..(j as usize + 1) * d]), j))
                        .collect();
                    let mut hi = locked[i as usize].lock().expect("heap lock");
                    for &(d2, j) in &dists {
                        hi.offer(k, d2, j);
                    }
                    drop(hi);
                    for &(d2, j) in &dists {
                        locked[j as usize]
                            .lock()
                            .expect("heap lock")
                            .offer(k, d2, i);
                    }
                }
            });
        }
        heaps = locked
            .into_iter()
            .map(|m| m.into_inner().expect("heap lock"))
            .collect();
        // Rows in the first tree's leaf order: consecutive rows share candidates, so the local
        // joins find their rows in cache.
        let visit: Vec<u32> = forests[0].iter().flatten().copied().collect();
        drop(forests);
        tracing::debug!("nn-descent: forest start done");
        let n_iters = params
            .n_iters
            .unwrap_or_else(|| ((n as f64).log2().round() as usize).max(5));
        let rho = params.max_candidates.max(1);
        for round in 0..n_iters {
            let changed = descend_round(x, d, k, rho, &mut heaps, &visit, params.seed, round);
            tracing::debug!("nn-descent round {round}: {changed} entries improved");
            if (changed as f64) <= params.delta * n as f64 * k as f64 {
                break;
            }
        }
    }
    let mut indices = Vec::with_capacity(n * k_total);
    let mut distances = Vec::with_capacity(n * k_total);
    for (i, h) in heaps.iter().enumerate() {
        indices.push(i as u32);
        distances.push(0.0);
        for &(d2, j, _) in &h.items {
            indices.push(j);
            distances.push(d2.sqrt());
        }
        // Fewer than k found (tiny inputs): pad with the row itself.
        for _ in h.items.len()..k {
            indices.push(i as u32);
            distances.push(0.0);
        }
    }
    KnnGraph {
        k: k_total,
        indices,
        distances,
    }
}

/// One round: sample new and old candidates (forward and reverse), join them locally,
/// apply the improvements. Returns how many list entries changed.
#[allow(clippy::too_many_arguments)]
fn descend_round(
    x: &[f32],
    d: usize,
    k: usize,
    rho: usize,
    heaps: &mut [Heap],
    visit: &[u32],
    seed: u64,
    round: usize,
) -> usize {
    let n = heaps.len();
    // Candidates with their sampling priority; forward entries first, then reverse.
    let mut new_c: Vec<Vec<(u64, u32)>> = vec![Vec::new(); n];
    let mut old_c: Vec<Vec<(u64, u32)>> = vec![Vec::new(); n];
    for (u, h) in heaps.iter().enumerate() {
        for &(_, v, is_new) in &h.items {
            let p = priority(seed, round, u as u32, v);
            if is_new {
                new_c[u].push((p, v));
                new_c[v as usize].push((p, u as u32));
            } else {
                old_c[u].push((p, v));
                old_c[v as usize].push((p, u as u32));
            }
        }
    }
    let trim = |c: &mut Vec<(u64, u32)>| {
        c.sort_unstable();
        c.dedup_by_key(|e| e.1);
        if c.len() > rho {
            c.select_nth_unstable(rho - 1);
            c.truncate(rho);
        }
    };
    new_c.par_iter_mut().for_each(|c| {
        c.sort_unstable_by_key(|e| e.1);
        c.dedup_by_key(|e| e.1);
        trim(c)
    });
    old_c.par_iter_mut().for_each(|c| {
        c.sort_unstable_by_key(|e| e.1);
        c.dedup_by_key(|e| e.1);
        trim(c)
    });
    // Entries sampled as new are old from now on.
    heaps.par_iter_mut().enumerate().for_each(|(u, h)| {
        let sampled = &new_c[u];
        for e in h.items.iter_mut() {
            if e.2 && sampled.iter().any(|s| s.1 == e.1) {
                e.2 = false;
            }
        }
    });
    let worst: Vec<f32> = heaps.iter().map(|h| h.worst(k)).collect();
    // Local joins, in fixed chunks of rows. Proposals `(target, distance, other)` go straight
    // into one bucket per range of target rows, so grouping them needs no serial pass.
    const RANGE: usize = 1024;
    let ranges = n.div_ceil(RANGE);
    let proposals: Vec<Vec<Vec<(u32, f32, u32)>>> = visit
        .par_chunks(256)
        .map(|us| {
            let mut out: Vec<Vec<(u32, f32, u32)>> = vec![Vec::new(); ranges];
            for &u in us {
                let u = u as usize;
                let (nc, oc) = (&new_c[u], &old_c[u]);
                for (ai, &(_, a)) in nc.iter().enumerate() {
                    let xa = &x[a as usize * d..(a as usize + 1) * d];
                    let others = nc[ai + 1..].iter().chain(oc.iter());
                    for &(_, b) in others {
                        if a == b {
                            continue;
                        }
                        let d2 = sq_dist(xa, &x[b as usize * d..(b as usize + 1) * d]);
                        if d2 < worst[a as usize] {
                            out[a as usize / RANGE].push((a, d2, b));
                        }
                        if d2 < worst[b as usize] {
                            out[b as usize / RANGE].push((b, d2, a));
                        }
                    }
                }
            }
            out
        })
        .collect();
    // Apply per range of rows in parallel; within a range, chunk by chunk.
    heaps
        .par_chunks_mut(RANGE)
        .enumerate()
        .map(|(r, hs)| {
            let base = r * RANGE;
            let mut changed = 0;
            for chunk in &proposals {
                for &(t, d2, o) in &chunk[r] {
                    if hs[t as usize - base].offer(k, d2, o) {
                        changed += 1;
                    }
                }
            }
            changed
        })
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::neighbors::{exact, recall};

    fn clustered(n: usize, d: usize, seed: u64) -> Embeddings {
        let mut rng = Rng::new(seed, 0);
        let centres: Vec<f32> = (0..30 * d).map(|_| rng.next_f64() as f32 - 0.5).collect();
        let v: Vec<f32> = (0..n * d)
            .map(|i| centres[(i / d % 30) * d + i % d] + 0.3 * (rng.next_f64() as f32 - 0.5))
            .collect();
        Embeddings::new(v, d).unwrap()
    }

    #[test]
    fn high_recall_against_exact_and_deterministic() {
        let e = clustered(3000, 24, 1);
        let p = NnDescentParams::new(15);
        let ap = nn_descent(&e, &p);
        let ex = exact(&e, 15);
        let r = recall(&ap, &ex);
        assert!(r > 0.95, "recall {r}");
        let again = rayon::ThreadPoolBuilder::new()
            .num_threads(1)
            .build()
            .unwrap()
            .install(|| nn_descent(&e, &p));
        assert_eq!(ap, again);
        for i in 0..3000 {
            assert_eq!(ap.indices[i * 15], i as u32);
            let row = &ap.distances[i * 15..(i + 1) * 15];
            assert!(row.windows(2).all(|w| w[0] <= w[1]));
            let mut ids = ap.indices[i * 15 + 1..(i + 1) * 15].to_vec();
            ids.sort();
            ids.dedup();
            assert_eq!(ids.len(), 14, "row {i} has duplicate neighbours");
        }
    }

    #[test]
    fn tiny_inputs_are_padded() {
        let e = clustered(5, 4, 2);
        let g = nn_descent(&e, &NnDescentParams::new(10));
        assert_eq!(g.k, 5);
        assert_eq!(g.indices.len(), 25);
    }
}
