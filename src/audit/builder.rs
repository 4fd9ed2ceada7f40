//! [`AuditBuilder`]: what an audit runs (parameters checked before any work), and the run,
//! one stage after another.

use std::borrow::Cow;
use std::time::Instant;

use super::duplicates::duplicates;
use super::health::{health, strip_effect};
use super::memory::{MemoryBudget, MemoryPlan};
use super::noise::{noise, noise_hdbscan};
use super::retrieval::{retrieval, RetrievalSettings};
use super::sampling::{Estimate, Sampling, SamplingSummary, StageRows};
use super::verdict::{health_notes, stability_notes, verdict, verdict_notes, VerdictThresholds};
use super::{
    Audit, AuditParams, ClusterTree, CorpusMap, CorpusSummary, DuplicatesSummary, NoiseSummary,
    RetrievalSummary, SweepSummary, Timing, VectorSource, MAP_MAX_POINTS, PANEL_CHARS,
    PANEL_NEIGHBOURS,
};
use crate::cluster::dendrogram::dendrogram;
use crate::cluster::{Agglomerative, KMeans, KSweep, KSweepParams, Linkage};
use crate::embed::{embed_texts, EmbedStats, Embedder, EmbeddingCache};
use crate::embeddings::Embeddings;
use crate::error::{Error, Result};
use crate::health::{Health, HealthParams, HealthReport, TokenCounter};
use crate::io::Corpus;
use crate::label::llm::LlmParams;
use crate::label::summary::{apply_llm_labels, summarise_clusters, ClusterSummary};
use crate::metric::Metric;
use crate::progress::{Progress, Silent};
use crate::project::{trustworthiness_sample, Umap, UmapModel};
use crate::queries::{QueriesParams, Topics};
use crate::rng::Rng;
use crate::stability::{Stability, StabilityParams, StabilityReport};

/// Configures and runs an [`Audit`].
pub struct AuditBuilder<'a> {
    /// The K sweep's range, initialisations and seed (the audit's seed, used by every stage).
    sweep: KSweepParams,
    sampling: Sampling,
    memory: MemoryBudget,
    embedder: Option<&'a dyn Embedder>,
    cache: Option<EmbeddingCache>,
    reembed: bool,
    map: bool,
    health: Option<HealthParams>,
    token_counter: Option<&'a TokenCounter>,
    strip_boilerplate: bool,
    stability: Option<StabilityParams>,
    duplicates: bool,
    noise: bool,
    retrieval: bool,
    dedup_threshold: f64,
    thresholds: VerdictThresholds,
    llm: Option<LlmParams>,
    queries: Option<(&'a Corpus, QueriesParams)>,
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
            sweep: KSweep::params(),
            sampling: Sampling::Auto,
            memory: MemoryBudget::Unlimited,
            embedder: None,
            cache: None,
            reembed: false,
            map: true,
            health: Some(Health::params()),
            token_counter: None,
            strip_boilerplate: false,
            stability: Some(Stability::params()),
            duplicates: true,
            noise: true,
            retrieval: true,
            dedup_threshold: 0.95,
            thresholds: VerdictThresholds::default(),
            llm: None,
            queries: None,
            progress: &Silent,
        }
    }
}

