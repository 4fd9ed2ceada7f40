//! What users ask against what the corpus holds: real queries (a query log, an evaluation set)
//! run against the corpus.
//!
//! - **Coverage**: each query's exact top-k and its best cosine to the corpus. A query whose
//!   best cosine is below the gap threshold is a coverage gap. The threshold is given, or
//!   taken from the corpus itself: the [`gap_quantile`](QueriesParams::gap_quantile) (default
//!   the 5th percentile) of the documents' cosines to their own nearest other document, so a
//!   gap is a query farther from everything than nearly every document is from its neighbour.
//!   The gaps are clustered (K-Means, K by silhouette over 2..=8 when there are enough) and
//!   labelled with c-TF-IDF keywords of their texts, with example queries and the nearest
//!   document each found.
//! - **Demand and supply per topic**: given the corpus' clusters, each query that is not a gap
//!   goes to the nearest cluster centroid; each cluster's share of documents against its share
//!   of queries.
//!   Over-asked: at least twice the query share of its document share; never asked: no query.
//! - **Dead and hot content**: documents in no query's top-k (share, per cluster, examples),
//!   and the documents holding the most top-k slots, with their duplicate group when known.
//! - **Retrieval on these queries**: recall@k of cluster retrieval (IVF) against exact search
//!   at each nprobe; with judgements (the ids relevant to each query), recall@k, MRR@k and
//!   nDCG@10 of exact search and of IVF at each nprobe.
//!
//! ```
//! use embedscope::queries::Queries;
//! use embedscope::{Corpus, Embeddings};
//! // Two documents; one query next to the first, one far from both.
//! let mut docs = Corpus::from_texts(["cats purr", "dogs bark"]);
//! docs.vectors = Some(Embeddings::new(vec![1.0, 0.0, 0.0, 0.0, 1.0, 0.0], 3)?);
//! let mut asked = Corpus::from_texts(["do cats purr", "tax law"]);
//! asked.vectors = Some(Embeddings::new(vec![0.99, 0.1, 0.0, 0.0, 0.0, 1.0], 3)?);
//! let r = Queries::params().top_k(1).gap_threshold(Some(0.5)).nprobes(vec![1]).run(&docs, &asked)?;
//! assert_eq!(r.coverage.gaps, 1);
//! assert_eq!(r.per_query[1].gap, true);
//! assert_eq!(r.content.dead, 1); // "dogs bark" is nobody's answer
//! # Ok::<(), embedscope::Error>(())
//! ```

mod display;
mod inputs;
pub mod metrics;

use std::collections::HashMap;

use serde::Serialize;

use crate::cluster::KSweep;
use crate::embeddings::Embeddings;
use crate::error::{Error, Result};
use crate::index::{exact_top_k, ClusterIndex};
use crate::io::Corpus;
use crate::label::llm::{llm_labels, LabelSource, LlmParams, TopicInput, GAP_PROMPT};
use crate::label::summary::snippet_of;
use crate::label::{keywords, short_label, KeywordParams};
use crate::rng::Rng;

pub use inputs::relevant_ids;
pub use metrics::{judge, Judged, RankMetrics};

/// Entry point: `Queries::params()`.
#[derive(Debug, Clone, Copy)]
pub struct Queries;

impl Queries {
    /// Defaults: top 10, the gap threshold from the corpus (5th percentile of its
    /// nearest-neighbour cosines), nprobe 1, 2, 4, 8, 16, seed 42.
    pub fn params() -> QueriesParams {
        QueriesParams {
            top_k: 10,
            gap_threshold: None,
            gap_quantile: 0.05,
            nprobes: vec![1, 2, 4, 8, 16],
            nlist: None,
            seed: 42,
            clusters: None,
            duplicate_groups: None,
            relevant: None,
            llm: None,
        }
    }
}

/// The corpus' partition the queries are set against: every document's cluster and each
/// cluster's label.
#[derive(Debug, Clone, PartialEq)]
pub struct Topics {
    /// Each document's cluster.
    pub labels: Vec<usize>,
    /// Each cluster's label.
    pub names: Vec<String>,
}

