//! The verdict: each section's measured value against its limit, and what to do where it
//! fails.

use serde::Serialize;

use crate::queries::QueryReport;

use super::duplicates::DuplicatesSummary;
use super::health::HealthSection;
use super::noise::NoiseSummary;
use super::retrieval::RetrievalSummary;
use crate::error::{Error, Result};
use crate::health::HealthReport;
use crate::stability::StabilityReport;

/// Limits the verdict checks. Defaults: at most 10% of rows removable as duplicates, at most
/// half the corpus HDBSCAN noise, recall@10 at least 0.80 at nprobe 3.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct VerdictThresholds {
    /// Largest duplicate share allowed.
    pub max_duplicate_share: f64,
    /// Largest noise share allowed.
    pub max_noise_share: f64,
    /// Smallest recall@10 of cluster-based retrieval allowed, at `nprobe`.
    pub min_recall: f64,
    /// The nprobe the recall is checked at.
    pub nprobe: usize,
    /// With queries: the largest share of them that may be coverage gaps.
    pub max_gap_share: f64,
    /// With queries: the smallest recall@10 of cluster retrieval on them, at `nprobe`.
    pub min_query_recall: f64,
    /// With queries: the largest share of documents in no query's top 10 (1: not checked;
    /// mind the floor few queries set, `queries.content.dead_floor`).
    pub max_dead_share: f64,
}

impl VerdictThresholds {
    /// Each share in [0, 1], `nprobe` at least 1.
    pub fn check(&self) -> Result<()> {
        check_limits(
            &[
                ("max_duplicate_share", self.max_duplicate_share),
                ("max_noise_share", self.max_noise_share),
                ("min_recall", self.min_recall),
                ("max_gap_share", self.max_gap_share),
                ("min_query_recall", self.min_query_recall),
                ("max_dead_share", self.max_dead_share),
            ],
            self.nprobe,
        )
    }
}

