//! A kd-tree over low-dimensional points (UMAP's 5-D output on BERTopic's route), for exact
//! nearest neighbours and HDBSCAN's Borůvka spanning tree. In a few dimensions a box around a
//! node prunes most of the tree; on 384-d embeddings it prunes nothing, which is why the
//! high-dimensional routes use the GEMM kernel instead.
//!
//! The layout is scikit-learn's `KDTree` (and fast_hdbscan's numba copy of it): an implicit
//! binary heap (children of node `i` at `2i + 1` and `2i + 2`) with enough levels that a leaf
//! holds about [`LEAF_SIZE`] points, each node split at its median along the dimension of
//! widest spread. The points are copied into tree order, so a leaf is one contiguous block and
//! callers work in tree positions, mapping back through [`KdTree::original`] at the end.

use rayon::prelude::*;

/// Points per leaf, scikit-learn's and fast_hdbscan's default.
pub(crate) const LEAF_SIZE: usize = 40;

/// A kd-tree; see the module docs.
#[derive(Debug, Clone)]
pub(crate) struct KdTree {
    dim: usize,
    /// The points in tree order, row-major.
    points: Vec<f32>,
    /// Tree position -> original row.
    order: Vec<u32>,
    /// Per node: first and one-past-last tree position.
    span: Vec<(u32, u32)>,
    /// Per node: the bounding box, `dim` lows then `dim` highs.
    bounds: Vec<f32>,
}

impl KdTree {
    /// The tree over the rows of `x` (`n x dim`, row-major, finite).
    pub(crate) fn build(x: &[f32], dim: usize) -> KdTree {
        let n = x.len() / dim;
        assert!(n > 0 && n < u32::MAX as usize, "kd-tree over {n} rows");
        // scikit-learn: levels = floor(log2(max(1, (n - 1) / leaf_size))) + 1.
        let levels = ((n - 1) / LEAF_SIZE).max(1).ilog2() as usize + 1;
        let nodes = (1usize << levels) - 1;
        let mut order: Vec<u32> = (0..n as u32).collect();
        let mut span = vec![(0u32, 0u32); nodes];
        let mut bounds = vec![0f32; nodes * 2 * dim];
        span[0] = (0, n as u32);
        // Parents come before children in index order, so one pass builds the tree.
        for node in 0..nodes {
            let (s, e) = (span[node].0 as usize, span[node].1 as usize);
            let (lo, hi) = bounds[node * 2 * dim..(node + 1) * 2 * dim].split_at_mut(dim);
            lo.fill(f32::INFINITY);
            hi.fill(f32::NEG_INFINITY);
            for &r in &order[s..e] {
                let p = &x[r as usize * dim..(r as usize + 1) * dim];
                for t in 0..dim {
                    lo[t] = lo[t].min(p[t]);
                    hi[t] = hi[t].max(p[t]);
                }
            }
            if 2 * node + 1 >= nodes {
                continue;
            }
            let axis = (0..dim)
                .max_by(|&a, &b| (hi[a] - lo[a]).total_cmp(&(hi[b] - lo[b])).then(b.cmp(&a)))
                .unwrap_or(0);
            let mid = s + (e - s) / 2;
            let key = |r: &u32| x[*r as usize * dim + axis];
            order[s..e]
                .select_nth_unstable_by(mid - s, |a, b| key(a).total_cmp(&key(b)).then(a.cmp(b)));
            span[2 * node + 1] = (s as u32, mid as u32);
            span[2 * node + 2] = (mid as u32, e as u32);
        }
        let mut points = Vec::with_capacity(n * dim);
        for &r in &order {
            points.extend_from_slice(&x[r as usize * dim..(r as usize + 1) * dim]);
        }
        KdTree {
            dim,
            points,
            order,
            span,
            bounds,
        }
    }

    /// Number of points.
    pub(crate) fn len(&self) -> usize {
        self.order.len()
    }

    /// Number of nodes.
    pub(crate) fn nodes(&self) -> usize {
        self.span.len()
    }

    /// The point at tree position `i`.
    #[inline]
    pub(crate) fn point(&self, i: usize) -> &[f32] {
        &self.points[i * self.dim..(i + 1) * self.dim]
    }

    /// The original row of tree position `i`.
    #[inline]
    pub(crate) fn original(&self, i: usize) -> usize {
        self.order[i] as usize
    }

    /// Whether `node` is a leaf.
    #[inline]
    pub(crate) fn is_leaf(&self, node: usize) -> bool {
        2 * node + 1 >= self.span.len()
    }

    /// The tree positions under `node`.
    #[inline]
    pub(crate) fn span(&self, node: usize) -> std::ops::Range<usize> {
        self.span[node].0 as usize..self.span[node].1 as usize
    }

