//! The audit's duplicate, noise and retrieval sections, and the verdict over them.

use serde::Serialize;

use super::{snippet_of, ClusterSummary, Timing};
use crate::cluster::Hdbscan;
use crate::dedup::{self, Pair, PairRecall, TextNorm};
use crate::embeddings::Embeddings;
use crate::error::Result;
use crate::io::Corpus;
use crate::metric::Metric;
use crate::progress::Progress;
use crate::project::Umap;
use crate::retrieve::{evaluate, DedupImpact, RetrievalEvalParams};

/// Characters of a document shown in the sections' tables.
const TEXT_CHARS: usize = 200;
/// Up to this many rows, duplicates are searched exactly; above, in the clustered mode.
const EXACT_DEDUP_MAX_ROWS: usize = 100_000;

fn text_of(corpus: &Corpus, row: usize) -> String {
    corpus
        .texts
        .as_ref()
        .map_or_else(String::new, |t| snippet_of(&t[row], TEXT_CHARS))
}

/// Near-duplicate counts at one threshold.
#[derive(Debug, Clone, PartialEq, Serialize)]
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
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PairView {
    /// Cosine similarity.
    pub cosine: f32,
    /// First row.
    pub row_a: usize,
    /// Second row.
    pub row_b: usize,
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
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GroupView {
    /// Rows in it.
    pub size: usize,
    /// The row kept (the first).
    pub kept: usize,
    /// Up to 10 of its rows.
    pub rows: Vec<usize>,
    /// Up to 3 distinct texts of it (start).
    pub examples: Vec<String>,
}

/// Counts in equal bins.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Histogram {
    /// Left edge of each bin.
    pub bin_left_edges: Vec<f64>,
    /// Values per bin.
    pub counts: Vec<usize>,
    /// Values below the first bin.
    pub below: usize,
}

/// What is duplicated: exact texts and near duplicates by cosine.
#[derive(Debug, Clone, PartialEq, Serialize)]
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
}

/// Finds exact and near duplicates (see [`DuplicatesSummary`]).
pub fn duplicates(
    corpus: &Corpus,
    data: &Embeddings,
    threshold: f64,
    seed: u64,
) -> Result<DuplicatesSummary> {
    let n = data.rows();
    let mut thresholds = vec![0.90, 0.95, 0.99];
    if !thresholds.contains(&threshold) {
        thresholds.push(threshold);
        thresholds.sort_by(f64::total_cmp);
    }
    let lowest = thresholds[0];
    let (mode, pairs, nearest, recall) = if n <= EXACT_DEDUP_MAX_ROWS {
        let s = dedup::scan(data, lowest)?;
        ("exact", s.pairs, Some(s.nearest), None)
    } else {
        let params = dedup::ClusteredParams {
            seed,
            ..Default::default()
        };
        let pairs = dedup::near_duplicates_clustered(data, lowest, &params)?;
        let recall = dedup::pair_recall_sample(data, &pairs, lowest, 2000, seed)?;
        ("clustered", pairs, None, Some(recall))
    };
    let at = |t: f64| pairs.iter().filter(move |p| f64::from(p.cosine) >= t);
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
    let exact = corpus
        .texts
        .as_ref()
        .map(|t| dedup::exact_duplicates(t, &TextNorm::default()));
    let mut links: Vec<(usize, usize)> = at(threshold).map(|p| (p.row_a, p.row_b)).collect();
    for g in exact.iter().flatten() {
        links.extend(g[1..].iter().map(|&r| (g[0], r)));
    }
    let groups = dedup::groups(n, links);
    let mut group_of = vec![None; n];
    let mut kept = vec![true; n];
    for (gi, g) in groups.iter().enumerate() {
        for &r in g {
            group_of[r] = Some(gi);
            kept[r] = r == g[0];
        }
    }
    let removable = kept.iter().filter(|k| !**k).count();
    let view = |p: &Pair| PairView {
        cosine: p.cosine,
        row_a: p.row_a,
        row_b: p.row_b,
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
    let mut ranked: Vec<&Pair> = at(threshold).filter(differ).collect();
    ranked.sort_by(|a, b| {
        b.cosine
            .total_cmp(&a.cosine)
            .then((a.row_a, a.row_b).cmp(&(b.row_a, b.row_b)))
    });
    let top_pairs = ranked.iter().take(10).map(|p| view(p)).collect();
    let borderline_pairs = ranked.iter().rev().take(10).map(|p| view(p)).collect();
    let mut by_size: Vec<&Vec<usize>> = groups.iter().collect();
    by_size.sort_by(|a, b| b.len().cmp(&a.len()).then(a[0].cmp(&b[0])));
    let largest_groups = by_size
        .iter()
        .take(10)
        .map(|g| {
            let mut seen = std::collections::HashSet::new();
            GroupView {
                size: g.len(),
                kept: g[0],
                rows: g.iter().take(10).copied().collect(),
                examples: g
                    .iter()
                    .map(|&r| text_of(corpus, r))
                    .filter(|t| seen.insert(t.clone()))
                    .take(3)
                    .collect(),
            }
        })
        .collect();
    let nearest_cosine = nearest.map(|v| {
        let (edges, counts) = dedup::histogram(&v, 0.5, 1.0, 25);
        Histogram {
            bin_left_edges: edges,
            counts,
            below: v.iter().filter(|&&c| c < 0.5).count(),
        }
    });
    let redundant = |g: &[Vec<usize>]| g.iter().map(|x| x.len() - 1).sum::<usize>();
    Ok(DuplicatesSummary {
        mode: mode.into(),
        recall,
        threshold,
        per_threshold,
        exact_text_groups: exact.as_ref().map(Vec::len),
        exact_text_removable: exact.as_ref().map(|g| redundant(g)),
        removable,
        share: removable as f64 / n as f64,
        top_pairs,
        borderline_pairs,
        largest_groups,
        nearest_cosine,
        pairs,
        group_of,
        kept,
    })
}

/// A document the noise section points at.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OutlierDoc {
    /// Row.
    pub row: usize,
    /// Id.
    pub id: String,
    /// Text (start).
    pub text: String,
    /// GLOSH outlier score (0 inlier .. 1 outlier).
    pub score: f32,
    /// Its K-Means cluster.
    pub cluster: usize,
}

