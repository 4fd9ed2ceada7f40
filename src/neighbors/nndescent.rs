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
use crate::linalg::{matmul_abt, sq_dist4, AlignedRows};
use crate::rng::Rng;

/// Entry point: `NnDescent::params(k)`.
#[derive(Debug, Clone, Copy)]
pub struct NnDescent;

impl NnDescent {
    /// `k` neighbours per row, the row itself included (as [`super::exact`]); pynndescent's
    /// defaults otherwise.
    pub fn params(k: usize) -> NnDescentParams {
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

/// Parameters of NN-descent; build with [`NnDescent::params`].
#[derive(Debug, Clone, PartialEq)]
pub struct NnDescentParams {
    k: usize,
    n_trees: Option<usize>,
    leaf_size: Option<usize>,
    max_candidates: usize,
    n_iters: Option<usize>,
    delta: f64,
    seed: u64,
}

impl NnDescentParams {
    /// Random-projection trees for the start (default: pynndescent's
    /// `min(64, 5 + round(sqrt(n) / 20))`).
    pub fn n_trees(mut self, trees: Option<usize>) -> Self {
        self.n_trees = trees;
        self
    }
    /// Most rows per tree leaf (default `max(k, 30)`).
    pub fn leaf_size(mut self, rows: Option<usize>) -> Self {
        self.leaf_size = rows;
        self
    }
    /// Most new (and old) candidates per row per round (default 60, pynndescent's
    /// `max_candidates` in umap-learn).
    pub fn max_candidates(mut self, m: usize) -> Self {
        self.max_candidates = m;
        self
    }
    /// Most rounds (default: pynndescent's `max(5, round(log2 n))`).
    pub fn n_iters(mut self, rounds: Option<usize>) -> Self {
        self.n_iters = rounds;
        self
    }
    /// Stop when a round improves fewer than `delta · n · k` entries (default 0.001).
    pub fn delta(mut self, delta: f64) -> Self {
        self.delta = delta;
        self
    }
    /// Seed of the trees and the candidate sampling (default 42).
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    /// `k`, `max_candidates` and a set `n_trees` at least 1, `delta` in [0, 1).
    pub fn check(&self) -> crate::error::Result<()> {
        use crate::error::Error;
        if self.k == 0 {
            return Err(Error::param("k", 0, "must be at least 1"));
        }
        if self.max_candidates == 0 {
            return Err(Error::param("max_candidates", 0, "must be at least 1"));
        }
        if self.n_trees == Some(0) {
            return Err(Error::param("n_trees", 0, "must be at least 1"));
        }
        if !(0.0..1.0).contains(&self.delta) {
            return Err(Error::param("delta", self.delta, "must be in [0, 1)"));
        }
        Ok(())
    }

    /// The approximate kNN graph of `data`.
    pub fn fit(&self, data: &Embeddings) -> crate::error::Result<KnnGraph> {
        self.check()?;
        Ok(nn_descent(data, self))
    }

    /// Neighbours per row, the row itself included.
    pub fn k(&self) -> usize {
        self.k
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
/// all directions (`dirs x n`, one GEMM for the whole forest: pynndescent's trees instead take
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
        let col = &proj[(first + level) * n..(first + level + 1) * n];
        let mid = node.len() / 2;
        node.select_nth_unstable_by(mid, |&a, &b| {
            col[a as usize].total_cmp(&col[b as usize]).then(a.cmp(&b))
        });
        let right = node.split_off(mid);
        stack.push((node, level + 1));
        stack.push((right, level + 1));
    }
    leaves
}

/// Squared distances from row `a` of `x` to the rows `others`, four at a time, into `out`.
/// Every distance of NN-descent goes through [`sq_dist4`] (a short last group repeats its
/// last row), so a pair's distance is the same wherever it is computed.
fn for_each_distance(x: &[f32], d: usize, a: u32, others: &[u32], out: &mut Vec<f32>) {
    let row = |i: u32| &x[i as usize * d..(i as usize + 1) * d];
    let xa = row(a);
    out.clear();
    for q in others.chunks(4) {
        let last = q[q.len() - 1];
        let at = |s: usize| row(*q.get(s).unwrap_or(&last));
        let got = sq_dist4(xa, [at(0), at(1), at(2), at(3)]);
        out.extend_from_slice(&got[..q.len()]);
    }
}

/// Approximate kNN graph by NN-descent: per row the row itself first, then `k - 1`
/// neighbours, with Euclidean distances between the normalised rows.
pub(crate) fn nn_descent(data: &Embeddings, params: &NnDescentParams) -> KnnGraph {
    let (n, d) = (data.rows(), data.dim());
    let k_total = params.k.min(n).max(1);
    let k = k_total - 1; // neighbours besides the row itself
    if k == 0 {
        return to_graph(vec![Heap::default(); n], &[], k_total);
    }
    let leaf = params.leaf_size.unwrap_or(k.max(30)).max(2);
    let mut forests = forest(&data.as_f32(), n, d, leaf, params);
    // Work on a copy of the rows in the first tree's leaf order: rows that are neighbours
    // then sit near each other in memory, so the joins below (whose rows are neighbours of
    // neighbours) read memory pages and cache lines that are already loaded.
    let order: Vec<u32> = forests[0].iter().flatten().copied().collect();
    let mut rank = vec![0u32; n];
    for (new, &old) in order.iter().enumerate() {
        rank[old as usize] = new as u32;
    }
    for leaves in forests.iter_mut() {
        for leaf in leaves.iter_mut() {
            for i in leaf.iter_mut() {
                *i = rank[*i as usize];
            }
        }
    }
    let permuted = AlignedRows::gather(&data.as_f32(), d, &order);
    let (x, d) = (permuted.as_slice(), permuted.stride());
    let mut heaps = leaf_joins(x, d, k, &forests);
    drop(forests);
    tracing::debug!("nn-descent: forest start done");
    let n_iters = params
        .n_iters
        .unwrap_or_else(|| ((n as f64).log2().round() as usize).max(5));
    let rho = params.max_candidates.max(1);
    for round in 0..n_iters {
        let changed = descend_round(x, d, k, rho, &mut heaps, params.seed, round);
        tracing::debug!("nn-descent round {round}: {changed} entries improved");
        if (changed as f64) <= params.delta * n as f64 * k as f64 {
            break;
        }
    }
    to_graph(heaps, &order, k_total)
}

/// The start: a forest of random-projection trees over the rows (directions for every tree
/// and level, all projections in one product), each tree a list of leaves of at most `leaf`
/// rows.
fn forest(
    x: &[f32],
    n: usize,
    d: usize,
    leaf: usize,
    params: &NnDescentParams,
) -> Vec<Vec<Vec<u32>>> {
    let n_trees = params
        .n_trees
        .unwrap_or_else(|| (5 + ((n as f64).sqrt() / 20.0).round() as usize).min(64));
    let depth = ((n as f64 / leaf as f64).log2().ceil() as usize + 2).max(1);
    let dirs = n_trees * depth;
    let mut rng = Rng::new(params.seed, 0x7_2ee);
    let r: Vec<f32> = (0..dirs * d)
        .map(|_| crate::rng::gaussian(&mut rng) as f32)
        .collect();
    // Direction-major (`dirs x n`): a tree level reads one contiguous column.
    let mut proj = vec![0.0f32; dirs * n];
    matmul_abt(&mut proj, &r, x, (dirs, n, d), false, faer::Par::rayon(0));
    tracing::debug!("nn-descent: {dirs} projections");
    let forests = (0..n_trees)
        .into_par_iter()
        .map(|t| rp_tree(&proj, dirs, t * depth, depth, leaf))
        .collect();
    tracing::debug!("nn-descent: {n_trees} trees of leaves <= {leaf}");
    forests
}

/// Every leaf's rows against each other, each pair computed once while the leaf's rows are
/// in cache. A row is in one leaf per tree, so the leaves of a tree touch disjoint heaps; the
/// locks are never contended, and a heap keeps the best by (distance, index) whatever the
/// order of the offers.
fn leaf_joins(x: &[f32], d: usize, k: usize, forests: &[Vec<Vec<u32>>]) -> Vec<Heap> {
    let n = x.len() / d;
    let locked: Vec<std::sync::Mutex<Heap>> = (0..n)
        .map(|_| std::sync::Mutex::new(Heap::default()))
        .collect();
    for leaves in forests {
        leaves.par_iter().for_each(|members| {
            // The leaf's distance matrix (each pair once, four at a time), then each member's
            // offers under one lock.
            let m = members.len();
            let mut all = vec![0.0f32; m * m];
            let mut dists = Vec::with_capacity(m);
            for (p, &i) in members.iter().enumerate() {
                for_each_distance(x, d, i, &members[p + 1..], &mut dists);
                for (q, &d2) in (p + 1..m).zip(&dists) {
                    all[p * m + q] = d2;
                    all[q * m + p] = d2;
                }
            }
            let mut offers = Vec::with_capacity(m);
            for (p, &i) in members.iter().enumerate() {
                offers.clear();
                offers.extend(
                    members
                        .iter()
                        .enumerate()
                        .filter(|&(q, _)| q != p)
                        .map(|(q, &j)| (all[p * m + q], j)),
                );
                let mut hi = locked[i as usize].lock().expect("heap lock");
                for &(d2, j) in &offers {
                    hi.offer(k, d2, j);
                }
            }
        });
    }
    locked
        .into_iter()
        .map(|m| m.into_inner().expect("heap lock"))
        .collect()
}

/// The graph in the caller's row numbers (`order[new]` is the caller's row of working row
/// `new`; empty: no reordering), each row first at distance 0, padded with itself where fewer
/// than `k_total - 1` neighbours were found (tiny inputs).
fn to_graph(mut heaps: Vec<Heap>, order: &[u32], k_total: usize) -> KnnGraph {
    let n = heaps.len();
    let k = k_total - 1;
    if !order.is_empty() {
        let mut by_row = vec![Heap::default(); n];
        for (new, mut h) in heaps.into_iter().enumerate() {
            for e in h.items.iter_mut() {
                e.1 = order[e.1 as usize];
            }
            h.items
                .sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
            by_row[order[new] as usize] = h;
        }
        heaps = by_row;
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

/// One round's sampled candidates of every row in one flat buffer: row `u`'s are
/// `items[start[u]..start[u] + len[u]]`, as `(priority, row)`.
struct Candidates {
    start: Vec<usize>,
    len: Vec<usize>,
    items: Vec<(u64, u32)>,
}

impl Candidates {
    /// The new and the old neighbours of each row, forward and reverse, deduplicated, and of
    /// each kind the `rho` with the lowest pseudo-random priority (pynndescent's sampling).
    fn sample(heaps: &[Heap], seed: u64, round: usize, rho: usize) -> [Candidates; 2] {
        let n = heaps.len();
        // Counting sort by row: counts, offsets, then one pass that files every entry.
        let mut start = [vec![0usize; n + 1], vec![0usize; n + 1]];
        for (u, h) in heaps.iter().enumerate() {
            for &(_, v, is_new) in &h.items {
                let s = &mut start[usize::from(!is_new)];
                s[u + 1] += 1;
                s[v as usize + 1] += 1;
            }
        }
        // Old candidates only matter to rows that have new ones (a join pairs new with new
        // and new with old): late rounds, where almost every row has none, skip them.
        let has_new: Vec<bool> = start[0][1..].iter().map(|&c| c > 0).collect();
        for (u, &yes) in has_new.iter().enumerate() {
            if !yes {
                start[1][u + 1] = 0;
            }
        }
        for s in start.iter_mut() {
            for u in 0..n {
                s[u + 1] += s[u];
            }
        }
        let mut fill = [start[0][..n].to_vec(), start[1][..n].to_vec()];
        let mut items = [
            vec![(0u64, 0u32); start[0][n]],
            vec![(0u64, 0u32); start[1][n]],
        ];
        for (u, h) in heaps.iter().enumerate() {
            for &(_, v, is_new) in &h.items {
                let kind = usize::from(!is_new);
                let (want_u, want_v) = (is_new || has_new[u], is_new || has_new[v as usize]);
                if !(want_u || want_v) {
                    continue;
                }
                let (f, it) = (&mut fill[kind], &mut items[kind]);
                let p = priority(seed, round, u as u32, v);
                if want_u {
                    it[f[u]] = (p, v);
                    f[u] += 1;
                }
                if want_v {
                    it[f[v as usize]] = (p, u as u32);
                    f[v as usize] += 1;
                }
            }
        }
        let [items_new, items_old] = items;
        let [start_new, start_old] = start;
        [
            Candidates::trim(start_new, items_new, rho),
            Candidates::trim(start_old, items_old, rho),
        ]
    }

    /// Per row: one entry per row id (the lowest priority), then the `rho` lowest.
    fn trim(start: Vec<usize>, mut items: Vec<(u64, u32)>, rho: usize) -> Candidates {
        let n = start.len() - 1;
        let mut rows: Vec<&mut [(u64, u32)]> = Vec::with_capacity(n);
        let mut rest = items.as_mut_slice();
        for u in 0..n {
            let (row, tail) = rest.split_at_mut(start[u + 1] - start[u]);
            rows.push(row);
            rest = tail;
        }
        let len: Vec<usize> = rows
            .into_par_iter()
            .map(|row| {
                row.sort_unstable_by_key(|e| (e.1, e.0));
                let mut m = 0;
                for i in 0..row.len() {
                    if m == 0 || row[i].1 != row[m - 1].1 {
                        row[m] = row[i];
                        m += 1;
                    }
                }
                if m > rho {
                    row[..m].select_nth_unstable(rho - 1);
                    m = rho;
                }
                m
            })
            .collect();
        Candidates { start, len, items }
    }

    fn row(&self, u: usize) -> &[(u64, u32)] {
        &self.items[self.start[u]..self.start[u] + self.len[u]]
    }
}

/// One round: sample new and old candidates (forward and reverse), join them locally,
/// apply the improvements. Returns how many list entries changed.
fn descend_round(
    x: &[f32],
    d: usize,
    k: usize,
    rho: usize,
    heaps: &mut [Heap],
    seed: u64,
    round: usize,
) -> usize {
    let n = heaps.len();
    let [new_c, old_c] = Candidates::sample(heaps, seed, round, rho);
    // Entries sampled as new are old from now on.
    heaps.par_iter_mut().enumerate().for_each(|(u, h)| {
        let sampled = new_c.row(u);
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
    const CHUNK: usize = 256;
    let proposals: Vec<Vec<Vec<(u32, f32, u32)>>> = (0..n.div_ceil(CHUNK))
        .into_par_iter()
        .map(|c| {
            let mut out: Vec<Vec<(u32, f32, u32)>> = vec![Vec::new(); ranges];
            let (mut others, mut dists) = (Vec::new(), Vec::new());
            for u in c * CHUNK..n.min((c + 1) * CHUNK) {
                let (nc, oc) = (new_c.row(u), old_c.row(u));
                for (ai, &(_, a)) in nc.iter().enumerate() {
                    others.clear();
                    others.extend(
                        nc[ai + 1..]
                            .iter()
                            .chain(oc.iter())
                            .map(|e| e.1)
                            .filter(|&b| b != a),
                    );
                    for_each_distance(x, d, a, &others, &mut dists);
                    for (&b, &d2) in others.iter().zip(&dists) {
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
        let p = NnDescent::params(15);
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
        let g = nn_descent(&e, &NnDescent::params(10));
        assert_eq!(g.k, 5);
        assert_eq!(g.indices.len(), 25);
    }
}
