//! The two audits side by side: which embedding (or which snapshot) separates the corpus
//! better, holds more duplicates and noise, and serves cluster retrieval better; and the two
//! maps, each point knowing its document's cluster on the other side, so that a cluster picked
//! on one map lights up on the other.

use std::collections::HashMap;

use serde::Serialize;

use crate::audit::{Audit, ProbeRecall};
use crate::cluster::label_agreement;
use crate::io::Corpus;

/// One side's audit in a few numbers.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct SideAudit {
    /// Rows audited.
    pub rows: usize,
    /// Vector dimension.
    pub dim: usize,
    /// The K the silhouette sweep picked.
    pub chosen_k: usize,
    /// Its silhouette.
    pub silhouette: f64,
    /// HDBSCAN's noise share (None: the noise section did not run).
    pub noise_share: Option<f64>,
    /// HDBSCAN's cluster count.
    pub hdbscan_clusters: Option<usize>,
    /// Share of rows removable as near duplicates.
    pub duplicate_share: Option<f64>,
    /// Cluster-retrieval recall@10 against exact search at each nprobe.
    pub recall: Vec<ProbeRecall>,
    /// The audit's IVF lists.
    pub nlist: Option<usize>,
    /// Skewness of the k-occurrence distribution (hubness; lower is better).
    pub hub_skewness: Option<f64>,
    /// Share of documents in no other document's top 10.
    pub orphan_share: Option<f64>,
    /// V-measure of the K-Means clusters against the label column (None: no labels).
    pub v_measure: Option<f64>,
    /// NMI against the label column.
    pub label_nmi: Option<f64>,
    /// Whether the audit's verdict passed.
    pub verdict_pass: bool,
}

/// A metric on both sides and which side does better by it.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct SideMetric {
    /// What is measured.
    pub name: String,
    /// A's value.
    pub a: Option<f64>,
    /// B's value.
    pub b: Option<f64>,
    /// `b - a`.
    pub change: Option<f64>,
    /// Whether a higher value is better.
    pub higher_is_better: bool,
    /// `"a"`, `"b"` or `"tie"` (within 0.005), None when a side lacks it.
    pub better: Option<String>,
}

/// Both audits side by side.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct SideBySide {
    /// A's audit.
    pub a: SideAudit,
    /// B's audit.
    pub b: SideAudit,
    /// The metrics paired, with the better side of each.
    pub metrics: Vec<SideMetric>,
}

fn side(audit: &Audit, corpus: &Corpus) -> SideAudit {
    let r = audit.retrieval.as_ref();
    let hub = r.and_then(|r| r.hubness.as_ref());
    let agreement = corpus
        .labels
        .as_ref()
        .filter(|l| l.len() == audit.labels.len())
        .map(|l| label_agreement(l, &audit.labels));
    SideAudit {
        rows: audit.corpus.rows,
        dim: audit.corpus.dim,
        chosen_k: audit.optimal_k.chosen_k,
        silhouette: audit.optimal_k.chosen_silhouette(),
        noise_share: audit.noise.as_ref().map(|n| n.noise_share),
        hdbscan_clusters: audit.noise.as_ref().map(|n| n.n_clusters),
        duplicate_share: audit.duplicates.as_ref().map(|d| d.share),
        recall: r.map_or_else(Vec::new, |r| r.per_nprobe.clone()),
        nlist: r.map(|r| r.nlist),
        hub_skewness: hub.map(|h| h.skewness),
        orphan_share: hub.map(|h| h.orphan_share),
        v_measure: agreement.map(|a| a.v_measure),
        label_nmi: agreement.map(|a| a.nmi),
        verdict_pass: audit.verdict.pass,
    }
}

/// The recall at `nprobe` (None when the retrieval section did not run or skipped it).
pub(super) fn recall_at(s: &SideAudit, nprobe: usize) -> Option<f64> {
    s.recall
        .iter()
        .find(|p| p.nprobe == nprobe)
        .map(|p| p.recall)
}

pub(super) fn side_by_side(
    a: (&Corpus, &Audit),
    b: (&Corpus, &Audit),
    nprobe: usize,
) -> SideBySide {
    let (sa, sb) = (side(a.1, a.0), side(b.1, b.0));
    let metric = |name: &str, x: Option<f64>, y: Option<f64>, higher: bool| {
        let better = x.zip(y).map(|(x, y)| {
            if (x - y).abs() < 0.005 {
                "tie".to_string()
            } else if (y > x) == higher {
                "b".into()
            } else {
                "a".into()
            }
        });
        SideMetric {
            name: name.into(),
            a: x,
            b: y,
            change: x.zip(y).map(|(x, y)| y - x),
            higher_is_better: higher,
            better,
        }
    };
    let metrics = vec![
        metric("silhouette", Some(sa.silhouette), Some(sb.silhouette), true),
        metric(
            &format!("recall@10 at nprobe {nprobe}"),
            recall_at(&sa, nprobe),
            recall_at(&sb, nprobe),
            true,
        ),
        metric(
            "duplicate share",
            sa.duplicate_share,
            sb.duplicate_share,
            false,
        ),
        metric("noise share", sa.noise_share, sb.noise_share, false),
        metric("hub skewness", sa.hub_skewness, sb.hub_skewness, false),
        metric("orphan share", sa.orphan_share, sb.orphan_share, false),
        metric("V-measure vs labels", sa.v_measure, sb.v_measure, true),
    ];
    SideBySide {
        a: sa,
        b: sb,
        metrics,
    }
}

/// One side's map as the compare report draws it: each point's own cluster and its
/// document's cluster on the other side (-1: not there).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LinkedMap {
    /// x of each point.
    pub x: Vec<f32>,
    /// y of each point.
    pub y: Vec<f32>,
    /// The point's cluster on its own side.
    pub cluster: Vec<usize>,
    /// Its document's cluster on the other side (-1: the id is not there).
    pub other: Vec<i64>,
    /// Hover text.
    pub hover: Vec<String>,
}

/// Both maps, linked by id (None on a side whose audit drew no map).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LinkedMaps {
    /// A's map.
    pub a: Option<LinkedMap>,
    /// B's map.
    pub b: Option<LinkedMap>,
}

pub(super) fn linked_maps(a: (&Corpus, &Audit), b: (&Corpus, &Audit)) -> LinkedMaps {
    let one = |own: (&Corpus, &Audit), other: (&Corpus, &Audit)| {
        let map = own.1.map.as_ref()?;
        let row: HashMap<&str, usize> = other
            .0
            .ids
            .iter()
            .enumerate()
            .map(|(i, id)| (id.as_str(), i))
            .collect();
        Some(LinkedMap {
            x: map.points.iter().map(|p| p[0]).collect(),
            y: map.points.iter().map(|p| p[1]).collect(),
            cluster: map.rows.iter().map(|&r| own.1.labels[r]).collect(),
            other: map
                .rows
                .iter()
                .map(|&r| {
                    row.get(own.0.ids[r].as_str())
                        .map_or(-1, |&j| other.1.labels[j] as i64)
                })
                .collect(),
            hover: map.hover(),
        })
    };
    LinkedMaps {
        a: one(a, b),
        b: one(b, a),
    }
}
