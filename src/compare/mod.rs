//! Compare one corpus under two embeddings (two models, or a model and its update): do the
//! documents keep their neighbours, and do the clusters survive?
//!
//! - **Overlap**: the rows of A and B are matched by id; how many are in both, in A only, in B
//!   only. Everything below is computed on the rows in both (a seeded sample above
//!   [`sample`](CompareParams::sample) rows), each side in its own space: the two sides may
//!   have different dimensions.
//! - **Neighbourhood agreement**: for each query row (a seeded sample of
//!   [`queries`](CompareParams::queries)), its `k` nearest neighbours under A and under B
//!   (exact, cosine); the overlap of the two lists (recall@k of B's list against A's, a
//!   neighbour as near under A as A's k-th counting as kept: ties are interchangeable) and
//!   their Jaccard, their distribution, and the documents whose neighbourhoods change most.
//! - **Clusters**: the silhouette sweep on each side (its own K), the adjusted Rand index and
//!   NMI between the two partitions at each side's own K and at A's K, and the correspondence
//!   of the clusters: matched one to one by the Hungarian method on their overlap, with the
//!   A-clusters that split in B and the B-clusters that merge A-clusters.
//!
//! ```
//! use embedscope::compare::Compare;
//! use embedscope::{Corpus, Embeddings};
//! // Four documents in two pairs; B is A with its two axes swapped (a rotation).
//! let a_vecs = vec![1.0, 0.0, 0.99, 0.1, 0.0, 1.0, 0.1, 0.99];
//! let b_vecs: Vec<f32> = a_vecs.chunks(2).flat_map(|r| [r[1], r[0]]).collect();
//! let mut a = Corpus::from_texts(["a", "b", "c", "d"]);
//! a.vectors = Some(Embeddings::new(a_vecs, 2)?);
//! let mut b = a.clone();
//! b.vectors = Some(Embeddings::new(b_vecs, 2)?);
//! let c = Compare::params().neighbours(1).k_range(2, 2).run(&a, &b)?;
//! assert_eq!(c.overlap.both, 4);
//! assert_eq!(c.neighbours.mean_overlap, 1.0);
//! assert_eq!(c.clusters.ari_own_k, 1.0);
//! # Ok::<(), embedscope::Error>(())
//! ```

mod display;
pub mod hungarian;

use std::collections::HashMap;

use serde::Serialize;

use crate::cluster::{label_agreement, KSweep};
use crate::embeddings::Embeddings;
use crate::error::{Error, Result};
use crate::io::Corpus;
use crate::label::summary::snippet_of;
use crate::rng::Rng;

/// Entry point: `Compare::params()`.
#[derive(Debug, Clone, Copy)]
pub struct Compare;

impl Compare {
    /// Defaults: 10 neighbours, 5,000 query rows, k = 2..=10 with 10 initialisations, up to
    /// 50,000 rows compared, seed 42.
    pub fn params() -> CompareParams {
        CompareParams {
            neighbours: 10,
            queries: 5_000,
            k_min: 2,
            k_max: 10,
            n_init: 10,
            sample: 50_000,
            seed: 42,
            topic_match: 0.8,
        }
    }
}

/// Compare parameters.
#[derive(Debug, Clone, PartialEq)]
pub struct CompareParams {
    neighbours: usize,
    queries: usize,
    k_min: usize,
    k_max: usize,
    n_init: usize,
    sample: usize,
    seed: u64,
    topic_match: f64,
}

