//! The `--json` contract: one `Serialize` type per subcommand's output (`audit --json FILE`
//! writes the library's `audit::AuditDocument`, whose schema is `schemas/audit.schema.json`).
//! Scripts rely on these keys; a type here changes only with the README's contract.

use std::path::Path;

use embedscope::cluster::{KScore, LabelAgreement};
use embedscope::dedup::PairRecall;
use embedscope::label::llm::LabelSource;
use embedscope::label::summary::{Example, NeighbourCluster};
use embedscope::label::Keyword;
use embedscope::project::{UmapInit, UmapTimings};
use embedscope::retrieve::{ClusterRecall, DedupImpact, Hubness, NprobeResult};
use serde::ser::SerializeMap;
use serde::{Serialize, Serializer};

/// Prints `value` as one line of JSON on stdout. It goes through `serde_json::Value`, whose
/// objects keep their keys sorted: the bytes scripts have read since the first release.
pub fn print_json<T: Serialize>(value: &T) -> anyhow::Result<()> {
    println!("{}", serde_json::to_value(value)?);
    Ok(())
}

/// `--json FILE` (or `-`: stdout) and the few-line summary: the JSON written to FILE by `write`
/// or printed on stdout, the summary on stdout, or on stderr when stdout holds the JSON.
pub fn json_and_summary<T: Serialize>(
    json: Option<&Path>,
    value: &T,
    write: impl FnOnce(&Path) -> embedscope::Result<()>,
    summary: &str,
) -> anyhow::Result<()> {
    let to_stdout = json == Some(Path::new("-"));
    match json {
        Some(_) if to_stdout => print_json(value)?,
        Some(path) => write(path)?,
        None => {}
    }
    if to_stdout {
        eprint!("{summary}");
    } else {
        print!("{summary}");
    }
    Ok(())
}

/// `embed --json`.
#[derive(Serialize)]
pub struct Embed<'a> {
    pub out: &'a Path,
    pub rows: usize,
    pub dim: usize,
    pub model: &'a str,
    pub unique: usize,
    pub cache_hits: usize,
    pub embedded: usize,
    pub seconds: f64,
    pub texts_per_second: f64,
}

/// `cluster --json`.
#[derive(Serialize)]
pub struct Cluster<'a> {
    /// Agreement with `--label-column`, when given.
    pub labels: Option<LabelAgreement>,
    pub algorithm: &'a str,
    pub n_clusters: usize,
    pub noise: usize,
    /// K-Means and Mini-Batch: the sum of squared distances, as scikit-learn's.
    pub inertia: Option<f64>,
    pub n_iter: Option<usize>,
    /// K-Means: rows each initialisation ran on (fewer than `rows` with
    /// `--train-per-cluster`; `n_iter` is then the polish on all rows).
    pub train_rows: Option<usize>,
    pub sizes: Vec<usize>,
    pub seconds: f64,
    pub umap_dims: Option<usize>,
    pub umap_seconds: Option<f64>,
    pub rows: usize,
    pub out: &'a Path,
}

/// `cluster --stream --json`.
#[derive(Serialize)]
pub struct ClusterStream<'a> {
    pub algorithm: &'a str,
    pub stream: bool,
    pub n_clusters: usize,
    pub noise: usize,
    pub inertia: f64,
    pub sizes: Vec<usize>,
    pub seconds: f64,
    pub rows: usize,
    pub out: &'a Path,
}

/// `optimal-k --json`.
#[derive(Serialize)]
pub struct OptimalK<'a> {
    pub per_k: &'a [KScore],
    pub chosen_k: usize,
    pub elbow_k: usize,
    pub silhouette_rows: usize,
    pub weak_structure: bool,
    pub chosen_at_edge: bool,
    pub umap_dims: Option<usize>,
    pub seconds: f64,
}

/// `dedup --json`.
#[derive(Serialize)]
pub struct Dedup<'a> {
    pub threshold: f64,
    /// `exact` or `clustered`.
    pub mode: &'a str,
    pub rows: usize,
    pub pairs: usize,
    pub groups: usize,
    pub rows_in_groups: usize,
    pub largest_group: usize,
    pub removable: usize,
    pub exact_groups: Option<usize>,
    pub exact_removable: Option<usize>,
    pub keep: embedscope::dedup::Keep,
    pub kept_rows: usize,
    pub removed_rows: usize,
    pub clustered: Option<DedupClustered>,
    pub nearest_cosine_histogram: Option<CosineHistogram>,
    pub seconds: f64,
    pub out: &'a Path,
    pub deduplicated: Option<&'a Path>,
}

/// The clustered mode's settings and measured recall.
#[derive(Serialize)]
pub struct DedupClustered {
    pub nlist: usize,
    pub nprobe: usize,
    pub recall_sample: Option<PairRecall>,
    pub recall_seconds: Option<f64>,
}

