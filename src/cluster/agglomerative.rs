//! Agglomerative (hierarchical) clustering: ward, average, complete, single; Euclidean or
//! cosine distance; the linkage matrix in scipy's format; a cut at k clusters or at a distance.
//!
//! The pairwise distances are computed through the kernel straight into the condensed matrix
//! (one row tile at a time, in parallel); the merging is kodama's (a port of fastcluster, the
//! library scipy uses). Memory: `n(n-1)/2` f32, so 2 GB at 32k rows; above
//! [`MAX_ROWS`] cluster K-Means micro-clusters instead.

use kodama::{linkage, Method};
use rayon::prelude::*;
use serde::Serialize;

use crate::embeddings::Embeddings;
use crate::error::{Error, Result};
use crate::linalg::{matmul_abt, refine_sq_dist, row_sq_norms};
pub use crate::metric::Metric;
use crate::union_find::find_root;

/// Largest corpus clustered directly (the condensed matrix would exceed 4 GB above it).
pub const MAX_ROWS: usize = 45_000;

/// How the distance between two clusters is defined.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "cli", derive(clap::ValueEnum))]
pub enum Linkage {
    /// Minimum increase of within-cluster variance (Euclidean only). scikit-learn's default.
    Ward,
    /// Mean distance between members.
    Average,
    /// Largest distance between members.
    Complete,
    /// Smallest distance between members.
    Single,
}

/// Where to cut the tree.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Cut {
    /// Into this many clusters.
    Clusters(usize),
    /// Merges up to this distance.
    Distance(f64),
}

/// Agglomerative clustering parameters.
#[derive(Debug, Clone, PartialEq)]
pub struct AgglomerativeParams {
    linkage: Linkage,
    metric: Metric,
    cut: Cut,
}

/// Entry point: `Agglomerative::params(n_clusters)`.
#[derive(Debug, Clone, Copy)]
pub struct Agglomerative;

impl Agglomerative {
    /// Ward linkage, Euclidean, cut into `n_clusters` (scikit-learn's defaults).
    pub fn params(n_clusters: usize) -> AgglomerativeParams {
        AgglomerativeParams {
            linkage: Linkage::Ward,
            metric: Metric::Euclidean,
            cut: Cut::Clusters(n_clusters),
        }
    }
}

impl AgglomerativeParams {
    /// Linkage. Default ward (scikit-learn `linkage`).
    pub fn linkage(mut self, l: Linkage) -> Self {
        self.linkage = l;
        self
    }
    /// Distance. Default Euclidean (scikit-learn `metric`).
    pub fn metric(mut self, m: Metric) -> Self {
        self.metric = m;
        self
    }
    /// Cut at a distance instead of a number of clusters (scikit-learn `distance_threshold`).
    pub fn distance_threshold(mut self, t: f64) -> Self {
        self.cut = Cut::Distance(t);
        self
    }

    /// Validates the parameters.
    pub fn check(&self) -> Result<()> {
        if self.linkage == Linkage::Ward && self.metric != Metric::Euclidean {
            return Err(Error::param(
                "metric",
                "cosine",
                "ward linkage needs the Euclidean metric",
            ));
        }
        match self.cut {
            Cut::Clusters(0) => Err(Error::param("k", 0, "must be at least 1")),
            Cut::Distance(t) if !(t >= 0.0 && t.is_finite()) => Err(Error::param(
                "distance_threshold",
                t,
                "must be a finite number >= 0",
            )),
            _ => Ok(()),
        }
    }

