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

mod ids;
mod sections;

use std::collections::HashMap;

use serde::Deserialize;

use super::builder::sweep_notes;
use super::sampling::Estimate;
use super::verdict::{health_notes, stability_notes, verdict, verdict_notes};
use super::{Audit, Timing};
use crate::error::{Error, Result};
use crate::io::Corpus;

use ids::Views;
pub use ids::{id_order, removal_groups_by_id};
use sections::{merged_duplicates, merged_retrieval, merged_sampling, sample_hubness};

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
            .chain(views.largest_ids().flatten().cloned())
            .collect();
        ids.sort();
        ids.dedup();
        ids
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
    pub fn merge(sample: Audit, sample_corpus: &Corpus, results: &WorkerResults) -> Result<Audit> {
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
            merged_sampling(&audit, results, m, duplicates.as_ref(), retrieval.as_ref());
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
