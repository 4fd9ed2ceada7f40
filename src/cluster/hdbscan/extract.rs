//! From the condensed tree to the model, in the reference's steps: the clusters' births,
//! deaths and stabilities (`compute_stability`), the selection (`get_clusters`: excess of mass
//! or leaves, `cluster_selection_epsilon`), the labels (`do_labelling`), membership
//! probabilities (`get_probabilities`), GLOSH outlier scores (`outlier_scores`), and the
//! clusters' persistence with ids by size.

use super::{CondensedEdge, HdbscanModel, HdbscanParams, Selection};
use crate::union_find::find_root;

/// The clusters of a condensed tree, ids `root..=max_id` (the root is `n`; children have
/// higher ids than their parents).
struct Clusters {
    n: usize,
    root: usize,
    max_id: usize,
    /// The lambda at which each node dies: the largest at which anything leaves it.
    death: Vec<f64>,
    /// Stability of each cluster (index `id - root`).
    stability: Vec<f64>,
    /// Child clusters of each cluster (index `id - root`).
    children: Vec<Vec<usize>>,
    /// Parent of each cluster (index `id - root`; `usize::MAX` for the root).
    parent_of: Vec<usize>,
    /// The lambda at which each cluster split off its parent.
    child_lambda: Vec<f64>,
}

impl Clusters {
    fn new(tree: &[CondensedEdge], n: usize) -> Clusters {
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
        let count = max_id + 1 - root;
        let mut stability = vec![0.0f64; count];
        let mut death = vec![0.0f64; max_id + 1];
        for e in tree {
            stability[e.parent - root] += (e.lambda - birth[e.parent]) * e.size as f64;
            death[e.parent] = death[e.parent].max(e.lambda);
        }
        let mut children: Vec<Vec<usize>> = vec![Vec::new(); count];
        let mut parent_of = vec![usize::MAX; count];
        let mut child_lambda = vec![0.0f64; max_id + 1];
        for e in tree.iter().filter(|e| e.child >= n) {
            children[e.parent - root].push(e.child);
            parent_of[e.child - root] = e.parent;
            child_lambda[e.child] = e.lambda;
        }
        Clusters {
            n,
            root,
            max_id,
            death,
            stability,
            children,
            parent_of,
            child_lambda,
        }
    }

    fn children(&self, c: usize) -> &[usize] {
        &self.children[c - self.root]
    }

    /// Every cluster below `c`.
    fn descendants(&self, c: usize) -> Vec<usize> {
        let mut out = Vec::new();
        let mut stack = vec![c];
        while let Some(x) = stack.pop() {
            for &ch in self.children(x) {
                out.push(ch);
                stack.push(ch);
            }
        }
        out
    }
}

/// Stability, selection, labelling, probabilities and GLOSH, as the reference's
/// `get_clusters`, `do_labelling`, `get_probabilities` and `outlier_scores`.
pub(super) fn extract(tree: Vec<CondensedEdge>, n: usize, p: &HdbscanParams) -> HdbscanModel {
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
    let clusters = Clusters::new(&tree, n);
    let selected = select(&clusters, &tree, p);
    let point_lambda = point_lambdas(&tree, n);
    let raw = label(&clusters, &tree, &selected, &point_lambda, p);
    let probabilities = probabilities(&raw, &point_lambda, &clusters.death);
    let outlier_scores = glosh(&clusters, &tree);
    let (labels, sizes, stabilities) = by_size(&clusters, &tree, &selected, raw);
    HdbscanModel {
        labels,
        sizes,
        probabilities,
        outlier_scores,
        stabilities,
        condensed_tree: tree,
        core_distances: Vec::new(),
        minimum_spanning_tree: Vec::new(),
    }
}

/// The selected clusters, sorted: excess of mass (the most stable set, every cluster but the
/// root unless a single cluster is allowed) or the leaves, then `cluster_selection_epsilon`.
fn select(c: &Clusters, tree: &[CondensedEdge], p: &HdbscanParams) -> Vec<usize> {
    let (root, max_id) = (c.root, c.max_id);
    let mut selected = match p.selection {
        Selection::Eom => {
            // Candidates processed from the highest id down (children before parents).
            let candidates: Vec<usize> = (root..=max_id)
                .rev()
                .filter(|&x| x != root || p.allow_single_cluster)
                .collect();
            let mut is_cluster = vec![false; max_id + 1 - root];
            for &x in &candidates {
                is_cluster[x - root] = true;
            }
            let mut stab = c.stability.clone();
            for &x in &candidates {
                let subtree: f64 = c.children(x).iter().map(|&ch| stab[ch - root]).sum();
                if subtree > stab[x - root] {
                    is_cluster[x - root] = false;
                    stab[x - root] = subtree;
                } else {
                    for d in c.descendants(x) {
                        is_cluster[d - root] = false;
                    }
                }
            }
            let eom: Vec<usize> = (root..=max_id).filter(|&x| is_cluster[x - root]).collect();
            if p.epsilon > 0.0 && !(eom.len() == 1 && eom[0] == root) {
                epsilon_search(&eom, p, c)
            } else {
                eom
            }
        }
        Selection::Leaf => {
            let leaves: Vec<usize> = (root..=max_id)
                .filter(|&x| {
                    c.children(x).is_empty() && (x != root || tree.iter().all(|e| e.child < c.n))
                })
                .collect();
            if p.epsilon > 0.0 {
                epsilon_search(&leaves, p, c)
            } else {
                leaves
            }
        }
    };
    selected.sort_unstable();
    selected.dedup();
    selected
}