    /// Builds the tree and cuts it.
    pub fn fit(&self, data: &Embeddings) -> Result<AgglomerativeModel> {
        self.check()?;
        if self.metric == Metric::Cosine {
            data.require_unit("metric", "cosine")?;
        }
        let n = data.rows();
        if let Cut::Clusters(k) = self.cut {
            if k > n {
                return Err(Error::param(
                    "k",
                    k,
                    format!("is more than the {n} rows to cluster"),
                ));
            }
        }
        if n > MAX_ROWS {
            return Err(Error::param(
                "rows",
                n,
                format!("agglomerative clustering keeps n²/2 distances; above {MAX_ROWS} rows cluster K-Means micro-clusters instead"),
            ));
        }
        let mut condensed = condensed_distances(data, self.metric);
        let method = match self.linkage {
            Linkage::Ward => Method::Ward,
            Linkage::Average => Method::Average,
            Linkage::Complete => Method::Complete,
            Linkage::Single => Method::Single,
        };
        let dendrogram = if n > 1 {
            Some(linkage(&mut condensed, n, method))
        } else {
            None
        };
        drop(condensed);
        let merges: Vec<[f64; 4]> = dendrogram
            .as_ref()
            .map(|d| {
                d.steps()
                    .iter()
                    .map(|s| {
                        [
                            s.cluster1 as f64,
                            s.cluster2 as f64,
                            f64::from(s.dissimilarity),
                            s.size as f64,
                        ]
                    })
                    .collect()
            })
            .unwrap_or_default();
        let applied = match self.cut {
            Cut::Clusters(k) => n - k,
            Cut::Distance(t) => merges.iter().take_while(|m| m[2] <= t).count(),
        };
        let labels = cut(n, &merges[..applied]);
        Ok(AgglomerativeModel::new(labels, merges))
    }
}

/// Condensed upper-triangle distances, row tiles in parallel, each tile one GEMM.
fn condensed_distances(data: &Embeddings, metric: Metric) -> Vec<f32> {
    let (n, d) = (data.rows(), data.dim());
    let x = data.as_f32();
    let sq = row_sq_norms(&x, d);
    let mut out = vec![0.0f32; n * n.saturating_sub(1) / 2];
    // Row i's entries (j > i) start at i*(2n-i-1)/2; split the buffer into per-tile chunks.
    const TILE: usize = 128;
    let offset = |i: usize| i * (2 * n - i - 1) / 2;
    let mut chunks: Vec<(usize, &mut [f32])> = Vec::new();
    let mut rest = out.as_mut_slice();
    let mut i = 0;
    while i + 1 < n {
        let end = (i + TILE).min(n - 1);
        let len = offset(end) - offset(i);
        let (head, tail) = rest.split_at_mut(len);
        chunks.push((i, head));
        rest = tail;
        i = end;
    }
    chunks.into_par_iter().for_each(|(start, chunk)| {
        let rows = chunk_rows(start, chunk.len(), n);
        // Dots of this tile's rows with every later row (columns start..n).
        let cols = n - start;
        let mut dots = vec![0.0f32; rows * cols];
        matmul_abt(
            &mut dots,
            &x[start * d..(start + rows) * d],
            &x[start * d..],
            (rows, cols, d),
            false,
            faer::Par::Seq,
        );
        let mut at = 0;
        for r in 0..rows {
            let i = start + r;
            for j in i + 1..n {
                let dot = dots[r * cols + (j - start)];
                let d2 = refine_sq_dist(&x, d, &sq, i, j, (sq[i] + sq[j] - 2.0 * dot).max(0.0));
                chunk[at] = match metric {
                    Metric::Euclidean => d2.sqrt(),
                    // For unit rows, 1 - cos = |x - y|² / 2.
                    Metric::Cosine => 0.5 * d2,
                };
                at += 1;
            }
        }
    });
    out
}

/// How many rows from `start` a condensed chunk of `len` values covers.
fn chunk_rows(start: usize, len: usize, n: usize) -> usize {
    let mut rows = 0;
    let mut used = 0;
    while used < len {
        used += n - (start + rows) - 1;
        rows += 1;
    }
    rows
}

/// Applies merges (scipy numbering: merge `s` creates cluster `n + s`) with union-find and
/// returns a component id per row.
fn cut(n: usize, merges: &[[f64; 4]]) -> Vec<usize> {
    let mut parent: Vec<usize> = (0..2 * n).collect();
    for (s, m) in merges.iter().enumerate() {
        let new = n + s;
        for c in [m[0] as usize, m[1] as usize] {
            let r = find_root(&mut parent, c);
            parent[r] = new;
        }
    }
    (0..n).map(|i| find_root(&mut parent, i)).collect()
}

/// A fitted hierarchy and its cut. Cluster ids are ordered by size, largest first.
#[derive(Debug, Clone, PartialEq)]
pub struct AgglomerativeModel {
    labels: Vec<usize>,
    sizes: Vec<usize>,
    linkage_matrix: Vec<[f64; 4]>,
}

