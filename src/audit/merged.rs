//! An audit assembled from a cluster's results ([`Audit::merge`]): the single-process audit of
//! a seeded sample for the statistic stages (the K sweep, the map, topic labels, HDBSCAN noise,
//! chunk health, stability), and what the workers found over every row for the per-row ones
//! (cluster sizes, exact and near duplicates, retrieval), as `embedscope.ray` gathers them.
//! The result renders and serialises like any [`Audit`]: the same report and `audit.json`,
//! with the sampling section stating which stage ran where.
//!
//! Rows on a cluster are known by id, not position: pairs and groups name ids, and the
//! document kept in a group is the one with the smallest id (numerically when every id shown
//! is an integer, as a store's are).

use std::collections::{HashMap, HashSet};

use serde::Deserialize;

use super::builder::sweep_notes;
use super::duplicates::{DuplicatesSummary, GroupView, PairView, ThresholdCount};
use super::retrieval::{ClusterRetrieval, ProbeRecall, RetrievalSummary};
use super::retrieval::{DocCount, HubSummary};
use super::sampling::{Estimate, StageRows};
use super::verdict::{health_notes, stability_notes, verdict, verdict_notes};
use super::{text_of, Audit, Timing, TEXT_CHARS};
use crate::dedup::{self, PairRecall};
use crate::error::{Error, Result};
use crate::io::Corpus;
use crate::label::summary::snippet_of;
use crate::retrieve::{hubness_among, HUBNESS_MAX_ROWS};
use crate::rng::Rng;

/// A near-duplicate pair a worker found, by id.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct IdPair {
    /// One document.
    pub id_a: String,
    /// The other.
    pub id_b: String,
    /// Their cosine.
    pub cosine: f32,
    /// Whether their normalised texts are equal (an exact copy: counted, not shown).
    #[serde(default)]
    pub same_text: bool,
}

/// Duplicates over every row, as the workers found them.
#[derive(Debug, Clone, Deserialize)]
pub struct WorkerDuplicates {
    /// The cosine the near pairs were searched at: the lowest threshold counted.
    pub searched_at: f64,
    /// IVF cells the rows were filed in.
    pub nlist: usize,
    /// Cells each row was compared in (its own and its nearest).
    pub nprobe: usize,
    /// Near pairs at or above `searched_at`, each once.
    pub pairs: Vec<IdPair>,
    /// Groups of ids whose normalised texts are equal (`None`: no texts).
    pub exact_groups: Option<Vec<Vec<String>>>,
    /// Texts of the documents the section shows ([`WorkerResults::shown_ids`]), by id.
    #[serde(default)]
    pub texts: HashMap<String, String>,
}

/// One of the exact search's results for a query.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct WorkerHit {
    /// The document.
    pub id: String,
    /// Its cosine to the query.
    pub score: f32,
    /// Its audit cluster.
    pub cluster: usize,
}

/// A sampled query's results, merged from every batch.
#[derive(Debug, Clone, Deserialize)]
pub struct WorkerQuery {
    /// The query's own id (a row of the corpus: left out of its own lists, as held out).
    pub id: String,
    /// Its nearest IVF cells, nearest first (as many as the largest nprobe).
    pub probes: Vec<usize>,
    /// The exact top `top_k + 1` over every row, best first.
    pub exact: Vec<WorkerHit>,
    /// Per nprobe (as [`WorkerRetrieval::nprobes`]), the top `top_k + 1` ids within its first
    /// nprobe cells, best first.
    pub probed: Vec<Vec<String>>,
}

/// Retrieval over every row, as the workers found it.
#[derive(Debug, Clone, Deserialize)]
pub struct WorkerRetrieval {
    /// Results per query.
    pub top_k: usize,
    /// IVF cells.
    pub nlist: usize,
    /// The nprobe values searched.
    pub nprobes: Vec<usize>,
    /// Rows filed in each cell.
    pub cell_sizes: Vec<usize>,
    /// The sampled queries.
    pub queries: Vec<WorkerQuery>,
}

