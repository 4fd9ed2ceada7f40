//! [`Audit`]: the whole run, load -> embed -> K sweep -> K-Means -> cluster summaries, and what
//! the report, `audit.json` and a notebook cell show.

mod builder;
mod display;
mod duplicates;
mod health;
mod memory;
mod merged;
mod noise;
mod retrieval;
mod sampling;
pub(crate) mod verdict;

use serde::Serialize;

use crate::cluster::dendrogram::Dendrogram;
use crate::cluster::KScore;
use crate::embed::EmbedStats;
use crate::error::{Error, Result};
use crate::io::frame::{
    bool_col, f32_col, frame, i32_col, opt_f32_col, opt_i32_col, str_col, u32_col,
};
use crate::io::Corpus;
use crate::label::summary::snippet_of;
pub use crate::label::summary::{
    apply_llm_labels, snippet, summarise_clusters, summarise_clusters_with, ClusterSummary,
    Example, NeighbourCluster,
};

pub use builder::AuditBuilder;
pub use duplicates::{DropRow, DuplicatesSummary, GroupView, Histogram, PairView, ThresholdCount};
pub use health::{
    ClusterLanguage, ClusterTruncation, HealthSection, StripEffect, Stripped, UnstrippedCluster,
};
pub use memory::{MemoryBudget, MemoryPlan};
pub use merged::{
    id_order, removal_groups_by_id, IdPair, WorkerDuplicates, WorkerHit, WorkerQuery,
    WorkerResults, WorkerRetrieval,
};
pub use noise::{NoiseSummary, OutlierDoc};
pub use retrieval::{ClusterRetrieval, DocCount, HubSummary, ProbeRecall, RetrievalSummary};
pub use sampling::{Estimate, Sampling, SamplingSummary, StageRows, DEFAULT_SAMPLE};
pub use verdict::{Check, Verdict, VerdictThresholds};

/// What `audit.json` holds: the [`Audit`] and the path of the report written beside it. Its
/// JSON Schema is [`audit_schema`] (committed as `schemas/audit.schema.json`).
#[derive(Serialize, schemars::JsonSchema)]
pub struct AuditDocument<'a> {
    /// Everything the audit found.
    #[serde(flatten)]
    pub audit: &'a Audit,
    /// The HTML report written with it.
    pub report: String,
}

impl AuditDocument<'_> {
    /// Pretty JSON with every object's keys sorted and a final newline: the bytes of
    /// `audit.json`, the same for the same audit.
    pub fn to_json(&self) -> Result<String> {
        // Through `Value`, whose objects keep their keys sorted.
        let value = serde_json::to_value(self)?;
        let mut text = serde_json::to_string_pretty(&value)?;
        text.push('\n');
        Ok(text)
    }
}