impl CompareParams {
    /// Neighbours per document compared. Default 10.
    pub fn neighbours(mut self, k: usize) -> Self {
        self.neighbours = k;
        self
    }
    /// Documents whose neighbourhoods are compared (a seeded sample above). Default 5,000.
    pub fn queries(mut self, n: usize) -> Self {
        self.queries = n;
        self
    }
    /// The k each side's silhouette sweep tries. Default 2..=10.
    pub fn k_range(mut self, k_min: usize, k_max: usize) -> Self {
        self.k_min = k_min;
        self.k_max = k_max;
        self
    }
    /// K-Means initialisations. Default 10.
    pub fn n_init(mut self, n: usize) -> Self {
        self.n_init = n;
        self
    }
    /// Rows in both sides compared at most (a seeded sample above, the same rows on both
    /// sides). Default 50,000, the audit's sample.
    pub fn sample(mut self, rows: usize) -> Self {
        self.sample = rows;
        self
    }
    /// Seed. Default 42.
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }
    /// Centroid cosine at or above which a topic of A and one of B are the same topic.
    /// Default 0.8.
    pub fn topic_match(mut self, cosine: f64) -> Self {
        self.topic_match = cosine;
        self
    }

    /// The sweep on `v`'s own rows (a seeded sample above `sample`) and every row's cluster.
    fn own_clustering(&self, v: &Embeddings) -> Result<(KSweep, Vec<usize>)> {
        if v.rows() > self.sample {
            let mut rows = Rng::new(self.seed, 0x0511).sample(v.rows(), self.sample);
            rows.sort_unstable();
            let s = self.sweep().population(v.rows()).fit(&v.select(&rows))?;
            let labels = s.chosen_model().predict(v)?;
            Ok((s, labels))
        } else {
            let s = self.sweep().fit(v)?;
            let labels = s.chosen_model().labels().to_vec();
            Ok((s, labels))
        }
    }

    /// Validates the parameters.
    pub fn check(&self) -> Result<()> {
        if self.neighbours == 0 {
            return Err(Error::param(
                "neighbours",
                self.neighbours,
                "must be at least 1",
            ));
        }
        if self.queries == 0 {
            return Err(Error::param("queries", self.queries, "must be at least 1"));
        }
        if self.sample < 3 {
            return Err(Error::param("sample", self.sample, "must be at least 3"));
        }
        if !(-1.0..=1.0).contains(&self.topic_match) {
            return Err(Error::param(
                "topic_match",
                self.topic_match,
                "must be a cosine in [-1, 1]",
            ));
        }
        self.sweep().check()
    }

    fn sweep(&self) -> crate::cluster::KSweepParams {
        KSweep::params()
            .k_min(self.k_min)
            .k_max(self.k_max)
            .n_init(self.n_init)
            .seed(self.seed)
    }

    /// Compares `a` and `b` (each with vectors; rows matched by id).
    pub fn run(&self, a: &Corpus, b: &Corpus) -> Result<Comparison> {
        let started = std::time::Instant::now();
        self.check()?;
        let va = vectors_of(a)?;
        let vb = vectors_of(b)?;
        // Rows in both, by id, in A's order.
        let b_row: HashMap<&str, usize> = b
            .ids
            .iter()
            .enumerate()
            .map(|(i, id)| (id.as_str(), i))
            .collect();
        let pairs: Vec<(usize, usize)> = a
            .ids
            .iter()
            .enumerate()
            .filter_map(|(i, id)| b_row.get(id.as_str()).map(|&j| (i, j)))
            .collect();
        let overlap = Overlap {
            a_rows: a.len(),
            b_rows: b.len(),
            both: pairs.len(),
            a_only: a.len() - pairs.len(),
            b_only: b.len() - pairs.len(),
        };
        let k_need = self.k_min + 1;
        if pairs.len() < k_need.max(self.neighbours + 1) {
            return Err(Error::Unsupported(format!(
                "{} and {}: {} ids in both (of {} and {}); comparing needs at least {} (are the id columns the same?)",
                a.source.display(),
                b.source.display(),
                pairs.len(),
                a.len(),
                b.len(),
                k_need.max(self.neighbours + 1)
            )));
        }
        let mut rng = Rng::new(self.seed, 0xC0A7);
        let compared: Vec<(usize, usize)> = if pairs.len() > self.sample {
            let mut pick = rng.sample(pairs.len(), self.sample);
            pick.sort_unstable();
            pick.into_iter().map(|p| pairs[p]).collect()
        } else {
            pairs
        };
        let rows_a: Vec<usize> = compared.iter().map(|p| p.0).collect();
        let rows_b: Vec<usize> = compared.iter().map(|p| p.1).collect();
        let xa = va.select(&rows_a);
        let xb = vb.select(&rows_b);
        let n = xa.rows();

        // Neighbourhoods.
        let mut queries = rng.sample(n, self.queries.min(n));
        queries.sort_unstable();
        let k = self.neighbours.min(n - 1);
        let na = neighbours(&xa, &queries, k);
        let nb = neighbours(&xb, &queries, k);
        // A neighbour of B's list counts as kept when A's list holds it, or when under A it is
        // as near as A's k-th neighbour: documents at the same distance (exact duplicates
        // above all) are interchangeable, and their order in a list means nothing.
        let dot = |x: &Embeddings, i: usize, j: usize| -> f32 {
            x.row(i)
                .iter()
                .zip(x.row(j).iter())
                .map(|(p, q)| p * q)
                .sum()
        };
        let shared: Vec<usize> = queries
            .iter()
            .zip(na.iter().zip(&nb))
            .map(|(&row, (x, y))| {
                let kth = x
                    .iter()
                    .map(|&j| dot(&xa, row, j))
                    .fold(f32::INFINITY, f32::min);
                y.iter()
                    .filter(|j| x.contains(j) || dot(&xa, row, **j) >= kth - 1e-6)
                    .count()
            })
            .collect();
        let mut histogram = vec![0usize; k + 1];
        shared.iter().for_each(|&s| histogram[s] += 1);
        let mut sorted = shared.clone();
        sorted.sort_unstable();
        let q = queries.len();
        let jaccard: f64 = shared
            .iter()
            .map(|&s| s as f64 / (2 * k - s) as f64)
            .sum::<f64>()
            / q as f64;
        let mut order: Vec<usize> = (0..q).collect();
        order.sort_by_key(|&i| (shared[i], queries[i]));
        let doc = |i: usize| DocRef {
            id: a.ids[rows_a[i]].clone(),
            text: a
                .texts
                .as_ref()
                .map_or_else(String::new, |t| snippet_of(&t[rows_a[i]], 160)),
        };
        let changed = order
            .iter()
            .take(10)
            .map(|&i| ChangedDoc {
                doc: doc(queries[i]),
                shared: shared[i],
                neighbours_a: na[i].iter().take(5).map(|&j| doc(j)).collect(),
                neighbours_b: nb[i].iter().take(5).map(|&j| doc(j)).collect(),
            })
            .collect();
        let agreement = NeighbourAgreement {
            k,
            queries: q,
            rows: n,
            mean_overlap: shared.iter().sum::<usize>() as f64 / (q * k) as f64,
            median_overlap: sorted[q / 2] as f64 / k as f64,
            mean_jaccard: jaccard,
            histogram,
            changed,
        };

        // Clusters: each side's sweep on its own rows (a seeded sample above `sample`), every
        // row then assigned to its side's centroids; the partitions compared on the rows in
        // both.
        let (sweep_a, all_a) = self.own_clustering(va)?;
        let (sweep_b, all_b) = self.own_clustering(vb)?;
        let la: Vec<usize> = rows_a.iter().map(|&r| all_a[r]).collect();
        let lb: Vec<usize> = rows_b.iter().map(|&r| all_b[r]).collect();
        let (ka, kb) = (sweep_a.chosen_k, sweep_b.chosen_k);
        let own = label_agreement(&la, &lb);
        let b_at_ka = sweep_b
            .models
            .iter()
            .find(|m| m.n_clusters() == ka)
            .map(|m| m.predict(&xb))
            .transpose()?;
        let common = b_at_ka.as_ref().map(|l| label_agreement(&la, l));
        let clusters = correspondence(&la, ka, &lb, kb);
        // Topics by centroid (one space only: the same model, two snapshots).
        let topics = (va.dim() == vb.dim()).then(|| {
            topics(
                (a, va, &all_a, sweep_a.chosen_model()),
                (b, vb, &all_b, sweep_b.chosen_model()),
                self.topic_match,
            )
        });
        let documents = documents(a, b, &b_row);
        let side = |s: &KSweep, v: &Embeddings| SideSummary {
            dim: v.dim(),
            chosen_k: s.chosen_k,
            silhouette: s
                .per_k
                .iter()
                .find(|x| x.k == s.chosen_k)
                .map_or(0.0, |x| x.silhouette),
            weak_structure: s.weak_structure(),
        };
        let mut notes = Vec::new();
        if va.dim() != vb.dim() {
            notes.push(format!(
                "A has {} dimensions and B {}: each side is measured in its own space; nothing here needs the two spaces to be the same.",
                va.dim(),
                vb.dim()
            ));
        }
        if overlap.a_only + overlap.b_only > 0 {
            notes.push(format!(
                "{} rows of A and {} of B have no counterpart by id: left out of the neighbourhoods and the partitions' agreement, counted in the topics.",
                overlap.a_only, overlap.b_only
            ));
        }
        if let Some(t) = &topics {
            if t.new + t.gone > 0 {
                notes.push(format!(
                    "Topics: {} new in B, {} gone from A (centroid cosine below {} to every topic of the other side).",
                    t.new, t.gone, t.threshold
                ));
            }
        }
        Ok(Comparison {
            source_a: a.source.display().to_string(),
            source_b: b.source.display().to_string(),
            overlap,
            a: side(&sweep_a, va),
            b: side(&sweep_b, vb),
            neighbours: agreement,
            documents,
            topics,
            clusters: ClusterAgreement {
                k_a: ka,
                k_b: kb,
                ari_own_k: own.ari,
                nmi_own_k: own.nmi,
                ari_common_k: common.map(|c| c.ari),
                nmi_common_k: common.map(|c| c.nmi),
                matches: clusters.0,
                splits: clusters.1,
                merges: clusters.2,
            },
            notes,
            seconds: started.elapsed().as_secs_f64(),
        })
    }
}