/// `cluster_selection_epsilon`: a selected cluster born below the epsilon distance is replaced
/// by its nearest ancestor born above it (the reference's `epsilon_search`).
fn epsilon_search(chosen: &[usize], p: &HdbscanParams, c: &Clusters) -> Vec<usize> {
    let root = c.root;
    let mut out = Vec::new();
    let mut processed = std::collections::HashSet::new();
    for &leaf in chosen {
        let eps = 1.0 / c.child_lambda[leaf];
        if eps < p.epsilon {
            if processed.contains(&leaf) {
                continue;
            }
            let mut node = leaf;
            let up = loop {
                let parent = c.parent_of[node - root];
                if parent == root {
                    break if p.allow_single_cluster { parent } else { node };
                }
                if 1.0 / c.child_lambda[parent] > p.epsilon {
                    break parent;
                }
                node = parent;
            };
            out.push(up);
            processed.extend(c.descendants(up));
        } else {
            out.push(leaf);
        }
    }
    out
}

/// The lambda at which each point leaves the tree.
fn point_lambdas(tree: &[CondensedEdge], n: usize) -> Vec<f64> {
    let mut point_lambda = vec![0.0f64; n];
    for e in tree.iter().filter(|e| e.child < n) {
        point_lambda[e.child] = e.lambda;
    }
    point_lambda
}

/// Each point's selected cluster (its node id), or noise: union every edge whose child is not
/// a selected cluster; each point ends in the selected cluster above it, or at the root.
fn label(
    c: &Clusters,
    tree: &[CondensedEdge],
    selected: &[usize],
    point_lambda: &[f64],
    p: &HdbscanParams,
) -> Vec<Option<usize>> {
    let root = c.root;
    let mut uf: Vec<usize> = (0..=c.max_id).collect();
    let is_selected = |x: usize| selected.binary_search(&x).is_ok();
    for e in tree {
        if !is_selected(e.child) {
            let (a, b) = (find_root(&mut uf, e.parent), find_root(&mut uf, e.child));
            if a != b {
                // Keep the parent side as the representative.
                uf[b] = a;
            }
        }
    }
    (0..c.n)
        .map(|i| {
            let x = find_root(&mut uf, i);
            if x < root {
                None
            } else if x == root {
                let single = selected.len() == 1 && p.allow_single_cluster && is_selected(root);
                let keep = if p.epsilon != 0.0 {
                    point_lambda[i] >= 1.0 / p.epsilon
                } else {
                    point_lambda[i] >= c.death[root]
                };
                (single && keep).then_some(root)
            } else {
                Some(x)
            }
        })
        .collect()
}

/// Membership: the lambda at which the point left its cluster, over the cluster's death.
fn probabilities(raw: &[Option<usize>], point_lambda: &[f64], death: &[f64]) -> Vec<f32> {
    raw.iter()
        .zip(point_lambda)
        .map(|(label, &l)| match *label {
            None => 0.0,
            Some(x) => {
                let max_l = death[x];
                if max_l == 0.0 || !l.is_finite() {
                    1.0
                } else {
                    (l.min(max_l) / max_l) as f32
                }
            }
        })
        .collect()
}

/// GLOSH: each point against the deepest death below its parent (deaths propagated up the
/// tree; children have higher ids than parents).
fn glosh(c: &Clusters, tree: &[CondensedEdge]) -> Vec<f32> {
    let mut deepest = c.death.clone();
    for e in tree.iter().rev().filter(|e| e.child >= c.n) {
        if deepest[e.child] > deepest[e.parent] {
            deepest[e.parent] = deepest[e.child];
        }
    }
    let mut scores = vec![0.0f32; c.n];
    for e in tree.iter().filter(|e| e.child < c.n) {
        let lmax = deepest[e.parent];
        scores[e.child] = if lmax == 0.0 || !e.lambda.is_finite() {
            0.0
        } else {
            ((lmax - e.lambda) / lmax) as f32
        };
    }
    scores
}

/// Labels renumbered by size (largest first), the sizes, and each cluster's persistence.
fn by_size(
    c: &Clusters,
    tree: &[CondensedEdge],
    selected: &[usize],
    mut raw: Vec<Option<usize>>,
) -> (Vec<Option<usize>>, Vec<usize>, Vec<f64>) {
    let max_lambda = tree.iter().map(|e| e.lambda).fold(0.0f64, f64::max);
    let dense = |x: &usize| {
        selected
            .binary_search(x)
            .expect("labels are selected clusters")
    };
    // `selected` is sorted, so dense ids (positions in it) keep ties ordered by cluster id.
    let mut counts = vec![0usize; selected.len()];
    for x in raw.iter().flatten() {
        counts[dense(x)] += 1;
    }
    let (order, rank) = crate::cluster::rank_by_size(&counts);
    let order: Vec<usize> = order.into_iter().filter(|&x| counts[x] > 0).collect();
    let stabilities = order
        .iter()
        .map(|&x| {
            let size = counts[x] as f64;
            if !max_lambda.is_finite() || max_lambda == 0.0 {
                1.0
            } else {
                c.stability[selected[x] - c.root] / (size * max_lambda)
            }
        })
        .collect();
    for l in raw.iter_mut() {
        *l = l.map(|x| rank[dense(&x)]);
    }
    (raw, order.iter().map(|&x| counts[x]).collect(), stabilities)
}
