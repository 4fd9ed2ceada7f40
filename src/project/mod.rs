//! Projection: UMAP (2-D maps for the report, 5-D reductions for HDBSCAN as BERTopic does)
//! and PCA by randomised SVD, plus trustworthiness to say how faithful a projection is.

mod blocks;
mod display;
mod fuzzy;
mod layout;
pub mod pca;
mod quality;
mod spectral;
pub mod umap;

pub use layout::find_ab_params;
pub use pca::{Pca, PcaModel, PcaParams};
pub use quality::{trustworthiness, trustworthiness_sample};
pub use umap::{Umap, UmapInit, UmapKnn, UmapModel, UmapParams, UmapTimings};
