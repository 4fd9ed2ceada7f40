//! The audit's duplicates section: near pairs counted at several thresholds, exact-text
//! groups, what removal would take, and the pairs and groups worth a look.

use serde::Serialize;

use super::text_of;
use crate::dedup::{self, Dedup, Pair, PairRecall, TextNorm};
use crate::embeddings::Embeddings;
use crate::error::Result;
use crate::io::Corpus;

/// Near-duplicate counts at one threshold.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct ThresholdCount {
    /// Cosine.
    pub threshold: f64,
    /// Pairs at or above it.
    pub pairs: usize,
    /// Groups they form (union-find).
    pub groups: usize,
    /// Rows in those groups.
    pub rows_in_groups: usize,
    /// Rows that keeping one per group would remove.
    pub removable: usize,
}

/// Two near-duplicate documents side by side.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct PairView {
    /// Cosine similarity.
    pub cosine: f32,
    /// First row (absent when the audit was assembled from a cluster's results, where rows are
    /// known by id: `Audit::merge`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub row_a: Option<usize>,
    /// Second row (absent as `row_a`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub row_b: Option<usize>,
    /// Their ids.
    pub id_a: String,
    /// Their ids.
    pub id_b: String,
    /// Their texts (start).
    pub text_a: String,
    /// Their texts (start).
    pub text_b: String,
}

/// A duplicate group, summarised.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct GroupView {
    /// Rows in it.
    pub size: usize,
    /// The row kept (the first; absent when the audit was assembled from a cluster's results,
    /// where rows are known by id: `Audit::merge`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kept: Option<usize>,
    /// Up to 10 of its rows (empty when rows are known by id).
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub rows: Vec<usize>,
    /// The id of the document kept.
    pub kept_id: String,
    /// Up to 10 of its ids.
    pub ids: Vec<String>,
    /// Up to 3 distinct texts of it (start).
    pub examples: Vec<String>,
}

/// Counts in equal bins.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct Histogram {
    /// Left edge of each bin.
    pub bin_left_edges: Vec<f64>,
    /// Values per bin.
    pub counts: Vec<usize>,
    /// Values below the first bin.
    pub below: usize,
}

/// What is duplicated: exact texts and near duplicates by cosine.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct DuplicatesSummary {
    /// `exact` (every pair) or `clustered` (within and between neighbouring cells).
    pub mode: String,
    /// The clustered mode's recall against exact, measured on a sample of rows.
    pub recall: Option<PairRecall>,
    /// The threshold removal and the verdict use.
    pub threshold: f64,
    /// Counts at 0.90, 0.95, 0.99 (and the threshold).
    pub per_threshold: Vec<ThresholdCount>,
    /// Groups of equal texts (trimmed, whitespace collapsed, lowercased).
    pub exact_text_groups: Option<usize>,
    /// Rows keeping one per exact-text group would remove.
    pub exact_text_removable: Option<usize>,
    /// Rows removed keeping the first of each group (near groups at `threshold` and exact-text
    /// groups joined).
    pub removable: usize,
    /// `removable / rows`: the duplicate share the verdict checks.
    pub share: f64,
    /// The most similar pairs whose texts differ (exact copies are counted above).
    pub top_pairs: Vec<PairView>,
    /// The pairs just above the threshold: what it lets in at the margin.
    pub borderline_pairs: Vec<PairView>,
    /// The largest groups.
    pub largest_groups: Vec<GroupView>,
    /// Each row's nearest-neighbour cosine, 25 bins over [0.5, 1] (exact mode only).
    pub nearest_cosine: Option<Histogram>,
    /// Pairs at the lowest threshold (for the Parquet table).
    #[serde(skip)]
    pub pairs: Vec<Pair>,
    /// Group of each row at `threshold` (None: in no group).
    #[serde(skip)]
    pub group_of: Vec<Option<usize>>,
    /// Whether each row stays after removal.
    #[serde(skip)]
    pub kept: Vec<bool>,
    /// Every document the removal policy drops, group by group: what the report's duplicate
    /// review starts from and downloads.
    #[serde(skip)]
    pub drops: Vec<DropRow>,
}

/// A document the removal policy drops.
#[derive(Debug, Clone, PartialEq)]
pub struct DropRow {
    /// Its row (absent when the audit was assembled from a cluster's results, which know ids).
    pub row: Option<usize>,
    /// Its id.
    pub id: String,
    /// Its removal group (the index in the policy's groups).
    pub group: usize,
    /// The id of the document its group keeps.
    pub kept_id: String,
}

impl DropRow {
    /// Every document the removal groups drop: each group's members after its first (the one
    /// it keeps), group by group. `id` and `row` read a member (a row of the local audit, an id
    /// of one assembled from a cluster's results).
    pub(crate) fn of_groups<T>(
        groups: &[Vec<T>],
        id: impl Fn(&T) -> String,
        row: impl Fn(&T) -> Option<usize>,
    ) -> Vec<DropRow> {
        let mut drops = Vec::new();
        for (group, g) in groups.iter().enumerate() {
            let kept_id = id(&g[0]);
            drops.extend(g[1..].iter().map(|m| DropRow {
                row: row(m),
                id: id(m),
                group,
                kept_id: kept_id.clone(),
            }));
        }
        drops
    }
}

impl DuplicatesSummary {
    /// The clustered search's pair recall as an estimate (a share over the exact pairs it was
    /// measured on), for the sampling section; `None` when not measured or no pair was met.
    pub fn recall_estimate(&self) -> Option<super::Estimate> {
        self.recall.as_ref().and_then(|r| {
            r.recall
                .map(|p| super::Estimate::share(p, r.exact_pairs, usize::MAX))
        })
    }
}

