//! Clustering: K-Means, the K sweep, and internal scores.

pub mod kmeans;
pub mod metrics;
mod select;

pub use kmeans::{KMeans, KMeansModel, KMeansParams};
pub use select::{KScore, KSweep, KSweepParams};
