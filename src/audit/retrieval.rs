//! The audit's retrieval section: cluster-based retrieval against exact search, per audit
//! cluster, hubs and orphans, and what duplicates cost.

use serde::Serialize;

use super::{text_of, ClusterSummary, Timing};
use crate::embeddings::Embeddings;
use crate::error::Result;
use crate::io::Corpus;
use crate::retrieve::{DedupImpact, Hubness, RetrievalEval};

/// Recall at one nprobe (speed is in the timings).
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct ProbeRecall {
    /// Cells probed.
    pub nprobe: usize,
    /// recall@k against exact search.
    pub recall: f64,
    /// Average share of the corpus scanned per query.
    pub scanned_fraction: f64,
}

/// Recall for the queries' neighbours in one audit cluster.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
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
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
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
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct HubSummary {
    /// The k of the lists.
    pub k: usize,
    /// Exact lists.
    pub exact: bool,
    /// Documents counted: every indexed one up to 50,000, else a seeded sample of 50,000
    /// counted among themselves.
    pub rows: usize,
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

impl HubSummary {
    /// The count `h` with its documents' ids and texts (`h`'s rows are `corpus`'s).
    pub(super) fn of(h: &Hubness, corpus: &Corpus) -> HubSummary {
        let doc = |row: usize, count: usize| DocCount {
            row,
            id: corpus.ids[row].clone(),
            text: text_of(corpus, row),
            count,
        };
        HubSummary {
            k: h.k,
            exact: h.exact,
            rows: h.rows,
            skewness: h.skewness,
            orphans: h.orphans,
            orphan_share: h.orphan_share,
            top1pct_slot_share: h.top1pct_slot_share,
            hubs: h.hubs.iter().map(|o| doc(o.row, o.count)).collect(),
            orphan_examples: h.orphan_rows.iter().map(|&r| doc(r, 0)).collect(),
        }
    }
}

/// How well cluster-based retrieval (IVF) finds the exact neighbours, on held-out rows.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
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
    /// Whether the index may keep its own copy of the rows (the memory plan's choice).
    pub index_copy: bool,
    /// Training rows per cell.
    pub train_per_list: usize,
}

/// Runs the retrieval evaluation with the audit's clusters as groups; speeds go to `timings`.
pub(super) fn retrieval(
    corpus: &Corpus,
    data: &Embeddings,
    clusters: &[ClusterSummary],
    kmeans: &[usize],
    settings: RetrievalSettings,
    duplicate_pairs: Option<&[crate::kernel::Pair]>,
    timings: &mut Vec<Timing>,
) -> Result<RetrievalSummary> {
    let RetrievalSettings {
        nprobe,
        dedup_threshold,
        seed,
        index_copy,
        train_per_list,
    } = settings;
    let mut nprobes = vec![1, 2, 4, 8, 16];
    if !nprobes.contains(&nprobe) {
        nprobes.push(nprobe);
        nprobes.sort_unstable();
    }
    let mut params = RetrievalEval::params()
        .nprobes(nprobes)
        .seed(seed)
        .repeats(1)
        .index_copy(Some(index_copy))
        .train_per_list(train_per_list)
        .dedup_threshold(Some(dedup_threshold))
        .labels(Some(kmeans.to_vec()));
    // The duplicates section's pairs (down to 0.90), not a second search.
    if let Some(pairs) = duplicate_pairs {
        params = params.duplicate_pairs(pairs.to_vec());
    }
    let r = params.fit(data)?;
    let nprobe = nprobe.min(r.nlist);
    timings.push(Timing {
        stage: format!("retrieval: index build ({} cells)", r.nlist),
        seconds: r.build_seconds,
        qps: None,
        peak_mib: None,
    });
    timings.push(Timing {
        stage: format!("retrieval: exact search, {} queries", r.n_queries),
        seconds: r.n_queries as f64 / r.exact_qps,
        qps: Some(r.exact_qps),
        peak_mib: None,
    });
    for p in &r.per_nprobe {
        timings.push(Timing {
            stage: format!("retrieval: nprobe {}, {} queries", p.nprobe, r.n_queries),
            seconds: p.seconds,
            qps: Some(p.qps),
            peak_mib: None,
        });
    }
    let recall = r
        .per_nprobe
        .iter()
        .rev()
        .find(|p| p.nprobe <= nprobe)
        .map_or(0.0, |p| p.recall);
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
        hubness: r.hubness.as_ref().map(|h| HubSummary::of(h, corpus)),
        dedup: r.dedup,
    })
}