/// The JSON Schema of `audit.json` ([`AuditDocument`]), generated from the types that write it.
///
/// ```
/// let schema = embedscope::audit::audit_schema();
/// assert!(schema["properties"]["verdict"].is_object());
/// ```
pub fn audit_schema() -> serde_json::Value {
    serde_json::to_value(schemars::schema_for!(AuditDocument<'static>))
        .expect("a schema serialises")
}

/// Characters of a document shown in the sections' tables.
const TEXT_CHARS: usize = 200;

/// The start of row `row`'s text (empty without texts).
fn text_of(corpus: &Corpus, row: usize) -> String {
    corpus
        .texts
        .as_ref()
        .map_or_else(String::new, |t| snippet_of(&t[row], TEXT_CHARS))
}

/// Points plotted in the report's map at most (a seeded sample above that).
const MAP_MAX_POINTS: usize = 50_000;
/// Characters of a document shown when hovering over its point.
const HOVER_CHARS: usize = 120;
// The hover is cut from the panel's text (`CorpusMap::hover`).
const _: () = assert!(HOVER_CHARS <= PANEL_CHARS);
/// Characters of a plotted document the report's side panel carries (longer ones are cut, and
/// the panel says so).
pub(crate) const PANEL_CHARS: usize = 2_000;
/// Nearest neighbours of each plotted point the side panel lists.
const PANEL_NEIGHBOURS: usize = 5;

/// The 2-D map of the corpus (UMAP, cosine), as the report draws it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, schemars::JsonSchema)]
pub struct CorpusMap {
    /// Method (`umap`).
    pub method: String,
    /// UMAP `n_neighbors`.
    pub n_neighbors: usize,
    /// UMAP `min_dist`.
    pub min_dist: f64,
    /// Trustworthiness (k = 10, scikit-learn's definition) on up to 5,000 rows.
    pub trustworthiness: f64,
    /// Recall of the approximate kNN graph on a 1,000-row sample (`None`: exact graph).
    pub knn_recall: Option<f64>,
    /// Rows plotted (all up to 50,000; a seeded sample above).
    pub plotted: usize,
    /// Row of each plotted point.
    #[serde(skip)]
    pub rows: Vec<usize>,
    /// Coordinates of each plotted point, `[x, y]`.
    #[serde(skip)]
    pub points: Vec<[f32; 2]>,
    /// Id of each plotted point.
    #[serde(skip)]
    pub ids: Vec<String>,
    /// Text of each plotted point, its first 2,000 characters (empty without texts).
    #[serde(skip)]
    pub texts: Vec<String>,
    /// Length in characters of each plotted point's whole text (0 without texts).
    #[serde(skip)]
    pub lengths: Vec<u32>,
    /// Each plotted point's nearest plotted points by cosine, nearest first: `(point, cosine)`,
    /// up to 5, from the map's own kNN graph (approximate above 4,096 rows).
    #[serde(skip)]
    pub neighbours: Vec<Vec<(u32, f32)>>,
}

impl CorpusMap {
    /// Hover text of each plotted point: the start of its document, or its id without texts.
    pub fn hover(&self) -> Vec<String> {
        if self.texts.is_empty() {
            return self.ids.clone();
        }
        // The texts keep PANEL_CHARS characters, more than the hover shows, so the snippet of
        // the kept text is the snippet of the whole text.
        self.texts
            .iter()
            .map(|t| snippet_of(t, HOVER_CHARS))
            .collect()
    }
}

/// How the clusters relate: average-linkage (cosine) agglomeration of the K-Means centroids.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct ClusterTree {
    /// How the tree was built.
    pub method: String,
    /// The merges, scipy's linkage format (`[a, b, distance, size]`; leaves are cluster ids).
    pub linkage: Vec<[f64; 4]>,
    /// The drawing.
    pub dendrogram: Dendrogram,
}

/// Where the vectors came from.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum VectorSource {
    /// Precomputed vectors carried by the input file.
    File,
    /// Computed by a model.
    Model {
        /// The model id.
        model: String,
    },
}

/// The corpus, summarised.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct CorpusSummary {
    /// Input file.
    pub source: String,
    /// Rows.
    pub rows: usize,
    /// Whether texts were available.
    pub has_texts: bool,
    /// Vector dimension.
    pub dim: usize,
    /// Whether the vectors were held as half floats (read from float16 input: half the memory;
    /// every product still in f32).
    pub float16: bool,
    /// Where the vectors came from.
    pub vectors: VectorSource,
}

/// The K sweep, summarised.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct SweepSummary {
    /// Scores per k.
    pub per_k: Vec<KScore>,
    /// The k picked by silhouette.
    pub chosen_k: usize,
    /// Rows the silhouette used.
    pub silhouette_rows: usize,
    /// Every silhouette below 0.1.
    pub weak_structure: bool,
    /// The pick is the first or last k tried.
    pub chosen_at_edge: bool,
}

impl SweepSummary {
    /// The silhouette at the chosen K.
    pub fn chosen_silhouette(&self) -> f64 {
        self.per_k
            .iter()
            .find(|s| s.k == self.chosen_k)
            .map_or(0.0, |s| s.silhouette)
    }
}

/// The parameters of the run.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct AuditParams {
    /// Seed of every stochastic step.
    pub seed: u64,
    /// Smallest k tried.
    pub k_min: usize,
    /// Largest k tried.
    pub k_max: usize,
    /// K-Means initialisations.
    pub n_init: usize,
    /// Cosine at or above which documents are near duplicates.
    pub dedup_threshold: f64,
    /// Sections run: health, map, stability, duplicates, noise, retrieval.
    pub sections: Vec<String>,
}

/// Wall time of one stage.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct Timing {
    /// Stage name.
    pub stage: String,
    /// Seconds.
    pub seconds: f64,
    /// Queries per second, for search stages.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub qps: Option<f64>,
    /// Peak resident memory during the stage, MiB (Linux; the first stage includes loading
    /// the corpus).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub peak_mib: Option<f64>,
}