impl<'a> AuditBuilder<'a> {
    /// Range of k for the sweep. Default 2..=10.
    pub fn k_range(mut self, k_min: usize, k_max: usize) -> Self {
        self.sweep = self.sweep.k_min(k_min).k_max(k_max);
        self
    }
    /// K-Means initialisations per k. Default 10.
    pub fn n_init(mut self, n: usize) -> Self {
        self.sweep = self.sweep.n_init(n);
        self
    }
    /// Seed of every stage. Default 42.
    pub fn seed(mut self, seed: u64) -> Self {
        self.sweep = self.sweep.seed(seed);
        self
    }
    /// How much memory the audit may use (default [`MemoryBudget::Unlimited`]: the fixed
    /// sizes; the command line's default is [`MemoryBudget::Auto`]). Within a budget the
    /// statistic stages' sample, the retrieval index's copy and the duplicate search's training
    /// rows shrink to fit ([`MemoryPlan`]); `audit.json` says what was picked under
    /// `sampling.memory`.
    pub fn memory(mut self, budget: MemoryBudget) -> Self {
        self.memory = budget;
        self
    }
    /// Which rows the statistic stages (K sweep, map, noise) run on: see [`Sampling`]. Default
    /// [`Sampling::Auto`].
    pub fn sampling(mut self, sampling: Sampling) -> Self {
        self.sampling = sampling;
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
    /// Check the chunks' health (tokens, empty chunks, boilerplate, encoding, languages) with
    /// these parameters and limits, or not at all (`None`). Default [`Health::params`]. Its
    /// checks join the verdict.
    pub fn health(mut self, params: Option<HealthParams>) -> Self {
        self.health = params;
        self
    }
    /// The tokenizer that counts the chunks' tokens against the embedder's limit (the
    /// embedder's own: [`TokenCounter::from_model_dir`]). Default none: no token counts.
    pub fn token_counter(mut self, counter: &'a TokenCounter) -> Self {
        self.token_counter = Some(counter);
        self
    }
    /// Embed the texts without the boilerplate lines and runs the health check finds (the
    /// corpus' own vectors, when it has them and `reembed` is off, are used as they are).
    /// Default false. Needs [`health`](Self::health).
    pub fn strip_boilerplate(mut self, yes: bool) -> Self {
        self.strip_boilerplate = yes;
        self
    }
    /// Check how stable the clusters are: K-Means at the chosen K refitted with other seeds
    /// and on bootstrap resamples (ARI, each cluster's Jaccard stability), how often each k
    /// wins the silhouette sweep across resamples, and HDBSCAN over subsamples when the noise
    /// section runs; or not at all (`None`). Default [`Stability::params`]; its seed, k range
    /// and initialisations are the audit's. On the rows the K sweep ran on.
    pub fn stability(mut self, params: Option<StabilityParams>) -> Self {
        self.stability = params;
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
    /// Real queries (a query log, an evaluation set) run against the corpus: coverage gaps,
    /// demand against supply per cluster, dead and hot documents, recall on them (see
    /// [`crate::queries`]). Queries without vectors are embedded by the audit's embedder
    /// (through its cache). The audit sets the params' topics, duplicate groups and seed.
    pub fn queries(mut self, queries: &'a Corpus, params: QueriesParams) -> Self {
        self.queries = Some((queries, params));
        self
    }
    /// Where progress goes. Default: nowhere.
    pub fn progress(mut self, p: &'a dyn Progress) -> Self {
        self.progress = p;
        self
    }

    /// The seed every stage draws from.
    fn seed_value(&self) -> u64 {
        self.sweep.seed
    }

    /// The stability check's parameters with the audit's seed, k range and initialisations.
    fn stability_params(&self) -> Option<StabilityParams> {
        self.stability.as_ref().map(|p| {
            p.clone()
                .seed(self.sweep.seed)
                .k_range(self.sweep.k_min, self.sweep.k_max)
                .n_init(self.sweep.n_init)
        })
    }

    /// Checks every stage's parameters; [`run`](Self::run) does so before any work, and a
    /// caller can before it loads the corpus.
    pub fn check(&self) -> Result<()> {
        self.sweep.check()?;
        self.sampling.check()?;
        Error::check_threshold("dedup_threshold", self.dedup_threshold)?;
        self.thresholds.check()?;
        if let Some(llm) = &self.llm {
            llm.check()?;
        }
        if let Some(h) = &self.health {
            h.check()?;
        }
        if let Some(s) = self.stability_params() {
            s.check()?;
        }
        if self.strip_boilerplate && self.health.is_none() {
            return Err(Error::param(
                "strip_boilerplate",
                true,
                "needs the health check, which finds the boilerplate",
            ));
        }
        Ok(())
    }

    /// Runs the audit on a loaded corpus: every stage in turn, each timed.
    pub fn run(mut self, corpus: &Corpus) -> Result<Audit> {
        self.check()?;
        let mut clock = Clock::start();
        // Chunk health first: a pre-flight check, and what stripping the boilerplate needs.
        let report = match (&self.health, &corpus.texts) {
            (Some(p), Some(_)) => {
                self.progress.start("chunk health", 0);
                let r = p.run(corpus, self.token_counter)?;
                self.progress.finish();
                clock.lap("chunk health");
                Some(r)
            }
            _ => None,
        };
        let stripped = match (&report, self.strip_boilerplate) {
            (Some(r), true) => Some(strip(corpus, r)),
            _ => None,
        };
        let (vectors, embedding, source) =
            self.vectors(stripped.as_ref().map_or(corpus, |s| &s.0))?;
        // Stripped before embedding: the changed chunks embedded as they were too, so that the
        // report can show what stripping did to the clusters.
        let unstripped = match (&stripped, &embedding) {
            (Some((after, s)), Some(_)) if s.chunks > 0 => {
                Some(self.unstripped(corpus, after, &vectors)?)
            }
            _ => None,
        };
        clock.lap("embed");
        let n = vectors.rows();
        // The memory budget may cut the sample, the index copy and the training rows.
        let plan = MemoryPlan::for_budget(self.memory, n, vectors.dim(), vectors.is_half());
        self.sampling = self.sampling.capped(plan.sample_cap);
        let sample_rows = self.sampling.rows(n, self.seed_value());
        let sample: Cow<'_, Embeddings> = match &sample_rows {
            Some(rows) => Cow::Owned(vectors.select(rows)),
            None => Cow::Borrowed(&*vectors),
        };
        let sweep = self.sweep(&sample, n)?;
        clock.lap("k sweep");
        let model = sweep.chosen_model();
        // Every row to the chosen centroids (the sweep's own labels when it saw every row).
        let labels = match &sample_rows {
            Some(_) => {
                self.progress.start("cluster assignment (every row)", 0);
                let l = model.predict(&vectors)?;
                self.progress.finish();
                clock.lap("cluster assignment (every row)");
                l
            }
            None => model.labels().to_vec(),
        };
        let k = model.n_clusters();
        let strip_effect = match (&unstripped, &report) {
            (Some((u, cosine)), Some(r)) => {
                let u: Cow<'_, Embeddings> = match &sample_rows {
                    Some(rows) => Cow::Owned(u.select(rows)),
                    None => Cow::Borrowed(u),
                };
                let before = KMeans::params(k)
                    .n_init(self.sweep.n_init)
                    .seed(self.seed_value())
                    .fit(&u)?;
                let per_row = r.per_row();
                let carried: Vec<bool> = (0..u.rows())
                    .map(|i| {
                        let row = sample_rows.as_ref().map_or(i, |s| s[i]);
                        per_row[row].boilerplate_chars > 0
                    })
                    .collect();
                clock.lap("strip effect (K-Means on the unstripped texts)");
                Some(strip_effect(
                    before.labels(),
                    model.labels(),
                    k,
                    &carried,
                    *cosine,
                ))
            }
            _ => None,
        };
        // Stability on the rows the sweep ran on, against the sweep's own clustering.
        let stability_params = self.stability_params();
        let mut stability = match &stability_params {
            Some(p) if sample.rows() >= 20.max(3 * k) => {
                let r = p.run_against(&sample, model.labels(), self.progress)?;
                clock.lap("stability");
                Some(r)
            }
            _ => None,
        };
        let (clusters, llm_note) = self.clusters(corpus, &vectors, &labels, k, &mut clock)?;
        let cluster_tree = cluster_tree(model.centroids(), vectors.dim())?;
        clock.lap("summaries");
        let health = report.map(|r| {
            let stripped = stripped
                .as_ref()
                .filter(|_| embedding.is_some())
                .map(|s| s.1);
            health(r, stripped, strip_effect, &labels, &clusters)
        });
        let map = if self.map && sample.rows() > 16 {
            let m = corpus_map(
                corpus,
                &sample,
                sample_rows.as_deref(),
                self.seed_value(),
                self.progress,
            )?;
            clock.lap("map (UMAP)");
            Some(m)
        } else {
            None
        };
        let centroid_cosine = centroid_cosines(&vectors, &labels, k);
        let duplicates = if self.duplicates && n >= 2 {
            self.progress.start("duplicates", 0);
            let d = duplicates(
                corpus,
                &vectors,
                self.dedup_threshold,
                self.seed_value(),
                plan.train_per_list,
            )?;
            self.progress.finish();
            clock.lap("duplicates");
            Some(d)
        } else {
            None
        };
        let noise = if self.noise && sample.rows() >= 20 {
            let (r, points) = noise(
                corpus,
                &sample,
                sample_rows.as_deref(),
                &labels,
                k,
                self.seed_value(),
                self.progress,
            )?;
            clock.lap("noise (UMAP 5-D + HDBSCAN)");
            if let (Some(s), Some(p)) = (stability.as_mut(), &stability_params) {
                let params = noise_hdbscan(points.rows(), self.seed_value());
                s.hdbscan = Some(p.hdbscan(&points, &params, self.progress)?);
                clock.lap("stability (HDBSCAN subsamples)");
            }
            Some(r)
        } else {
            None
        };
        let retrieval = if self.retrieval && n >= 20 {
            let settings = RetrievalSettings {
                nprobe: self.thresholds.nprobe,
                dedup_threshold: self.dedup_threshold,
                seed: self.seed_value(),
                index_copy: plan.index_copy,
                train_per_list: plan.train_per_list,
            };
            self.progress.start("retrieval", 0);
            let r = retrieval(
                corpus,
                &vectors,
                &clusters,
                &labels,
                settings,
                duplicates.as_ref().map(|d| d.pairs.as_slice()),
                &mut clock.timings,
            )?;
            self.progress.finish();
            clock.lap("retrieval (all)");
            Some(r)
        } else {
            None
        };
        let query_report = match self.queries.clone() {
            Some((qc, params)) => {
                let (qv, _, _) = self.vectors(qc)?;
                let params = params
                    .with_nprobe(self.thresholds.nprobe)
                    .seed(self.seed_value())
                    .topics(Some(Topics {
                        labels: labels.clone(),
                        names: clusters.iter().map(|c| c.label.clone()).collect(),
                    }))
                    .duplicate_groups(duplicates.as_ref().map(|d| d.group_of.clone()))
                    .llm(self.llm.clone());
                self.progress.start("queries", 0);
                let r = params.run_vectors(corpus, &vectors, qc, &qv)?;
                self.progress.finish();
                clock.lap("queries");
                Some(r)
            }
            None => None,
        };
        let verdict = verdict(
            &self.thresholds,
            health.as_ref().map(|h| &h.report),
            duplicates.as_ref(),
            noise.as_ref(),
            retrieval.as_ref(),
            query_report.as_ref(),
        );
        let optimal_k = SweepSummary {
            per_k: sweep.per_k.clone(),
            chosen_k: sweep.chosen_k,
            silhouette_rows: sweep.silhouette_rows,
            weak_structure: sweep.weak_structure(),
            chosen_at_edge: sweep.chosen_at_edge(),
        };
        let mut notes: Vec<String> = llm_note.into_iter().collect();
        notes.extend(health_notes(health.as_ref()));
        notes.extend(verdict_notes(
            &verdict,
            duplicates.as_ref(),
            noise.as_ref(),
            retrieval.as_ref(),
        ));
        notes.extend(sweep_notes(&optimal_k));
        notes.extend(stability_notes(stability.as_ref()));
        notes.extend(
            query_report
                .iter()
                .flat_map(|q| q.notes.iter().map(|n| format!("Queries: {n}"))),
        );
        let sampling = self.sampling_summary(
            n,
            sample.rows(),
            &optimal_k,
            map.as_ref(),
            stability.as_ref(),
            duplicates.as_ref(),
            noise.as_ref(),
            retrieval.as_ref(),
            plan,
        );
        Ok(Audit {
            version: env!("CARGO_PKG_VERSION").into(),
            corpus: CorpusSummary {
                source: corpus.source.display().to_string(),
                rows: corpus.len(),
                has_texts: corpus.texts.is_some(),
                dim: vectors.dim(),
                float16: vectors.is_half(),
                vectors: source,
            },
            params: self.params(n),
            embedding,
            sampling,
            optimal_k,
            labels,
            map,
            clusters,
            cluster_tree,
            health,
            stability,
            duplicates,
            noise,
            retrieval,
            queries: query_report,
            verdict,
            notes,
            timings: clock.timings,
            centroid_cosine,
            centroids: model.centroids().to_vec(),
        })
    }

