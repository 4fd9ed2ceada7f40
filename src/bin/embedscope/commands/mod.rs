//! One file per subcommand: its arguments, then `run`: checked parameters before any loading,
//! the library call, and the output.

pub mod audit;
pub mod cluster;
pub mod compare;
pub mod dedup;
pub mod embed;
pub mod health;
pub mod label;
pub mod optimal_k;
pub mod project;
pub mod queries;
pub mod retrieval_eval;
pub mod search;
pub mod stability;

/// `--umap-dims`: BERTopic's reduction (UMAP, cosine, 15 neighbours, `min_dist` 0).
pub fn bertopic_reduction(dims: usize, seed: u64) -> embedscope::project::UmapParams {
    embedscope::project::Umap::params()
        .n_components(dims)
        .min_dist(0.0)
        .seed(seed)
}
