//! How many clusters: fit K-Means for each k in a range and score every fit (silhouette,
//! inertia, Calinski-Harabasz, Davies-Bouldin), as the reference workflow's `find_optimal_k`.

use crate::progress::{Progress, Silent};
use serde::Serialize;

use super::kmeans::{KMeans, KMeansModel};
use super::metrics::{calinski_harabasz, davies_bouldin, silhouette_spread};
use crate::embeddings::Embeddings;
use crate::error::{Error, Result};
use crate::rng::Rng;

/// Silhouette below this for every k means the corpus has weak cluster structure.
pub const WEAK_SILHOUETTE: f64 = 0.1;

/// Parameters of the K sweep.
#[derive(Debug, Clone, PartialEq)]
pub struct KSweepParams {
    pub(crate) k_min: usize,
    pub(crate) k_max: usize,
    pub(crate) n_init: usize,
    pub(crate) seed: u64,
    silhouette_sample: usize,
    population: Option<usize>,
}

impl KSweep {
    /// The defaults: k = 2..=10 (the reference workflow's `max_k`), 10 initialisations, seed 42,
    /// silhouettes on up to 10,000 rows.
    pub fn params() -> KSweepParams {
        KSweepParams::default()
    }
}

impl Default for KSweepParams {
    fn default() -> Self {
        KSweepParams {
            k_min: 2,
            k_max: 10,
            n_init: 10,
            seed: 42,
            silhouette_sample: 10_000,
            population: None,
        }
    }
}

/// Scores of one k.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct KScore {
    /// Number of clusters.
    pub k: usize,
    /// K-Means inertia (sum of squared distances).
    pub inertia: f64,
    /// Mean silhouette coefficient (Euclidean), in [-1, 1]; higher is better.
    pub silhouette: f64,
    /// Standard error of `silhouette` as an estimate of the mean over every row swept (or the
    /// [`population`](KSweepParams::population) they were drawn from); 0 when every one was
    /// scored.
    pub silhouette_se: f64,
    /// Calinski-Harabasz index; higher is better.
    pub calinski_harabasz: f64,
    /// Davies-Bouldin index; lower is better.
    pub davies_bouldin: f64,
}

/// The sweep's result: scores per k, the k with the best silhouette, and the fitted models.
#[derive(Debug, Clone)]
pub struct KSweep {
    /// Scores, by increasing k.
    pub per_k: Vec<KScore>,
    /// The k with the highest silhouette (the lower k on a tie).
    pub chosen_k: usize,
    /// Rows the silhouette was computed on (all, or a seeded sample).
    pub silhouette_rows: usize,
    /// The elbow of the inertia curve (Kneedle: the k farthest below the chord from the first
    /// to the last point, on normalised axes).
    pub elbow_k: usize,
    /// The K-Means fit of each k, same order as `per_k`.
    pub models: Vec<KMeansModel>,
}

impl KSweep {
    /// The fitted model of the chosen k.
    pub fn chosen_model(&self) -> &KMeansModel {
        let i = self
            .per_k
            .iter()
            .position(|s| s.k == self.chosen_k)
            .expect("chosen k was swept");
        &self.models[i]
    }

    /// Whether every silhouette is below 0.1 ([`WEAK_SILHOUETTE`]): the data has little cluster
    /// structure and the pick is weak evidence (typical of raw sentence embeddings).
    pub fn weak_structure(&self) -> bool {
        self.per_k.iter().all(|s| s.silhouette < WEAK_SILHOUETTE)
    }

    /// Whether the chosen k is at an end of the swept range.
    pub fn chosen_at_edge(&self) -> bool {
        let first = self.per_k.first().map(|s| s.k);
        let last = self.per_k.last().map(|s| s.k);
        Some(self.chosen_k) == first || Some(self.chosen_k) == last
    }
}