    /// Squared distance from `p` to the nearest point of `node`'s box (0 inside it).
    #[inline]
    pub(crate) fn box_sq_dist(&self, node: usize, p: &[f32]) -> f32 {
        let b = &self.bounds[node * 2 * self.dim..(node + 1) * 2 * self.dim];
        let (lo, hi) = b.split_at(self.dim);
        let mut s = 0.0f32;
        for t in 0..self.dim {
            let gap = (lo[t] - p[t]).max(p[t] - hi[t]).max(0.0);
            s += gap * gap;
        }
        s
    }

    /// `node`'s two children with the squared distance from `p` to each one's box, the nearer
    /// first (the order every search descends in).
    #[inline]
    pub(crate) fn children_nearest_first(&self, node: usize, p: &[f32]) -> [(usize, f32); 2] {
        let (l, r) = (2 * node + 1, 2 * node + 2);
        let (dl, dr) = (self.box_sq_dist(l, p), self.box_sq_dist(r, p));
        if dl <= dr {
            [(l, dl), (r, dr)]
        } else {
            [(r, dr), (l, dl)]
        }
    }

    /// The `k` nearest points to each point, itself included: per tree position, `k` pairs
    /// `(squared distance, tree position)` sorted by (distance, position), row-major. Exact.
    pub(crate) fn knn(&self, k: usize) -> Vec<(f32, u32)> {
        let k = k.min(self.len());
        let mut out = vec![(0f32, 0u32); self.len() * k];
        out.par_chunks_mut(k)
            .enumerate()
            .with_min_len(256)
            .for_each_init(
                || Vec::with_capacity(k + 1),
                |best, (i, row)| {
                    best.clear();
                    let p = self.point(i);
                    self.knn_search(0, p, self.box_sq_dist(0, p), k, best);
                    row.copy_from_slice(best);
                },
            );
        out
    }

    fn knn_search(&self, node: usize, p: &[f32], lower: f32, k: usize, best: &mut Vec<(f32, u32)>) {
        if best.len() == k && lower > best[k - 1].0 {
            return;
        }
        if self.is_leaf(node) {
            for q in self.span(node) {
                let d = sq_dist(p, self.point(q));
                let cand = (d, q as u32);
                if best.len() == k {
                    let last = best[k - 1];
                    if d.total_cmp(&last.0).then(cand.1.cmp(&last.1)).is_ge() {
                        continue;
                    }
                    best.pop();
                }
                let at = best.partition_point(|b| b.0.total_cmp(&d).then(b.1.cmp(&cand.1)).is_lt());
                best.insert(at, cand);
            }
            return;
        }
        for (child, lower) in self.children_nearest_first(node, p) {
            self.knn_search(child, p, lower, k, best);
        }
    }
}

/// Squared Euclidean distance.
#[inline]
pub(crate) fn sq_dist(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| (x - y) * (x - y)).sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cloud(n: usize, dim: usize) -> Vec<f32> {
        let mut rng = crate::rng::Rng::new(7, 1);
        (0..n * dim)
            .map(|_| rng.next_f64() as f32 * 2.0 - 1.0)
            .collect()
    }

    #[test]
    fn every_point_sits_in_its_leaf_box_and_once() {
        let (n, dim) = (5_000, 5);
        let x = cloud(n, dim);
        let t = KdTree::build(&x, dim);
        let mut seen = vec![false; n];
        for node in 0..t.nodes() {
            if !t.is_leaf(node) {
                continue;
            }
            assert!(t.span(node).len() <= 2 * LEAF_SIZE, "leaf {node}");
            for i in t.span(node) {
                assert_eq!(t.box_sq_dist(node, t.point(i)), 0.0);
                let r = t.original(i);
                assert!(!seen[r]);
                seen[r] = true;
                assert_eq!(t.point(i), &x[r * dim..(r + 1) * dim]);
            }
        }
        assert!(seen.iter().all(|&s| s));
    }

    #[test]
    fn knn_equals_brute_force_with_duplicates() {
        let (n, dim, k) = (3_000, 3, 7);
        let mut x = cloud(n, dim);
        // Exact duplicates and a tied grid, where ordering by index must decide.
        x.copy_within(0..dim * 10, dim * 100);
        for v in &mut x[dim * 200..dim * 400] {
            *v = (*v * 2.0).round();
        }
        let t = KdTree::build(&x, dim);
        let got = t.knn(k);
        for i in 0..n {
            let mut all: Vec<(f32, u32)> = (0..n)
                .map(|j| (sq_dist(t.point(i), t.point(j)), j as u32))
                .collect();
            all.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
            assert_eq!(&got[i * k..(i + 1) * k], &all[..k], "row {i}");
        }
    }

    #[test]
    fn tiny_inputs_are_one_leaf() {
        let x = cloud(3, 2);
        let t = KdTree::build(&x, 2);
        assert_eq!(t.nodes(), 1);
        let g = t.knn(5);
        assert_eq!(g.len(), 9);
        assert_eq!(g[0].0, 0.0);
    }
}