fn vectors_of(c: &Corpus) -> Result<&Embeddings> {
    c.vectors.as_ref().ok_or_else(|| {
        Error::Unsupported(format!(
            "{}: no vectors to compare (embed it first, or give a vector column)",
            c.source.display()
        ))
    })
}

/// The `k` nearest other rows of each query row (cosine on unit rows), nearest first.
fn neighbours(x: &Embeddings, queries: &[usize], k: usize) -> Vec<Vec<usize>> {
    let q = x.select(queries);
    let (idx, _) = crate::kernel::knn_between(&q.as_f32(), &x.as_f32(), x.dim(), k + 1);
    queries
        .iter()
        .enumerate()
        .map(|(i, &row)| {
            idx[i * (k + 1)..(i + 1) * (k + 1)]
                .iter()
                .map(|&j| j as usize)
                .filter(|&j| j != row)
                .take(k)
                .collect()
        })
        .collect()
}

/// The clusters of A against B's: the one-to-one matching of largest total overlap, the
/// A-clusters whose rows spread over several B-clusters (at least 20% in each of two or more)
/// and the B-clusters that gather several A-clusters.
fn correspondence(
    la: &[usize],
    ka: usize,
    lb: &[usize],
    kb: usize,
) -> (Vec<ClusterMatch>, Vec<ClusterSpread>, Vec<ClusterSpread>) {
    let mut cells = vec![0usize; ka * kb];
    let (mut sa, mut sb) = (vec![0usize; ka], vec![0usize; kb]);
    for (&x, &y) in la.iter().zip(lb) {
        cells[x * kb + y] += 1;
        sa[x] += 1;
        sb[y] += 1;
    }
    let weight: Vec<f64> = cells.iter().map(|&c| c as f64).collect();
    let matched = hungarian::assign_max(&weight, ka, kb);
    let matches = (0..ka)
        .map(|x| {
            let y = matched[x].filter(|&y| cells[x * kb + y] > 0);
            let both = y.map_or(0, |y| cells[x * kb + y]);
            ClusterMatch {
                a: x,
                b: y,
                a_size: sa[x],
                b_size: y.map_or(0, |y| sb[y]),
                overlap: both,
                jaccard: y.map_or(0.0, |y| both as f64 / (sa[x] + sb[y] - both) as f64),
            }
        })
        .collect();
    let spread = |of: usize, size: usize, parts: Vec<(usize, usize)>| {
        let big: Vec<(usize, usize)> = parts
            .into_iter()
            .filter(|&(_, c)| c as f64 >= 0.2 * size as f64)
            .collect();
        (big.len() >= 2).then_some(ClusterSpread {
            cluster: of,
            size,
            into: big,
        })
    };
    let splits = (0..ka)
        .filter_map(|x| spread(x, sa[x], (0..kb).map(|y| (y, cells[x * kb + y])).collect()))
        .collect();
    let merges = (0..kb)
        .filter_map(|y| spread(y, sb[y], (0..ka).map(|x| (x, cells[x * kb + y])).collect()))
        .collect();
    (matches, splits, merges)
}