/// Everything an audit found. Owns its data, so a notebook can keep it.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct Audit {
    /// embedscope's version.
    pub version: String,
    /// The corpus.
    pub corpus: CorpusSummary,
    /// Parameters.
    pub params: AuditParams,
    /// Embedding statistics, when a model ran.
    pub embedding: Option<EmbedStats>,
    /// Which rows each stage ran on, and the uncertainty that follows.
    pub sampling: SamplingSummary,
    /// The K sweep.
    pub optimal_k: SweepSummary,
    /// The 2-D map (`None` when disabled or the corpus has 16 rows or fewer).
    pub map: Option<CorpusMap>,
    /// The clusters of the chosen k, largest first.
    pub clusters: Vec<ClusterSummary>,
    /// How the clusters relate (`None` for a single cluster).
    pub cluster_tree: Option<ClusterTree>,
    /// Plain-language findings worth a reader's attention.
    pub notes: Vec<String>,
    /// Chunk health: tokens against the embedder's limit, empty chunks, boilerplate, encoding,
    /// languages (None without texts, or when not asked for).
    pub health: Option<HealthSection>,
    /// Topic stability: K-Means at the chosen K over seeds and bootstrap resamples, the vote
    /// on K, HDBSCAN over subsamples (None when not asked for, or too few rows).
    pub stability: Option<crate::stability::StabilityReport>,
    /// Exact and near duplicates (None when not asked for).
    pub duplicates: Option<DuplicatesSummary>,
    /// HDBSCAN noise and outliers (None when not asked for, or fewer than 20 rows).
    pub noise: Option<NoiseSummary>,
    /// Cluster-based retrieval against exact search (None when not asked for, or fewer than 20
    /// rows).
    pub retrieval: Option<RetrievalSummary>,
    /// Real queries against the corpus (None: no queries given).
    pub queries: Option<crate::queries::QueryReport>,
    /// Pass or fail against the thresholds.
    pub verdict: Verdict,
    /// Stage timings and search speeds: the only part that differs between two runs on the
    /// same input (see [`Audit::without_timings`]).
    pub timings: Vec<Timing>,
    /// Cluster of every row.
    #[serde(skip)]
    pub labels: Vec<usize>,
    /// Cosine of every row to its cluster's mean direction (low: an outlier of its cluster).
    #[serde(skip)]
    pub centroid_cosine: Vec<f32>,
    /// Centroids of the chosen K-Means model, `k x dim` row-major: what rows outside the
    /// statistic stages' sample are assigned by (and what a cluster's workers assign every
    /// row by, `embedscope.ray`).
    #[serde(skip)]
    pub centroids: Vec<f32>,
}

impl Audit {
    /// One row per document: row, cluster, label, centroid_cosine, and when those sections ran
    /// hdbscan_cluster (-1 = noise), outlier_score (GLOSH) (both null for rows outside a
    /// sampled noise section), duplicate_group (-1 = none), kept, and from the health check
    /// tokens, truncated, boilerplate_chars, damaged, language.
    pub fn to_frame(&self) -> Result<polars::prelude::DataFrame> {
        frame(self.labels.len(), self.frame_columns())
    }

    fn frame_columns(&self) -> Vec<polars::prelude::Column> {
        let n = self.labels.len();
        let label_of = |c: usize| self.clusters.get(c).map_or("", |s| s.label.as_str());
        let mut columns = vec![
            u32_col("row", 0..n),
            u32_col("cluster", self.labels.iter().copied()),
            str_col("label", self.labels.iter().map(|&c| label_of(c))),
            f32_col("centroid_cosine", self.centroid_cosine.iter().copied()),
        ];
        if let Some(noise) = &self.noise {
            // Rows outside the noise section's sample are null.
            let mut cluster: Vec<Option<i32>> = vec![None; n];
            let mut score: Vec<Option<f32>> = vec![None; n];
            for (s, &row) in noise.row_of().iter().enumerate() {
                cluster[row] = Some(noise.labels[s].map_or(-1, |c| c as i32));
                score[row] = Some(noise.scores[s]);
            }
            columns.push(opt_i32_col("hdbscan_cluster", cluster));
            columns.push(opt_f32_col("outlier_score", score));
        }
        if let Some(d) = &self.duplicates {
            columns.push(i32_col(
                "duplicate_group",
                d.group_of.iter().map(|g| g.map_or(-1, |g| g as i32)),
            ));
            columns.push(bool_col("kept", d.kept.iter().copied()));
        }
        if let Some(h) = &self.health {
            columns.extend(h.report.frame_columns());
        }
        columns
    }