/// Query-analysis parameters.
#[derive(Debug, Clone, PartialEq)]
pub struct QueriesParams {
    top_k: usize,
    gap_threshold: Option<f64>,
    gap_quantile: f64,
    nprobes: Vec<usize>,
    nlist: Option<usize>,
    seed: u64,
    clusters: Option<Topics>,
    duplicate_groups: Option<Vec<Option<usize>>>,
    relevant: Option<Vec<Vec<String>>>,
    llm: Option<LlmParams>,
}

impl QueriesParams {
    /// Documents per query. Default 10.
    pub fn top_k(mut self, k: usize) -> Self {
        self.top_k = k;
        self
    }
    /// Best cosine below which a query is a coverage gap (None: from the corpus, see
    /// [`gap_quantile`](Self::gap_quantile)).
    pub fn gap_threshold(mut self, t: Option<f64>) -> Self {
        self.gap_threshold = t;
        self
    }
    /// The quantile of the corpus' nearest-neighbour cosines taken as the gap threshold when
    /// none is given. Default 0.05.
    pub fn gap_quantile(mut self, q: f64) -> Self {
        self.gap_quantile = q;
        self
    }
    /// The nprobes IVF retrieval is measured at. Default 1, 2, 4, 8, 16.
    pub fn nprobes(mut self, n: Vec<usize>) -> Self {
        self.nprobes = n;
        self
    }
    /// IVF cells (default round(sqrt(documents))).
    pub fn nlist(mut self, n: Option<usize>) -> Self {
        self.nlist = n;
        self
    }
    /// Seed. Default 42.
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }
    /// The corpus' clusters (the audit's): demand and supply per topic.
    pub fn topics(mut self, t: Option<Topics>) -> Self {
        self.clusters = t;
        self
    }
    /// Label the gap groups with a language model (its questions and keywords, through
    /// [`GAP_PROMPT`] unless the parameters carry a prompt of their own); a group the model
    /// cannot label keeps its keyword label, with the reason. Default: keywords only.
    pub fn llm(mut self, p: Option<LlmParams>) -> Self {
        self.llm = p;
        self
    }
    /// Each document's duplicate group (None: in none), shown beside the hot documents.
    pub fn duplicate_groups(mut self, g: Option<Vec<Option<usize>>>) -> Self {
        self.duplicate_groups = g;
        self
    }
    /// The ids relevant to each query (judgements), one list per query.
    pub fn relevant(mut self, r: Option<Vec<Vec<String>>>) -> Self {
        self.relevant = r;
        self
    }

    /// The nprobe `p` measured too (the audit's verdict reads the recall there).
    pub fn with_nprobe(mut self, p: usize) -> Self {
        if !self.nprobes.contains(&p) {
            self.nprobes.push(p);
            self.nprobes.sort_unstable();
        }
        self
    }

    /// Validates the parameters.
    pub fn check(&self) -> Result<()> {
        if self.top_k == 0 {
            return Err(Error::param("top_k", 0, "must be at least 1"));
        }
        if let Some(t) = self.gap_threshold {
            if !(-1.0..=1.0).contains(&t) {
                return Err(Error::param(
                    "gap_threshold",
                    t,
                    "must be a cosine in [-1, 1]",
                ));
            }
        }
        if !(0.0..=1.0).contains(&self.gap_quantile) {
            return Err(Error::param(
                "gap_quantile",
                self.gap_quantile,
                "must be in [0, 1]",
            ));
        }
        if self.nprobes.contains(&0) {
            return Err(Error::param(
                "nprobes",
                0,
                "every nprobe must be at least 1",
            ));
        }
        if let Some(llm) = &self.llm {
            llm.check()?;
        }
        Ok(())
    }

    /// Runs `queries` (with vectors, in the corpus' space) against `corpus` (with vectors).
    pub fn run(&self, corpus: &Corpus, queries: &Corpus) -> Result<QueryReport> {
        let docs = vectors_of(corpus, "corpus")?;
        let q = vectors_of(queries, "queries")?;
        self.run_vectors(corpus, docs, queries, q)
    }

    /// [`run`](Self::run) with the vectors given apart (`docs`: one row per document of
    /// `corpus`, `q`: one per query), as the audit runs it.
    pub fn run_vectors(
        &self,
        corpus: &Corpus,
        docs: &Embeddings,
        queries: &Corpus,
        q: &Embeddings,
    ) -> Result<QueryReport> {
        let started = std::time::Instant::now();
        self.check()?;
        if docs.rows() != corpus.len() || q.rows() != queries.len() {
            return Err(Error::Unsupported(format!(
                "{}: {} vectors for {} documents, {} for {} queries",
                corpus.source.display(),
                docs.rows(),
                corpus.len(),
                q.rows(),
                queries.len()
            )));
        }
        if queries.is_empty() {
            return Err(Error::Unsupported(format!(
                "{}: no queries",
                queries.source.display()
            )));
        }
        if q.dim() != docs.dim() {
            return Err(Error::Unsupported(format!(
                "{}: the query vectors have {} dimensions, the corpus' ({}) {}: embed the queries with the corpus' model",
                queries.source.display(),
                q.dim(),
                corpus.source.display(),
                docs.dim()
            )));
        }
        if let Some(t) = &self.clusters {
            if t.labels.len() != corpus.len() {
                return Err(Error::param(
                    "topics",
                    t.labels.len(),
                    format!("labels, but the corpus has {} documents", corpus.len()),
                ));
            }
        }
        if let Some(r) = &self.relevant {
            if r.len() != queries.len() {
                return Err(Error::param(
                    "relevant",
                    r.len(),
                    format!("lists, but there are {} queries", queries.len()),
                ));
            }
        }
        let n = docs.rows();
        let k = self.top_k.min(n);
        let top = exact_top_k(docs, q, k);
        let best: Vec<f64> = top
            .iter()
            .map(|t| t.first().map_or(-1.0, |h| f64::from(h.1)))
            .collect();
        let (threshold, from_corpus) = match self.gap_threshold {
            Some(t) => (t, None),
            None => {
                let (t, sample) = corpus_threshold(docs, self.gap_quantile, self.seed);
                (t, Some(sample))
            }
        };
        let gap: Vec<bool> = best.iter().map(|&b| b < threshold).collect();
        let doc_ref = |r: usize| DocRef {
            id: corpus.ids[r].clone(),
            text: text_of(corpus, r),
        };
        let query_text = |i: usize| {
            queries
                .texts
                .as_ref()
                .map_or_else(|| queries.ids[i].clone(), |t| snippet_of(&t[i], 160))
        };

        // Coverage: the gaps, clustered and labelled.
        let gap_rows: Vec<usize> = (0..gap.len()).filter(|&i| gap[i]).collect();
        let gap_topics = self.gap_topics(queries, q, &gap_rows, &top, &best, &doc_ref)?;
        let mut histogram = vec![0usize; 20];
        for &b in &best {
            let bin = ((b.clamp(0.0, 0.9999)) * 20.0) as usize;
            histogram[bin] += 1;
        }
        let coverage = Coverage {
            threshold,
            threshold_quantile: from_corpus.map(|_| self.gap_quantile),
            threshold_sample: from_corpus,
            queries: q.rows(),
            gaps: gap_rows.len(),
            gap_share: gap_rows.len() as f64 / q.rows() as f64,
            mean_best_cosine: best.iter().sum::<f64>() / best.len() as f64,
            best_cosine_histogram: histogram,
            gap_topics,
        };

        // Demand and supply per topic.
        let assigned = self
            .clusters
            .as_ref()
            .map(|t| nearest_topic(docs, &t.labels, t.names.len(), q));
        // Gaps are demand no topic meets: they stay out of the topics' counts (and in the
        // shares' denominator), so the shares of the topics and of the gaps add up to one.
        let demand = match (&self.clusters, &assigned) {
            (Some(t), Some(a)) => demand(t, a, &gap, n),
            _ => Vec::new(),
        };

        // Dead and hot content.
        let mut count = vec![0usize; n];
        for t in &top {
            for &(r, _) in t {
                count[r] += 1;
            }
        }
        let content = self.content(&count, &doc_ref);

        // Retrieval on these queries, and the judgements.
        let mut index_params = ClusterIndex::params().seed(self.seed);
        if let Some(nlist) = self.nlist {
            index_params = index_params.nlist(nlist);
        }
        let index = index_params.build(docs)?;
        let mut per_nprobe = Vec::new();
        let mut ivf_lists = Vec::new();
        for &p in &self.nprobes {
            // Past the index's cells every nprobe is all of them: measured once.
            let p = p.min(index.nlist());
            if per_nprobe.iter().any(|x: &ProbeRecall| x.nprobe == p) {
                continue;
            }
            let hits = index.search_batch(q, k, p)?;
            let recall = hits
                .iter()
                .zip(&top)
                .map(|(h, t)| {
                    let kth = t.last().map_or(f32::INFINITY, |x| x.1);
                    h.iter()
                        .filter(|x| t.iter().any(|y| y.0 == x.row) || x.score >= kth - 1e-6)
                        .count() as f64
                        / t.len().max(1) as f64
                })
                .sum::<f64>()
                / hits.len() as f64;
            let scanned: f64 = index
                .probes(q, p)
                .iter()
                .map(|cells| {
                    cells
                        .iter()
                        .map(|&c| index.members(c as usize).len())
                        .sum::<usize>() as f64
                        / n as f64
                })
                .sum::<f64>()
                / q.rows() as f64;
            per_nprobe.push(ProbeRecall {
                nprobe: p,
                recall,
                scanned_fraction: scanned,
            });
            ivf_lists.push((
                p,
                hits.into_iter()
                    .map(|h| h.into_iter().map(|x| x.row).collect::<Vec<usize>>())
                    .collect::<Vec<_>>(),
            ));
        }
        let judged = self.relevant.as_ref().map(|rel| {
            let id_row: HashMap<&str, usize> = corpus
                .ids
                .iter()
                .enumerate()
                .map(|(i, id)| (id.as_str(), i))
                .collect();
            let exact: Vec<Vec<usize>> = top
                .iter()
                .map(|t| t.iter().map(|x| x.0).collect())
                .collect();
            judge(rel, &id_row, &exact, &ivf_lists, k)
        });

        let per_query: Vec<QueryRow> = (0..q.rows())
            .map(|i| QueryRow {
                id: queries.ids[i].clone(),
                text: query_text(i),
                best_cosine: best[i],
                gap: gap[i],
                topic: assigned.as_ref().map(|a| a[i]),
                top_ids: top[i].iter().map(|x| corpus.ids[x.0].clone()).collect(),
            })
            .collect();
        let mut notes = Vec::new();
        if coverage.gaps > 0 {
            notes.push(format!(
                "{} of {} queries ({:.1}%) have nothing in the corpus at cosine {:.3} or above: {}.",
                coverage.gaps,
                coverage.queries,
                100.0 * coverage.gap_share,
                threshold,
                coverage
                    .gap_topics
                    .iter()
                    .map(|g| format!("\"{}\" ({})", g.label, g.size))
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
        let kept: Vec<&GapTopic> = coverage
            .gap_topics
            .iter()
            .filter(|g| g.label_reason.is_some())
            .collect();
        if let Some(first) = kept.first() {
            notes.push(format!(
                "LLM labels: {} of {} gap groups kept their keyword labels (\"{}\": {}).",
                kept.len(),
                coverage.gap_topics.len(),
                first.label,
                first.label_reason.as_deref().unwrap_or("")
            ));
        }
        let over: Vec<String> = demand
            .iter()
            .filter(|d| d.over_asked)
            .map(|d| {
                format!(
                    "{} ({:.1}% of queries, {:.1}% of documents)",
                    d.label,
                    100.0 * d.query_share,
                    100.0 * d.doc_share
                )
            })
            .collect();
        if !over.is_empty() {
            notes.push(format!("Over-asked topics: {}.", over.join("; ")));
        }
        let never: Vec<String> = demand
            .iter()
            .filter(|d| d.queries == 0)
            .map(|d| format!("{} ({} documents)", d.label, d.documents))
            .collect();
        if !never.is_empty() {
            notes.push(format!("Topics nobody asks about: {}.", never.join("; ")));
        }
        Ok(QueryReport {
            source: queries.source.display().to_string(),
            top_k: k,
            coverage,
            demand,
            content,
            retrieval: QueryRetrieval {
                nlist: index.nlist(),
                per_nprobe,
            },
            judged,
            notes,
            seconds: started.elapsed().as_secs_f64(),
            per_query,
            document_hits: count,
        })
    }

    /// The gap queries clustered (K by silhouette over 2..=8 when there are at least 20 of
    /// them, else one group) and labelled by their texts' c-TF-IDF keywords.
    fn gap_topics(
        &self,
        queries: &Corpus,
        q: &Embeddings,
        gap_rows: &[usize],
        top: &[Vec<(usize, f32)>],
        best: &[f64],
        doc_ref: &dyn Fn(usize) -> DocRef,
    ) -> Result<Vec<GapTopic>> {
        if gap_rows.is_empty() {
            return Ok(Vec::new());
        }
        let x = q.select(gap_rows);
        let labels: Vec<usize> = if gap_rows.len() >= 20 {
            let kmax = 8.min(gap_rows.len() / 5);
            KSweep::params()
                .k_min(2)
                .k_max(kmax.max(2))
                .seed(self.seed)
                .fit(&x)?
                .chosen_model()
                .labels()
                .to_vec()
        } else {
            vec![0; gap_rows.len()]
        };
        let k = labels.iter().max().map_or(0, |&m| m + 1);
        let words = match &queries.texts {
            Some(t) => {
                let texts: Vec<String> = gap_rows.iter().map(|&i| t[i].clone()).collect();
                let l: Vec<Option<usize>> = labels.iter().map(|&c| Some(c)).collect();
                keywords(&texts, &l, k, &KeywordParams::default()).unwrap_or_default()
            }
            None => Vec::new(),
        };
        // Each group's queries (rows of `queries`), the farthest from the corpus first: the
        // clearest gaps.
        let mut groups: Vec<(GapTopic, Vec<usize>)> = (0..k)
            .map(|c| {
                let mut members: Vec<usize> = (0..gap_rows.len())
                    .filter(|&j| labels[j] == c)
                    .map(|j| gap_rows[j])
                    .collect();
                members.sort_by(|&x, &y| best[x].total_cmp(&best[y]));
                let ranked = words.get(c).map_or(&[][..], |w| &w[..]);
                let kw: Vec<String> = ranked.iter().take(5).map(|k| k.term.clone()).collect();
                let topic = GapTopic {
                    size: members.len(),
                    label: if kw.is_empty() {
                        format!("gap {c}")
                    } else {
                        short_label(ranked, 3)
                    },
                    label_source: LabelSource::Keywords,
                    label_reason: None,
                    keywords: kw,
                    examples: members
                        .iter()
                        .take(5)
                        .map(|&i| GapExample {
                            query: queries
                                .texts
                                .as_ref()
                                .map_or_else(|| queries.ids[i].clone(), |t| snippet_of(&t[i], 160)),
                            best_cosine: best[i],
                            nearest: top[i].first().map(|h| doc_ref(h.0)),
                        })
                        .collect(),
                };
                (topic, members)
            })
            .filter(|g| g.0.size > 0)
            .collect();
        groups.sort_by_key(|g| std::cmp::Reverse(g.0.size));
        if let (Some(params), Some(texts)) = (&self.llm, &queries.texts) {
            // The model sees each group's keywords and, in full, its ten questions farthest
            // from the corpus.
            let inputs: Vec<TopicInput> = groups
                .iter()
                .map(|(g, members)| TopicInput {
                    keywords: g.keywords.clone(),
                    documents: members.iter().take(10).map(|&i| texts[i].clone()).collect(),
                })
                .collect();
            let fallback: Vec<String> = groups.iter().map(|g| g.0.label.clone()).collect();
            let answers = llm_labels(
                &inputs,
                &fallback,
                &params.clone().with_default_prompt(GAP_PROMPT),
            )?;
            for ((g, _), l) in groups.iter_mut().zip(answers) {
                g.label = l.label;
                g.label_source = l.source;
                g.label_reason = l.reason;
            }
        }
        let out: Vec<GapTopic> = groups.into_iter().map(|g| g.0).collect();
        Ok(out)
    }

    /// Documents in no query's top-k, per cluster, and the documents holding most slots.
    fn content(&self, count: &[usize], doc_ref: &dyn Fn(usize) -> DocRef) -> ContentUse {
        let n = count.len();
        let slots: usize = count.iter().sum();
        let dead: Vec<usize> = (0..n).filter(|&r| count[r] == 0).collect();
        let by_cluster = self.clusters.as_ref().map_or_else(Vec::new, |t| {
            let k = t.names.len();
            let mut size = vec![0usize; k];
            let mut d = vec![0usize; k];
            for r in 0..n {
                size[t.labels[r]] += 1;
                if count[r] == 0 {
                    d[t.labels[r]] += 1;
                }
            }
            (0..k)
                .map(|c| ClusterDead {
                    cluster: c,
                    label: t.names[c].clone(),
                    documents: size[c],
                    dead: d[c],
                    dead_share: if size[c] == 0 {
                        0.0
                    } else {
                        d[c] as f64 / size[c] as f64
                    },
                })
                .collect()
        });
        let mut order: Vec<usize> = (0..n).filter(|&r| count[r] > 0).collect();
        order.sort_by(|&x, &y| count[y].cmp(&count[x]).then(x.cmp(&y)));
        let mut pick = Rng::new(self.seed, 0xDEAD).sample(dead.len(), dead.len().min(10));
        pick.sort_unstable();
        ContentUse {
            slots,
            documents: n,
            dead: dead.len(),
            dead_share: dead.len() as f64 / n as f64,
            dead_floor: (n.saturating_sub(slots)) as f64 / n as f64,
            dead_by_cluster: by_cluster,
            dead_examples: pick.into_iter().map(|i| doc_ref(dead[i])).collect(),
            hot: order
                .iter()
                .take(10)
                .map(|&r| HotDoc {
                    doc: doc_ref(r),
                    slots: count[r],
                    slot_share: count[r] as f64 / slots.max(1) as f64,
                    duplicate_group: self
                        .duplicate_groups
                        .as_ref()
                        .and_then(|g| g.get(r).copied().flatten()),
                })
                .collect(),
        }
    }
}

/// The gap threshold from the corpus: the `quantile` of its documents' cosines to their nearest
/// other document, over a seeded sample of up to 2,000 documents. Returns (threshold, rows
/// sampled).
fn corpus_threshold(docs: &Embeddings, quantile: f64, seed: u64) -> (f64, usize) {
    let n = docs.rows();
    if n < 2 {
        return (0.0, 0);
    }
    let mut rows = Rng::new(seed, 0x6A9).sample(n, n.min(2_000));
    rows.sort_unstable();
    let sample = docs.select(&rows);
    let top = exact_top_k(docs, &sample, 2);
    let mut nn: Vec<f64> = top
        .iter()
        .zip(&rows)
        .map(|(t, &r)| t.iter().find(|x| x.0 != r).map_or(-1.0, |x| f64::from(x.1)))
        .collect();
    nn.sort_by(f64::total_cmp);
    let at = ((quantile * (nn.len() - 1) as f64).round() as usize).min(nn.len() - 1);
    (nn[at], rows.len())
}

/// Each query's nearest topic centroid (the mean of its documents' unit rows).
fn nearest_topic(docs: &Embeddings, labels: &[usize], k: usize, q: &Embeddings) -> Vec<usize> {
    let d = docs.dim();
    let mut sum = vec![0.0f64; k * d];
    for (r, &c) in labels.iter().enumerate() {
        for (s, &x) in sum[c * d..(c + 1) * d].iter_mut().zip(docs.row(r).iter()) {
            *s += f64::from(x);
        }
    }
    let mut centroids = Vec::with_capacity(k * d);
    for c in 0..k {
        let row = &sum[c * d..(c + 1) * d];
        let norm = row.iter().map(|x| x * x).sum::<f64>().sqrt();
        if norm > 0.0 {
            centroids.extend(row.iter().map(|&x| (x / norm) as f32));
        } else {
            // A cluster with no documents: a direction no query is nearest to in practice.
            centroids.extend((0..d).map(|j| if j == 0 { 1e-6 } else { 0.0 }));
        }
    }
    let centroids = Embeddings::new(centroids, d).expect("finite, non-zero centroid rows");
    exact_top_k(&centroids, q, 1)
        .into_iter()
        .map(|t| t.first().map_or(0, |x| x.0))
        .collect()
}

fn demand(t: &Topics, assigned: &[usize], gap: &[bool], n: usize) -> Vec<TopicDemand> {
    let k = t.names.len();
    let mut docs = vec![0usize; k];
    t.labels.iter().for_each(|&c| docs[c] += 1);
    let mut asks = vec![0usize; k];
    assigned
        .iter()
        .zip(gap)
        .filter(|(_, &g)| !g)
        .for_each(|(&c, _)| asks[c] += 1);
    let nq = assigned.len().max(1) as f64;
    (0..k)
        .map(|c| {
            let doc_share = docs[c] as f64 / n as f64;
            let query_share = asks[c] as f64 / nq;
            TopicDemand {
                cluster: c,
                label: t.names[c].clone(),
                documents: docs[c],
                doc_share,
                queries: asks[c],
                query_share,
                ratio: if doc_share > 0.0 {
                    query_share / doc_share
                } else {
                    0.0
                },
                over_asked: asks[c] >= 3 && query_share >= 2.0 * doc_share,
            }
        })
        .collect()
}

fn vectors_of<'a>(c: &'a Corpus, what: &str) -> Result<&'a Embeddings> {
    c.vectors.as_ref().ok_or_else(|| {
        Error::Unsupported(format!(
            "{}: the {what} have no vectors (embed them first, or give a vector column)",
            c.source.display()
        ))
    })
}