/// One side: its corpus, vectors, every row's cluster and its K-Means model.
type Side<'a> = (
    &'a Corpus,
    &'a Embeddings,
    &'a [usize],
    &'a crate::cluster::KMeansModel,
);

/// Each side's topics matched one to one by centroid cosine (Hungarian), a pair counting as
/// the same topic at `threshold` or above; the rest are new (B) or gone (A).
fn topics(a: Side<'_>, b: Side<'_>, threshold: f64) -> Topics {
    let summarise = |(c, v, l, m): Side<'_>| {
        let k = m.n_clusters();
        let mut size = vec![0usize; k];
        l.iter().for_each(|&x| size[x] += 1);
        let labels: Vec<String> = crate::label::summary::summarise_clusters(c, v, l, k)
            .into_iter()
            .map(|s| s.label)
            .collect();
        let dim = v.dim();
        let unit: Vec<Vec<f64>> = (0..k)
            .map(|i| {
                let r = &m.centroids()[i * dim..(i + 1) * dim];
                let n = r
                    .iter()
                    .map(|&x| f64::from(x) * f64::from(x))
                    .sum::<f64>()
                    .sqrt();
                r.iter()
                    .map(|&x| f64::from(x) / n.max(f64::MIN_POSITIVE))
                    .collect()
            })
            .collect();
        (size, labels, unit, l.len())
    };
    let (size_a, label_a, ca, na) = summarise(a);
    let (size_b, label_b, cb, nb) = summarise(b);
    let (ka, kb) = (ca.len(), cb.len());
    let cosine: Vec<f64> = (0..ka)
        .flat_map(|i| {
            let ca = &ca;
            cb.iter()
                .map(move |y| ca[i].iter().zip(y).map(|(p, q)| p * q).sum::<f64>())
        })
        .collect();
    let matched =
        hungarian::assign_max(&cosine.iter().map(|c| c + 1.0).collect::<Vec<_>>(), ka, kb);
    let mut out = Vec::new();
    let mut b_taken = vec![false; kb];
    for (i, m) in matched.iter().enumerate() {
        let pair = m.filter(|&j| cosine[i * kb + j] >= threshold);
        if let Some(j) = pair {
            b_taken[j] = true;
        }
        out.push(TopicMatch {
            status: if pair.is_some() {
                TopicStatus::Matched
            } else {
                TopicStatus::Gone
            },
            a: Some(i),
            b: pair,
            label_a: label_a[i].clone(),
            label_b: pair.map_or_else(String::new, |j| label_b[j].clone()),
            size_a: size_a[i],
            size_b: pair.map_or(0, |j| size_b[j]),
            share_a: size_a[i] as f64 / na as f64,
            share_b: pair.map_or(0.0, |j| size_b[j] as f64 / nb as f64),
            cosine: pair.map(|j| cosine[i * kb + j]),
        });
    }
    for j in (0..kb).filter(|&j| !b_taken[j]) {
        out.push(TopicMatch {
            status: TopicStatus::New,
            a: None,
            b: Some(j),
            label_a: String::new(),
            label_b: label_b[j].clone(),
            size_a: 0,
            size_b: size_b[j],
            share_a: 0.0,
            share_b: size_b[j] as f64 / nb as f64,
            cosine: None,
        });
    }
    let count = |s: TopicStatus| out.iter().filter(|t| t.status == s).count();
    Topics {
        threshold,
        matched: count(TopicStatus::Matched),
        new: count(TopicStatus::New),
        gone: count(TopicStatus::Gone),
        topics: out,
    }
}

