//! [`Audit`]: the whole run, load -> embed -> K sweep -> K-Means -> cluster summaries, and what
//! the report, `audit.json` and a notebook cell show.

mod sections;

use std::time::Instant;

use serde::Serialize;

use crate::cluster::dendrogram::{dendrogram, Dendrogram};
use crate::cluster::{Agglomerative, KScore, KSweepParams, Linkage, Metric};
use crate::embed::{embed_texts, EmbedStats, Embedder, EmbeddingCache};
use crate::embeddings::Embeddings;
use crate::error::{Error, Result};
use crate::io::Corpus;
use crate::label::llm::{llm_labels, LabelSource, LlmParams, TopicInput};
use crate::label::{keywords, short_label, Keyword, KeywordParams};
use crate::progress::{Progress, Silent};
use crate::project::{trustworthiness_sample, Umap};
use crate::rng::Rng;

pub use sections::{
    ClusterRetrieval, DocCount, DuplicatesSummary, GroupView, Histogram, HubSummary, NoiseSummary,
    OutlierDoc, PairView, ProbeRecall, RetrievalSummary, ThresholdCount, Verdict,
    VerdictThresholds,
};

/// Characters of a document kept in summaries.
const SNIPPET_CHARS: usize = 300;
/// Representative documents listed per cluster.
const EXAMPLES: usize = 5;

/// Points plotted in the report's map at most (a seeded sample above that).
const MAP_MAX_POINTS: usize = 50_000;
/// Characters of a document shown when hovering over its point.
const HOVER_CHARS: usize = 120;

/// The 2-D map of the corpus (UMAP, cosine), as the report draws it.
#[derive(Debug, Clone, PartialEq, Serialize)]
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
    /// Hover text of each plotted point (the start of its document, or its id).
    #[serde(skip)]
    pub hover: Vec<String>,
}

/// How the clusters relate: average-linkage (cosine) agglomeration of the K-Means centroids.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ClusterTree {
    /// How the tree was built.
    pub method: String,
    /// The merges, scipy's linkage format (`[a, b, distance, size]`; leaves are cluster ids).
    pub linkage: Vec<[f64; 4]>,
    /// The drawing.
    pub dendrogram: Dendrogram,
}

/// Where the vectors came from.
#[derive(Debug, Clone, PartialEq, Serialize)]
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
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CorpusSummary {
    /// Input file.
    pub source: String,
    /// Rows.
    pub rows: usize,
    /// Whether texts were available.
    pub has_texts: bool,
    /// Vector dimension.
    pub dim: usize,
    /// Where the vectors came from.
    pub vectors: VectorSource,
}

/// A document shown as an example of its cluster.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Example {
    /// Row in the corpus (0-based).
    pub row: usize,
    /// Document id.
    pub id: String,
    /// The text, cut to a few hundred characters (empty without texts).
    pub text: String,
    /// Cosine similarity to the cluster's centroid direction.
    pub similarity: f32,
}

/// One cluster, summarised.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ClusterSummary {
    /// Cluster id (0 = largest).
    pub id: usize,
    /// Rows in it.
    pub size: usize,
    /// Share of the corpus.
    pub share: f64,
    /// Mean cosine similarity of members to the centroid direction.
    pub cohesion: f32,
    /// The members nearest the centroid, distinct texts only.
    pub examples: Vec<Example>,
    /// Top c-TF-IDF keywords (empty without texts).
    pub keywords: Vec<Keyword>,
    /// A short offline label: the top three keywords that share no word ([`short_label`];
    /// `cluster N` without texts).
    pub label: String,
    /// The nearest other clusters by centroid direction, nearest first (at most three).
    pub neighbours: Vec<NeighbourCluster>,
    /// Where `label` came from: `keywords`, or `llm` / `cache` with `--llm`.
    pub label_source: LabelSource,
    /// Why the LLM label is missing, when one was asked for and failed.
    pub label_reason: Option<String>,
}

/// A neighbouring cluster.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NeighbourCluster {
    /// Its id.
    pub id: usize,
    /// Cosine similarity of the two centroid directions.
    pub similarity: f32,
}

/// The K sweep, summarised.
#[derive(Debug, Clone, PartialEq, Serialize)]
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

