//! The audit's chunk-health section: [`crate::health`]'s findings, plus what needs the
//! clusters (the clusters with most truncated chunks, the clusters that are one language).

use serde::Serialize;

use super::ClusterSummary;
use crate::health::HealthReport;

/// A cluster's truncated chunks.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct ClusterTruncation {
    /// Cluster id.
    pub cluster: usize,
    /// Its label.
    pub label: String,
    /// Its size.
    pub size: usize,
    /// Chunks in it over the token limit.
    pub truncated: usize,
    /// `truncated` over `size`.
    pub share: f64,
}

/// A cluster whose chunks are mostly in one language other than the corpus' main one.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct ClusterLanguage {
    /// Cluster id.
    pub cluster: usize,
    /// Its label.
    pub label: String,
    /// Its size.
    pub size: usize,
    /// The language's ISO 639-3 code.
    pub language: String,
    /// Share of the cluster's chunks of known language that are in it.
    pub share: f64,
}

/// What `strip_boilerplate` removed before embedding.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct Stripped {
    /// Chunks whose text changed.
    pub chunks: usize,
    /// Characters removed in all.
    pub characters: usize,
}

/// A cluster of the corpus as it was, before its boilerplate was stripped.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct UnstrippedCluster {
    /// Its id in the unstripped clustering (largest first).
    pub cluster: usize,
    /// Rows (of those the K sweep ran on).
    pub size: usize,
    /// Share of its chunks that carried boilerplate.
    pub boilerplate_share: f64,
    /// The audit's cluster (of the stripped texts) that matches it best.
    pub best_match: usize,
    /// Their Jaccard similarity (1: the same cluster; low: it fell apart when the boilerplate
    /// went, so the boilerplate was what held it together).
    pub jaccard: f64,
}

/// What stripping the boilerplate did to the clusters: K-Means at the same K, seed and rows
/// on the vectors of the texts as they were (only the changed chunks embedded again).
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct StripEffect {
    /// The K both clusterings have.
    pub k: usize,
    /// Rows compared (the K sweep's).
    pub rows: usize,
    /// Mean cosine between each changed chunk's vector before and after stripping.
    pub mean_cosine_changed: f64,
    /// Adjusted Rand index between the clusterings with and without the boilerplate.
    pub ari: f64,
    /// The unstripped clusters, those that carried most boilerplate first.
    pub clusters: Vec<UnstrippedCluster>,
}

/// The unstripped clustering `before` against the audit's `after` (same rows; `k` clusters
/// each); `boilerplate` says which of those rows carried boilerplate.
pub(super) fn strip_effect(
    before: &[usize],
    after: &[usize],
    k: usize,
    boilerplate: &[bool],
    mean_cosine_changed: f64,
) -> StripEffect {
    let k_before = before.iter().copied().max().map_or(0, |m| m + 1);
    let mut size = vec![0usize; k_before];
    let mut carried = vec![0usize; k_before];
    for (&c, &b) in before.iter().zip(boilerplate) {
        size[c] += 1;
        carried[c] += usize::from(b);
    }
    let matches = crate::stability::best_match(before, k_before, after);
    let mut clusters: Vec<UnstrippedCluster> = (0..k_before)
        .filter(|&c| size[c] > 0)
        .map(|c| {
            let (best, jaccard) = matches[c].unwrap_or((0, 0.0));
            UnstrippedCluster {
                cluster: c,
                size: size[c],
                boilerplate_share: carried[c] as f64 / size[c] as f64,
                best_match: best,
                jaccard,
            }
        })
        .collect();
    clusters.sort_by(|a, b| {
        b.boilerplate_share
            .total_cmp(&a.boilerplate_share)
            .then(a.cluster.cmp(&b.cluster))
    });
    StripEffect {
        k,
        rows: before.len(),
        mean_cosine_changed,
        ari: crate::cluster::label_agreement(before, after).ari,
        clusters,
    }
}

/// Chunk health in the audit.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct HealthSection {
    /// The boilerplate removed before embedding (absent unless stripped; the vectors were
    /// made from the stripped texts).
    pub stripped: Option<Stripped>,
    /// What stripping did to the clusters (absent unless stripped before embedding).
    pub strip_effect: Option<StripEffect>,
    /// The findings and checks of `embedscope health`.
    #[serde(flatten)]
    pub report: HealthReport,
    /// Up to 10 clusters with the largest share of truncated chunks (those with any).
    pub truncated_clusters: Vec<ClusterTruncation>,
    /// Clusters at least 80% in one language other than the main one: an English model
    /// groups by language before topic.
    pub language_clusters: Vec<ClusterLanguage>,
}

/// The health report with what needs the clusters.
pub(super) fn health(
    report: HealthReport,
    stripped: Option<Stripped>,
    strip_effect: Option<StripEffect>,
    labels: &[usize],
    clusters: &[ClusterSummary],
) -> HealthSection {
    let k = clusters.len();
    let label_of = |c: usize| {
        clusters
            .get(c)
            .map_or_else(String::new, |s| s.label.clone())
    };
    let mut size = vec![0usize; k];
    let mut truncated = vec![0usize; k];
    let mut langs: Vec<Vec<(&'static str, usize)>> = vec![Vec::new(); k];
    for (row, h) in report.per_row().iter().enumerate() {
        let Some(&c) = labels.get(row) else { continue };
        if c >= k {
            continue;
        }
        size[c] += 1;
        truncated[c] += usize::from(h.truncated);
        if let Some(code) = h.language {
            match langs[c].iter_mut().find(|l| l.0 == code) {
                Some(l) => l.1 += 1,
                None => langs[c].push((code, 1)),
            }
        }
    }
    let mut truncated_clusters: Vec<ClusterTruncation> = (0..k)
        .filter(|&c| truncated[c] > 0)
        .map(|c| ClusterTruncation {
            cluster: c,
            label: label_of(c),
            size: size[c],
            truncated: truncated[c],
            share: truncated[c] as f64 / size[c].max(1) as f64,
        })
        .collect();
    truncated_clusters.sort_by(|a, b| {
        b.share
            .total_cmp(&a.share)
            .then(b.truncated.cmp(&a.truncated))
            .then(a.cluster.cmp(&b.cluster))
    });
    truncated_clusters.truncate(10);
    let main = report.languages.main.clone();
    let language_clusters = (0..k)
        .filter_map(|c| {
            let known: usize = langs[c].iter().map(|l| l.1).sum();
            let top = langs[c]
                .iter()
                .max_by(|a, b| a.1.cmp(&b.1).then(b.0.cmp(a.0)))?;
            let share = top.1 as f64 / known.max(1) as f64;
            (known >= 5 && share >= 0.8 && Some(top.0) != main.as_deref()).then(|| {
                ClusterLanguage {
                    cluster: c,
                    label: label_of(c),
                    size: size[c],
                    language: top.0.to_string(),
                    share,
                }
            })
        })
        .collect();
    HealthSection {
        stripped,
        strip_effect,
        report,
        truncated_clusters,
        language_clusters,
    }
}
