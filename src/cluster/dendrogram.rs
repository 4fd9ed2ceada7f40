//! Drawing a hierarchy: the coordinates of a dendrogram from a scipy-format linkage matrix, as
//! `scipy.cluster.hierarchy.dendrogram` lays it out (leaves at x = 5, 15, 25, ...; each merge a
//! ∩-shaped line from its two children up to its height).

use serde::Serialize;

/// One merge drawn as four points: up from the left child, across, down to the right child.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct DendrogramLink {
    /// x of the four points (scipy's `icoord`).
    pub x: [f64; 4],
    /// y of the four points (scipy's `dcoord`).
    pub y: [f64; 4],
}

/// A laid-out dendrogram.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct Dendrogram {
    /// The original leaves, left to right (scipy's `leaves`); leaf `leaves[i]` sits at
    /// x = 10·i + 5.
    pub leaves: Vec<usize>,
    /// One link per merge, in merge order.
    pub links: Vec<DendrogramLink>,
}

/// Lays out the tree of `linkage` (`n - 1` rows `[a, b, height, size]`; leaves `0..n`, merge
/// `i` is node `n + i`), left child first.
///
/// ```
/// use embedscope::cluster::dendrogram::dendrogram;
/// // Leaves 0 and 1 merge at 1.0, then leaf 2 joins at 3.0.
/// let d = dendrogram(&[[0.0, 1.0, 1.0, 2.0], [2.0, 3.0, 3.0, 3.0]]);
/// assert_eq!(d.leaves, vec![2, 0, 1]);
/// assert_eq!(d.links[0].x, [15.0, 15.0, 25.0, 25.0]);
/// assert_eq!(d.links[1].y, [0.0, 3.0, 3.0, 1.0]);
/// ```
pub fn dendrogram(linkage: &[[f64; 4]]) -> Dendrogram {
    let n = linkage.len() + 1;
    let mut leaves = Vec::with_capacity(n);
    // Leaf order: depth-first from the root, left child first (iteratively: trees of many
    // leaves would overflow a recursive walk).
    let mut stack = vec![2 * n - 2];
    while let Some(node) = stack.pop() {
        if node < n {
            leaves.push(node);
        } else {
            let m = &linkage[node - n];
            stack.push(m[1] as usize);
            stack.push(m[0] as usize);
        }
    }
    let mut pos = vec![0.0f64; 2 * n - 1];
    let mut height = vec![0.0f64; 2 * n - 1];
    for (i, &leaf) in leaves.iter().enumerate() {
        pos[leaf] = 10.0 * i as f64 + 5.0;
    }
    let mut links = Vec::with_capacity(linkage.len());
    for (i, m) in linkage.iter().enumerate() {
        let (a, b) = (m[0] as usize, m[1] as usize);
        // The child drawn on the left is the one placed further left.
        let (l, r) = if pos[a] <= pos[b] { (a, b) } else { (b, a) };
        links.push(DendrogramLink {
            x: [pos[l], pos[l], pos[r], pos[r]],
            y: [height[l], m[2], m[2], height[r]],
        });
        pos[n + i] = (pos[a] + pos[b]) / 2.0;
        height[n + i] = m[2];
    }
    Dendrogram { leaves, links }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_leaf_once_and_links_rise() {
        // Four leaves: (0, 3) at 0.5, (1, 2) at 0.7, both at 2.0.
        let d = dendrogram(&[
            [0.0, 3.0, 0.5, 2.0],
            [1.0, 2.0, 0.7, 2.0],
            [4.0, 5.0, 2.0, 4.0],
        ]);
        assert_eq!(d.leaves, vec![0, 3, 1, 2]);
        assert_eq!(d.links[2].x, [10.0, 10.0, 30.0, 30.0]);
        assert_eq!(d.links[2].y, [0.5, 2.0, 2.0, 0.7]);
        for l in &d.links {
            assert!(l.y[1] >= l.y[0] && l.y[2] >= l.y[3]);
        }
    }
}
