//! [`Audit`]: the whole run, load -> embed -> K sweep -> K-Means -> cluster summaries, and what
//! the report, `audit.json` and a notebook cell show.

mod display;
mod sections;

use std::time::Instant;

use serde::Serialize;

use crate::cluster::dendrogram::{dendrogram, Dendrogram};
use crate::cluster::{Agglomerative, KScore, KSweepParams, Linkage};
use crate::embed::{embed_texts, EmbedStats, Embedder, EmbeddingCache};
use crate::embeddings::Embeddings;
use crate::error::{Error, Result};
use crate::io::frame::{bool_col, f32_col, frame, i32_col, str_col, u32_col};
use crate::io::Corpus;
use crate::label::llm::LlmParams;
use crate::label::summary::snippet_of;
pub use crate::label::summary::{
    apply_llm_labels, snippet, summarise_clusters, summarise_clusters_with, ClusterSummary,
    Example, NeighbourCluster,
};
use crate::metric::Metric;
use crate::progress::{Progress, Silent};
use crate::project::{trustworthiness_sample, Umap};
use crate::rng::Rng;

pub use sections::{
    ClusterRetrieval, DocCount, DuplicatesSummary, GroupView, Histogram, HubSummary, NoiseSummary,
    OutlierDoc, PairView, ProbeRecall, RetrievalSummary, ThresholdCount, Verdict,
    VerdictThresholds,
};

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
            columns.push(i32_col(
                "hdbscan_cluster",
                noise.labels.iter().map(|l| l.map_or(-1, |c| c as i32)),
            ));
            columns.push(f32_col("outlier_score", noise.scores.iter().copied()));
        }
        if let Some(d) = &self.duplicates {
            columns.push(i32_col(
                "duplicate_group",
                d.group_of.iter().map(|g| g.map_or(-1, |g| g as i32)),
            ));
            columns.push(bool_col("kept", d.kept.iter().copied()));
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
        let mut columns = self.frame_columns();
        columns.insert(1, str_col("id", corpus.ids.iter().map(String::as_str)));
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

    /// The K sweep as configured.
    fn sweep_params(&self) -> KSweepParams {
        self.sweep
            .clone()
            .k_min(self.k.0)
            .k_max(self.k.1)
            .n_init(self.n_init)
            .seed(self.seed)
    }

    /// Checks every stage's parameters; [`run`](Self::run) does so before any work, and a
    /// caller can before it loads the corpus.
    pub fn check(&self) -> Result<()> {
        self.sweep_params().check()?;
        Error::check_threshold("dedup_threshold", self.dedup_threshold)?;
        self.thresholds.check()?;
        if let Some(llm) = &self.llm {
            llm.check()?;
        }
        Ok(())
    }

    /// Runs the audit on a loaded corpus.
    pub fn run(mut self, corpus: &Corpus) -> Result<Audit> {
        self.check()?;
        let sweep = self.sweep_params();
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

        self.progress
            .start("k sweep", sweep.k_count(vectors.rows()) as u64);
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
                k_max: sweep.k_max_for(vectors.rows()),
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