/// The parameters of the run.
#[derive(Debug, Clone, PartialEq, Serialize)]
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
    /// Sections run: map, duplicates, noise, retrieval.
    pub sections: Vec<String>,
}

/// Wall time of one stage.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Timing {
    /// Stage name.
    pub stage: String,
    /// Seconds.
    pub seconds: f64,
    /// Queries per second, for search stages.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub qps: Option<f64>,
}

/// Everything an audit found. Owns its data, so a notebook can keep it.
#[derive(Debug, Clone, Serialize)]
pub struct Audit {
    /// embedscope's version.
    pub version: String,
    /// The corpus.
    pub corpus: CorpusSummary,
    /// Parameters.
    pub params: AuditParams,
    /// Embedding statistics, when a model ran.
    pub embedding: Option<EmbedStats>,
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
    /// Exact and near duplicates (None when not asked for).
    pub duplicates: Option<DuplicatesSummary>,
    /// HDBSCAN noise and outliers (None when not asked for, or fewer than 20 rows).
    pub noise: Option<NoiseSummary>,
    /// Cluster-based retrieval against exact search (None when not asked for, or fewer than 20
    /// rows).
    pub retrieval: Option<RetrievalSummary>,
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
}

impl Audit {
    /// One row per document: row, cluster, label, centroid_cosine, and when those sections ran
    /// hdbscan_cluster (-1 = noise), outlier_score (GLOSH), duplicate_group (-1 = none), kept.
    pub fn to_frame(&self) -> Result<polars::prelude::DataFrame> {
        polars::prelude::DataFrame::new(self.labels.len(), self.frame_columns())
            .map_err(|e| Error::Unsupported(e.to_string()))
    }

    fn frame_columns(&self) -> Vec<polars::prelude::Column> {
        use polars::prelude::*;
        let n = self.labels.len();
        let label_of = |c: usize| self.clusters.get(c).map_or("", |s| s.label.as_str());
        let mut columns = vec![
            UInt32Chunked::from_iter_values("row".into(), 0..n as u32)
                .into_series()
                .into_column(),
            UInt32Chunked::from_iter_values(
                "cluster".into(),
                self.labels.iter().map(|&c| c as u32),
            )
            .into_series()
            .into_column(),
            StringChunked::from_iter_values(
                "label".into(),
                self.labels.iter().map(|&c| label_of(c)),
            )
            .into_series()
            .into_column(),
            Float32Chunked::from_iter_values(
                "centroid_cosine".into(),
                self.centroid_cosine.iter().copied(),
            )
            .into_series()
            .into_column(),
        ];
        if let Some(noise) = &self.noise {
            columns.push(
                Int32Chunked::from_iter_values(
                    "hdbscan_cluster".into(),
                    noise.labels.iter().map(|l| l.map_or(-1, |c| c as i32)),
                )
                .into_series()
                .into_column(),
            );
            columns.push(
                Float32Chunked::from_iter_values(
                    "outlier_score".into(),
                    noise.scores.iter().copied(),
                )
                .into_series()
                .into_column(),
            );
        }
        if let Some(d) = &self.duplicates {
            columns.push(
                Int32Chunked::from_iter_values(
                    "duplicate_group".into(),
                    d.group_of.iter().map(|g| g.map_or(-1, |g| g as i32)),
                )
                .into_series()
                .into_column(),
            );
            columns.push(
                BooleanChunked::from_iter_values("kept".into(), d.kept.iter().copied())
                    .into_series()
                    .into_column(),
            );
        }
        columns
    }

