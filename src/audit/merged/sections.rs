//! The sections assembled from the workers' results: duplicates, retrieval (with the hubs
//! among the sample) and what each stage ran on.

use std::collections::HashSet;

use super::ids::Views;
use super::{IdPair, WorkerDuplicates, WorkerHit, WorkerResults, WorkerRetrieval};
use crate::audit::duplicates::{DropRow, DuplicatesSummary, GroupView, PairView, ThresholdCount};
use crate::audit::retrieval::{ClusterRetrieval, HubSummary, ProbeRecall, RetrievalSummary};
use crate::audit::sampling::{Estimate, StageRows};
use crate::audit::{Audit, SamplingSummary, TEXT_CHARS};
use crate::dedup::PairRecall;
use crate::error::{Error, Result};
use crate::io::Corpus;
use crate::label::summary::snippet_of;
use crate::retrieve::hubness_sampled;

/// The duplicates section from the workers' pairs and exact groups.
pub(super) fn merged_duplicates(
    d: &WorkerDuplicates,
    threshold: f64,
    n: usize,
    retrieval: Option<&WorkerRetrieval>,
) -> DuplicatesSummary {
    let mut counted = vec![0.90, 0.95, 0.99];
    if !counted.contains(&threshold) {
        counted.push(threshold);
        counted.sort_by(f64::total_cmp);
    }
    // Only what the search saw: thresholds at or above the one it ran at.
    counted.retain(|&t| t >= d.searched_at - 1e-12);
    let views = Views::of(d, threshold);
    let per_threshold = counted
        .iter()
        .map(|&t| {
            let groups = views.index.removal_groups(&d.pairs, None, t);
            ThresholdCount {
                threshold: t,
                pairs: d.pairs.iter().filter(|p| f64::from(p.cosine) >= t).count(),
                groups: groups.len(),
                rows_in_groups: groups.iter().map(Vec::len).sum(),
                removable: groups.iter().map(|g| g.len() - 1).sum(),
            }
        })
        .collect();
    let text = |id: &str| {
        d.texts
            .get(id)
            .map_or_else(String::new, |t| snippet_of(t, TEXT_CHARS))
    };
    let pair_view = |p: &&IdPair| PairView {
        cosine: p.cosine,
        row_a: None,
        row_b: None,
        id_a: p.id_a.clone(),
        id_b: p.id_b.clone(),
        text_a: text(&p.id_a),
        text_b: text(&p.id_b),
    };
    let largest_groups = views
        .largest
        .iter()
        .zip(views.largest_ids())
        .map(|(&g, ids)| {
            let mut seen = HashSet::new();
            GroupView {
                size: views.groups[g].len(),
                kept: None,
                rows: Vec::new(),
                kept_id: ids[0].clone(),
                ids: ids.to_vec(),
                examples: ids
                    .iter()
                    .map(|i| text(i))
                    .filter(|t| !t.is_empty() && seen.insert(t.clone()))
                    .take(3)
                    .collect(),
            }
        })
        .collect();
    let removable: usize = views.groups.iter().map(|g| g.len() - 1).sum();
    let exact = d.exact_groups.as_deref();
    DuplicatesSummary {
        mode: "clustered".into(),
        recall: retrieval.map(|r| pair_recall(d, r)),
        threshold,
        per_threshold,
        exact_text_groups: exact.map(<[_]>::len),
        exact_text_removable: exact.map(|g| g.iter().map(|x| x.len() - 1).sum()),
        removable,
        share: removable as f64 / n.max(1) as f64,
        top_pairs: views.top.iter().map(pair_view).collect(),
        borderline_pairs: views.borderline.iter().map(pair_view).collect(),
        largest_groups,
        nearest_cosine: None,
        pairs: Vec::new(),
        group_of: Vec::new(),
        kept: Vec::new(),
        drops: DropRow::of_groups(&views.groups, String::clone, |_| None),
    }
}