impl KSweepParams {
    /// Smallest k tried. Default 2.
    pub fn k_min(mut self, k: usize) -> Self {
        self.k_min = k;
        self
    }
    /// Largest k tried. Default 10 (the reference workflow's `max_k`).
    pub fn k_max(mut self, k: usize) -> Self {
        self.k_max = k;
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
    /// Above this many rows the silhouette is computed on a seeded random sample of this size
    /// (scikit-learn `silhouette_score(sample_size=...)`). Default 10,000.
    pub fn silhouette_sample(mut self, rows: usize) -> Self {
        self.silhouette_sample = rows;
        self
    }

    /// The rows swept are a random sample of this many (the audit's sampling policy): the
    /// silhouettes' standard errors are then of the whole population's value. Default: the
    /// rows swept are the population.
    pub fn population(mut self, rows: usize) -> Self {
        self.population = Some(rows);
        self
    }

    /// Validates the parameters that do not depend on the data.
    pub fn check(&self) -> Result<()> {
        if self.k_min < 2 {
            return Err(Error::param(
                "k_min",
                self.k_min,
                "must be at least 2 (silhouette needs two clusters)",
            ));
        }
        if self.k_max < self.k_min {
            return Err(Error::param(
                "k_max",
                self.k_max,
                format!("must be >= k_min ({})", self.k_min),
            ));
        }
        if self.silhouette_sample < 2 {
            return Err(Error::param(
                "silhouette_sample",
                self.silhouette_sample,
                "must be at least 2",
            ));
        }
        KMeans::params(self.k_min).n_init(self.n_init).check()
    }

    /// The largest k swept on `rows` rows: `k_max`, lowered to `rows - 1` on small corpora
    /// (silhouette needs `k < n`).
    pub fn k_max_for(&self, rows: usize) -> usize {
        self.k_max.min(rows.saturating_sub(1))
    }

    /// How many k are swept on `rows` rows (what a progress bar counts).
    pub fn k_count(&self, rows: usize) -> usize {
        (self.k_max_for(rows) + 1).saturating_sub(self.k_min)
    }

    /// Runs the sweep. `k_max` is lowered to `n - 1` on small corpora (silhouette needs
    /// `k < n`).
    pub fn fit(&self, data: &Embeddings) -> Result<KSweep> {
        self.fit_with_progress(data, &Silent)
    }

    /// [`fit`](Self::fit), reporting each k done to `progress` (stage `k sweep`).
    pub fn fit_with_progress(&self, data: &Embeddings, progress: &dyn Progress) -> Result<KSweep> {
        self.check()?;
        let n = data.rows();
        if n < 3 || self.k_min > n - 1 {
            return Err(Error::param(
                "k_min",
                self.k_min,
                format!("needs at least k_min + 1 rows, the corpus has {n}"),
            ));
        }
        let k_max = self.k_max_for(n);
        let mut models = Vec::new();
        progress.start("k sweep", self.k_count(n) as u64);
        for k in self.k_min..=k_max {
            models.push(
                KMeans::params(k)
                    .n_init(self.n_init)
                    .seed(self.seed)
                    .fit(data)?,
            );
            progress.advance(1);
        }
        progress.finish();
        // Silhouette on all rows, or on one seeded sample shared by every k.
        let (sample_data, sample_rows): (std::borrow::Cow<'_, Embeddings>, Option<Vec<usize>>) =
            if n > self.silhouette_sample {
                let mut rows = Rng::new(self.seed, 0x5111).sample(n, self.silhouette_sample);
                rows.sort_unstable();
                (std::borrow::Cow::Owned(data.select(&rows)), Some(rows))
            } else {
                (std::borrow::Cow::Borrowed(data), None)
            };
        let labelings: Vec<Vec<usize>> = models
            .iter()
            .map(|m| match &sample_rows {
                Some(rows) => compact(rows.iter().map(|&r| m.labels()[r]).collect()),
                None => m.labels().to_vec(),
            })
            .collect();
        let refs: Vec<&[usize]> = labelings.iter().map(Vec::as_slice).collect();
        let sil = silhouette_spread(&sample_data, &refs);
        let per_k: Vec<KScore> = models
            .iter()
            .zip(sil)
            .map(|(m, s)| KScore {
                k: m.n_clusters(),
                inertia: m.inertia(),
                silhouette: s.mean,
                silhouette_se: s.standard_error(self.population.unwrap_or(n).max(n)),
                calinski_harabasz: calinski_harabasz(data, m.labels()),
                davies_bouldin: davies_bouldin(data, m.labels()),
            })
            .collect();
        let chosen_k = per_k
            .iter()
            .fold(None::<&KScore>, |best, s| match best {
                Some(b) if b.silhouette >= s.silhouette => Some(b),
                _ => Some(s),
            })
            .map(|s| s.k)
            .expect("at least one k");
        let elbow_k = kneedle(&per_k);
        Ok(KSweep {
            per_k,
            chosen_k,
            elbow_k,
            silhouette_rows: sample_data.rows(),
            models,
        })
    }
}

/// Kneedle on a decreasing inertia curve: normalise k and inertia to [0, 1] and take the k
/// whose point lies farthest below the straight line from the first point to the last.
pub fn kneedle(per_k: &[KScore]) -> usize {
    let (first, last) = match (per_k.first(), per_k.last()) {
        (Some(f), Some(l)) if per_k.len() > 2 => (f, l),
        (Some(f), _) => return f.k,
        _ => return 0,
    };
    let (lo, hi) = per_k
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), s| {
            (lo.min(s.inertia), hi.max(s.inertia))
        });
    let span = (hi - lo).max(1e-12);
    let k_span = (last.k - first.k) as f64;
    per_k
        .iter()
        .map(|s| {
            let x = (s.k - first.k) as f64 / k_span;
            let y = (s.inertia - lo) / span;
            (s.k, (1.0 - x) - y)
        })
        .fold((first.k, f64::NEG_INFINITY), |best, (k, gap)| {
            if gap > best.1 {
                (k, gap)
            } else {
                best
            }
        })
        .0
}

