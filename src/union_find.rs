//! Union-find over row or node indices, shared by every algorithm that joins things into
//! groups: agglomerative cuts, single linkage, Kruskal's MST and HDBSCAN's labels, duplicate
//! groups, and the connected components of UMAP's graph.

/// The root of `a`'s set, halving the path on the way (`parent[i] == i` marks a root).
pub(crate) fn find_root(parent: &mut [usize], mut a: usize) -> usize {
    while parent[a] != a {
        parent[a] = parent[parent[a]];
        a = parent[a];
    }
    a
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roots_follow_links_and_paths_halve() {
        // 3 -> 2 -> 1 -> 0, and 4 alone.
        let mut parent = vec![0, 0, 1, 2, 4];
        assert_eq!(find_root(&mut parent, 3), 0);
        assert!(parent[3] < 3, "the path was shortened: {parent:?}");
        assert_eq!(find_root(&mut parent, 4), 4);
        assert_eq!(find_root(&mut parent, 0), 0);
    }
}