/// Documents added, removed and changed between A and B, by id (`b_row`: B's row of each id).
fn documents(a: &Corpus, b: &Corpus, b_row: &HashMap<&str, usize>) -> DocumentChanges {
    let a_ids: std::collections::HashSet<&str> = a.ids.iter().map(String::as_str).collect();
    let text = |c: &Corpus, r: usize| {
        c.texts
            .as_ref()
            .map_or_else(String::new, |t| snippet_of(&t[r], 160))
    };
    let mut out = DocumentChanges {
        added: 0,
        removed: 0,
        changed: 0,
        unchanged: 0,
        added_examples: Vec::new(),
        removed_examples: Vec::new(),
        changed_examples: Vec::new(),
    };
    for (i, id) in a.ids.iter().enumerate() {
        match b_row.get(id.as_str()) {
            None => {
                out.removed += 1;
                if out.removed_examples.len() < 10 {
                    out.removed_examples.push(DocRef {
                        id: id.clone(),
                        text: text(a, i),
                    });
                }
            }
            Some(&j) => {
                let differs = match (&a.texts, &b.texts) {
                    (Some(ta), Some(tb)) => ta[i] != tb[j],
                    _ => false,
                };
                if differs {
                    out.changed += 1;
                    if out.changed_examples.len() < 10 {
                        out.changed_examples.push(ChangedText {
                            id: id.clone(),
                            before: text(a, i),
                            after: text(b, j),
                        });
                    }
                } else {
                    out.unchanged += 1;
                }
            }
        }
    }
    for (j, id) in b.ids.iter().enumerate() {
        if !a_ids.contains(id.as_str()) {
            out.added += 1;
            if out.added_examples.len() < 10 {
                out.added_examples.push(DocRef {
                    id: id.clone(),
                    text: text(b, j),
                });
            }
        }
    }
    out
}