fn text_of(c: &Corpus, r: usize) -> String {
    c.texts
        .as_ref()
        .map_or_else(String::new, |t| snippet_of(&t[r], 160))
}

/// A document as the query report shows it.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct DocRef {
    /// Its id.
    pub id: String,
    /// The start of its text.
    pub text: String,
}

/// A query in a coverage gap.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct GapExample {
    /// The query (the start of its text, else its id).
    pub query: String,
    /// Its best cosine to the corpus.
    pub best_cosine: f64,
    /// The nearest document it found.
    pub nearest: Option<DocRef>,
}

/// A group of gap queries: what users ask that the corpus does not hold.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct GapTopic {
    /// Queries in it.
    pub size: usize,
    /// Its label (the top three keywords that share no word, or the language model's).
    pub label: String,
    /// Where the label came from.
    pub label_source: LabelSource,
    /// Why the language model's label is missing, when one was asked for.
    pub label_reason: Option<String>,
    /// c-TF-IDF keywords of its queries' texts (empty without texts).
    pub keywords: Vec<String>,
    /// Up to 5 of its queries, the farthest from the corpus first.
    pub examples: Vec<GapExample>,
}

/// How well the corpus covers the queries.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct Coverage {
    /// Best cosine below which a query is a gap.
    pub threshold: f64,
    /// The quantile of the corpus' nearest-neighbour cosines the threshold is (None: given).
    pub threshold_quantile: Option<f64>,
    /// Documents the corpus' nearest-neighbour cosines were measured on.
    pub threshold_sample: Option<usize>,
    /// Queries.
    pub queries: usize,
    /// Queries below the threshold.
    pub gaps: usize,
    /// `gaps` over `queries`.
    pub gap_share: f64,
    /// Mean best cosine.
    pub mean_best_cosine: f64,
    /// Queries by best cosine in bins of 0.05 from 0 (below 0 in the first).
    pub best_cosine_histogram: Vec<usize>,
    /// The gaps grouped and labelled, largest first.
    pub gap_topics: Vec<GapTopic>,
}

