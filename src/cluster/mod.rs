//! Clustering: K-Means, the K sweep, and internal scores.

pub mod agglomerative;
pub mod dendrogram;
mod display;
pub mod external;
pub mod hdbscan;
pub mod kmeans;
#[cfg(feature = "linfa")]
pub mod linfa_compat;
pub mod metrics;
pub mod minibatch;
mod select;

pub use agglomerative::{Agglomerative, AgglomerativeModel, AgglomerativeParams, Linkage, Metric};
pub use external::{label_agreement, LabelAgreement};
pub use hdbscan::{CondensedEdge, Hdbscan, HdbscanModel, HdbscanParams, Selection};
pub use kmeans::{
    nearest_centroids, KMeans, KMeansAlgorithm, KMeansInit, KMeansModel, KMeansParams,
};
pub use minibatch::{
    MiniBatchKMeans, MiniBatchKMeansModel, MiniBatchKMeansParams, StreamAssignment,
};
pub(crate) use select::compact;
pub use select::{KScore, KSweep, KSweepParams};

/// Cluster ids ordered by size, largest first, ties by id (every clustering numbers its
/// clusters this way): returns `order` (old ids, new id = position; empty clusters last) and
/// `rank` (new id of each old id).
pub fn rank_by_size(counts: &[usize]) -> (Vec<usize>, Vec<usize>) {
    let mut order: Vec<usize> = (0..counts.len()).collect();
    order.sort_by_key(|&c| (std::cmp::Reverse(counts[c]), c));
    let mut rank = vec![0usize; counts.len()];
    for (new, &old) in order.iter().enumerate() {
        rank[old] = new;
    }
    (order, rank)
}