/// Verdict limits: each share in [0, 1], the nprobe at least 1 (the audit's and the
/// comparison's).
pub(crate) fn check_limits(shares: &[(&'static str, f64)], nprobe: usize) -> Result<()> {
    for &(name, v) in shares {
        if !(0.0..=1.0).contains(&v) {
            return Err(Error::param(name, v, "must be in [0, 1]"));
        }
    }
    if nprobe == 0 {
        return Err(Error::param("nprobe", 0, "must be at least 1"));
    }
    Ok(())
}

impl Check {
    /// `value` against `limit` (`op` `<=` or `>=`; a measured value within 1e-12 of the limit
    /// holds); not measured when `value` is None.
    pub(crate) fn new(name: &str, value: Option<f64>, op: &str, limit: f64) -> Check {
        let pass = value.map(|v| {
            if op == "<=" {
                v <= limit + 1e-12
            } else {
                v >= limit - 1e-12
            }
        });
        Check {
            name: name.into(),
            value,
            op: op.into(),
            limit,
            pass,
        }
    }
}

/// The names of the checks that failed.
pub(crate) fn failed_checks(checks: &[Check]) -> Vec<String> {
    checks
        .iter()
        .filter(|c| c.pass == Some(false))
        .map(|c| c.name.clone())
        .collect()
}

impl Default for VerdictThresholds {
    fn default() -> Self {
        VerdictThresholds {
            max_duplicate_share: 0.10,
            max_noise_share: 0.50,
            min_recall: 0.80,
            nprobe: 3,
            max_gap_share: 0.20,
            min_query_recall: 0.70,
            max_dead_share: 1.0,
        }
    }
}

/// One check of the verdict.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct Check {
    /// What is checked.
    pub name: String,
    /// The measured value (None: that stage did not run).
    pub value: Option<f64>,
    /// `<=` or `>=`.
    pub op: String,
    /// The limit.
    pub limit: f64,
    /// Whether it holds (None: not measured).
    pub pass: Option<bool>,
}

/// Pass or fail against [`VerdictThresholds`].
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct Verdict {
    /// Every measured check holds.
    pub pass: bool,
    /// Names of the failed checks.
    pub failed: Vec<String>,
    /// All checks.
    pub checks: Vec<Check>,
    /// The limits used.
    pub thresholds: VerdictThresholds,
}

/// The verdict over the measured sections.
pub(super) fn verdict(
    t: &VerdictThresholds,
    health: Option<&HealthReport>,
    duplicates: Option<&DuplicatesSummary>,
    noise: Option<&NoiseSummary>,
    retrieval: Option<&RetrievalSummary>,
    queries: Option<&QueryReport>,
) -> Verdict {
    let check = Check::new;
    // The chunk-health checks first (their limits are the health parameters'), named
    // "chunks: ..." so that the verdict line says where they come from.
    let mut checks: Vec<Check> = health
        .map(|h| {
            h.checks
                .iter()
                .map(|c| Check {
                    name: format!("chunks: {}", c.name),
                    value: c.value,
                    op: c.op.clone(),
                    limit: c.limit,
                    pass: c.pass,
                })
                .collect()
        })
        .unwrap_or_default();
    checks.extend([
        check(
            "duplicate share",
            duplicates.map(|d| d.share),
            "<=",
            t.max_duplicate_share,
        ),
        check(
            "noise share",
            noise.map(|n| n.noise_share),
            "<=",
            t.max_noise_share,
        ),
        check(
            &format!("retrieval recall@10 at nprobe {}", t.nprobe),
            retrieval.map(|r| r.recall),
            ">=",
            t.min_recall,
        ),
    ]);
    if let Some(q) = queries {
        checks.extend([
            check(
                "query gap share",
                Some(q.coverage.gap_share),
                "<=",
                t.max_gap_share,
            ),
            check(
                &format!("query recall@10 at nprobe {}", t.nprobe),
                q.retrieval
                    .per_nprobe
                    .iter()
                    .find(|p| p.nprobe == t.nprobe)
                    .map(|p| p.recall),
                ">=",
                t.min_query_recall,
            ),
            check(
                "dead document share",
                Some(q.content.dead_share),
                "<=",
                t.max_dead_share,
            ),
        ]);
    }
    let failed = failed_checks(&checks);
    Verdict {
        pass: failed.is_empty(),
        failed,
        checks,
        thresholds: t.clone(),
    }
}

/// A sentence for each failed check: what it means and what to do.
pub(super) fn verdict_notes(
    v: &Verdict,
    duplicates: Option<&DuplicatesSummary>,
    noise: Option<&NoiseSummary>,
    retrieval: Option<&RetrievalSummary>,
) -> Vec<String> {
    let t = &v.thresholds;
    let mut notes = Vec::new();
    if let Some(d) = duplicates.filter(|d| d.share > t.max_duplicate_share) {
        let slots = retrieval
            .and_then(|r| r.dedup)
            .map(|i| {
                format!(
                    " here they hold {:.1}% of the exact top-10 slots;",
                    100.0 * i.before.redundant_share
                )
            })
            .unwrap_or_default();
        notes.push(format!(
            "{:.1}% of the documents are duplicates (cosine >= {} or equal text), above the {:.0}% limit: they crowd result lists with copies of one answer;{slots} `embedscope dedup --deduplicated FILE` writes the corpus without them.",
            100.0 * d.share,
            d.threshold,
            100.0 * t.max_duplicate_share
        ));
    }
    if let Some(n) = noise.filter(|n| n.noise_share > t.max_noise_share) {
        notes.push(format!(
            "{:.1}% of the documents are HDBSCAN noise, above the {:.0}% limit: much of the corpus belongs to no dense topic (very short or generic texts, or too fine a min_cluster_size).",
            100.0 * n.noise_share,
            100.0 * t.max_noise_share
        ));
    }
    if let Some(r) = retrieval.filter(|r| r.recall < t.min_recall) {
        let enough = r.per_nprobe.iter().find(|p| p.recall >= t.min_recall);
        notes.push(format!(
            "Cluster-based retrieval at nprobe {} finds {:.1}% of the exact top {}, below the {:.0}% limit; {}",
            r.nprobe,
            100.0 * r.recall,
            r.top_k,
            100.0 * t.min_recall,
            match enough {
                Some(p) => format!(
                    "nprobe {} reaches {:.1}% scanning {:.1}% of the corpus.",
                    p.nprobe,
                    100.0 * p.recall,
                    100.0 * p.scanned_fraction
                ),
                None => "no nprobe up to 16 does: use exact search or more cells per probe.".into(),
            }
        ));
    }
    notes
}

/// What to do about each failed chunk-health check, as notes.
pub(super) fn health_notes(health: Option<&HealthSection>) -> Vec<String> {
    let Some(h) = health else { return Vec::new() };
    h.report
        .checks
        .iter()
        .filter(|c| c.pass == Some(false))
        .map(|c| {
            format!(
                "Chunks: {} is {:.3}, above the {} limit: {}.",
                c.name,
                c.value.unwrap_or(f64::NAN),
                c.limit,
                c.advice
            )
        })
        .collect()
}

/// What the stability check says a reader should know: unstable clusters, and a K the
/// resamples do not agree on.
pub(super) fn stability_notes(stability: Option<&StabilityReport>) -> Vec<String> {
    let Some(s) = stability else {
        return Vec::new();
    };
    let mut notes = Vec::new();
    if s.unstable_clusters > 0 {
        let ids: Vec<String> = s
            .clusters
            .iter()
            .filter(|c| c.unstable)
            .map(|c| format!("{} ({:.2})", c.cluster, c.stability))
            .collect();
        notes.push(format!(
            "{} of {} clusters ({:.1}% of the documents) are unstable: their best match in other seeds and resamples has a mean Jaccard below {} (cluster {}). Treat them as an accident of the run, not as topics; fewer clusters or a reduction (--umap-dims 5) may give stabler ones.",
            s.unstable_clusters,
            s.clusters.len(),
            100.0 * s.unstable_rows_share,
            s.unstable_below,
            ids.join(", ")
        ));
    }
    if s.k_resamples > 0 && s.k_share(s.k) < 0.6 {
        notes.push(format!(
            "How many clusters is uncertain: the silhouette sweep picks {} (K = {} here).",
            s.k_vote_text(),
            s.k
        ));
    }
    notes
}