impl AgglomerativeModel {
    fn new(roots: Vec<usize>, linkage_matrix: Vec<[f64; 4]>) -> Self {
        // Dense ids by first appearance, so size ties go to the cluster seen first.
        let mut dense: std::collections::HashMap<usize, usize> = std::collections::HashMap::new();
        let ids: Vec<usize> = roots
            .iter()
            .map(|r| {
                let next = dense.len();
                *dense.entry(*r).or_insert(next)
            })
            .collect();
        let mut counts = vec![0usize; dense.len()];
        ids.iter().for_each(|&c| counts[c] += 1);
        let (order, rank) = super::rank_by_size(&counts);
        AgglomerativeModel {
            labels: ids.iter().map(|&c| rank[c]).collect(),
            sizes: order.iter().map(|&c| counts[c]).collect(),
            linkage_matrix,
        }
    }

    /// Cluster of each row, 0 the largest.
    pub fn labels(&self) -> &[usize] {
        &self.labels
    }
    /// Rows per cluster.
    pub fn sizes(&self) -> &[usize] {
        &self.sizes
    }
    /// Number of clusters after the cut.
    pub fn n_clusters(&self) -> usize {
        self.sizes.len()
    }
    /// The whole tree in scipy's format: per merge `[a, b, distance, size]`, merge `s`
    /// creating cluster `n + s`.
    pub fn linkage_matrix(&self) -> &[[f64; 4]] {
        &self.linkage_matrix
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn points() -> Embeddings {
        // Three pairs of near-identical directions in 3-d.
        Embeddings::new(
            vec![
                1.0, 0.0, 0.0, 1.0, 0.05, 0.0, 0.0, 1.0, 0.0, 0.05, 1.0, 0.0, 0.0, 0.0, 1.0, 0.0,
                0.04, 1.0,
            ],
            3,
        )
        .unwrap()
    }

    #[test]
    fn condensed_matches_naive() {
        let e = Embeddings::new(
            (0..300 * 5)
                .map(|i| ((i * 37 % 101) as f32) - 50.0)
                .collect(),
            5,
        )
        .unwrap();
        let c = condensed_distances(&e, Metric::Euclidean);
        let n = 300;
        let mut at = 0;
        for i in 0..n {
            for j in i + 1..n {
                let want: f32 = e
                    .row(i)
                    .iter()
                    .zip(e.row(j).iter())
                    .map(|(a, b)| (a - b) * (a - b))
                    .sum::<f32>()
                    .sqrt();
                assert!(
                    (c[at] - want).abs() < 1e-5,
                    "({i},{j}): {} vs {want}",
                    c[at]
                );
                at += 1;
            }
        }
        assert_eq!(at, c.len());
    }

    #[test]
    fn every_linkage_finds_the_pairs() {
        for l in [
            Linkage::Ward,
            Linkage::Average,
            Linkage::Complete,
            Linkage::Single,
        ] {
            let m = Agglomerative::params(3).linkage(l).fit(&points()).unwrap();
            let lab = m.labels();
            assert!(
                lab[0] == lab[1] && lab[2] == lab[3] && lab[4] == lab[5],
                "{l:?}: {lab:?}"
            );
            assert_eq!(m.n_clusters(), 3);
            assert_eq!(m.linkage_matrix().len(), 5);
            assert_eq!(m.linkage_matrix()[4][3], 6.0, "last merge holds everything");
        }
    }

    #[test]
    fn distance_cut_and_cosine() {
        let m = Agglomerative::params(1)
            .linkage(Linkage::Average)
            .metric(Metric::Cosine)
            .distance_threshold(0.01)
            .fit(&points())
            .unwrap();
        assert_eq!(m.n_clusters(), 3);
        // Ward needs the Euclidean metric.
        assert_eq!(
            crate::error::Error::rule(Agglomerative::params(2).metric(Metric::Cosine).check()),
            "metric"
        );
        assert_eq!(
            crate::error::Error::rule(Agglomerative::params(0).check()),
            "k"
        );
        assert_eq!(
            crate::error::Error::rule(Agglomerative::params(7).fit(&points())),
            "k"
        );
    }
}