/// Noise and outliers: HDBSCAN on BERTopic's 5-D UMAP reduction.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NoiseSummary {
    /// How it was computed.
    pub method: String,
    /// HDBSCAN `min_cluster_size`.
    pub min_cluster_size: usize,
    /// Dense clusters HDBSCAN found.
    pub n_clusters: usize,
    /// Documents in none of them.
    pub noise: usize,
    /// `noise / rows`: the noise share the verdict checks.
    pub noise_share: f64,
    /// Noise per K-Means cluster: `(cluster, noise rows, share of the cluster)`.
    pub per_cluster: Vec<(usize, usize, f64)>,
    /// The most outlying documents (highest GLOSH score).
    pub outliers: Vec<OutlierDoc>,
    /// HDBSCAN cluster of every row (None: noise).
    #[serde(skip)]
    pub labels: Vec<Option<usize>>,
    /// GLOSH score of every row.
    #[serde(skip)]
    pub scores: Vec<f32>,
}

/// HDBSCAN (`min_cluster_size` 10, BERTopic's default) on the 5-D UMAP reduction (cosine, 15
/// neighbours, `min_dist` 0): the share of documents in no dense region and the most outlying.
pub fn noise(
    corpus: &Corpus,
    data: &Embeddings,
    kmeans: &[usize],
    k: usize,
    seed: u64,
    progress: &dyn Progress,
) -> Result<NoiseSummary> {
    let n = data.rows();
    let nn = 15.min(n - 1);
    let reduced = Umap::params()
        .n_components(5)
        .n_neighbors(nn)
        .min_dist(0.0)
        .seed(seed)
        .fit_with_progress(data, progress)?;
    let mcs = 10.min(n / 2).max(2);
    // The kNN-graph route (memory O(n·k), as the CLI's BERTopic route): the dense all-pairs
    // route would hold 4n² bytes.
    let graph_k = (3 * mcs).max(15).min(n - 1);
    let model = Hdbscan::params()
        .min_cluster_size(mcs)
        .metric(Metric::Euclidean)
        .knn_graph(graph_k)
        .seed(seed)
        .fit(&reduced.points()?)?;
    let labels = model.labels().to_vec();
    let scores = model.outlier_scores().to_vec();
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by(|&a, &b| scores[b].total_cmp(&scores[a]).then(a.cmp(&b)));
    let mut noise_in = vec![0usize; k];
    let mut size = vec![0usize; k];
    for (i, &c) in kmeans.iter().enumerate() {
        size[c] += 1;
        if labels[i].is_none() {
            noise_in[c] += 1;
        }
    }
    Ok(NoiseSummary {
        method: format!(
            "UMAP to 5-D (cosine, n_neighbors = {nn}, min_dist = 0), then HDBSCAN (min_cluster_size = {mcs}, MST over the {graph_k} nearest neighbours), as BERTopic"
        ),
        min_cluster_size: mcs,
        n_clusters: model.n_clusters(),
        noise: model.noise(),
        noise_share: model.noise() as f64 / n as f64,
        per_cluster: (0..k)
            .map(|c| (c, noise_in[c], noise_in[c] as f64 / size[c].max(1) as f64))
            .collect(),
        outliers: order
            .iter()
            .take(15)
            .map(|&r| OutlierDoc {
                row: r,
                id: corpus.ids[r].clone(),
                text: text_of(corpus, r),
                score: scores[r],
                cluster: kmeans[r],
            })
            .collect(),
        labels,
        scores,
    })
}

