//! The point-to-point distance the clustering and projection stages take, shared by all of
//! them (re-exported as `cluster::Metric`).

use serde::Serialize;

/// Point-to-point distance.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "cli", derive(clap::ValueEnum))]
pub enum Metric {
    /// Euclidean distance (of the unit vectors).
    Euclidean,
    /// `1 - cosine similarity`.
    Cosine,
}
