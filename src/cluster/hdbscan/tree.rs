//! The single-linkage hierarchy of the MST and its condensed tree (clusters of at least
//! `min_cluster_size` points, as the reference's `condense_tree`).

use serde::Serialize;

use crate::union_find::find_root;

/// One merge of the single-linkage hierarchy, scipy style: clusters `a` and `b` (ids `< n` are
/// points, `n + s` the cluster made by merge `s`) join at `distance` into `size` points.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct Merge {
    a: usize,
    b: usize,
    distance: f64,
    size: usize,
}

/// The single-linkage hierarchy of MST edges sorted by weight.
pub(super) fn single_linkage(mst: &[(usize, usize, f64)], n: usize) -> Vec<Merge> {
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
pub(super) fn condense(h: &[Merge], n: usize, min_cluster_size: usize) -> Vec<CondensedEdge> {
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
