//! Clustering: K-Means, the K sweep, and internal scores.

pub mod agglomerative;
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
pub use kmeans::{KMeans, KMeansAlgorithm, KMeansModel, KMeansParams};
pub use minibatch::{MiniBatchKMeans, MiniBatchKMeansModel, MiniBatchKMeansParams};
pub use select::{KScore, KSweep, KSweepParams};