/// Each row's nearest-neighbour cosine, binned.
#[derive(Serialize)]
pub struct CosineHistogram {
    pub bin_left_edges: Vec<f64>,
    pub counts: Vec<usize>,
    #[serde(rename = "below_0.5")]
    pub below_half: usize,
}

/// `search --json`.
#[derive(Serialize)]
pub struct Search {
    pub nlist: usize,
    pub nprobe: usize,
    pub top_k: usize,
    pub build_seconds: f64,
    pub results: Vec<SearchResult>,
}

/// One query's results.
#[derive(Serialize)]
pub struct SearchResult {
    pub query: String,
    pub hits: Vec<HitView>,
    /// With `--exact`: exact search's results and the share of them probing found.
    pub exact: Option<Vec<HitView>>,
    pub recall: Option<f64>,
}

/// A hit with the document's id and text.
#[derive(Serialize)]
pub struct HitView {
    pub row: usize,
    pub id: String,
    pub score: f32,
    pub cluster: usize,
    pub text: Option<String>,
}

/// `retrieval-eval --json`: the library's evaluation with recall keyed `recall_at_{k}`, the
/// 20 worst cells (all of them go to `--per-cluster`) and label names, without the query rows.
#[derive(Serialize)]
pub struct RetrievalEval<'a> {
    pub n_db: usize,
    pub n_queries: usize,
    pub nlist: usize,
    pub top_k: usize,
    pub list_sizes: [usize; 3],
    pub build_seconds: f64,
    pub index_copy: bool,
    pub exact_qps: f64,
    pub per_nprobe: Vec<ProbeRow>,
    pub skipped_nprobes: &'a [usize],
    pub per_cluster: &'a [ClusterRecall],
    pub per_label: Vec<LabelRecall<'a>>,
    pub hubness: Option<&'a Hubness>,
    pub dedup: Option<&'a DedupImpact>,
}

/// Recall and speed at one nprobe, the recall keyed `recall_at_{top_k}`.
pub struct ProbeRow {
    pub top_k: usize,
    pub result: NprobeResult,
}

impl Serialize for ProbeRow {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let r = &self.result;
        let mut m = s.serialize_map(Some(5))?;
        m.serialize_entry("nprobe", &r.nprobe)?;
        m.serialize_entry("qps", &r.qps)?;
        m.serialize_entry("seconds", &r.seconds)?;
        m.serialize_entry("scanned_fraction", &r.scanned_fraction)?;
        m.serialize_entry(&format!("recall_at_{}", self.top_k), &r.recall)?;
        m.end()
    }
}

/// Recall of one `--label-column` value, with its name.
#[derive(Serialize)]
pub struct LabelRecall<'a> {
    #[serde(flatten)]
    pub recall: &'a ClusterRecall,
    pub label: Option<&'a str>,
}

/// `label --json`.
#[derive(Serialize)]
pub struct Label<'a> {
    pub n_clusters: usize,
    pub noise: usize,
    pub clusters: Vec<LabelCluster<'a>>,
}

/// One cluster's name.
#[derive(Serialize)]
pub struct LabelCluster<'a> {
    pub id: usize,
    pub size: usize,
    pub label: &'a str,
    pub keywords: &'a [Keyword],
    /// With `--llm`.
    #[serde(flatten)]
    pub llm: Option<LlmLabel<'a>>,
    /// When the input carries vectors.
    #[serde(flatten)]
    pub summary: Option<LabelSummary<'a>>,
}

/// Where an LLM label came from.
#[derive(Serialize)]
pub struct LlmLabel<'a> {
    pub label_source: LabelSource,
    pub label_reason: Option<&'a str>,
}

/// Cohesion, representative documents and neighbouring clusters.
#[derive(Serialize)]
pub struct LabelSummary<'a> {
    pub cohesion: f32,
    pub examples: &'a [Example],
    pub neighbours: &'a [NeighbourCluster],
}

/// `project --json`.
#[derive(Serialize)]
pub struct Project<'a> {
    /// `umap` or `pca`.
    pub method: &'a str,
    pub rows: usize,
    pub n_components: usize,
    #[serde(flatten)]
    pub umap: Option<ProjectUmap>,
    #[serde(flatten)]
    pub pca: Option<ProjectPca<'a>>,
    pub seconds: f64,
    /// With `--trustworthiness`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub trustworthiness_k10_5k: Option<f64>,
    pub out: String,
}

/// What UMAP reports.
#[derive(Serialize)]
pub struct ProjectUmap {
    pub n_neighbors: usize,
    pub min_dist: f64,
    pub n_epochs: usize,
    pub init: UmapInit,
    pub edges: usize,
    pub knn_recall: Option<f64>,
    pub timings: UmapTimings,
}

/// What PCA reports.
#[derive(Serialize)]
pub struct ProjectPca<'a> {
    pub explained_variance_ratio: &'a [f64],
}