/// What a cluster's workers found over every row, for [`Audit::merge`].
#[derive(Debug, Clone, Deserialize)]
pub struct WorkerResults {
    /// The engine (`ray`).
    pub engine: String,
    /// The dataset.
    pub source: String,
    /// Its rows.
    pub rows: usize,
    /// How the sample was drawn.
    pub sample_rule: String,
    /// The workers (e.g. `1 node, 2 CPUs`).
    pub workers: String,
    /// Rows per cluster over every row, by the sample audit's cluster ids.
    pub cluster_sizes: Vec<usize>,
    /// Duplicates (`None`: not searched).
    pub duplicates: Option<WorkerDuplicates>,
    /// Retrieval (`None`: not measured).
    pub retrieval: Option<WorkerRetrieval>,
    /// Seconds per stage.
    #[serde(default)]
    pub timings: Vec<(String, f64)>,
}

impl WorkerResults {
    /// Reads the results from JSON (what `embedscope.ray` hands over).
    pub fn from_json(text: &str) -> Result<WorkerResults> {
        Ok(serde_json::from_str(text)?)
    }

    /// The ids whose texts the duplicates section shows (its top and borderline pairs, and the
    /// largest groups' first members) at the removal threshold `threshold`: what the caller
    /// fetches into [`WorkerDuplicates::texts`] before [`Audit::merge`].
    pub fn shown_ids(&self, threshold: f64) -> Vec<String> {
        let Some(d) = &self.duplicates else {
            return Vec::new();
        };
        let views = Views::of(d, threshold);
        let mut ids: Vec<String> = views
            .top
            .iter()
            .chain(&views.borderline)
            .flat_map(|p| [p.id_a.clone(), p.id_b.clone()])
            .chain(views.largest.iter().flat_map(|g| g.iter().cloned()))
            .collect();
        ids.sort();
        ids.dedup();
        ids
    }
}

/// Removal groups by id: near pairs at or above `threshold` and exact-text groups joined
/// (union-find), each sorted by [`id_order`] (the first is kept), groups in the order of their
/// first id. What the merged duplicates section counts and the pipeline drops.
pub fn removal_groups_by_id(
    pairs: &[IdPair],
    exact: Option<&[Vec<String>]>,
    threshold: f64,
) -> Vec<Vec<String>> {
    IdIndex::new(pairs, exact).removal_groups(pairs, exact, threshold)
}

/// Ids in a dense order: numeric when every one is an integer, else by the string.
struct IdIndex {
    ids: Vec<String>,
    at: HashMap<String, usize>,
}

impl IdIndex {
    fn new(pairs: &[IdPair], exact: Option<&[Vec<String>]>) -> IdIndex {
        let mut ids: Vec<String> = pairs
            .iter()
            .flat_map(|p| [p.id_a.clone(), p.id_b.clone()])
            .chain(exact.into_iter().flatten().flatten().cloned())
            .collect::<HashSet<String>>()
            .into_iter()
            .collect();
        id_order(&mut ids);
        let at = ids
            .iter()
            .enumerate()
            .map(|(i, s)| (s.clone(), i))
            .collect();
        IdIndex { ids, at }
    }

    fn of(&self, id: &str) -> usize {
        self.at[id]
    }

    /// See [`removal_groups_by_id`]; every id named must be indexed.
    fn removal_groups(
        &self,
        pairs: &[IdPair],
        exact: Option<&[Vec<String>]>,
        threshold: f64,
    ) -> Vec<Vec<String>> {
        let near = pairs
            .iter()
            .filter(|p| f64::from(p.cosine) >= threshold)
            .map(|p| (self.of(&p.id_a), self.of(&p.id_b)));
        let exact: Option<Vec<Vec<usize>>> = exact.map(|g| {
            g.iter()
                .map(|g| g.iter().map(|i| self.of(i)).collect())
                .collect()
        });
        dedup::removal_groups(self.ids.len(), near, exact.as_deref())
            .into_iter()
            .map(|g| g.into_iter().map(|i| self.ids[i].clone()).collect())
            .collect()
    }
}

/// Sorts ids numerically when every one is an integer, else as strings (how `embedscope.ray`
/// orders its sample, so that the first of a group is the document kept either way).
pub fn id_order(ids: &mut [String]) {
    let numbers: Option<Vec<i128>> = ids.iter().map(|s| s.parse::<i128>().ok()).collect();
    match numbers {
        Some(n) => {
            let mut keyed: Vec<(i128, String)> = n.into_iter().zip(ids.iter().cloned()).collect();
            keyed.sort();
            for (slot, (_, s)) in ids.iter_mut().zip(keyed) {
                *slot = s;
            }
        }
        None => ids.sort(),
    }
}

