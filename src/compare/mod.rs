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
pub mod drift;
pub mod hungarian;
pub mod sides;
pub mod verdict;

use std::collections::HashMap;

use serde::Serialize;

pub use drift::{CrossDuplicates, CrossPair, TwoSample};
pub use sides::{LinkedMap, LinkedMaps, SideAudit, SideBySide, SideMetric};
pub use verdict::{CompareThresholds, CompareVerdict};

use crate::audit::{Audit, Sampling, VerdictThresholds};
use crate::cluster::{label_agreement, KMeans, KSweep};
use crate::embeddings::Embeddings;
use crate::error::{Error, Result};
use crate::io::Corpus;
use crate::label::summary::{snippet_of, summarise_clusters, ClusterSummary};
use crate::progress::Progress;
use crate::rng::Rng;

/// The JSON Schema of `compare.json` ([`Comparison`]), generated from the types that write it.
///
/// ```
/// let schema = embedscope::compare::compare_schema();
/// assert!(schema["properties"]["verdict"].is_object());
/// ```
pub fn compare_schema() -> serde_json::Value {
    serde_json::to_value(schemars::schema_for!(Comparison)).expect("a schema serialises")
}

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
            dedup_threshold: 0.95,
            drift_rows: 2_000,
            permutations: 200,
            thresholds: CompareThresholds::default(),
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
    dedup_threshold: f64,
    drift_rows: usize,
    permutations: usize,
    thresholds: CompareThresholds,
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

    /// Cosine at or above which a new document copies an old one. Default 0.95.
    pub fn dedup_threshold(mut self, cosine: f64) -> Self {
        self.dedup_threshold = cosine;
        self
    }
    /// Rows of each side in the drift test (a seeded sample above). Default 2,000.
    pub fn drift_rows(mut self, rows: usize) -> Self {
        self.drift_rows = rows;
        self
    }
    /// Random relabellings behind the drift test's p-value. Default 200.
    pub fn permutations(mut self, n: usize) -> Self {
        self.permutations = n;
        self
    }
    /// The verdict's limits.
    pub fn thresholds(mut self, t: CompareThresholds) -> Self {
        self.thresholds = t;
        self
    }

    /// The sweep on `v`'s own rows (a seeded sample above `sample`), every row's cluster and
    /// the clusters' labels.
    fn own_clustering(&self, c: &Corpus, v: &Embeddings) -> Result<Partition> {
        let (sweep, labels) = if v.rows() > self.sample {
            let mut rows = Rng::new(self.seed, 0x0511).sample(v.rows(), self.sample);
            rows.sort_unstable();
            let s = self.sweep().population(v.rows()).fit(&v.select(&rows))?;
            let labels = s.chosen_model().predict(v)?;
            (s, labels)
        } else {
            let s = self.sweep().fit(v)?;
            let labels = s.chosen_model().labels().to_vec();
            (s, labels)
        };
        Ok(Partition {
            clusters: summarise_clusters(c, v, &labels, sweep.chosen_k),
            labels,
            k: sweep.chosen_k,
            silhouette: sweep
                .per_k
                .iter()
                .find(|x| x.k == sweep.chosen_k)
                .map_or(0.0, |x| x.silhouette),
            weak: sweep.weak_structure(),
            sweep: Some(sweep),
        })
    }

    /// Per matched topic: how far its centroid moved and whether its documents' distribution
    /// moved (MMD on up to 200 rows a side, 100 relabellings).
    fn topic_drift(&self, t: &mut Topics, a: (&Embeddings, &[usize]), b: (&Embeddings, &[usize])) {
        for (i, x) in t.topics.iter_mut().enumerate() {
            let (Some(ca), Some(cb)) = (x.a, x.b) else {
                continue;
            };
            x.centroid_shift = x.cosine.map(|c| 1.0 - c);
            let rows = |(v, l): (&Embeddings, &[usize]), c: usize| {
                let r: Vec<usize> = (0..l.len()).filter(|&j| l[j] == c).collect();
                v.select(&r)
            };
            let seed = self.seed.wrapping_add(i as u64 + 1);
            if let Some(d) = drift::two_sample(&rows(a, ca), &rows(b, cb), 200, 100, seed) {
                x.mmd2 = Some(d.mmd2);
                x.drift_p = Some(d.p_value);
            }
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
        if !(0.0..=1.0).contains(&self.dedup_threshold) {
            return Err(Error::param(
                "dedup_threshold",
                self.dedup_threshold,
                "must be a cosine in [0, 1]",
            ));
        }
        if self.drift_rows < 2 {
            return Err(Error::param(
                "drift_rows",
                self.drift_rows,
                "must be at least 2",
            ));
        }
        self.thresholds.check()?;
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

    /// Compares `a` and `b` (each with vectors; rows matched by id), each side clustered by
    /// its own silhouette sweep. No side-by-side audit numbers and no maps: see
    /// [`run_audited`](Self::run_audited).
    pub fn run(&self, a: &Corpus, b: &Corpus) -> Result<Comparison> {
        self.compare(a, b, None)
    }

    /// Compares `a` and `b` given each side's [`Audit`] (run on that corpus): the partitions
    /// are the audits' (no sweep of its own), and the comparison adds the audits side by side
    /// (silhouette, noise, duplicates, recall at each nprobe, hubness, agreement with a label
    /// column) and both maps, linked by id.
    pub fn run_audited(
        &self,
        a: &Corpus,
        b: &Corpus,
        audit_a: &Audit,
        audit_b: &Audit,
    ) -> Result<Comparison> {
        for (c, au) in [(a, audit_a), (b, audit_b)] {
            if au.labels.len() != c.len() {
                return Err(Error::Unsupported(format!(
                    "{}: the audit given for it ran on {} rows, the corpus has {}",
                    c.source.display(),
                    au.labels.len(),
                    c.len()
                )));
            }
        }
        self.compare(a, b, Some((audit_a, audit_b)))
    }

    /// One side's audit for [`run_audited`](Self::run_audited): the sections that compare
    /// (no health, no stability), with this comparison's K range, initialisations, seed,
    /// duplicate threshold and nprobe; `map` draws the side's map (the report links the two).
    pub fn audit_side(&self, corpus: &Corpus, map: bool, progress: &dyn Progress) -> Result<Audit> {
        Audit::builder()
            .k_range(self.k_min, self.k_max)
            .n_init(self.n_init)
            .seed(self.seed)
            .sampling(Sampling::Auto)
            .map(map)
            .health(None)
            .stability(None)
            .dedup_threshold(self.dedup_threshold)
            .thresholds(VerdictThresholds {
                nprobe: self.thresholds.nprobe,
                ..VerdictThresholds::default()
            })
            .progress(progress)
            .run(corpus)
    }

    /// The whole comparison as `embedscope compare` runs it: the sides' overlap checked
    /// first, each side audited ([`audit_side`](Self::audit_side)), then compared with both
    /// audits ([`run_audited`](Self::run_audited)); `quick` skips the audits ([`run`](Self::run)).
    pub fn run_with_audits(
        &self,
        a: &Corpus,
        b: &Corpus,
        quick: bool,
        map: bool,
        progress: &dyn Progress,
    ) -> Result<Comparison> {
        self.check()?;
        self.overlap(a, b)?;
        if quick {
            return self.run(a, b);
        }
        let audit_a = self.audit_side(a, map, progress)?;
        let audit_b = self.audit_side(b, map, progress)?;
        self.run_audited(a, b, &audit_a, &audit_b)
    }

    /// How the rows of `a` and `b` pair up by id, or the error comparing them would end in
    /// (no rows, no vectors, too few ids in both): a check to make before auditing each side.
    pub fn overlap(&self, a: &Corpus, b: &Corpus) -> Result<Overlap> {
        self.pairs(a, b).map(|(_, o)| o)
    }

    /// The (A row, B row) of every id in both, in A's order, and the overlap; checked.
    fn pairs(&self, a: &Corpus, b: &Corpus) -> Result<(Vec<(usize, usize)>, Overlap)> {
        for c in [a, b] {
            if c.is_empty() {
                return Err(Error::Unsupported(format!(
                    "{}: no rows to compare",
                    c.source.display()
                )));
            }
            vectors_of(c)?;
        }
        let b_row = id_rows(b);
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
        let need = (self.k_min + 1).max(self.neighbours + 1);
        if pairs.len() < need {
            return Err(Error::Unsupported(format!(
                "{} and {}: {} ids in both (of {} and {}); comparing needs at least {need} (are the id columns the same?)",
                a.source.display(),
                b.source.display(),
                pairs.len(),
                a.len(),
                b.len(),
            )));
        }
        Ok((pairs, overlap))
    }

    fn compare(
        &self,
        a: &Corpus,
        b: &Corpus,
        audits: Option<(&Audit, &Audit)>,
    ) -> Result<Comparison> {
        let started = std::time::Instant::now();
        self.check()?;
        let (pairs, overlap) = self.pairs(a, b)?;
        let va = vectors_of(a)?;
        let vb = vectors_of(b)?;
        let b_row = id_rows(b);
        let space = space_of(a, va, b, vb, &pairs, self.seed);
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
        let (agreement, shared) = self.neighbourhoods(a, &rows_a, &xa, &xb, &mut rng);
        let k = agreement.k;

        // Clusters: each side's partition of every row (the audit's, or a sweep on its own
        // rows, a seeded sample above `sample`); the partitions compared on the rows in both.
        let (part_a, part_b) = match audits {
            Some((x, y)) => (Partition::of_audit(x), Partition::of_audit(y)),
            None => (self.own_clustering(a, va)?, self.own_clustering(b, vb)?),
        };
        let la: Vec<usize> = rows_a.iter().map(|&r| part_a.labels[r]).collect();
        let lb: Vec<usize> = rows_b.iter().map(|&r| part_b.labels[r]).collect();
        let (ka, kb) = (part_a.k, part_b.k);
        let own = label_agreement(&la, &lb);
        // B's partition at A's K: the sweep's model at that K, or one K-Means fit of it.
        let b_at_ka = if ka == kb {
            Some(lb.clone())
        } else {
            match &part_b.sweep {
                Some(s) => s
                    .models
                    .iter()
                    .find(|m| m.n_clusters() == ka)
                    .map(|m| m.predict(&xb))
                    .transpose()?,
                None if ka < xb.rows() => Some(
                    KMeans::params(ka)
                        .n_init(self.n_init)
                        .seed(self.seed)
                        .fit(&xb)?
                        .labels()
                        .to_vec(),
                ),
                None => None,
            }
        };
        let common = b_at_ka.as_ref().map(|l| label_agreement(&la, l));
        let clusters = correspondence(&la, ka, &lb, kb);
        let mut notes = Vec::new();
        // What needs one space: topics by centroid, drift, new documents copying old ones.
        let (topics, drift, cross) = if space.same {
            let mut t = topics(
                (va, &part_a.labels, &part_a.clusters),
                (vb, &part_b.labels, &part_b.clusters),
                self.topic_match,
            );
            self.topic_drift(&mut t, (va, &part_a.labels), (vb, &part_b.labels));
            let d = drift::two_sample(va, vb, self.drift_rows, self.permutations, self.seed);
            let a_ids: std::collections::HashSet<&str> = a.ids.iter().map(String::as_str).collect();
            let added: Vec<usize> = (0..b.len())
                .filter(|&j| !a_ids.contains(b.ids[j].as_str()))
                .collect();
            let x =
                drift::cross_duplicates((a, va), (b, vb), &added, self.dedup_threshold, self.seed);
            (Some(t), d, Some(x))
        } else {
            (None, None, None)
        };
        let documents = documents(a, b, &b_row);
        if va.dim() != vb.dim() {
            notes.push(format!(
                "A has {} dimensions and B {}: each side is measured in its own space; topics by centroid, drift and copies across the sides need one space and are left out.",
                va.dim(),
                vb.dim()
            ));
        } else if !space.same {
            notes.push(format!(
                "A's and B's vectors of the same documents have a median cosine of {:.3}: two embedding spaces (two models). Each side is measured in its own; topics by centroid, drift and copies across the sides need one space and are left out.",
                space.paired_cosine.unwrap_or(0.0)
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
        if let Some(d) = &drift {
            notes.push(if d.p_value < 0.05 {
                format!(
                    "The corpus moved: MMD² {:.4} between {} rows of A and {} of B, p = {:.3} ({} permutations).",
                    d.mmd2, d.rows_a, d.rows_b, d.p_value, d.permutations
                )
            } else {
                format!(
                    "No sign the corpus moved: MMD² {:.4}, p = {:.3} ({} permutations).",
                    d.mmd2, d.p_value, d.permutations
                )
            });
        }
        if let Some(x) = cross.as_ref().filter(|x| x.copies > 0) {
            notes.push(format!(
                "{} of {} new documents ({:.1}%) copy an old one at cosine >= {}.",
                x.copies,
                x.searched,
                100.0 * x.share,
                x.threshold
            ));
        }
        let (side_by_side, maps) = match audits {
            Some((x, y)) => (
                Some(sides::side_by_side((a, x), (b, y), self.thresholds.nprobe)),
                Some(sides::linked_maps((a, x), (b, y))),
            ),
            None => (None, None),
        };
        let mut c = Comparison {
            source_a: a.source.display().to_string(),
            source_b: b.source.display().to_string(),
            overlap,
            space,
            a: part_a.summary(va.dim()),
            b: part_b.summary(vb.dim()),
            neighbours: agreement,
            documents,
            topics,
            drift,
            cross_duplicates: cross,
            clusters: ClusterAgreement {
                k_a: ka,
                k_b: kb,
                labels_a: part_a.clusters.iter().map(|c| c.label.clone()).collect(),
                labels_b: part_b.clusters.iter().map(|c| c.label.clone()).collect(),
                ari_own_k: own.ari,
                nmi_own_k: own.nmi,
                ari_common_k: common.map(|c| c.ari),
                nmi_common_k: common.map(|c| c.nmi),
                matches: clusters.0,
                splits: clusters.1,
                merges: clusters.2,
            },
            side_by_side,
            verdict: CompareVerdict {
                pass: true,
                failed: Vec::new(),
                checks: Vec::new(),
                thresholds: self.thresholds.clone(),
            },
            notes,
            seconds: 0.0,
            maps,
            per_document: shared
                .iter()
                .map(|&(q, s)| DocAgreement {
                    id: a.ids[rows_a[q]].clone(),
                    shared: s,
                    jaccard: s as f64 / (2 * k - s) as f64,
                    cluster_a: la[q],
                    cluster_b: lb[q],
                })
                .collect(),
        };
        c.verdict = verdict::verdict(&c, &self.thresholds);
        c.seconds = started.elapsed().as_secs_f64();
        Ok(c)
    }

    /// Each query row's `k` nearest neighbours under A and under B, how many they share, and
    /// (query row within the compared rows, shared) for each query.
    fn neighbourhoods(
        &self,
        a: &Corpus,
        rows_a: &[usize],
        xa: &Embeddings,
        xb: &Embeddings,
        rng: &mut Rng,
    ) -> (NeighbourAgreement, Vec<(usize, usize)>) {
        let n = xa.rows();
        let mut queries = rng.sample(n, self.queries.min(n));
        queries.sort_unstable();
        let k = self.neighbours.min(n - 1);
        let na = neighbours(xa, &queries, k);
        let nb = neighbours(xb, &queries, k);
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
                    .map(|&j| dot(xa, row, j))
                    .fold(f32::INFINITY, f32::min);
                y.iter()
                    .filter(|j| x.contains(j) || dot(xa, row, **j) >= kth - 1e-6)
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
            .filter(|&&i| shared[i] < k)
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

        let per_query = queries
            .iter()
            .copied()
            .zip(shared.iter().copied())
            .collect();
        (agreement, per_query)
    }
}

/// Each id's row.
fn id_rows(c: &Corpus) -> HashMap<&str, usize> {
    c.ids
        .iter()
        .enumerate()
        .map(|(i, id)| (id.as_str(), i))
        .collect()
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

/// One side: its vectors, every row's cluster and the clusters' summaries.
type Side<'a> = (&'a Embeddings, &'a [usize], &'a [ClusterSummary]);

/// Each side's topics matched one to one by centroid cosine (Hungarian), a pair counting as
/// the same topic at `threshold` or above; the rest are new (B) or gone (A).
fn topics(a: Side<'_>, b: Side<'_>, threshold: f64) -> Topics {
    let summarise = |(v, l, summaries): Side<'_>| {
        let k = summaries.len();
        let mut size = vec![0usize; k];
        l.iter().for_each(|&x| size[x] += 1);
        let labels: Vec<(String, Vec<String>)> = summaries
            .iter()
            .map(|s| (s.label.clone(), examples_of(s)))
            .collect();
        // Each cluster's centroid: the mean of its unit rows, made unit.
        let dim = v.dim();
        let mut sum = vec![vec![0.0f64; dim]; k];
        for (r, &x) in l.iter().enumerate() {
            sum[x]
                .iter_mut()
                .zip(v.row(r).iter())
                .for_each(|(s, &y)| *s += f64::from(y));
        }
        let unit: Vec<Vec<f64>> = sum
            .into_iter()
            .map(|r| {
                let n = r.iter().map(|x| x * x).sum::<f64>().sqrt();
                r.iter().map(|&x| x / n.max(f64::MIN_POSITIVE)).collect()
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
            label_a: label_a[i].0.clone(),
            label_b: pair.map_or_else(String::new, |j| label_b[j].0.clone()),
            examples_a: label_a[i].1.clone(),
            examples_b: pair.map_or_else(Vec::new, |j| label_b[j].1.clone()),
            size_a: size_a[i],
            size_b: pair.map_or(0, |j| size_b[j]),
            share_a: size_a[i] as f64 / na as f64,
            share_b: pair.map_or(0.0, |j| size_b[j] as f64 / nb as f64),
            cosine: pair.map(|j| cosine[i * kb + j]),
            centroid_shift: None,
            mmd2: None,
            drift_p: None,
        });
    }
    for j in (0..kb).filter(|&j| !b_taken[j]) {
        out.push(TopicMatch {
            status: TopicStatus::New,
            a: None,
            b: Some(j),
            label_a: String::new(),
            label_b: label_b[j].0.clone(),
            examples_a: Vec::new(),
            examples_b: label_b[j].1.clone(),
            size_a: 0,
            size_b: size_b[j],
            share_a: 0.0,
            share_b: size_b[j] as f64 / nb as f64,
            cosine: None,
            centroid_shift: None,
            mmd2: None,
            drift_p: None,
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

/// Up to 3 examples of a cluster: their texts, else their ids.
fn examples_of(s: &ClusterSummary) -> Vec<String> {
    s.examples
        .iter()
        .take(3)
        .map(|e| {
            if e.text.is_empty() {
                e.id.clone()
            } else {
                snippet_of(&e.text, 160)
            }
        })
        .collect()
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
    /// Up to 3 of A's documents nearest the topic's centroid.
    pub examples_a: Vec<String>,
    /// Up to 3 of B's.
    pub examples_b: Vec<String>,
    /// Documents in A's cluster (every row of A).
    pub size_a: usize,
    /// Documents in B's cluster.
    pub size_b: usize,
    /// `size_a` over A's rows.
    pub share_a: f64,
    /// `size_b` over B's rows.
    pub share_b: f64,
    /// Cosine between the two centroids.
    pub cosine: Option<f64>,
    /// How far the centroid moved: 1 - cosine.
    pub centroid_shift: Option<f64>,
    /// MMD² between the topic's documents in A and in B (up to 200 a side).
    pub mmd2: Option<f64>,
    /// Its permutation p-value (100 relabellings; small: the topic's documents moved).
    pub drift_p: Option<f64>,
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
    /// Each A-cluster's label (c-TF-IDF keywords; empty without texts).
    pub labels_a: Vec<String>,
    /// Each B-cluster's label.
    pub labels_b: Vec<String>,
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
    /// Whether A and B embed in one space (one model) or two.
    pub space: Space,
    /// A's own clustering.
    pub a: SideSummary,
    /// B's own clustering.
    pub b: SideSummary,
    /// Neighbourhood agreement.
    pub neighbours: NeighbourAgreement,
    /// Documents added, removed and changed (by id; text compared when both sides have it).
    pub documents: DocumentChanges,
    /// Each side's topics matched by centroid (None when the sides are two spaces).
    pub topics: Option<Topics>,
    /// Did the corpus move: MMD between the sides' rows (None when two spaces).
    pub drift: Option<TwoSample>,
    /// New documents that copy old ones (None when two spaces).
    pub cross_duplicates: Option<CrossDuplicates>,
    /// Cluster agreement.
    pub clusters: ClusterAgreement,
    /// The two audits side by side ([`CompareParams::run_audited`] only).
    pub side_by_side: Option<SideBySide>,
    /// Pass or fail against the limits.
    pub verdict: CompareVerdict,
    /// Plain-language findings.
    pub notes: Vec<String>,
    /// Wall time, seconds.
    pub seconds: f64,
    /// Both maps, linked by id, for the report ([`CompareParams::run_audited`] only).
    #[serde(skip)]
    pub maps: Option<LinkedMaps>,
    /// Every query document's neighbourhood agreement (the `neighbours.parquet` table).
    #[serde(skip)]
    pub per_document: Vec<DocAgreement>,
}

/// One document's neighbourhood agreement and its cluster on each side.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct DocAgreement {
    /// Its id.
    pub id: String,
    /// Neighbours in both lists (of `k`).
    pub shared: usize,
    /// Jaccard of the two lists.
    pub jaccard: f64,
    /// Its cluster in A.
    pub cluster_a: usize,
    /// Its cluster in B.
    pub cluster_b: usize,
}

/// Whether the two sides embed in one space.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct Space {
    /// One space: equal dimensions, and the documents in both with the same text keep their
    /// vectors (median cosine at least 0.9), or there are none such to tell.
    pub same: bool,
    /// Median cosine between a document's vector in A and in B (up to 2,000 documents in both
    /// with unchanged text; None when the dimensions differ or there are none).
    pub paired_cosine: Option<f64>,
}

/// One side's partition of its rows.
struct Partition {
    labels: Vec<usize>,
    /// Each cluster's label and examples (the audit's, or computed here).
    clusters: Vec<ClusterSummary>,
    k: usize,
    silhouette: f64,
    weak: bool,
    sweep: Option<KSweep>,
}

impl Partition {
    fn of_audit(a: &Audit) -> Partition {
        Partition {
            labels: a.labels.clone(),
            clusters: a.clusters.clone(),
            k: a.optimal_k.chosen_k,
            silhouette: a.optimal_k.chosen_silhouette(),
            weak: a.optimal_k.weak_structure,
            sweep: None,
        }
    }

    fn summary(&self, dim: usize) -> SideSummary {
        SideSummary {
            dim,
            chosen_k: self.k,
            silhouette: self.silhouette,
            weak_structure: self.weak,
        }
    }
}

/// One space or two: equal dimensions and, over up to 2,000 documents in both whose text is
/// unchanged, a median cosine of at least 0.9 between the two vectors.
fn space_of(
    a: &Corpus,
    va: &Embeddings,
    b: &Corpus,
    vb: &Embeddings,
    pairs: &[(usize, usize)],
    seed: u64,
) -> Space {
    if va.dim() != vb.dim() {
        return Space {
            same: false,
            paired_cosine: None,
        };
    }
    let same_text: Vec<(usize, usize)> = pairs
        .iter()
        .copied()
        .filter(|&(i, j)| match (&a.texts, &b.texts) {
            (Some(ta), Some(tb)) => ta[i] == tb[j],
            _ => true,
        })
        .collect();
    if same_text.is_empty() {
        return Space {
            same: true,
            paired_cosine: None,
        };
    }
    let pick = Rng::new(seed, 0x5BA).sample(same_text.len(), same_text.len().min(2_000));
    let mut cos: Vec<f64> = pick
        .iter()
        .map(|&p| {
            let (i, j) = same_text[p];
            va.row(i)
                .iter()
                .zip(vb.row(j).iter())
                .map(|(x, y)| f64::from(*x) * f64::from(*y))
                .sum()
        })
        .collect();
    cos.sort_by(f64::total_cmp);
    let median = cos[cos.len() / 2];
    Space {
        same: median >= 0.9,
        paired_cosine: Some(median),
    }
}