    /// The file's vectors, or the texts embedded with the configured embedder.
    fn vectors<'c>(
        &mut self,
        corpus: &'c Corpus,
    ) -> Result<(Cow<'c, Embeddings>, Option<EmbedStats>, VectorSource)> {
        if let (Some(v), false) = (&corpus.vectors, self.reembed) {
            return Ok((Cow::Borrowed(v), None, VectorSource::File));
        }
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
        let (e, stats) = embed_texts(embedder, texts, self.cache.as_mut(), self.progress)?;
        let model = stats.model.clone();
        Ok((Cow::Owned(e), Some(stats), VectorSource::Model { model }))
    }

    /// The vectors of the texts as they were before stripping: `vectors` (of `stripped`) with
    /// each changed chunk embedded again from its original text; and the mean cosine between
    /// the two vectors of those chunks.
    fn unstripped(
        &mut self,
        corpus: &Corpus,
        stripped: &Corpus,
        vectors: &Embeddings,
    ) -> Result<(Embeddings, f64)> {
        let (Some(before), Some(after), Some(embedder)) =
            (&corpus.texts, &stripped.texts, self.embedder)
        else {
            return Err(Error::Unsupported(
                "comparing stripped and unstripped clusters needs texts and an embedder".into(),
            ));
        };
        let changed: Vec<usize> = (0..before.len())
            .filter(|&i| before[i] != after[i])
            .collect();
        let texts: Vec<String> = changed.iter().map(|&i| before[i].clone()).collect();
        let (fresh, _) = embed_texts(embedder, &texts, self.cache.as_mut(), self.progress)?;
        let dim = vectors.dim();
        let mut data = vectors.as_f32().into_owned();
        let mut cosine = 0.0;
        for (j, &i) in changed.iter().enumerate() {
            let new = fresh.row(j);
            let row = &mut data[i * dim..(i + 1) * dim];
            cosine += row
                .iter()
                .zip(new.iter())
                .map(|(a, b)| f64::from(a * b))
                .sum::<f64>();
            row.copy_from_slice(&new);
        }
        Ok((
            Embeddings::new(data, dim)?,
            cosine / changed.len().max(1) as f64,
        ))
    }

    /// K-Means for every k of the range, scored, with progress per k.
    fn sweep(&self, vectors: &Embeddings, population: usize) -> Result<KSweep> {
        self.sweep
            .clone()
            .population(population)
            .fit_with_progress(vectors, self.progress)
    }

    /// The chosen clustering summarised and labelled (by the LLM when configured, with a note
    /// when some clusters kept their keyword labels).
    fn clusters(
        &self,
        corpus: &Corpus,
        vectors: &Embeddings,
        labels: &[usize],
        k: usize,
        clock: &mut Clock,
    ) -> Result<(Vec<ClusterSummary>, Option<String>)> {
        let mut clusters = summarise_clusters(corpus, vectors, labels, k);
        let (Some(params), Some(_)) = (&self.llm, &corpus.texts) else {
            return Ok((clusters, None));
        };
        apply_llm_labels(&mut clusters, params)?;
        clock.lap("LLM labels");
        let failed: Vec<&ClusterSummary> = clusters
            .iter()
            .filter(|c| c.label_reason.is_some())
            .collect();
        let note = failed.first().map(|first| {
            format!(
                "LLM labels: {} of {} clusters kept their keyword labels (cluster {}: {}).",
                failed.len(),
                clusters.len(),
                first.id,
                first.label_reason.as_deref().unwrap_or("")
            )
        });
        Ok((clusters, note))
    }

    /// What each stage ran on (see [`Sampling`]).
    #[allow(clippy::too_many_arguments)]
    fn sampling_summary(
        &self,
        n: usize,
        m: usize,
        sweep: &SweepSummary,
        map: Option<&CorpusMap>,
        stability: Option<&StabilityReport>,
        duplicates: Option<&DuplicatesSummary>,
        noise: Option<&NoiseSummary>,
        retrieval: Option<&RetrievalSummary>,
        memory: MemoryPlan,
    ) -> SamplingSummary {
        let sampled = m < n;
        let mut stages = Vec::new();
        let chosen = sweep.per_k.iter().find(|s| s.k == sweep.chosen_k);
        stages.push(StageRows {
            stage: "k sweep".into(),
            rows: m,
            every_row: !sampled,
            estimate: chosen.map(|s| Estimate::mean(s.silhouette, s.silhouette_se)),
            note: format!(
                "K-Means for k = {}..={} on {m} rows, silhouettes on {} of them; the estimate is the chosen k's silhouette",
                sweep.per_k.first().map_or(0, |s| s.k),
                sweep.per_k.last().map_or(0, |s| s.k),
                sweep.silhouette_rows
            ),
        });
        stages.push(StageRows {
            stage: "cluster assignment".into(),
            rows: n,
            every_row: true,
            estimate: None,
            note: if sampled {
                format!("every row assigned to the nearest of the {} centroids trained on the sample; cluster sizes, summaries, labels and centroid cosines count every row", sweep.chosen_k)
            } else {
                "K-Means on every row".into()
            },
        });
        if let Some(map) = map {
            stages.push(StageRows {
                stage: "map".into(),
                rows: m,
                every_row: !sampled,
                estimate: None,
                note: format!(
                    "2-D UMAP of {m} rows, {} of them plotted; trustworthiness {:.3} (k = 10, on up to 5,000 of them)",
                    map.plotted, map.trustworthiness
                ),
            });
        }
        if let Some(s) = stability {
            stages.push(StageRows {
                stage: "stability".into(),
                rows: s.rows,
                every_row: s.rows == n,
                estimate: None,
                note: format!(
                    "K-Means at k = {} refitted {} times with other seeds and on {} bootstrap resamples of these {} rows{}",
                    s.k,
                    s.runs,
                    s.runs,
                    s.rows,
                    if s.hdbscan.is_some() { "; HDBSCAN on subsamples of the noise section's 5-D points" } else { "" }
                ),
            });
        }
        if let Some(d) = duplicates {
            let recall = d.recall_estimate();
            stages.push(StageRows {
                stage: "duplicates".into(),
                rows: n,
                every_row: true,
                estimate: recall,
                note: match &d.recall {
                    Some(r) => format!(
                        "{} search over every row; the estimate is its pair recall against the exact search, measured on {} random rows ({} exact pairs)",
                        d.mode, r.rows, r.exact_pairs
                    ),
                    None => format!("{} search over every row (every pair compared)", d.mode),
                },
            });
        }
        if let Some(z) = noise {
            stages.push(StageRows {
                stage: "noise".into(),
                rows: z.rows,
                every_row: z.rows == n,
                estimate: Some(Estimate::share(z.noise_share, z.rows, n)),
                note: format!(
                    "5-D UMAP and HDBSCAN on {} rows; the estimate is the noise share (binomial standard error). A sample is sparser than the corpus, so HDBSCAN may call somewhat more of it noise",
                    z.rows
                ),
            });
        }
        if let Some(r) = retrieval {
            stages.push(StageRows {
                stage: "retrieval".into(),
                rows: r.n_db,
                every_row: true,
                estimate: Some(Estimate::share(r.recall, r.n_queries, usize::MAX)),
                note: format!(
                    "index over every row but the {} held-out queries; the estimate is recall@{} at nprobe {} (its standard error bounded as a share over the queries)",
                    r.n_queries, r.top_k, r.nprobe
                ),
            });
        }
        SamplingSummary {
            policy: self.sampling.describe(),
            rows: n,
            sample_rows: m,
            seed: self.seed_value(),
            stages,
            memory,
        }
    }

    /// The parameters as `audit.json` states them.
    fn params(&self, rows: usize) -> AuditParams {
        AuditParams {
            seed: self.seed_value(),
            k_min: self.sweep.k_min,
            k_max: self.sweep.k_max_for(rows),
            n_init: self.sweep.n_init,
            dedup_threshold: self.dedup_threshold,
            sections: [
                ("health", self.health.is_some()),
                ("map", self.map),
                ("stability", self.stability.is_some()),
                ("duplicates", self.duplicates),
                ("noise", self.noise),
                ("retrieval", self.retrieval),
                ("queries", self.queries.is_some()),
            ]
            .iter()
            .filter(|s| s.1)
            .map(|s| s.0.to_string())
            .collect(),
        }
    }
}

