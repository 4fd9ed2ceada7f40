//! Topic stability: are the clusters real, or an accident of the seed and the sample?
//!
//! - **Seeds.** K-Means at the chosen K fitted again with `runs` other seeds: the adjusted Rand
//!   index (ARI) between every pair of runs, the reference included.
//! - **Resamples.** `runs` bootstrap resamples (rows drawn with replacement), each clustered
//!   afresh: its ARI against the reference on the rows it drew.
//! - **Per cluster** (Hennig's `clusterboot`): in every run, the Jaccard similarity of the
//!   reference cluster (restricted to the rows the run saw) with its best match; the cluster's
//!   stability is the mean over all runs. Hennig reads below 0.5 as "dissolved" and above 0.75
//!   as stable; a cluster below [`unstable_below`](StabilityParams::unstable_below) (0.6) is
//!   flagged unstable.
//! - **How many clusters.** The silhouette sweep over `k_min..=k_max` on every resample: how
//!   often each k wins ("K = 10 in 4 of 5 resamples, 9 in 1").
//! - **HDBSCAN** ([`StabilityParams::hdbscan`]): noise share and cluster count over subsamples.
//!
//! Every refit uses the fast K-Means recipe ([`KMeans::auto_train_per_cluster`]: restarts on a
//! sample of 256 rows per cluster, the best polished on every row; the resamples' sweeps skip
//! the polish, as FAISS), so the whole check costs a few sweeps of a sample, not of the corpus:
//! about a fifth of the audit's time on debian-30k.
//!
//! ```
//! use embedscope::Embeddings;
//! use embedscope::stability::Stability;
//! // Three tight, well separated groups of unit vectors.
//! let mut data = Vec::new();
//! for i in 0..60 {
//!     let mut v = vec![0.0f32; 3];
//!     v[i % 3] = 1.0;
//!     v[(i + 1) % 3] = 0.01 * (i / 3) as f32;
//!     data.extend(v);
//! }
//! let data = Embeddings::new(data, 3).unwrap();
//! let report = Stability::params().runs(3).k_range(2, 4).run(&data, 3)?;
//! assert!(report.min_seed_ari > 0.99);
//! assert!(report.clusters.iter().all(|c| !c.unstable));
//! assert_eq!(report.k_votes[0].k, 3);
//! # Ok::<(), embedscope::Error>(())
//! ```

mod display;

use serde::Serialize;

use crate::cluster::metrics::silhouette_many;
use crate::cluster::{label_agreement, HdbscanParams, KMeans, KSweep};
use crate::embeddings::Embeddings;
use crate::error::{Error, Result};
use crate::progress::{Progress, Silent};
use crate::rng::Rng;

/// Entry point: `Stability::params()`.
#[derive(Debug, Clone, Copy)]
pub struct Stability;

impl Stability {
    /// Default parameters: 5 seeded runs and 5 resamples, k = 2..=10 for the vote, 10
    /// initialisations, silhouettes on 5,000 rows, unstable below 0.6, HDBSCAN subsamples of
    /// 80% of the rows, seed 42.
    pub fn params() -> StabilityParams {
        StabilityParams {
            runs: 5,
            seed: 42,
            k_min: 2,
            k_max: 10,
            n_init: 10,
            silhouette_sample: 5_000,
            unstable_below: 0.6,
            subsample: 0.8,
        }
    }
}

/// Stability parameters.
#[derive(Debug, Clone, PartialEq)]
pub struct StabilityParams {
    runs: usize,
    seed: u64,
    k_min: usize,
    k_max: usize,
    n_init: usize,
    silhouette_sample: usize,
    unstable_below: f64,
    subsample: f64,
}

impl StabilityParams {
    /// Seeded refits, and as many bootstrap resamples (and HDBSCAN subsamples). Default 5.
    pub fn runs(mut self, n: usize) -> Self {
        self.runs = n;
        self
    }

    /// Seed of the refits' seeds and of the resamples. Default 42.
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    /// The k the resamples' silhouette sweep tries. Default 2..=10 (the audit's sweep).
    pub fn k_range(mut self, k_min: usize, k_max: usize) -> Self {
        self.k_min = k_min;
        self.k_max = k_max;
        self
    }

