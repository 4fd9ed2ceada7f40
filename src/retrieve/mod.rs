//! Cluster-based retrieval: search through the [`ClusterIndex`] (an inverted file over
//! K-Means cells, as the reference workflow's `ClusterRetriever` and FAISS's `IndexIVFFlat`),
//! and [`RetrievalEval::params`], which measures what probing costs: recall@k against exact search and
//! queries per second for several `nprobe` on held-out rows, recall per cell, hub and orphan
//! documents, and the share of top-k slots taken by near duplicates before and after
//! deduplication.

mod display;
mod eval;

pub(crate) use eval::recall_table;

pub use crate::index::{exact_top_k, ClusterIndex, ClusterIndexParams, Hit};
pub use eval::{
    hubness_sampled, index_copies, ClusterRecall, DedupImpact, Hubness, NprobeResult,
    RetrievalEval, RetrievalEvalParams, COPY_MAX_VALUES,
};