/// Stage timings: each lap is the time since the previous one.
struct Clock {
    timings: Vec<Timing>,
    since: Instant,
}

impl Clock {
    fn start() -> Clock {
        Clock {
            timings: Vec::new(),
            since: Instant::now(),
        }
    }

    fn lap(&mut self, stage: &str) {
        self.timings.push(Timing {
            stage: stage.into(),
            seconds: self.since.elapsed().as_secs_f64(),
            qps: None,
            peak_mib: peak_rss_mib(),
        });
        self.since = Instant::now();
    }
}

/// The process's peak resident memory since the last call, in MiB: Linux's `VmHWM`, then
/// reset through `/proc/self/clear_refs` so the next call sees the next stage's peak alone.
/// `None` where that is not available.
fn peak_rss_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let kb: f64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))?
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()?;
    // A failed reset leaves the peak since the start: still an upper bound.
    let _ = std::fs::write("/proc/self/clear_refs", "5");
    Some(kb / 1024.0)
}

/// What the K sweep's scores say about the structure: weak (every silhouette below 0.1), or
/// the best K at an end of the range.
pub(super) fn sweep_notes(optimal_k: &SweepSummary) -> Vec<String> {
    let mut notes = Vec::new();
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
    notes
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
    sample: Option<&[usize]>,
    seed: u64,
    progress: &dyn Progress,
) -> Result<CorpusMap> {
    let row_of = |i: usize| sample.map_or(i, |s| s[i]);
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
    let neighbours = plotted_neighbours(&model, &rows, n);
    let ids = rows
        .iter()
        .map(|&i| corpus.ids[row_of(i)].clone())
        .collect();
    let (texts, lengths) = match &corpus.texts {
        Some(t) => rows
            .iter()
            .map(|&i| {
                let text = &t[row_of(i)];
                let cut = text
                    .char_indices()
                    .nth(PANEL_CHARS)
                    .map_or(text.len(), |c| c.0);
                (text[..cut].to_string(), text.chars().count() as u32)
            })
            .unzip(),
        None => (Vec::new(), vec![0; rows.len()]),
    };
    let rows: Vec<usize> = rows.into_iter().map(row_of).collect();
    Ok(CorpusMap {
        method: "umap".into(),
        n_neighbors: 15.min(n - 1),
        min_dist: 0.1,
        trustworthiness: trust,
        knn_recall: model.knn_recall(),
        plotted: rows.len(),
        rows,
        points,
        ids,
        texts,
        lengths,
        neighbours,
    })
}