/// A topic's share of the documents against its share of the queries.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct TopicDemand {
    /// The cluster.
    pub cluster: usize,
    /// Its label.
    pub label: String,
    /// Its documents.
    pub documents: usize,
    /// Their share of the corpus.
    pub doc_share: f64,
    /// Queries nearest its centroid, coverage gaps left out.
    pub queries: usize,
    /// Their share of all the queries (the topics' shares and the gap share add up to 1).
    pub query_share: f64,
    /// `query_share / doc_share`.
    pub ratio: f64,
    /// At least 3 queries and twice the query share of its document share.
    pub over_asked: bool,
}

/// A cluster's documents nobody retrieves.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct ClusterDead {
    /// The cluster.
    pub cluster: usize,
    /// Its label.
    pub label: String,
    /// Its documents.
    pub documents: usize,
    /// Those in no query's top-k.
    pub dead: usize,
    /// `dead / documents`.
    pub dead_share: f64,
}

/// A document holding many top-k slots.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct HotDoc {
    /// The document.
    pub doc: DocRef,
    /// Top-k lists it is in.
    pub slots: usize,
    /// `slots` over all slots.
    pub slot_share: f64,
    /// Its near-duplicate group, when known.
    pub duplicate_group: Option<usize>,
}

/// Which documents the queries reach.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct ContentUse {
    /// Top-k slots in all (queries x k).
    pub slots: usize,
    /// Documents.
    pub documents: usize,
    /// Documents in no query's top-k.
    pub dead: usize,
    /// `dead / documents`.
    pub dead_share: f64,
    /// The least dead share these many slots allow (documents less slots, over documents):
    /// with few queries most documents are dead whatever the corpus.
    pub dead_floor: f64,
    /// Per cluster (with topics).
    pub dead_by_cluster: Vec<ClusterDead>,
    /// Up to 10 dead documents (seeded sample).
    pub dead_examples: Vec<DocRef>,
    /// The 10 documents in most top-k lists.
    pub hot: Vec<HotDoc>,
}