    /// Writes the audit's tables as Parquet into `dir` (created if missing), atomically:
    /// `assignments.parquet` (row, id, cluster, label, centroid_cosine, hdbscan_cluster (-1 =
    /// noise), outlier_score (GLOSH), duplicate_group (-1 = none), kept) and, when duplicates
    /// were searched, `duplicate_pairs.parquet` (row_a, row_b, cosine at the lowest threshold).
    /// `corpus` is the one the audit ran on (for the ids). Returns the files written.
    pub fn write_tables(
        &self,
        corpus: &Corpus,
        dir: &std::path::Path,
    ) -> Result<Vec<std::path::PathBuf>> {
        if corpus.len() != self.labels.len() {
            return Err(Error::param(
                "corpus",
                corpus.len(),
                format!("rows, but the audit ran on {}", self.labels.len()),
            ));
        }
        std::fs::create_dir_all(dir).map_err(|e| Error::Io {
            path: dir.to_path_buf(),
            source: e,
        })?;
        let n = self.labels.len();
        use polars::prelude::*;
        let mut columns = self.frame_columns();
        columns.insert(
            1,
            StringChunked::from_iter_values("id".into(), corpus.ids.iter().map(String::as_str))
                .into_series()
                .into_column(),
        );
        let mut written = Vec::new();
        let assignments = dir.join("assignments.parquet");
        crate::io::write_parquet(&assignments, n, columns)?;
        written.push(assignments);
        if let Some(d) = &self.duplicates {
            let pairs = dir.join("duplicate_pairs.parquet");
            crate::io::write_pairs(&pairs, &d.pairs)?;
            written.push(pairs);
        }
        Ok(written)
    }

    /// Drops everything that measures time (stage timings, search speeds, embedding seconds),
    /// so that two runs on the same input and seed serialise and render byte-identically.
    pub fn without_timings(mut self) -> Audit {
        self.timings.clear();
        if let Some(e) = self.embedding.as_mut() {
            e.seconds = 0.0;
        }
        self
    }
}

/// Configures and runs an [`Audit`].
pub struct AuditBuilder<'a> {
    sweep: KSweepParams,
    seed: u64,
    k: (usize, usize),
    n_init: usize,
    embedder: Option<&'a dyn Embedder>,
    cache: Option<EmbeddingCache>,
    reembed: bool,
    map: bool,
    duplicates: bool,
    noise: bool,
    retrieval: bool,
    dedup_threshold: f64,
    thresholds: VerdictThresholds,
    llm: Option<LlmParams>,
    progress: &'a dyn Progress,
}

impl Audit {
    /// Starts configuring an audit.
    ///
    /// ```
    /// use embedscope::{Audit, Corpus, Embeddings};
    /// let mut corpus = Corpus::from_texts(["a", "b", "c", "d"]);
    /// corpus.vectors = Some(Embeddings::new(vec![1.0, 0.0, 0.9, 0.1, 0.0, 1.0, 0.1, 0.9], 2)?);
    /// let audit = Audit::builder().k_range(2, 3).run(&corpus)?;
    /// assert_eq!(audit.optimal_k.chosen_k, 2);
    /// assert_eq!(audit.clusters.len(), 2);
    /// # Ok::<(), embedscope::Error>(())
    /// ```
    pub fn builder<'a>() -> AuditBuilder<'a> {
        AuditBuilder {
            sweep: KSweepParams::default(),
            seed: 42,
            k: (2, 10),
            n_init: 10,
            embedder: None,
            cache: None,
            reembed: false,
            map: true,
            duplicates: true,
            noise: true,
            retrieval: true,
            dedup_threshold: 0.95,
            thresholds: VerdictThresholds::default(),
            llm: None,
            progress: &Silent,
        }
    }
}