/// Each plotted point's nearest plotted points (`(point, cosine)`, nearest first), read from
/// the UMAP model's kNN graph over its `n` input rows; `plotted` are input rows.
fn plotted_neighbours(model: &UmapModel, plotted: &[usize], n: usize) -> Vec<Vec<(u32, f32)>> {
    let (indices, dists) = model.knn_graph();
    let k = indices.len() / n.max(1);
    let mut point_of = vec![u32::MAX; n];
    for (p, &r) in plotted.iter().enumerate() {
        point_of[r] = p as u32;
    }
    plotted
        .iter()
        .map(|&r| {
            (0..k)
                .map(|j| (indices[r * k + j] as usize, dists[r * k + j]))
                .filter(|&(other, _)| other != r && point_of[other] != u32::MAX)
                .take(PANEL_NEIGHBOURS)
                .map(|(other, d)| (point_of[other], 1.0 - d))
                .collect()
        })
        .collect()
}

/// Each row's cosine to its cluster's mean direction.
fn centroid_cosines(data: &Embeddings, labels: &[usize], k: usize) -> Vec<f32> {
    let d = data.dim();
    let directions = data.view().mean_directions(d, labels, k);
    data.view().cosines_to(d, labels, &directions)
}

/// The corpus with each text's boilerplate removed, and what was removed: (chunks changed,
/// characters removed).
fn strip(corpus: &Corpus, report: &HealthReport) -> (Corpus, crate::audit::health::Stripped) {
    let mut out = corpus.clone();
    let mut changed = 0;
    let mut removed = 0;
    if let Some(texts) = out.texts.as_mut() {
        for t in texts.iter_mut() {
            let s = report.strip_boilerplate(t);
            if s != *t {
                changed += 1;
                removed += t.chars().count().saturating_sub(s.chars().count());
                *t = s;
            }
        }
    }
    let stripped = crate::audit::health::Stripped {
        chunks: changed,
        characters: removed,
    };
    (out, stripped)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Corpus;

    #[test]
    fn every_rule_is_checked_before_any_stage_runs() {
        let rule = |b: AuditBuilder<'_>| Error::rule(b.check());
        assert_eq!(rule(Audit::builder().k_range(1, 3)), "k_min");
        assert_eq!(rule(Audit::builder().k_range(5, 3)), "k_max");
        assert_eq!(
            rule(Audit::builder().dedup_threshold(0.0)),
            "dedup_threshold"
        );
        let limits = |t: VerdictThresholds| Audit::builder().thresholds(t);
        let base = VerdictThresholds::default();
        assert_eq!(
            rule(limits(VerdictThresholds {
                max_noise_share: 1.5,
                ..base.clone()
            })),
            "max_noise_share"
        );
        assert_eq!(
            rule(limits(VerdictThresholds { nprobe: 0, ..base })),
            "nprobe"
        );
        // A corpus with neither vectors nor an embedder fails on the parameter first: nothing
        // was embedded or swept before the check.
        let corpus = Corpus::from_texts(["a", "b", "c"]);
        assert_eq!(
            Error::rule(Audit::builder().dedup_threshold(2.0).run(&corpus)),
            "dedup_threshold"
        );
        assert!(matches!(
            Audit::builder().run(&corpus),
            Err(Error::Unsupported(m)) if m.contains("no embedder")
        ));
    }

    #[test]
    fn sweep_notes_say_weak_structure_and_edges() {
        let score = |k: usize, silhouette: f64| crate::cluster::KScore {
            k,
            inertia: 1.0,
            silhouette,
            silhouette_se: 0.0,
            calinski_harabasz: 1.0,
            davies_bouldin: 1.0,
        };
        let sweep = SweepSummary {
            per_k: vec![score(2, 0.02), score(3, 0.03)],
            chosen_k: 3,
            silhouette_rows: 10,
            weak_structure: true,
            chosen_at_edge: true,
        };
        let notes = sweep_notes(&sweep);
        assert_eq!(notes.len(), 2);
        assert!(
            notes[0].contains("best silhouette is 0.030"),
            "{}",
            notes[0]
        );
        assert!(notes[1].contains("range 2..=3"), "{}", notes[1]);
        let strong = SweepSummary {
            weak_structure: false,
            chosen_at_edge: false,
            ..sweep
        };
        assert!(sweep_notes(&strong).is_empty());
    }

    #[test]
    fn clock_laps_measure_from_the_previous_lap() {
        let mut clock = Clock::start();
        clock.lap("one");
        clock.lap("two");
        let stages: Vec<&str> = clock.timings.iter().map(|t| t.stage.as_str()).collect();
        assert_eq!(stages, ["one", "two"]);
        assert!(clock
            .timings
            .iter()
            .all(|t| t.seconds >= 0.0 && t.qps.is_none()));
    }
}