    /// K-Means initialisations of every refit. Default 10.
    pub fn n_init(mut self, n: usize) -> Self {
        self.n_init = n;
        self
    }

    /// Rows of each resample the silhouettes are computed on. Default 5,000.
    pub fn silhouette_sample(mut self, rows: usize) -> Self {
        self.silhouette_sample = rows;
        self
    }

    /// A cluster whose stability (mean best-match Jaccard) is below this is flagged unstable.
    /// Default 0.6.
    pub fn unstable_below(mut self, jaccard: f64) -> Self {
        self.unstable_below = jaccard;
        self
    }

    /// Share of the rows in each HDBSCAN subsample (drawn without replacement: HDBSCAN's core
    /// distances would collapse on repeated rows). Default 0.8.
    pub fn subsample(mut self, share: f64) -> Self {
        self.subsample = share;
        self
    }

    /// The refits and resamples run.
    pub fn run_count(&self) -> usize {
        self.runs
    }

    /// Validates the parameters.
    pub fn check(&self) -> Result<()> {
        if self.runs == 0 {
            return Err(Error::param("runs", self.runs, "must be at least 1"));
        }
        if !(0.0..=1.0).contains(&self.unstable_below) {
            return Err(Error::param(
                "unstable_below",
                self.unstable_below,
                "must be in [0, 1]",
            ));
        }
        Error::check_threshold("subsample", self.subsample)?;
        // The resamples' sweep: the K sweep's rules (k range, silhouette rows, initialisations).
        KSweep::params()
            .k_min(self.k_min)
            .k_max(self.k_max)
            .n_init(self.n_init)
            .silhouette_sample(self.silhouette_sample)
            .check()
    }

    /// Fits the reference K-Means at `k` (every row, `n_init` initialisations, the seed) and
    /// checks it ([`run_against`](Self::run_against)).
    pub fn run(&self, data: &Embeddings, k: usize) -> Result<StabilityReport> {
        self.check()?;
        check_rows(data.rows(), k)?;
        let reference = KMeans::params(k)
            .n_init(self.n_init)
            .seed(self.seed)
            .fit(data)?;
        self.run_against(data, reference.labels(), &Silent)
    }