/// Recall at one nprobe (speed is in the timings).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ProbeRecall {
    /// Cells probed.
    pub nprobe: usize,
    /// recall@k against exact search.
    pub recall: f64,
    /// Average share of the corpus scanned per query.
    pub scanned_fraction: f64,
}

/// Recall for the queries' neighbours in one audit cluster.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ClusterRetrieval {
    /// Audit (K-Means) cluster.
    pub cluster: usize,
    /// Its label.
    pub label: String,
    /// Its indexed rows.
    pub size: usize,
    /// Exact top-k results of the queries that lie in it.
    pub truth_hits: usize,
    /// Recall per nprobe (as [`RetrievalSummary::per_nprobe`]).
    pub recall: Vec<f64>,
}

/// A document and a count.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DocCount {
    /// Row.
    pub row: usize,
    /// Id.
    pub id: String,
    /// Text (start).
    pub text: String,
    /// How many other documents' top-k lists it is in.
    pub count: usize,
}

/// Hubs and orphans, with their texts.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HubSummary {
    /// The k of the lists.
    pub k: usize,
    /// Exact lists (else NN-descent).
    pub exact: bool,
    /// Skewness of the k-occurrence distribution.
    pub skewness: f64,
    /// Documents in no other document's top-k.
    pub orphans: usize,
    /// Their share.
    pub orphan_share: f64,
    /// Share of slots the top 1% of documents take.
    pub top1pct_slot_share: f64,
    /// The strongest hubs.
    pub hubs: Vec<DocCount>,
    /// Some orphans.
    pub orphan_examples: Vec<DocCount>,
}

/// How well cluster-based retrieval (IVF) finds the exact neighbours, on held-out rows.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RetrievalSummary {
    /// Indexed rows.
    pub n_db: usize,
    /// Held-out queries.
    pub n_queries: usize,
    /// Cells.
    pub nlist: usize,
    /// Results per query.
    pub top_k: usize,
    /// The nprobe the verdict checks (the `search` command's default).
    pub nprobe: usize,
    /// recall@k at `nprobe`.
    pub recall: f64,
    /// Recall per nprobe.
    pub per_nprobe: Vec<ProbeRecall>,
    /// Recall per audit cluster, worst first at the smallest nprobe.
    pub per_cluster: Vec<ClusterRetrieval>,
    /// Hubs and orphans.
    pub hubness: Option<HubSummary>,
    /// Near duplicates in the top-k before and after deduplication.
    pub dedup: Option<DedupImpact>,
}

/// What the retrieval section is run with.
#[derive(Debug, Clone, Copy)]
pub struct RetrievalSettings {
    /// The nprobe the verdict checks.
    pub nprobe: usize,
    /// Cosine of near duplicates.
    pub dedup_threshold: f64,
    /// Seed.
    pub seed: u64,
}