impl<'a> AuditBuilder<'a> {
    /// Range of k for the sweep. Default 2..=10.
    pub fn k_range(mut self, k_min: usize, k_max: usize) -> Self {
        self.k = (k_min, k_max);
        self
    }
    /// K-Means initialisations per k. Default 10.
    pub fn n_init(mut self, n: usize) -> Self {
        self.n_init = n;
        self
    }
    /// Seed. Default 42.
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }
    /// The embedder for corpora without vectors (or with `reembed`).
    pub fn embedder(mut self, e: &'a dyn Embedder) -> Self {
        self.embedder = Some(e);
        self
    }
    /// An embedding cache for the embedder.
    pub fn cache(mut self, c: EmbeddingCache) -> Self {
        self.cache = Some(c);
        self
    }
    /// Embed the texts even when the file carries vectors. Default false.
    pub fn reembed(mut self, yes: bool) -> Self {
        self.reembed = yes;
        self
    }
    /// Draw the 2-D UMAP map of the corpus. Default true.
    pub fn map(mut self, yes: bool) -> Self {
        self.map = yes;
        self
    }
    /// Find exact and near duplicates. Default true.
    pub fn duplicates(mut self, yes: bool) -> Self {
        self.duplicates = yes;
        self
    }
    /// Cosine at or above which documents are near duplicates. Default 0.95 (the reference
    /// workflow's).
    pub fn dedup_threshold(mut self, t: f64) -> Self {
        self.dedup_threshold = t;
        self
    }
    /// Measure HDBSCAN noise and outliers (BERTopic's route: 5-D UMAP, then HDBSCAN). Default
    /// true.
    pub fn noise(mut self, yes: bool) -> Self {
        self.noise = yes;
        self
    }
    /// Measure cluster-based retrieval (IVF) against exact search. Default true.
    pub fn retrieval(mut self, yes: bool) -> Self {
        self.retrieval = yes;
        self
    }
    /// The verdict's limits. Default [`VerdictThresholds::default`].
    pub fn thresholds(mut self, t: VerdictThresholds) -> Self {
        self.thresholds = t;
        self
    }
    /// Name the clusters with a language model (OpenAI-compatible API); failures keep the
    /// keyword label and record why. Default: keyword labels only.
    pub fn llm(mut self, params: LlmParams) -> Self {
        self.llm = Some(params);
        self
    }
    /// Where progress goes. Default: nowhere.
    pub fn progress(mut self, p: &'a dyn Progress) -> Self {
        self.progress = p;
        self
    }

    /// Runs the audit on a loaded corpus.
    pub fn run(mut self, corpus: &Corpus) -> Result<Audit> {
        let sweep = self
            .sweep
            .clone()
            .k_min(self.k.0)
            .k_max(self.k.1)
            .n_init(self.n_init)
            .seed(self.seed);
        sweep.check()?;
        let mut timings = Vec::new();
        let mut clock = Instant::now();
        let mut lap = |stage: &str, timings: &mut Vec<Timing>| {
            timings.push(Timing {
                stage: stage.into(),
                seconds: clock.elapsed().as_secs_f64(),
                qps: None,
            });
            clock = Instant::now();
        };

        // Embed, or take the file's vectors.
        let (vectors, embedding, source): (std::borrow::Cow<'_, Embeddings>, _, _) =
            match (&corpus.vectors, self.reembed) {
                (Some(v), false) => (std::borrow::Cow::Borrowed(v), None, VectorSource::File),
                _ => {
                    let texts = corpus.texts.as_ref().ok_or_else(|| {
                        Error::Unsupported(format!(
                            "{}: no texts to embed (a vector-only input cannot be re-embedded)",
                            corpus.source.display()
                        ))
                    })?;
                    let embedder = self.embedder.ok_or_else(|| {
                        Error::Unsupported(format!(
                            "{}: the corpus has no vectors and no embedder was configured",
                            corpus.source.display()
                        ))
                    })?;
                    let (e, stats) =
                        embed_texts(embedder, texts, self.cache.as_mut(), self.progress)?;
                    let model = stats.model.clone();
                    (
                        std::borrow::Cow::Owned(e),
                        Some(stats),
                        VectorSource::Model { model },
                    )
                }
            };
        lap("embed", &mut timings);

        let k_count = (sweep_k_max(self.k.1, vectors.rows()) + 1).saturating_sub(self.k.0);
        self.progress.start("k sweep", k_count as u64);
        let progress = self.progress;
        let result = sweep.fit(&vectors, &|_| progress.advance(1))?;
        self.progress.finish();
        lap("k sweep", &mut timings);

        let model = result.chosen_model();
        let mut clusters = summarise_clusters(corpus, &vectors, model.labels(), model.n_clusters());
        let mut llm_note = None;
        if let (Some(params), Some(_)) = (&self.llm, &corpus.texts) {
            apply_llm_labels(&mut clusters, params)?;
            lap("LLM labels", &mut timings);
            let failed: Vec<&ClusterSummary> = clusters
                .iter()
                .filter(|c| c.label_reason.is_some())
                .collect();
            if let Some(first) = failed.first() {
                llm_note = Some(format!(
                    "LLM labels: {} of {} clusters kept their keyword labels (cluster {}: {}).",
                    failed.len(),
                    clusters.len(),
                    first.id,
                    first.label_reason.as_deref().unwrap_or("")
                ));
            }
        }
        let cluster_tree = cluster_tree(model.centroids(), vectors.dim())?;
        lap("summaries", &mut timings);

        let map = if self.map && vectors.rows() > 16 {
            Some(corpus_map(corpus, &vectors, self.seed, self.progress)?)
        } else {
            None
        };
        if map.is_some() {
            lap("map (UMAP)", &mut timings);
        }

        let centroid_cosine = centroid_cosines(&vectors, model.labels(), model.n_clusters());
        let n = vectors.rows();
        if !(self.dedup_threshold > 0.0 && self.dedup_threshold <= 1.0) {
            return Err(Error::param(
                "dedup threshold",
                self.dedup_threshold,
                "must be in (0, 1]",
            ));
        }
        let duplicates = if self.duplicates && n >= 2 {
            let d = sections::duplicates(corpus, &vectors, self.dedup_threshold, self.seed)?;
            lap("duplicates", &mut timings);
            Some(d)
        } else {
            None
        };
        let noise = if self.noise && n >= 20 {
            let r = sections::noise(
                corpus,
                &vectors,
                model.labels(),
                model.n_clusters(),
                self.seed,
                self.progress,
            )?;
            lap("noise (UMAP 5-D + HDBSCAN)", &mut timings);
            Some(r)
        } else {
            None
        };
        let retrieval = if self.retrieval && n >= 20 {
            let r = sections::retrieval(
                corpus,
                &vectors,
                &clusters,
                model.labels(),
                sections::RetrievalSettings {
                    nprobe: self.thresholds.nprobe,
                    dedup_threshold: self.dedup_threshold,
                    seed: self.seed,
                },
                &mut timings,
            )?;
            lap("retrieval (all)", &mut timings);
            Some(r)
        } else {
            None
        };
        let verdict = sections::verdict(
            &self.thresholds,
            duplicates.as_ref(),
            noise.as_ref(),
            retrieval.as_ref(),
        );

        let optimal_k = SweepSummary {
            per_k: result.per_k.clone(),
            chosen_k: result.chosen_k,
            silhouette_rows: result.silhouette_rows,
            weak_structure: result.weak_structure(),
            chosen_at_edge: result.chosen_at_edge(),
        };
        let mut notes: Vec<String> = llm_note.into_iter().collect();
        notes.extend(sections::verdict_notes(
            &verdict,
            duplicates.as_ref(),
            noise.as_ref(),
            retrieval.as_ref(),
        ));
        if optimal_k.weak_structure {
            let best = optimal_k
                .per_k
                .iter()
                .map(|s| s.silhouette)
                .fold(f64::MIN, f64::max);
            notes.push(format!(
                "Weak cluster structure: the best silhouette is {best:.3} (below 0.1 for every k). \
                 Raw sentence embeddings typically score 0.01-0.05; treat K = {} as a convenient \
                 partition, not a discovered number of topics.",
                optimal_k.chosen_k
            ));
        }
        if optimal_k.chosen_at_edge {
            notes.push(format!(
                "The chosen K = {} is at an end of the range {}..={}: the best K may lie outside it.",
                optimal_k.chosen_k,
                optimal_k.per_k.first().map_or(0, |s| s.k),
                optimal_k.per_k.last().map_or(0, |s| s.k)
            ));
        }
        Ok(Audit {
            version: env!("CARGO_PKG_VERSION").into(),
            corpus: CorpusSummary {
                source: corpus.source.display().to_string(),
                rows: corpus.len(),
                has_texts: corpus.texts.is_some(),
                dim: vectors.dim(),
                vectors: source,
            },
            params: AuditParams {
                seed: self.seed,
                k_min: self.k.0,
                k_max: sweep_k_max(self.k.1, vectors.rows()),
                n_init: self.n_init,
                dedup_threshold: self.dedup_threshold,
                sections: [
                    ("map", self.map),
                    ("duplicates", self.duplicates),
                    ("noise", self.noise),
                    ("retrieval", self.retrieval),
                ]
                .iter()
                .filter(|s| s.1)
                .map(|s| s.0.to_string())
                .collect(),
            },
            embedding,
            optimal_k,
            labels: model.labels().to_vec(),
            map,
            clusters,
            cluster_tree,
            duplicates,
            noise,
            retrieval,
            verdict,
            notes,
            timings,
            centroid_cosine,
        })
    }
}