    /// Checks the clustering `reference` (a cluster in `0..k` for every row of `data`; K is its
    /// largest label + 1), reporting each refit and resample done to `progress` (stage
    /// `stability`).
    pub fn run_against(
        &self,
        data: &Embeddings,
        reference: &[usize],
        progress: &dyn Progress,
    ) -> Result<StabilityReport> {
        let started = std::time::Instant::now();
        self.check()?;
        let n = data.rows();
        if reference.len() != n {
            return Err(Error::param(
                "reference",
                reference.len(),
                format!("labels, but the data has {n} rows"),
            ));
        }
        let k = reference.iter().copied().max().map_or(0, |m| m + 1);
        check_rows(n, k)?;
        let mut sizes = vec![0usize; k];
        reference.iter().for_each(|&c| sizes[c] += 1);
        let mut seeds = Rng::new(self.seed, 0x0057_AB1E);
        let mut jaccards: Vec<Vec<f64>> = vec![Vec::new(); k];
        let mut runs = Vec::with_capacity(2 * self.runs);
        progress.start("stability", 2 * self.runs as u64);

        // Seeds: K-Means at k again, every row, another seed.
        let mut seeded: Vec<Vec<usize>> = vec![reference.to_vec()];
        for _ in 0..self.runs {
            // 53 bits: a seed a JSON reader holds exactly.
            let seed = seeds.next_u64() >> 11;
            let labels = self.kmeans(data, k, seed)?;
            for (c, j) in best_jaccard(reference, k, &labels).into_iter().enumerate() {
                jaccards[c].extend(j);
            }
            runs.push(StabilityRun {
                kind: RunKind::Seed,
                seed,
                rows: n,
                ari: label_agreement(reference, &labels).ari,
                chosen_k: None,
            });
            seeded.push(labels);
            progress.advance(1);
        }
        let mut pair_aris = Vec::new();
        for a in 0..seeded.len() {
            for b in a + 1..seeded.len() {
                pair_aris.push(label_agreement(&seeded[a], &seeded[b]).ari);
            }
        }

        // Resamples: n rows drawn with replacement, the sweep and K-Means at k on them.
        let mut wins = std::collections::BTreeMap::<usize, usize>::new();
        for _ in 0..self.runs {
            // 53 bits: a seed a JSON reader holds exactly.
            let seed = seeds.next_u64() >> 11;
            let mut rng = Rng::new(seed, 0xB007);
            let drawn: Vec<usize> = (0..n).map(|_| rng.below(n)).collect();
            let boot = data.select(&drawn);
            let mut distinct = drawn.clone();
            distinct.sort_unstable();
            distinct.dedup();
            let (chosen_k, at_k) = self.resample_sweep(data, &boot, &distinct, k, seed)?;
            if let Some(c) = chosen_k {
                *wins.entry(c).or_insert(0) += 1;
            }
            // Every copy of a row is the same point, so it has one cluster.
            let mut label_of = vec![usize::MAX; n];
            for (p, &row) in drawn.iter().enumerate() {
                label_of[row] = at_k[p];
            }
            let seen: Vec<usize> = distinct.iter().map(|&r| label_of[r]).collect();
            let ref_seen: Vec<usize> = distinct.iter().map(|&r| reference[r]).collect();
            for (c, j) in best_jaccard(&ref_seen, k, &seen).into_iter().enumerate() {
                jaccards[c].extend(j);
            }
            runs.push(StabilityRun {
                kind: RunKind::Bootstrap,
                seed,
                rows: distinct.len(),
                ari: label_agreement(&ref_seen, &seen).ari,
                chosen_k,
            });
            progress.advance(1);
        }
        progress.finish();

        let clusters: Vec<ClusterStability> = (0..k)
            .map(|c| {
                let seed_runs = jaccards[c].len().min(self.runs);
                let seed_j = mean(&jaccards[c][..seed_runs]);
                let boot_j = mean(&jaccards[c][seed_runs..]);
                let all = mean(&jaccards[c]);
                ClusterStability {
                    cluster: c,
                    size: sizes[c],
                    stability: all,
                    seed_jaccard: seed_j,
                    bootstrap_jaccard: boot_j,
                    dissolved: jaccards[c].iter().filter(|&&j| j <= 0.5).count(),
                    unstable: all < self.unstable_below,
                }
            })
            .collect();
        let unstable_rows: usize = clusters.iter().filter(|c| c.unstable).map(|c| c.size).sum();
        let resampled = wins.values().sum::<usize>();
        let mut k_votes: Vec<KVote> = wins
            .into_iter()
            .map(|(k, wins)| KVote {
                k,
                wins,
                share: wins as f64 / resampled.max(1) as f64,
            })
            .collect();
        k_votes.sort_by(|a, b| b.wins.cmp(&a.wins).then(a.k.cmp(&b.k)));
        let boot_aris: Vec<f64> = runs
            .iter()
            .filter(|r| r.kind == RunKind::Bootstrap)
            .map(|r| r.ari)
            .collect();
        Ok(StabilityReport {
            method: format!(
                "K-Means at k = {k} with {} other seeds and on {} bootstrap resamples (each {} initialisations on up to {} rows per cluster, the best polished on every row); per cluster the mean Jaccard of its best match (Hennig's clusterboot); the silhouette sweep k = {}..={} on every resample (centroids trained on the same sample, not polished), silhouettes on up to {} distinct rows",
                self.runs, self.runs, self.n_init, crate::cluster::kmeans::TRAIN_PER_CLUSTER, self.k_min, self.k_max, self.silhouette_sample
            ),
            k,
            rows: n,
            runs: self.runs,
            unstable_below: self.unstable_below,
            mean_seed_ari: mean(&pair_aris),
            min_seed_ari: pair_aris.iter().copied().fold(1.0, f64::min),
            mean_bootstrap_ari: mean(&boot_aris),
            min_bootstrap_ari: boot_aris.iter().copied().fold(1.0, f64::min),
            unstable_clusters: clusters.iter().filter(|c| c.unstable).count(),
            unstable_rows_share: unstable_rows as f64 / n as f64,
            clusters,
            k_votes,
            k_resamples: resampled,
            k_range: (self.k_min, self.k_max),
            run_details: runs,
            hdbscan: None,
            seconds: started.elapsed().as_secs_f64(),
        })
    }