/// Runs the retrieval evaluation with the audit's clusters as groups; speeds go to `timings`.
pub fn retrieval(
    corpus: &Corpus,
    data: &Embeddings,
    clusters: &[ClusterSummary],
    kmeans: &[usize],
    settings: RetrievalSettings,
    timings: &mut Vec<Timing>,
) -> Result<RetrievalSummary> {
    let RetrievalSettings {
        nprobe,
        dedup_threshold,
        seed,
    } = settings;
    let mut nprobes = vec![1, 2, 4, 8, 16];
    if !nprobes.contains(&nprobe) {
        nprobes.push(nprobe);
        nprobes.sort_unstable();
    }
    let params = RetrievalEvalParams {
        nprobes,
        seed,
        repeats: 1,
        dedup_threshold: Some(dedup_threshold),
        labels: Some(kmeans.to_vec()),
        ..Default::default()
    };
    let r = evaluate(data, &params)?;
    let nprobe = nprobe.min(r.nlist);
    timings.push(Timing {
        stage: format!("retrieval: index build ({} cells)", r.nlist),
        seconds: r.build_seconds,
        qps: None,
    });
    timings.push(Timing {
        stage: format!("retrieval: exact search, {} queries", r.n_queries),
        seconds: r.n_queries as f64 / r.exact_qps,
        qps: Some(r.exact_qps),
    });
    for p in &r.per_nprobe {
        timings.push(Timing {
            stage: format!("retrieval: nprobe {}, {} queries", p.nprobe, r.n_queries),
            seconds: p.seconds,
            qps: Some(p.qps),
        });
    }
    let recall = r
        .per_nprobe
        .iter()
        .rev()
        .find(|p| p.nprobe <= nprobe)
        .map_or(0.0, |p| p.recall);
    let doc = |row: usize, count: usize| DocCount {
        row,
        id: corpus.ids[row].clone(),
        text: text_of(corpus, row),
        count,
    };
    Ok(RetrievalSummary {
        n_db: r.n_db,
        n_queries: r.n_queries,
        nlist: r.nlist,
        top_k: r.top_k,
        nprobe,
        recall,
        per_nprobe: r
            .per_nprobe
            .iter()
            .map(|p| ProbeRecall {
                nprobe: p.nprobe,
                recall: p.recall,
                scanned_fraction: p.scanned_fraction,
            })
            .collect(),
        per_cluster: r
            .per_label
            .iter()
            .map(|c| ClusterRetrieval {
                cluster: c.cluster,
                label: clusters
                    .get(c.cluster)
                    .map_or_else(String::new, |s| s.label.clone()),
                size: c.size,
                truth_hits: c.truth_hits,
                recall: c.recall.clone(),
            })
            .collect(),
        hubness: r.hubness.as_ref().map(|h| HubSummary {
            k: h.k,
            exact: h.exact,
            skewness: h.skewness,
            orphans: h.orphans,
            orphan_share: h.orphan_share,
            top1pct_slot_share: h.top1pct_slot_share,
            hubs: h.hubs.iter().map(|o| doc(o.row, o.count)).collect(),
            orphan_examples: h.orphan_rows.iter().map(|&r| doc(r, 0)).collect(),
        }),
        dedup: r.dedup,
    })
}

/// Limits the verdict checks. Defaults: at most 10% of rows removable as duplicates, at most
/// half the corpus HDBSCAN noise, recall@10 at least 0.80 at nprobe 3.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct VerdictThresholds {
    /// Largest duplicate share allowed.
    pub max_duplicate_share: f64,
    /// Largest noise share allowed.
    pub max_noise_share: f64,
    /// Smallest recall@10 of cluster-based retrieval allowed, at `nprobe`.
    pub min_recall: f64,
    /// The nprobe the recall is checked at.
    pub nprobe: usize,
}

impl VerdictThresholds {
    /// Each share in [0, 1], `nprobe` at least 1.
    pub fn check(&self) -> Result<()> {
        for (name, v) in [
            ("max_duplicate_share", self.max_duplicate_share),
            ("max_noise_share", self.max_noise_share),
            ("min_recall", self.min_recall),
        ] {
            if !(0.0..=1.0).contains(&v) {
                return Err(crate::error::Error::param(name, v, "must be in [0, 1]"));
            }
        }
        if self.nprobe == 0 {
            return Err(crate::error::Error::param(
                "nprobe",
                0,
                "must be at least 1",
            ));
        }
        Ok(())
    }
}

impl Default for VerdictThresholds {
    fn default() -> Self {
        VerdictThresholds {
            max_duplicate_share: 0.10,
            max_noise_share: 0.50,
            min_recall: 0.80,
            nprobe: 3,
        }
    }
}

/// One check of the verdict.
#[derive(Debug, Clone, PartialEq, Serialize)]
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
#[derive(Debug, Clone, PartialEq, Serialize)]
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
pub fn verdict(
    t: &VerdictThresholds,
    duplicates: Option<&DuplicatesSummary>,
    noise: Option<&NoiseSummary>,
    retrieval: Option<&RetrievalSummary>,
) -> Verdict {
    let check = |name: &str, value: Option<f64>, op: &str, limit: f64| {
        let pass = value.map(|v| if op == "<=" { v <= limit } else { v >= limit });
        Check {
            name: name.into(),
            value,
            op: op.into(),
            limit,
            pass,
        }
    };
    let checks = vec![
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
    ];
    let failed: Vec<String> = checks
        .iter()
        .filter(|c| c.pass == Some(false))
        .map(|c| c.name.clone())
        .collect();
    Verdict {
        pass: failed.is_empty(),
        failed,
        checks,
        thresholds: t.clone(),
    }
}

/// A sentence for each failed check: what it means and what to do.
pub fn verdict_notes(
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