/// The pairs and groups the section shows: ranked once, for [`WorkerResults::shown_ids`] and
/// the views.
struct Views<'a> {
    top: Vec<&'a IdPair>,
    borderline: Vec<&'a IdPair>,
    /// The ten largest removal groups' first ten ids, with each group's size.
    largest: Vec<Vec<String>>,
    sizes: Vec<usize>,
    groups: Vec<Vec<String>>,
}

impl<'a> Views<'a> {
    fn of(d: &'a WorkerDuplicates, threshold: f64) -> Views<'a> {
        let mut ranked: Vec<&IdPair> = d
            .pairs
            .iter()
            .filter(|p| f64::from(p.cosine) >= threshold && !p.same_text)
            .collect();
        let index = IdIndex::new(&d.pairs, d.exact_groups.as_deref());
        let at = |p: &IdPair| (index.of(&p.id_a), index.of(&p.id_b));
        ranked.sort_by(|a, b| b.cosine.total_cmp(&a.cosine).then(at(a).cmp(&at(b))));
        let top = ranked.iter().take(10).copied().collect();
        let borderline = ranked.iter().rev().take(10).copied().collect();
        let groups = index.removal_groups(&d.pairs, d.exact_groups.as_deref(), threshold);
        let mut by_size: Vec<&Vec<String>> = groups.iter().collect();
        // Stable: equal sizes keep the groups' order (by their first id).
        by_size.sort_by_key(|g| std::cmp::Reverse(g.len()));
        let largest: Vec<Vec<String>> = by_size
            .iter()
            .take(10)
            .map(|g| g.iter().take(10).cloned().collect())
            .collect();
        let sizes = by_size.iter().take(10).map(|g| g.len()).collect();
        Views {
            top,
            borderline,
            largest,
            sizes,
            groups,
        }
    }
}

impl Audit {
    /// The audit of a corpus too large for one machine, assembled from the single-process
    /// audit of its seeded sample (`sample`, run with duplicates and retrieval off) and what a
    /// cluster's workers found over every row (`results`): cluster sizes over every row,
    /// duplicates, retrieval, the verdict on them, and a sampling section that states which
    /// stage ran on the sample and which on every row. Summaries, keywords and labels stay
    /// the sample's; `labels`, `centroid_cosine` and the map's rows are the sample's rows
    /// (the per-row tables are the workers', written beside the dataset).
    ///
    /// `sample_corpus` is the corpus the sample audit ran on: the retrieval section's hubness
    /// is counted among its rows (up to 50,000, as the single-process audit counts above that).
    ///
    /// Errors when the results do not fit the sample: another number of clusters, sizes that
    /// do not add up to the rows, a query list of the wrong length, a corpus of another size.
    pub fn merge(sample: Audit, sample_corpus: &Corpus, results: WorkerResults) -> Result<Audit> {
        let n = results.rows;
        let k = sample.clusters.len();
        if results.cluster_sizes.len() != k {
            return Err(Error::param(
                "cluster_sizes",
                results.cluster_sizes.len(),
                format!("clusters, but the sample audit has {k}"),
            ));
        }
        let counted: usize = results.cluster_sizes.iter().sum();
        if counted != n {
            return Err(Error::param(
                "cluster_sizes",
                counted,
                format!("rows in the clusters, but the dataset has {n}"),
            ));
        }
        let m = sample.corpus.rows;
        if sample_corpus.len() != m {
            return Err(Error::param(
                "sample_corpus",
                sample_corpus.len(),
                format!("rows, but the sample audit ran on {m}"),
            ));
        }
        let mut audit = sample;
        for c in &mut audit.clusters {
            c.size = results.cluster_sizes[c.id];
            c.share = c.size as f64 / n.max(1) as f64;
        }
        let thresholds = audit.verdict.thresholds.clone();
        let duplicates = match &results.duplicates {
            Some(d) => Some(merged_duplicates(
                d,
                audit.params.dedup_threshold,
                n,
                results.retrieval.as_ref(),
            )),
            None => None,
        };
        let retrieval = match &results.retrieval {
            Some(r) => {
                let mut summary =
                    merged_retrieval(r, &audit, &results.cluster_sizes, n, thresholds.nprobe)?;
                summary.hubness = sample_hubness(sample_corpus, r.top_k, audit.params.seed);
                Some(summary)
            }
            None => None,
        };
        if let Some(z) = audit.noise.as_mut() {
            z.noise_share_se = Estimate::share(z.noise_share, z.rows, n).standard_error;
        }
        audit.sampling =
            merged_sampling(&audit, &results, m, duplicates.as_ref(), retrieval.as_ref());
        audit.verdict = verdict(
            &thresholds,
            audit.health.as_ref().map(|h| &h.report),
            duplicates.as_ref(),
            audit.noise.as_ref(),
            retrieval.as_ref(),
            None,
        );
        let mut notes = health_notes(audit.health.as_ref());
        notes.extend(verdict_notes(
            &audit.verdict,
            duplicates.as_ref(),
            audit.noise.as_ref(),
            retrieval.as_ref(),
        ));
        notes.extend(sweep_notes(&audit.optimal_k));
        notes.extend(stability_notes(audit.stability.as_ref()));
        audit.notes = notes;
        for (section, on) in [
            ("duplicates", duplicates.is_some()),
            ("retrieval", retrieval.is_some()),
        ] {
            if on && !audit.params.sections.iter().any(|s| s == section) {
                audit.params.sections.push(section.into());
            }
        }
        audit.corpus.source = results.source.clone();
        audit.corpus.rows = n;
        audit.duplicates = duplicates;
        audit.retrieval = retrieval;
        let mut timings: Vec<Timing> = std::mem::take(&mut audit.timings)
            .into_iter()
            .map(|t| Timing {
                stage: format!("sample audit: {}", t.stage),
                ..t
            })
            .collect();
        timings.extend(results.timings.iter().map(|(stage, seconds)| Timing {
            stage: format!("{}: {stage}", results.engine),
            seconds: *seconds,
            qps: None,
            peak_mib: None,
        }));
        audit.timings = timings;
        Ok(audit)
    }
}

/// The duplicates section from the workers' pairs and exact groups.
fn merged_duplicates(
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
    let per_threshold = counted
        .iter()
        .map(|&t| {
            let groups = removal_groups_by_id(&d.pairs, None, t);
            ThresholdCount {
                threshold: t,
                pairs: d.pairs.iter().filter(|p| f64::from(p.cosine) >= t).count(),
                groups: groups.len(),
                rows_in_groups: groups.iter().map(Vec::len).sum(),
                removable: groups.iter().map(|g| g.len() - 1).sum(),
            }
        })
        .collect();
    let views = Views::of(d, threshold);
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
        .zip(&views.sizes)
        .map(|(ids, &size)| {
            let mut seen = HashSet::new();
            GroupView {
                size,
                kept: None,
                rows: Vec::new(),
                kept_id: ids[0].clone(),
                ids: ids.clone(),
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
fn merged_retrieval(
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
fn sample_hubness(corpus: &Corpus, k: usize, seed: u64) -> Option<HubSummary> {
    let v = corpus.vectors.as_ref().filter(|v| v.rows() >= 20)?;
    let picked: Vec<usize> = if v.rows() > HUBNESS_MAX_ROWS {
        let mut s = Rng::new(seed, 0x4b0).sample(v.rows(), HUBNESS_MAX_ROWS);
        s.sort_unstable();
        s
    } else {
        (0..v.rows()).collect()
    };
    let h = if picked.len() == v.rows() {
        hubness_among(v, k)
    } else {
        hubness_among(&v.select(&picked), k)
    };
    let doc = |i: usize, count: usize| {
        let row = picked[i];
        DocCount {
            row,
            id: corpus.ids[row].clone(),
            text: text_of(corpus, row),
            count,
        }
    };
    Some(HubSummary {
        k: h.k,
        exact: h.exact,
        rows: h.rows,
        skewness: h.skewness,
        orphans: h.orphans,
        orphan_share: h.orphan_share,
        top1pct_slot_share: h.top1pct_slot_share,
        hubs: h.hubs.iter().map(|o| doc(o.row, o.count)).collect(),
        orphan_examples: h.orphan_rows.iter().map(|&r| doc(r, 0)).collect(),
    })
}

/// What each stage ran on: the sample's statistic stages as they were (against the whole
/// dataset's rows), the per-row stages on the workers.
fn merged_sampling(
    audit: &Audit,
    results: &WorkerResults,
    m: usize,
    duplicates: Option<&DuplicatesSummary>,
    retrieval: Option<&RetrievalSummary>,
) -> super::SamplingSummary {
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
    super::SamplingSummary {
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