    /// HDBSCAN with `params` on `runs` subsamples of `points` (each [`subsample`](Self::subsample)
    /// of the rows, without replacement): how its cluster count and noise share move.
    pub fn hdbscan(
        &self,
        points: &Embeddings,
        params: &HdbscanParams,
        progress: &dyn Progress,
    ) -> Result<HdbscanStability> {
        self.check()?;
        params.check()?;
        let n = points.rows();
        let m = ((n as f64 * self.subsample).round() as usize).min(n);
        if m < 3 {
            return Err(Error::param(
                "subsample",
                self.subsample,
                format!("leaves {m} of {n} rows; HDBSCAN needs at least 3"),
            ));
        }
        let mut rng = Rng::new(self.seed, 0x4DB5);
        let mut runs = Vec::with_capacity(self.runs);
        progress.start("stability (HDBSCAN)", self.runs as u64);
        for _ in 0..self.runs {
            let mut rows = rng.sample(n, m);
            rows.sort_unstable();
            let model = params.fit(&points.select(&rows))?;
            runs.push(HdbscanRun {
                rows: m,
                clusters: model.n_clusters(),
                noise_share: model.noise() as f64 / m as f64,
            });
            progress.advance(1);
        }
        progress.finish();
        let clusters: Vec<f64> = runs.iter().map(|r| r.clusters as f64).collect();
        let noise: Vec<f64> = runs.iter().map(|r| r.noise_share).collect();
        Ok(HdbscanStability {
            subsample: self.subsample,
            clusters: Spread::of(&clusters),
            noise_share: Spread::of(&noise),
            runs,
        })
    }

    /// One K-Means fit at `k` with the fast recipe.
    fn kmeans(&self, data: &Embeddings, k: usize, seed: u64) -> Result<Vec<usize>> {
        Ok(KMeans::params(k)
            .n_init(self.n_init)
            .seed(seed)
            .train_per_cluster(KMeans::auto_train_per_cluster(data.rows(), k))
            .fit(data)?
            .labels()
            .to_vec())
    }

    /// The silhouette sweep on one resample `boot` (rows `distinct` of `data`, some drawn more
    /// than once): the k it picks (None when the resample is too small to sweep) and the
    /// resample's labels at `k` (a polished fit, as the seeded refits).
    fn resample_sweep(
        &self,
        data: &Embeddings,
        boot: &Embeddings,
        distinct: &[usize],
        k: usize,
        seed: u64,
    ) -> Result<(Option<usize>, Vec<usize>)> {
        // Silhouettes on distinct rows: a repeated row would sit at distance 0 from its copy.
        let mut rng = Rng::new(seed, 0x5111);
        let mut sil_rows: Vec<usize> = rng
            .sample(distinct.len(), self.silhouette_sample)
            .into_iter()
            .map(|i| distinct[i])
            .collect();
        sil_rows.sort_unstable();
        let sil_data = data.select(&sil_rows);
        let k_max = self.k_max.min(sil_rows.len().saturating_sub(1));
        let mut at_k = None;
        let mut labelings = Vec::new();
        let mut ks = Vec::new();
        for kk in self.k_min..=k_max {
            // FAISS's recipe: centroids trained on the sample, no polish on every row (the
            // silhouettes only need the sample's labels; half the time, the same vote on
            // debian-30k).
            let train = KMeans::auto_train_per_cluster(boot.rows(), kk);
            let model = KMeans::params(kk)
                .n_init(self.n_init)
                .seed(seed)
                .train_per_cluster(train)
                .polish_iter(train.map(|_| 0))
                .fit(boot)?;
            labelings.push(crate::cluster::compact(model.predict(&sil_data)?));
            ks.push(kk);
            if kk == k && train.is_none() {
                at_k = Some(model.labels().to_vec());
            }
        }
        let refs: Vec<&[usize]> = labelings.iter().map(Vec::as_slice).collect();
        let sil = silhouette_many(&sil_data, &refs);
        // The highest silhouette, the lower k on a tie (as the sweep).
        let chosen = ks
            .iter()
            .zip(&sil)
            .fold(None::<(usize, f64)>, |best, (&kk, &s)| match best {
                Some(b) if b.1 >= s => Some(b),
                _ => Some((kk, s)),
            })
            .map(|b| b.0);
        let at_k = match at_k {
            Some(l) => l,
            None => self.kmeans(boot, k, seed)?,
        };
        Ok((chosen, at_k))
    }
}