/// The clustered search's pair recall on the sampled queries: of the pairs the exact search
/// shows at or above `searched_at` (each query with its exact top list), the share found.
fn pair_recall(d: &WorkerDuplicates, r: &WorkerRetrieval) -> PairRecall {
    let found: HashSet<(&str, &str)> = d
        .pairs
        .iter()
        .flat_map(|p| {
            [
                (p.id_a.as_str(), p.id_b.as_str()),
                (p.id_b.as_str(), p.id_a.as_str()),
            ]
        })
        .collect();
    let mut exact_pairs = 0;
    let mut hits = 0;
    for q in &r.queries {
        for h in q
            .exact
            .iter()
            .filter(|h| h.id != q.id && f64::from(h.score) >= d.searched_at)
        {
            exact_pairs += 1;
            hits += usize::from(found.contains(&(q.id.as_str(), h.id.as_str())));
        }
    }
    PairRecall {
        rows: r.queries.len(),
        exact_pairs,
        found: hits,
        recall: (exact_pairs > 0).then(|| hits as f64 / exact_pairs as f64),
    }
}

/// The retrieval section from the queries' merged lists: recall@k per nprobe against the
/// exact lists (each query left out of its own), the share of rows each nprobe scans, and
/// recall per audit cluster.
pub(super) fn merged_retrieval(
    r: &WorkerRetrieval,
    audit: &Audit,
    sizes: &[usize],
    n: usize,
    verdict_nprobe: usize,
) -> Result<RetrievalSummary> {
    let k = r.top_k;
    let mut truth_in = vec![0usize; sizes.len()];
    let mut found_in = vec![vec![0usize; r.nprobes.len()]; sizes.len()];
    let mut found = vec![0usize; r.nprobes.len()];
    let mut scanned = vec![0usize; r.nprobes.len()];
    let mut total = 0usize;
    for q in &r.queries {
        if q.probed.len() != r.nprobes.len() {
            return Err(Error::param(
                "probed",
                q.probed.len(),
                format!(
                    "lists for query {}, expected one per nprobe ({})",
                    q.id,
                    r.nprobes.len()
                ),
            ));
        }
        let truth: Vec<&WorkerHit> = q.exact.iter().filter(|h| h.id != q.id).take(k).collect();
        total += truth.len();
        for h in &truth {
            let c = *truth_in.get(h.cluster).map(|_| &h.cluster).ok_or_else(|| {
                Error::param(
                    "cluster",
                    h.cluster,
                    format!(
                        "of result {}, but the audit has {} clusters",
                        h.id,
                        sizes.len()
                    ),
                )
            })?;
            truth_in[c] += 1;
        }
        for (pi, (&p, list)) in r.nprobes.iter().zip(&q.probed).enumerate() {
            let got: HashSet<&str> = list
                .iter()
                .filter(|i| **i != q.id)
                .take(k)
                .map(String::as_str)
                .collect();
            for h in &truth {
                if got.contains(h.id.as_str()) {
                    found[pi] += 1;
                    found_in[h.cluster][pi] += 1;
                }
            }
            scanned[pi] += q
                .probes
                .iter()
                .take(p)
                .map(|&c| r.cell_sizes.get(c).copied().unwrap_or(0))
                .sum::<usize>();
        }
    }
    let queries = r.queries.len().max(1);
    let per_nprobe: Vec<ProbeRecall> = r
        .nprobes
        .iter()
        .enumerate()
        .map(|(pi, &p)| ProbeRecall {
            nprobe: p,
            recall: found[pi] as f64 / total.max(1) as f64,
            scanned_fraction: scanned[pi] as f64 / queries as f64 / n.max(1) as f64,
        })
        .collect();
    let nprobe = verdict_nprobe.min(r.nlist);
    let recall = per_nprobe
        .iter()
        .rev()
        .find(|p| p.nprobe <= nprobe)
        .map_or(0.0, |p| p.recall);
    let per_cluster = crate::retrieve::recall_table(sizes, &truth_in, &found_in)
        .into_iter()
        .map(|c| ClusterRetrieval {
            cluster: c.cluster,
            label: audit
                .clusters
                .get(c.cluster)
                .map_or_else(String::new, |s| s.label.clone()),
            size: c.size,
            truth_hits: c.truth_hits,
            recall: c.recall,
        })
        .collect();
    Ok(RetrievalSummary {
        n_db: n,
        n_queries: r.queries.len(),
        nlist: r.nlist,
        top_k: k,
        nprobe,
        recall,
        per_nprobe,
        per_cluster,
        hubness: None,
        dedup: None,
    })
}