/// Replaces the keyword labels by the model's where it answers; records why where it does not.
pub fn apply_llm_labels(clusters: &mut [ClusterSummary], params: &LlmParams) -> Result<()> {
    let topics: Vec<TopicInput> = clusters
        .iter()
        .map(|c| TopicInput {
            keywords: c.keywords.iter().map(|k| k.term.clone()).collect(),
            documents: c.examples.iter().map(|e| e.text.clone()).collect(),
        })
        .collect();
    let fallback: Vec<String> = clusters.iter().map(|c| c.label.clone()).collect();
    for (c, l) in clusters
        .iter_mut()
        .zip(llm_labels(&topics, &fallback, params)?)
    {
        c.label = l.label;
        c.label_source = l.source;
        c.label_reason = l.reason;
    }
    Ok(())
}

/// The centroids' hierarchy (average linkage, cosine): which topics are near which.
fn cluster_tree(centroids: &[f32], dim: usize) -> Result<Option<ClusterTree>> {
    let k = centroids.len() / dim;
    if k < 2 {
        return Ok(None);
    }
    let directions = Embeddings::new(centroids.to_vec(), dim)?;
    let model = Agglomerative::params(1)
        .linkage(Linkage::Average)
        .metric(Metric::Cosine)
        .fit(&directions)?;
    let linkage = model.linkage_matrix().to_vec();
    Ok(Some(ClusterTree {
        method: "average linkage, cosine distance between K-Means centroids".into(),
        dendrogram: dendrogram(&linkage),
        linkage,
    }))
}