/// K needs two clusters and enough rows to resample.
fn check_rows(n: usize, k: usize) -> Result<()> {
    if k < 2 {
        return Err(Error::param(
            "k",
            k,
            "must be at least 2 (one cluster cannot be unstable)",
        ));
    }
    if n < 3 * k {
        return Err(Error::param(
            "k",
            k,
            format!("needs at least 3 rows per cluster to resample, the data has {n} rows"),
        ));
    }
    Ok(())
}

fn mean(xs: &[f64]) -> f64 {
    if xs.is_empty() {
        0.0
    } else {
        xs.iter().sum::<f64>() / xs.len() as f64
    }
}

/// For each cluster of `reference` (`0..k`), the cluster of `other` that matches it best and
/// their Jaccard similarity (the lowest id on a tie; `None` when it has no rows here):
/// Hennig's clusterboot measure, for any two partitions of the same rows.
pub fn best_match(reference: &[usize], k: usize, other: &[usize]) -> Vec<Option<(usize, f64)>> {
    let k_other = other.iter().copied().max().map_or(0, |m| m + 1);
    let mut cells = vec![0usize; k * k_other];
    let mut a = vec![0usize; k];
    let mut b = vec![0usize; k_other];
    for (&r, &o) in reference.iter().zip(other) {
        cells[r * k_other + o] += 1;
        a[r] += 1;
        b[o] += 1;
    }
    (0..k)
        .map(|c| {
            (a[c] > 0).then(|| {
                (0..k_other)
                    .map(|o| {
                        let both = cells[c * k_other + o];
                        (o, both as f64 / (a[c] + b[o] - both) as f64)
                    })
                    .fold((0, 0.0), |best, x| if x.1 > best.1 { x } else { best })
            })
        })
        .collect()
}

/// [`best_match`]'s Jaccard alone.
fn best_jaccard(reference: &[usize], k: usize, other: &[usize]) -> Vec<Option<f64>> {
    best_match(reference, k, other)
        .into_iter()
        .map(|m| m.map(|(_, j)| j))
        .collect()
}

/// One refit or resample.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum RunKind {
    /// Every row, another seed.
    Seed,
    /// A bootstrap resample.
    Bootstrap,
}

/// What one refit or resample gave.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct StabilityRun {
    /// Seeded refit or bootstrap resample.
    pub kind: RunKind,
    /// Its seed.
    pub seed: u64,
    /// Distinct rows it saw.
    pub rows: usize,
    /// Adjusted Rand index against the reference, on those rows.
    pub ari: f64,
    /// The k its silhouette sweep picked (resamples only).
    pub chosen_k: Option<usize>,
}

/// One cluster's stability.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct ClusterStability {
    /// Cluster id (the reference's).
    pub cluster: usize,
    /// Rows.
    pub size: usize,
    /// Mean Jaccard of its best match over every refit and resample (1: always found again).
    pub stability: f64,
    /// The same over the seeded refits only.
    pub seed_jaccard: f64,
    /// The same over the resamples only.
    pub bootstrap_jaccard: f64,
    /// Runs in which its best match had Jaccard 0.5 or less (Hennig: "dissolved").
    pub dissolved: usize,
    /// `stability` below the limit.
    pub unstable: bool,
}

/// How often one k won the silhouette sweep across resamples.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct KVote {
    /// The k.
    pub k: usize,
    /// Resamples whose sweep picked it.
    pub wins: usize,
    /// `wins` over the resamples swept.
    pub share: f64,
}

/// Least, mean and largest of a few values.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, schemars::JsonSchema)]
pub struct Spread {
    /// Least.
    pub min: f64,
    /// Mean.
    pub mean: f64,
    /// Largest.
    pub max: f64,
}

impl Spread {
    fn of(xs: &[f64]) -> Spread {
        Spread {
            min: xs.iter().copied().fold(f64::INFINITY, f64::min),
            mean: mean(xs),
            max: xs.iter().copied().fold(f64::NEG_INFINITY, f64::max),
        }
    }
}