/// Hubs and orphans among the sample's rows (a seeded 50,000 of them above that, as the
/// single-process audit counts): `None` without vectors or below 20 rows.
pub(super) fn sample_hubness(corpus: &Corpus, k: usize, seed: u64) -> Option<HubSummary> {
    let v = corpus.vectors.as_ref().filter(|v| v.rows() >= 20)?;
    Some(HubSummary::of(&hubness_sampled(v, k, seed), corpus))
}

/// What each stage ran on: the sample's statistic stages as they were (against the whole
/// dataset's rows), the per-row stages on the workers.
pub(super) fn merged_sampling(
    audit: &Audit,
    results: &WorkerResults,
    m: usize,
    duplicates: Option<&DuplicatesSummary>,
    retrieval: Option<&RetrievalSummary>,
) -> SamplingSummary {
    let n = results.rows;
    let k = audit.clusters.len();
    let mut stages: Vec<StageRows> = Vec::new();
    for s in &audit.sampling.stages {
        let mut s = s.clone();
        match s.stage.as_str() {
            "cluster assignment" => {
                s.rows = n;
                s.every_row = true;
                s.note = format!(
                    "every row assigned on the workers to the nearest of the {k} centroids trained on the sample; cluster sizes count every row, summaries, keywords and labels are the sample's"
                );
            }
            "noise" => {
                s.every_row = s.rows == n;
                if let Some(z) = &audit.noise {
                    s.estimate = Some(Estimate::share(z.noise_share, z.rows, n));
                }
            }
            _ => s.every_row = s.rows == n,
        }
        stages.push(s);
    }
    if let Some(h) = &audit.health {
        stages.push(StageRows {
            stage: "chunk health".into(),
            rows: h.report.rows,
            every_row: h.report.rows == n,
            estimate: None,
            note: format!("tokens, empty chunks, boilerplate, encoding and languages of the {} sampled rows' texts", h.report.rows),
        });
    }
    if let (Some(d), Some(w)) = (duplicates, &results.duplicates) {
        let recall = d.recall_estimate();
        stages.push(StageRows {
            stage: "duplicates".into(),
            rows: n,
            every_row: true,
            estimate: recall,
            note: format!(
                "every row compared on the workers within its {} nearest of {} IVF cells (trained on the sample), one task per cell; equal texts by a group-by on their hash; the estimate is the pair recall against the exact search of the {} sampled queries ({} exact pairs)",
                w.nprobe,
                w.nlist,
                d.recall.as_ref().map_or(0, |r| r.rows),
                d.recall.as_ref().map_or(0, |r| r.exact_pairs)
            ),
        });
    }
    if let Some(r) = retrieval {
        stages.push(StageRows {
            stage: "retrieval".into(),
            rows: n,
            every_row: true,
            estimate: Some(Estimate::share(r.recall, r.n_queries, usize::MAX)),
            note: format!(
                "{} sampled rows searched against every row on the workers (each left out of its own results), exact and within their first nprobe of {} cells, the top {} merged; hubs and orphans counted among {} sampled rows; the estimate is recall@{} at nprobe {}",
                r.n_queries,
                r.nlist,
                r.top_k,
                r.hubness.as_ref().map_or(0, |h| h.rows),
                r.top_k,
                r.nprobe
            ),
        });
    }
    SamplingSummary {
        policy: format!(
            "{}: statistic stages on a sample of {m} rows ({}), per-row stages over every row on the workers ({})",
            results.engine, results.sample_rule, results.workers
        ),
        rows: n,
        sample_rows: m,
        seed: audit.sampling.seed,
        stages,
        memory: audit.sampling.memory.clone(),
    }
}