    /// One row per document: row, id, cluster, label, centroid_cosine, and as the sections
    /// ran hdbscan_cluster (-1 = noise), outlier_score (GLOSH), duplicate_group (-1 = none),
    /// kept, the health check's columns, and with queries query_hits (in how many queries'
    /// top k) and dead (in none): `assignments.parquet`, and what a write-back sends to a
    /// store. `corpus` is the one the audit ran on (for the ids).
    pub fn assignments_frame(&self, corpus: &Corpus) -> Result<polars::prelude::DataFrame> {
        if corpus.len() != self.labels.len() {
            return Err(Error::param(
                "corpus",
                corpus.len(),
                format!("rows, but the audit ran on {}", self.labels.len()),
            ));
        }
        let n = self.labels.len();
        let mut columns = self.frame_columns();
        columns.insert(1, str_col("id", corpus.ids.iter().map(String::as_str)));
        if let Some(q) = &self.queries {
            if q.document_hits.len() == n {
                columns.push(u32_col("query_hits", q.document_hits.iter().copied()));
                columns.push(bool_col("dead", q.document_hits.iter().map(|&h| h == 0)));
            }
        }
        polars::prelude::DataFrame::new(n, columns)
            .map_err(|e| Error::table("the assignments table", e))
    }

    /// The audit's tables by name: `assignments` (see
    /// [`assignments_frame`](Self::assignments_frame)), when duplicates were searched
    /// `duplicate_pairs` (row_a, row_b, cosine at the lowest threshold), and with queries
    /// `queries` (id, text, best_cosine, gap, topic, top_ids). `corpus` is the one the audit
    /// ran on (for the ids).
    pub fn tables(
        &self,
        corpus: &Corpus,
    ) -> Result<Vec<(&'static str, polars::prelude::DataFrame)>> {
        let mut tables = vec![("assignments", self.assignments_frame(corpus)?)];
        if let Some(d) = &self.duplicates {
            tables.push(("duplicate_pairs", crate::io::pairs_frame(&d.pairs)?));
        }
        if let Some(q) = &self.queries {
            tables.push(("queries", q.to_frame()?));
        }
        Ok(tables)
    }

    /// Writes the audit's [`tables`](Self::tables) as Parquet into `dir` (created if
    /// missing), atomically, each as `<name>.parquet`: `assignments.parquet` (row, id,
    /// cluster, label, centroid_cosine, hdbscan_cluster (-1 = noise), outlier_score (GLOSH),
    /// duplicate_group (-1 = none), kept, and from the health check tokens, truncated,
    /// boilerplate_chars, damaged, language; with queries query_hits and dead) and, when
    /// duplicates were searched, `duplicate_pairs.parquet`, and with queries
    /// `queries.parquet`. Returns the files written.
    pub fn write_tables(
        &self,
        corpus: &Corpus,
        dir: &std::path::Path,
    ) -> Result<Vec<std::path::PathBuf>> {
        let tables = self.tables(corpus)?;
        std::fs::create_dir_all(dir).map_err(|e| Error::Io {
            path: dir.to_path_buf(),
            source: e,
        })?;
        let mut written = Vec::new();
        for (name, frame) in tables {
            let path = dir.join(format!("{name}.parquet"));
            crate::io::write_frame(&path, frame)?;
            written.push(path);
        }
        Ok(written)
    }

    /// Writes `audit.json` ([`AuditDocument`]) atomically to `path`, naming `report`.
    pub fn write_json(&self, path: &std::path::Path, report: &std::path::Path) -> Result<()> {
        let text = AuditDocument {
            audit: self,
            report: report.display().to_string(),
        }
        .to_json()?;
        crate::io::write_atomic(path, |w| w.write_all(text.as_bytes()))
    }

    /// Drops everything that measures time (stage timings, search speeds, embedding seconds)
    /// or the machine's free memory (an automatic budget's figures), so that two runs on the
    /// same input and seed serialise and render byte-identically.
    pub fn without_timings(mut self) -> Audit {
        self.timings.clear();
        self.sampling.memory.without_machine_figures();
        if let Some(e) = self.embedding.as_mut() {
            e.seconds = 0.0;
        }
        if let Some(h) = self.health.as_mut() {
            h.report.seconds = 0.0;
        }
        if let Some(s) = self.stability.as_mut() {
            s.seconds = 0.0;
        }
        if let Some(q) = self.queries.as_mut() {
            q.seconds = 0.0;
        }
        self
    }
}