/// UMAP to 2-D with umap-learn's defaults (cosine), its trustworthiness, and the points the
/// report plots.
fn corpus_map(
    corpus: &Corpus,
    vectors: &Embeddings,
    seed: u64,
    progress: &dyn Progress,
) -> Result<CorpusMap> {
    let n = vectors.rows();
    let params = Umap::params().n_neighbors(15.min(n - 1)).seed(seed);
    let model = params.fit_with_progress(vectors, progress)?;
    let y = model.embedding();
    let trust = trustworthiness_sample(vectors, y, 2, 10.min((n.min(5000) - 1) / 2), 5000, seed)?;
    let rows: Vec<usize> = if n > MAP_MAX_POINTS {
        let mut r = Rng::new(seed, 0x3a9).sample(n, MAP_MAX_POINTS);
        r.sort_unstable();
        r
    } else {
        (0..n).collect()
    };
    let points = rows.iter().map(|&i| [y[2 * i], y[2 * i + 1]]).collect();
    let hover = rows
        .iter()
        .map(|&i| match &corpus.texts {
            Some(t) => snippet_of(&t[i], HOVER_CHARS),
            None => corpus.ids[i].clone(),
        })
        .collect();
    Ok(CorpusMap {
        method: "umap".into(),
        n_neighbors: 15.min(n - 1),
        min_dist: 0.1,
        trustworthiness: trust,
        knn_recall: model.knn_recall(),
        plotted: rows.len(),
        rows,
        points,
        hover,
    })
}

/// Each row's cosine to its cluster's mean direction.
fn centroid_cosines(data: &Embeddings, labels: &[usize], k: usize) -> Vec<f32> {
    let d = data.dim();
    let mut sums = vec![0.0f64; k * d];
    for (i, &c) in labels.iter().enumerate() {
        for (s, &v) in sums[c * d..(c + 1) * d].iter_mut().zip(data.row(i)) {
            *s += f64::from(v);
        }
    }
    for c in sums.chunks_exact_mut(d) {
        let norm = c
            .iter()
            .map(|v| v * v)
            .sum::<f64>()
            .sqrt()
            .max(f64::MIN_POSITIVE);
        c.iter_mut().for_each(|v| *v /= norm);
    }
    labels
        .iter()
        .enumerate()
        .map(|(i, &c)| {
            data.row(i)
                .iter()
                .zip(&sums[c * d..(c + 1) * d])
                .map(|(&a, &b)| f64::from(a) * b)
                .sum::<f64>() as f32
        })
        .collect()
}

fn sweep_k_max(k_max: usize, n: usize) -> usize {
    k_max.min(n.saturating_sub(1))
}

