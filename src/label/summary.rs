//! Cluster summaries: size, cohesion, representative documents, c-TF-IDF keywords, a short
//! label and the nearest clusters, and the inputs a language model names a cluster from. The
//! audit and the `label` command both build them here.

use serde::Serialize;

use super::llm::{llm_labels, LabelSource, LlmParams, TopicInput};
use super::{keywords, short_label, Keyword, KeywordParams};
use crate::embeddings::Embeddings;
use crate::error::Result;
use crate::io::Corpus;

/// Characters of a document kept in summaries.
const SNIPPET_CHARS: usize = 300;
/// Representative documents listed per cluster.
const EXAMPLES: usize = 5;

/// A document shown as an example of its cluster.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct Example {
    /// Row in the corpus (0-based).
    pub row: usize,
    /// Document id.
    pub id: String,
    /// The text, cut to a few hundred characters (empty without texts).
    pub text: String,
    /// Cosine similarity to the cluster's centroid direction.
    pub similarity: f32,
}

/// One cluster, summarised.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct ClusterSummary {
    /// Cluster id (0 = largest).
    pub id: usize,
    /// Rows in it.
    pub size: usize,
    /// Share of the corpus.
    pub share: f64,
    /// Mean cosine similarity of members to the centroid direction.
    pub cohesion: f32,
    /// The members nearest the centroid, distinct texts only.
    pub examples: Vec<Example>,
    /// Top c-TF-IDF keywords (empty without texts).
    pub keywords: Vec<Keyword>,
    /// A short offline label: the top three keywords that share no word ([`short_label`];
    /// `cluster N` without texts).
    pub label: String,
    /// The nearest other clusters by centroid direction, nearest first (at most three).
    pub neighbours: Vec<NeighbourCluster>,
    /// Where `label` came from: `keywords`, or `llm` / `cache` with `--llm`.
    pub label_source: LabelSource,
    /// Why the LLM label is missing, when one was asked for and failed.
    pub label_reason: Option<String>,
}

/// A neighbouring cluster.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct NeighbourCluster {
    /// Its id.
    pub id: usize,
    /// Cosine similarity of the two centroid directions.
    pub similarity: f32,
}

/// Size, cohesion, the members nearest each centroid direction, c-TF-IDF keywords (default
/// parameters) and the nearest clusters.
pub fn summarise_clusters(
    corpus: &Corpus,
    data: &Embeddings,
    labels: &[usize],
    k: usize,
) -> Vec<ClusterSummary> {
    let words = match &corpus.texts {
        Some(texts) => {
            let l: Vec<Option<usize>> = labels.iter().map(|&c| Some(c)).collect();
            keywords(texts, &l, k, &KeywordParams::default()).unwrap_or_default()
        }
        None => Vec::new(),
    };
    summarise_clusters_with(corpus, data, labels, k, &words)
}

/// [`summarise_clusters`] with keywords computed by the caller (`words[c]` for cluster `c`;
/// empty for none), so a caller that already has them does not count the corpus twice.
pub fn summarise_clusters_with(
    corpus: &Corpus,
    data: &Embeddings,
    labels: &[usize],
    k: usize,
    words: &[Vec<Keyword>],
) -> Vec<ClusterSummary> {
    let d = data.dim();
    let n = data.rows();
    let mut members: Vec<Vec<usize>> = vec![Vec::new(); k];
    for (i, &c) in labels.iter().enumerate() {
        members[c].push(i);
    }
    let dirs: Vec<Vec<f32>> = data
        .view()
        .mean_directions(d, labels, k)
        .chunks_exact(d)
        .map(|c| c.iter().map(|&v| v as f32).collect())
        .collect();
    // Each row's cosine to its cluster's direction, in one pass over the rows.
    let mut cosine = vec![0.0f32; n];
    data.view().for_each_row(d, |i, row| {
        cosine[i] = row.iter().zip(&dirs[labels[i]]).map(|(a, b)| a * b).sum();
    });
    (0..k)
        .map(|c| {
            let dir = &dirs[c];
            let mut scored: Vec<(f32, usize)> =
                members[c].iter().map(|&i| (cosine[i], i)).collect();
            let cohesion = if scored.is_empty() {
                0.0
            } else {
                scored.iter().map(|s| s.0).sum::<f32>() / scored.len() as f32
            };
            scored.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
            let mut seen = std::collections::HashSet::new();
            let examples = scored
                .iter()
                .filter(|(_, i)| match &corpus.texts {
                    Some(t) => seen.insert(t[*i].as_str()),
                    None => true,
                })
                .take(EXAMPLES)
                .map(|&(sim, i)| Example {
                    row: i,
                    id: corpus.ids[i].clone(),
                    text: corpus
                        .texts
                        .as_ref()
                        .map_or_else(String::new, |t| snippet(&t[i])),
                    similarity: sim,
                })
                .collect();
            let mut neighbours: Vec<NeighbourCluster> = (0..k)
                .filter(|&o| o != c)
                .map(|o| NeighbourCluster {
                    id: o,
                    similarity: dir.iter().zip(&dirs[o]).map(|(a, b)| a * b).sum(),
                })
                .collect();
            neighbours.sort_by(|a, b| b.similarity.total_cmp(&a.similarity).then(a.id.cmp(&b.id)));
            neighbours.truncate(3);
            let kw = words.get(c).cloned().unwrap_or_default();
            let label = if kw.is_empty() {
                format!("cluster {c}")
            } else {
                short_label(&kw, 3)
            };
            ClusterSummary {
                id: c,
                size: members[c].len(),
                share: members[c].len() as f64 / n as f64,
                cohesion,
                examples,
                keywords: kw,
                label,
                neighbours,
                label_source: LabelSource::Keywords,
                label_reason: None,
            }
        })
        .collect()
}

/// Replaces the keyword labels by the model's where it answers; records why where it does not.
pub fn apply_llm_labels(clusters: &mut [ClusterSummary], params: &LlmParams) -> Result<()> {
    let words: Vec<Vec<Keyword>> = clusters.iter().map(|c| c.keywords.clone()).collect();
    let topics = topic_inputs(&words, Some(clusters));
    let fallback: Vec<String> = clusters.iter().map(|c| c.label.clone()).collect();
    for (c, l) in clusters
        .iter_mut()
        .zip(llm_labels(&topics, &fallback, params)?)
    {
        c.label = l.label;
        c.label_source = l.source;
        c.label_reason = l.reason;
    }
    Ok(())
}

/// What a language model is shown of each cluster: its keyword terms and, where summaries are
/// given, the texts of its representative documents.
pub fn topic_inputs(
    words: &[Vec<Keyword>],
    summaries: Option<&[ClusterSummary]>,
) -> Vec<TopicInput> {
    words
        .iter()
        .enumerate()
        .map(|(c, w)| TopicInput {
            keywords: w.iter().map(|k| k.term.clone()).collect(),
            documents: summaries
                .and_then(|s| s.get(c))
                .map(|s| s.examples.iter().map(|e| e.text.clone()).collect())
                .unwrap_or_default(),
        })
        .collect()
}

/// The first 300 characters, with an ellipsis when cut.
pub fn snippet(text: &str) -> String {
    snippet_of(text, SNIPPET_CHARS)
}

/// The first `chars` characters, with an ellipsis when cut.
pub(crate) fn snippet_of(text: &str, chars: usize) -> String {
    match text.char_indices().nth(chars) {
        Some((at, _)) => format!("{}…", &text[..at]),
        None => text.to_string(),
    }
}