/// One HDBSCAN subsample.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct HdbscanRun {
    /// Rows in the subsample.
    pub rows: usize,
    /// Clusters found.
    pub clusters: usize,
    /// Share of the rows labelled noise.
    pub noise_share: f64,
}

/// HDBSCAN's cluster count and noise share across subsamples.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct HdbscanStability {
    /// Share of the rows in each subsample.
    pub subsample: f64,
    /// Cluster count across the subsamples.
    pub clusters: Spread,
    /// Noise share across the subsamples.
    pub noise_share: Spread,
    /// Each subsample.
    pub runs: Vec<HdbscanRun>,
}

/// What the stability check found.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct StabilityReport {
    /// How it was computed.
    pub method: String,
    /// The K checked.
    pub k: usize,
    /// Rows of the reference clustering.
    pub rows: usize,
    /// Seeded refits (and, as many, resamples).
    pub runs: usize,
    /// Stability below which a cluster is flagged.
    pub unstable_below: f64,
    /// Mean ARI over every pair of seeded runs, the reference included (1: the seed does not
    /// matter).
    pub mean_seed_ari: f64,
    /// Least ARI of those pairs.
    pub min_seed_ari: f64,
    /// Mean ARI of the resamples against the reference, on the rows each drew.
    pub mean_bootstrap_ari: f64,
    /// Least of those.
    pub min_bootstrap_ari: f64,
    /// Clusters flagged unstable.
    pub unstable_clusters: usize,
    /// Share of the rows in unstable clusters.
    pub unstable_rows_share: f64,
    /// Each cluster of the reference, by id.
    pub clusters: Vec<ClusterStability>,
    /// How often each k won the silhouette sweep across resamples, most wins first.
    pub k_votes: Vec<KVote>,
    /// Resamples whose sweep picked a k.
    pub k_resamples: usize,
    /// The k range swept on each resample.
    pub k_range: (usize, usize),
    /// Each refit and resample.
    pub run_details: Vec<StabilityRun>,
    /// HDBSCAN across subsamples, when run (see [`StabilityParams::hdbscan`]).
    pub hdbscan: Option<HdbscanStability>,
    /// Wall time, seconds.
    pub seconds: f64,
}

impl StabilityReport {
    /// "K = 10 in 4 of 5 resamples, 9 in 1": the vote in words.
    pub fn k_vote_text(&self) -> String {
        let parts: Vec<String> = self
            .k_votes
            .iter()
            .enumerate()
            .map(|(i, v)| {
                if i == 0 {
                    format!(
                        "K = {} in {} of {} resamples",
                        v.k, v.wins, self.k_resamples
                    )
                } else {
                    format!("{} in {}", v.k, v.wins)
                }
            })
            .collect();
        parts.join(", ")
    }

    /// The share of resamples whose sweep picked `k`.
    pub fn k_share(&self, k: usize) -> f64 {
        self.k_votes
            .iter()
            .find(|v| v.k == k)
            .map_or(0.0, |v| v.share)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn best_jaccard_matches_by_overlap_whatever_the_names() {
        let reference = [0, 0, 0, 1, 1, 1];
        let other = [2, 2, 2, 0, 0, 1];
        let j = best_jaccard(&reference, 2, &other);
        assert_eq!(j[0], Some(1.0));
        // {3,4,5} vs {3,4}: 2 / 3.
        assert!((j[1].unwrap() - 2.0 / 3.0).abs() < 1e-12);
        // A cluster with no rows in the run has no score.
        assert_eq!(best_jaccard(&[0, 0], 2, &[0, 0])[1], None);
    }

    #[test]
    fn bad_parameters_are_named() {
        let named = |p: StabilityParams| Error::rule(p.check());
        assert_eq!(named(Stability::params().runs(0)), "runs");
        assert_eq!(named(Stability::params().k_range(1, 5)), "k_min");
        assert_eq!(named(Stability::params().k_range(5, 4)), "k_max");
        assert_eq!(
            named(Stability::params().unstable_below(1.5)),
            "unstable_below"
        );
        assert_eq!(named(Stability::params().subsample(0.0)), "subsample");
    }
}