/// Renumbers labels to `0..k'` (a sample may miss whole clusters).
pub(crate) fn compact(mut labels: Vec<usize>) -> Vec<usize> {
    let mut map = std::collections::HashMap::new();
    let mut sorted: Vec<usize> = labels.clone();
    sorted.sort_unstable();
    sorted.dedup();
    for (i, l) in sorted.into_iter().enumerate() {
        map.insert(l, i);
    }
    labels.iter_mut().for_each(|l| *l = map[l]);
    labels
}

#[cfg(test)]
mod tests {
    use super::*;

    fn score(k: usize, inertia: f64) -> KScore {
        KScore {
            k,
            inertia,
            silhouette: 0.0,
            silhouette_se: 0.0,
            calinski_harabasz: 0.0,
            davies_bouldin: 0.0,
        }
    }

    #[test]
    fn kneedle_finds_the_bend() {
        let curve: Vec<KScore> = [
            (2, 100.0),
            (3, 40.0),
            (4, 20.0),
            (5, 15.0),
            (6, 12.0),
            (7, 10.0),
        ]
        .iter()
        .map(|&(k, i)| score(k, i))
        .collect();
        // Normalised, (1 - x) - y is 0, .467, .489, .344, .178, 0: the knee is k = 4 (the same
        // rule as the peer harness's kneedle()).
        assert_eq!(kneedle(&curve), 4);
        let straight: Vec<KScore> = (2..8).map(|k| score(k, 100.0 - 10.0 * k as f64)).collect();
        assert!((2..8).contains(&kneedle(&straight)));
    }

    #[test]
    fn sweep_parameters_are_checked() {
        let rule = |p: KSweepParams| crate::error::Error::rule(p.check());
        assert_eq!(rule(KSweep::params().k_min(1)), "k_min");
        assert_eq!(rule(KSweep::params().k_min(5).k_max(4)), "k_max");
        assert_eq!(
            rule(KSweep::params().silhouette_sample(1)),
            "silhouette_sample"
        );
        assert_eq!(rule(KSweep::params().n_init(0)), "n_init");
        assert!(KSweepParams::default().check().is_ok());
    }
}
