//! Naming the clusters: c-TF-IDF keywords (offline, deterministic).

mod display;
pub mod keywords;
pub mod llm;
pub mod mmr;
mod stop_words;
pub mod summary;

pub use keywords::{keywords, short_label, terms, Keyword, KeywordParams};
pub use summary::{apply_llm_labels, summarise_clusters, summarise_clusters_with, ClusterSummary};

/// Keywords, short labels and sizes of clusters: [`topics`].
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Topics {
    /// Ranked c-TF-IDF keywords per cluster.
    pub keywords: Vec<Vec<Keyword>>,
    /// A short label per cluster (top 3 keywords sharing no word).
    pub labels: Vec<String>,
    /// Documents per cluster.
    pub sizes: Vec<usize>,
    /// Documents in no cluster.
    pub noise: usize,
}

/// c-TF-IDF keywords ([`keywords`]) with a short label and the size of each cluster.
pub fn topics(
    texts: &[String],
    labels: &[Option<usize>],
    n_clusters: usize,
    params: &KeywordParams,
) -> crate::error::Result<Topics> {
    let kw = keywords(texts, labels, n_clusters, params)?;
    let mut sizes = vec![0usize; n_clusters];
    for &c in labels.iter().flatten() {
        sizes[c] += 1;
    }
    Ok(Topics {
        labels: kw
            .iter()
            .enumerate()
            .map(|(c, k)| {
                if k.is_empty() {
                    format!("cluster {c}")
                } else {
                    short_label(k, 3)
                }
            })
            .collect(),
        keywords: kw,
        sizes,
        noise: labels.iter().filter(|l| l.is_none()).count(),
    })
}