/// A document whose text changed between A and B.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct ChangedText {
    /// Its id.
    pub id: String,
    /// The start of A's text.
    pub before: String,
    /// The start of B's text.
    pub after: String,
}

/// Documents added, removed and changed, by id.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct DocumentChanges {
    /// Ids in B only.
    pub added: usize,
    /// Ids in A only.
    pub removed: usize,
    /// Ids in both whose texts differ.
    pub changed: usize,
    /// Ids in both with the same text (or no texts to compare).
    pub unchanged: usize,
    /// Up to 10 added documents.
    pub added_examples: Vec<DocRef>,
    /// Up to 10 removed documents.
    pub removed_examples: Vec<DocRef>,
    /// Up to 10 changed documents, before and after.
    pub changed_examples: Vec<ChangedText>,
}

/// Whether a topic is in both snapshots, only in B or only in A.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum TopicStatus {
    /// In both (centroid cosine at or above the threshold).
    Matched,
    /// In B only.
    New,
    /// In A only.
    Gone,
}

/// A topic of A, of B, or of both.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct TopicMatch {
    /// Matched, new or gone.
    pub status: TopicStatus,
    /// A's cluster.
    pub a: Option<usize>,
    /// B's cluster.
    pub b: Option<usize>,
    /// A's label (c-TF-IDF keywords).
    pub label_a: String,
    /// B's label.
    pub label_b: String,
    /// Documents in A's cluster (every row of A).
    pub size_a: usize,
    /// Documents in B's cluster.
    pub size_b: usize,
    /// `size_a` over A's rows.
    pub share_a: f64,
    /// `size_b` over B's rows.
    pub share_b: f64,
    /// Cosine between the two centroids (1 - cosine: how far the topic moved).
    pub cosine: Option<f64>,
}

/// Topics of two snapshots matched by centroid.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct Topics {
    /// Centroid cosine at or above which two topics are one.
    pub threshold: f64,
    /// Topics in both.
    pub matched: usize,
    /// Topics in B only.
    pub new: usize,
    /// Topics in A only.
    pub gone: usize,
    /// Every topic: A's in A's order, then B's new ones.
    pub topics: Vec<TopicMatch>,
}

/// How the rows of A and B pair up by id.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct Overlap {
    /// Rows of A.
    pub a_rows: usize,
    /// Rows of B.
    pub b_rows: usize,
    /// Ids in both.
    pub both: usize,
    /// Ids in A only.
    pub a_only: usize,
    /// Ids in B only.
    pub b_only: usize,
}

