//! # embedscope
//!
//! Audit a corpus of text embeddings for retrieval-augmented generation: what topics are in it,
//! how many clusters there really are, what is duplicated, what is noise and how well
//! cluster-based retrieval finds things, rendered into one self-contained HTML report.
//!
//! The pipeline runs in one direction, each stage usable alone:
//!
//! ```text
//! io::load -> embed -> cluster (K sweep, K-Means) -> project (UMAP map) -> Audit -> report
//! ```
//!
//! ## A tour
//!
//! Load a corpus (JSONL, CSV, Parquet with a `text` column and optionally precomputed
//! vectors, or a `.npy` matrix):
//!
//! ```no_run
//! use embedscope::io::{load, LoadOptions};
//! let corpus = load("samples/debian-2k.parquet".as_ref(), &LoadOptions::default())?;
//! # Ok::<(), embedscope::Error>(())
//! ```
//!
//! Embed texts with the local all-MiniLM-L6-v2 (real weights, offline, matches
//! sentence-transformers to cosine 0.9999+), caching vectors on disk:
//!
//! ```no_run
//! use embedscope::embed::{default_model_dir, embed_texts, home_dir, Embedder, EmbeddingCache, LocalModel};
//! let model = LocalModel::load(&default_model_dir())?;
//! let mut cache = EmbeddingCache::open(&home_dir().join("embeddings"), model.model_id(), model.dim())?;
//! let texts = vec!["Machine learning is a subset of AI.".to_string()];
//! let (vectors, stats) = embed_texts(&model, &texts, Some(&mut cache), &embedscope::progress::Silent)?;
//! assert_eq!(vectors.dim(), 384);
//! # Ok::<(), embedscope::Error>(())
//! ```
//!
//! Every vector matrix is an [`Embeddings`]: validated (finite, equal length, no zero rows) and
//! L2-normalised once, so cosine similarity is a dot product everywhere.
//!
//! Cluster with K-Means (greedy k-means++, `n_init` restarts, as scikit-learn) and score a
//! range of k:
//!
//! ```
//! use embedscope::{cluster::{KMeans, KSweep}, Embeddings};
//! let data = Embeddings::new(vec![1.0, 0.0, 0.9, 0.1, 0.0, 1.0, 0.1, 0.9, -1.0, 0.1, -0.9, 0.0], 2)?;
//! let model = KMeans::params(3).n_init(10).seed(42).fit(&data)?;
//! assert_eq!(model.sizes(), &[2, 2, 2]);
//! let sweep = KSweep::params().k_min(2).k_max(4).fit(&data)?;
//! assert_eq!(sweep.chosen_k, 3);
//! # Ok::<(), embedscope::Error>(())
//! ```
//!
//! Map the corpus in 2-D with UMAP (umap-learn's algorithm, deterministic in parallel), or
//! reduce it to 5-D and cluster the points with HDBSCAN as BERTopic does:
//!
//! ```no_run
//! use embedscope::{cluster::{Hdbscan, Metric}, project::{trustworthiness_sample, Umap}};
//! # let corpus = embedscope::io::load("samples/debian-2k.parquet".as_ref(), &Default::default())?;
//! # let data = corpus.vectors.unwrap();
//! let map = Umap::params().fit(&data)?;
//! let t = trustworthiness_sample(&data, map.embedding(), 2, 10, 5000, 42)?;
//! let reduced = Umap::params().n_components(5).min_dist(0.0).fit(&data)?;
//! let topics = Hdbscan::params().min_cluster_size(10).metric(Metric::Euclidean)
//!     .fit(&reduced.points()?)?;
//! # Ok::<(), embedscope::Error>(())
//! ```
//!
//! Find near duplicates (every pair, exactly) and measure what cluster-based retrieval costs
//! in recall:
//!
//! ```no_run
//! use embedscope::{dedup, retrieve::{ClusterIndex, RetrievalEval}};
//! # let corpus = embedscope::io::load("samples/debian-2k.parquet".as_ref(), &Default::default())?;
//! # let data = corpus.vectors.unwrap();
//! let pairs = dedup::near_duplicates(&data, 0.95)?;
//! let index = ClusterIndex::params().build(&data)?;
//! let hits = index.search(&data.row(0), 10, 3)?;
//! let eval = RetrievalEval::params().fit(&data)?;
//! println!("recall@10 at nprobe 1: {}", eval.per_nprobe[0].recall);
//! # Ok::<(), embedscope::Error>(())
//! ```
//!
//! Or run everything and write the report:
//!
//! ```no_run
//! use embedscope::{Audit, io::{load, LoadOptions}, report::{write_html, ReportOptions}};
//! let corpus = load("samples/debian-2k.parquet".as_ref(), &LoadOptions::default())?;
//! let audit = Audit::builder().k_range(2, 10).seed(42).run(&corpus)?;
//! write_html("reports/sample.html".as_ref(), &audit, &ReportOptions::default())?;
//! # Ok::<(), embedscope::Error>(())
//! ```
//!
//! The library never prints to stdout (a notebook's channel); long stages report through a
//! [`progress::Progress`].

#![deny(missing_docs)]

pub mod audit;
pub mod cluster;
pub mod compare;
pub mod dedup;
pub mod display;
pub mod embed;
mod embeddings;
mod error;
pub mod health;
mod http;
pub mod index;
pub mod io;
pub mod kernel;
pub mod label;
mod linalg;
pub mod matrix;
mod metric;
pub mod neighbors;
pub mod progress;
pub mod project;
pub mod queries;
pub mod report;
pub mod retrieve;
pub mod rng;
pub mod stability;
pub mod store;
mod union_find;

pub use audit::Audit;
pub use embeddings::Embeddings;
pub use error::{EmbeddingsError, Error, Result};
/// Half floats, as [`Embeddings::new_half`] takes them.
pub use half::f16;
pub use io::Corpus;