/// recall@k of cluster retrieval at one nprobe.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct ProbeRecall {
    /// Cells probed.
    pub nprobe: usize,
    /// recall@k against exact search (a document as near as the exact k-th counts).
    pub recall: f64,
    /// Mean share of the corpus scanned per query.
    pub scanned_fraction: f64,
}

/// Cluster retrieval for these queries.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct QueryRetrieval {
    /// IVF cells.
    pub nlist: usize,
    /// recall@k against exact search at each nprobe.
    pub per_nprobe: Vec<ProbeRecall>,
}

/// One query's result (the `queries.parquet` table).
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct QueryRow {
    /// Its id.
    pub id: String,
    /// The start of its text.
    pub text: String,
    /// Its best cosine to the corpus.
    pub best_cosine: f64,
    /// Below the gap threshold.
    pub gap: bool,
    /// Its nearest topic (with topics).
    pub topic: Option<usize>,
    /// The ids of its exact top-k.
    pub top_ids: Vec<String>,
}

/// What the queries found.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct QueryReport {
    /// The query file.
    pub source: String,
    /// Documents per query.
    pub top_k: usize,
    /// Coverage and its gaps.
    pub coverage: Coverage,
    /// Demand and supply per topic (empty without topics).
    pub demand: Vec<TopicDemand>,
    /// Dead and hot documents.
    pub content: ContentUse,
    /// Cluster retrieval on these queries.
    pub retrieval: QueryRetrieval,
    /// Against the judgements, when given.
    pub judged: Option<Judged>,
    /// Plain-language findings.
    pub notes: Vec<String>,
    /// Wall time, seconds.
    pub seconds: f64,
    /// Every query's result.
    #[serde(skip)]
    pub per_query: Vec<QueryRow>,
    /// Per document of the corpus: in how many queries' top k it is (0: dead).
    #[serde(skip)]
    pub document_hits: Vec<usize>,
}