/// Size, cohesion, the members nearest each centroid direction, c-TF-IDF keywords (default
/// parameters) and the nearest clusters.
pub fn summarise_clusters(
    corpus: &Corpus,
    data: &Embeddings,
    labels: &[usize],
    k: usize,
) -> Vec<ClusterSummary> {
    let words = match &corpus.texts {
        Some(texts) => {
            let l: Vec<Option<usize>> = labels.iter().map(|&c| Some(c)).collect();
            keywords(texts, &l, k, &KeywordParams::default()).unwrap_or_default()
        }
        None => Vec::new(),
    };
    summarise_clusters_with(corpus, data, labels, k, &words)
}

/// [`summarise_clusters`] with keywords computed by the caller (`words[c]` for cluster `c`;
/// empty for none), so a caller that already has them does not count the corpus twice.
pub fn summarise_clusters_with(
    corpus: &Corpus,
    data: &Embeddings,
    labels: &[usize],
    k: usize,
    words: &[Vec<Keyword>],
) -> Vec<ClusterSummary> {
    let d = data.dim();
    let n = data.rows();
    let mut sums = vec![0.0f64; k * d];
    let mut members: Vec<Vec<usize>> = vec![Vec::new(); k];
    for (i, &c) in labels.iter().enumerate() {
        members[c].push(i);
        sums[c * d..(c + 1) * d]
            .iter_mut()
            .zip(data.row(i))
            .for_each(|(s, v)| *s += f64::from(*v));
    }
    let dirs: Vec<Vec<f32>> = (0..k)
        .map(|c| {
            let s = &sums[c * d..(c + 1) * d];
            let norm = s
                .iter()
                .map(|v| v * v)
                .sum::<f64>()
                .sqrt()
                .max(f64::MIN_POSITIVE);
            s.iter().map(|v| (v / norm) as f32).collect()
        })
        .collect();
    (0..k)
        .map(|c| {
            let dir = &dirs[c];
            let mut scored: Vec<(f32, usize)> = members[c]
                .iter()
                .map(|&i| {
                    (
                        data.row(i).iter().zip(dir.iter()).map(|(a, b)| a * b).sum(),
                        i,
                    )
                })
                .collect();
            let cohesion = if scored.is_empty() {
                0.0
            } else {
                scored.iter().map(|s| s.0).sum::<f32>() / scored.len() as f32
            };
            scored.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
            let mut seen = std::collections::HashSet::new();
            let examples = scored
                .iter()
                .filter(|(_, i)| match &corpus.texts {
                    Some(t) => seen.insert(t[*i].as_str()),
                    None => true,
                })
                .take(EXAMPLES)
                .map(|&(sim, i)| Example {
                    row: i,
                    id: corpus.ids[i].clone(),
                    text: corpus
                        .texts
                        .as_ref()
                        .map_or_else(String::new, |t| snippet(&t[i])),
                    similarity: sim,
                })
                .collect();
            let mut neighbours: Vec<NeighbourCluster> = (0..k)
                .filter(|&o| o != c)
                .map(|o| NeighbourCluster {
                    id: o,
                    similarity: dir.iter().zip(&dirs[o]).map(|(a, b)| a * b).sum(),
                })
                .collect();
            neighbours.sort_by(|a, b| b.similarity.total_cmp(&a.similarity).then(a.id.cmp(&b.id)));
            neighbours.truncate(3);
            let kw = words.get(c).cloned().unwrap_or_default();
            let label = if kw.is_empty() {
                format!("cluster {c}")
            } else {
                short_label(&kw, 3)
            };
            ClusterSummary {
                id: c,
                size: members[c].len(),
                share: members[c].len() as f64 / n as f64,
                cohesion,
                examples,
                keywords: kw,
                label,
                neighbours,
                label_source: LabelSource::Keywords,
                label_reason: None,
            }
        })
        .collect()
}

/// The first 300 characters, with an ellipsis when cut.
pub fn snippet(text: &str) -> String {
    snippet_of(text, SNIPPET_CHARS)
}

/// The first `chars` characters, with an ellipsis when cut.
fn snippet_of(text: &str, chars: usize) -> String {
    match text.char_indices().nth(chars) {
        Some((at, _)) => format!("{}…", &text[..at]),
        None => text.to_string(),
    }
}