/// A document, as the comparison shows it.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct DocRef {
    /// Its id.
    pub id: String,
    /// The start of its text (A's).
    pub text: String,
}

/// A document whose neighbourhood changed.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct ChangedDoc {
    /// The document.
    pub doc: DocRef,
    /// Neighbours in both lists.
    pub shared: usize,
    /// Its nearest neighbours under A (up to 5).
    pub neighbours_a: Vec<DocRef>,
    /// Its nearest neighbours under B (up to 5).
    pub neighbours_b: Vec<DocRef>,
}

/// Do the documents keep their neighbours?
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct NeighbourAgreement {
    /// Neighbours per document.
    pub k: usize,
    /// Documents whose neighbourhoods were compared.
    pub queries: usize,
    /// Rows the neighbours were searched among.
    pub rows: usize,
    /// Mean share of A's `k` neighbours that B's list also holds (recall@k of B against A).
    pub mean_overlap: f64,
    /// Median of that share.
    pub median_overlap: f64,
    /// Mean Jaccard similarity of the two lists.
    pub mean_jaccard: f64,
    /// Documents by neighbours shared: `histogram[s]` documents share `s` of `k`.
    pub histogram: Vec<usize>,
    /// The documents whose neighbourhoods changed most (fewest shared), with both lists.
    pub changed: Vec<ChangedDoc>,
}

/// One side's own clustering.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct SideSummary {
    /// Vector dimension.
    pub dim: usize,
    /// The K its silhouette sweep picks.
    pub chosen_k: usize,
    /// The silhouette at that K (higher: the model separates this corpus better).
    pub silhouette: f64,
    /// Every silhouette of the sweep below 0.1.
    pub weak_structure: bool,
}

/// An A-cluster and the B-cluster matched to it.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct ClusterMatch {
    /// The A-cluster.
    pub a: usize,
    /// Its match in B (None: no B-cluster left, or no overlap).
    pub b: Option<usize>,
    /// A-cluster rows.
    pub a_size: usize,
    /// B-cluster rows.
    pub b_size: usize,
    /// Rows in both.
    pub overlap: usize,
    /// Their Jaccard similarity.
    pub jaccard: f64,
}

/// A cluster of one side whose rows spread over several clusters of the other.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct ClusterSpread {
    /// The cluster.
    pub cluster: usize,
    /// Its rows.
    pub size: usize,
    /// The other side's clusters holding at least 20% of them: (cluster, rows).
    pub into: Vec<(usize, usize)>,
}

/// Do the clusters survive?
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct ClusterAgreement {
    /// A's K.
    pub k_a: usize,
    /// B's K.
    pub k_b: usize,
    /// Adjusted Rand index between the partitions at each side's own K.
    pub ari_own_k: f64,
    /// NMI between them.
    pub nmi_own_k: f64,
    /// ARI with both at A's K (None when A's K is outside B's sweep).
    pub ari_common_k: Option<f64>,
    /// NMI with both at A's K.
    pub nmi_common_k: Option<f64>,
    /// Each A-cluster's match (Hungarian method on the overlap, own K).
    pub matches: Vec<ClusterMatch>,
    /// A-clusters that split in B.
    pub splits: Vec<ClusterSpread>,
    /// B-clusters that merge A-clusters.
    pub merges: Vec<ClusterSpread>,
}

/// What the comparison found.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct Comparison {
    /// A's file.
    pub source_a: String,
    /// B's file.
    pub source_b: String,
    /// How the rows pair up.
    pub overlap: Overlap,
    /// A's own clustering.
    pub a: SideSummary,
    /// B's own clustering.
    pub b: SideSummary,
    /// Neighbourhood agreement.
    pub neighbours: NeighbourAgreement,
    /// Documents added, removed and changed (by id; text compared when both sides have it).
    pub documents: DocumentChanges,
    /// Each side's topics matched by centroid (None when the two spaces differ in dimension).
    pub topics: Option<Topics>,
    /// Cluster agreement.
    pub clusters: ClusterAgreement,
    /// Plain-language findings.
    pub notes: Vec<String>,
    /// Wall time, seconds.
    pub seconds: f64,
}