/// Finds exact and near duplicates (see [`DuplicatesSummary`]): one search at the lowest
/// threshold shown (exact, or clustered above [`dedup::CLUSTERED_ABOVE_ROWS`] rows), counted at
/// each, and removal groups at `threshold`.
pub(super) fn duplicates(
    corpus: &Corpus,
    data: &Embeddings,
    threshold: f64,
    seed: u64,
    train_per_list: usize,
) -> Result<DuplicatesSummary> {
    let n = data.rows();
    let mut thresholds = vec![0.90, 0.95, 0.99];
    if !thresholds.contains(&threshold) {
        thresholds.push(threshold);
        thresholds.sort_by(f64::total_cmp);
    }
    let lowest = thresholds[0];
    let found = Dedup::params(lowest)
        .seed(seed)
        .train_per_list(train_per_list)
        .run(data, corpus.texts.as_deref())?;
    let at = |t: f64| found.pairs.iter().filter(move |p| f64::from(p.cosine) >= t);
    let per_threshold = thresholds
        .iter()
        .map(|&t| {
            let groups = dedup::groups(n, at(t).map(|p| (p.row_a, p.row_b)));
            ThresholdCount {
                threshold: t,
                pairs: at(t).count(),
                groups: groups.len(),
                rows_in_groups: groups.iter().map(Vec::len).sum(),
                removable: groups.iter().map(|g| g.len() - 1).sum(),
            }
        })
        .collect();
    let exact = found.exact_groups.as_deref();
    let groups = dedup::removal_groups(n, at(threshold).map(|p| (p.row_a, p.row_b)), exact);
    let mut group_of = vec![None; n];
    let mut kept = vec![true; n];
    for (gi, g) in groups.iter().enumerate() {
        for &r in g {
            group_of[r] = Some(gi);
            kept[r] = r == g[0];
        }
    }
    let removable = kept.iter().filter(|k| !**k).count();
    let drops = DropRow::of_groups(&groups, |&r| corpus.ids[r].clone(), |&r| Some(r));
    let (top_pairs, borderline_pairs) = pair_views(corpus, at(threshold));
    let nearest_cosine = found.nearest.as_ref().map(|v| {
        let (edges, counts) = dedup::histogram(v, 0.5, 1.0, 25);
        Histogram {
            bin_left_edges: edges,
            counts,
            below: v.iter().filter(|&&c| c < 0.5).count(),
        }
    });
    let redundant = |g: &[Vec<usize>]| g.iter().map(|x| x.len() - 1).sum::<usize>();
    Ok(DuplicatesSummary {
        mode: if found.clustered() {
            "clustered"
        } else {
            "exact"
        }
        .into(),
        recall: found.recall,
        threshold,
        per_threshold,
        exact_text_groups: exact.map(<[_]>::len),
        exact_text_removable: exact.map(redundant),
        removable,
        share: removable as f64 / n as f64,
        top_pairs,
        borderline_pairs,
        largest_groups: group_views(corpus, &groups),
        nearest_cosine,
        pairs: found.pairs,
        group_of,
        kept,
        drops,
    })
}

/// The ten most similar pairs whose texts differ, and the ten nearest the threshold.
fn pair_views<'p>(
    corpus: &Corpus,
    pairs: impl Iterator<Item = &'p Pair>,
) -> (Vec<PairView>, Vec<PairView>) {
    let view = |p: &Pair| PairView {
        cosine: p.cosine,
        row_a: Some(p.row_a),
        row_b: Some(p.row_b),
        id_a: corpus.ids[p.row_a].clone(),
        id_b: corpus.ids[p.row_b].clone(),
        text_a: text_of(corpus, p.row_a),
        text_b: text_of(corpus, p.row_b),
    };
    let norm = TextNorm::default();
    let differ = |p: &&Pair| match &corpus.texts {
        Some(t) => norm.apply(&t[p.row_a]) != norm.apply(&t[p.row_b]),
        None => true,
    };
    let mut ranked: Vec<&Pair> = pairs.filter(differ).collect();
    ranked.sort_by(|a, b| {
        b.cosine
            .total_cmp(&a.cosine)
            .then((a.row_a, a.row_b).cmp(&(b.row_a, b.row_b)))
    });
    let top = ranked.iter().take(10).map(|p| view(p)).collect();
    let borderline = ranked.iter().rev().take(10).map(|p| view(p)).collect();
    (top, borderline)
}

/// The ten largest groups: size, the row kept, rows and up to three distinct texts.
fn group_views(corpus: &Corpus, groups: &[Vec<usize>]) -> Vec<GroupView> {
    let mut by_size: Vec<&Vec<usize>> = groups.iter().collect();
    by_size.sort_by(|a, b| b.len().cmp(&a.len()).then(a[0].cmp(&b[0])));
    by_size
        .iter()
        .take(10)
        .map(|g| {
            let mut seen = std::collections::HashSet::new();
            GroupView {
                size: g.len(),
                kept: Some(g[0]),
                rows: g.iter().take(10).copied().collect(),
                kept_id: corpus.ids[g[0]].clone(),
                ids: g.iter().take(10).map(|&r| corpus.ids[r].clone()).collect(),
                examples: g
                    .iter()
                    .map(|&r| text_of(corpus, r))
                    .filter(|t| seen.insert(t.clone()))
                    .take(3)
                    .collect(),
            }
        })
        .collect()
}
