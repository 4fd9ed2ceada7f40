//! The sampling policy: the one place that decides which rows each audit stage runs on.
//!
//! Stages whose answer is a statistic of the corpus run on one seeded sample of rows, large
//! enough for it: the K sweep and its silhouettes, the map, the noise estimate (5-D UMAP and
//! HDBSCAN). Stages whose answer is per row stay exact over every row: the assignment of every
//! row to the chosen centroids, cluster summaries and labels, centroid cosines, exact and near
//! duplicates (the clustered mode above [`crate::dedup::CLUSTERED_ABOVE_ROWS`] rows, with its
//! recall measured), the retrieval index (its queries are a held-out sample, as always) and
//! the Parquet tables. `audit.json` states, per stage, the rows it ran on and the uncertainty
//! that follows (a standard error where the answer is estimated from the sample).

use serde::Serialize;

use super::memory::MemoryPlan;
use crate::rng::Rng;

/// Rows the statistic stages use by default: 50,000 (exact below).
pub const DEFAULT_SAMPLE: usize = 50_000;

/// How many rows the audit's statistic stages run on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Sampling {
    /// Up to [`DEFAULT_SAMPLE`] rows (every row of a smaller corpus).
    #[default]
    Auto,
    /// Up to this many rows.
    Rows(usize),
    /// Every row, in every stage.
    Exact,
}

impl Sampling {
    /// The policy `--exact` and `--sample ROWS` (Python's `exact=` and `sample=`) choose:
    /// every row when `exact`, else up to `rows`, else [`Sampling::Auto`].
    pub fn from_flags(exact: bool, rows: Option<usize>) -> Sampling {
        match (exact, rows) {
            (true, _) => Sampling::Exact,
            (false, Some(m)) => Sampling::Rows(m),
            (false, None) => Sampling::Auto,
        }
    }

    /// The most rows a statistic stage runs on (`None`: every row).
    pub fn limit(self) -> Option<usize> {
        match self {
            Sampling::Auto => Some(DEFAULT_SAMPLE),
            Sampling::Rows(m) => Some(m),
            Sampling::Exact => None,
        }
    }

    /// The policy within a memory budget's cap on sampled rows: `Auto` and `Rows` shrink to
    /// it, `Exact` (an explicit choice) stays.
    pub fn capped(self, cap: Option<usize>) -> Sampling {
        match (self, cap) {
            (Sampling::Auto, Some(c)) if c < DEFAULT_SAMPLE => Sampling::Rows(c),
            (Sampling::Rows(m), Some(c)) if c < m => Sampling::Rows(c),
            (s, _) => s,
        }
    }

    /// Checks the rule that does not depend on the data: a sample of at least 100 rows (fewer
    /// cannot carry a 10-cluster sweep, a map or a noise estimate).
    pub fn check(self) -> crate::Result<()> {
        match self {
            Sampling::Rows(m) if m < 100 => Err(crate::Error::param(
                "sample",
                m,
                "must be at least 100 rows (or use --exact)",
            )),
            _ => Ok(()),
        }
    }

    /// The rows of an `n`-row corpus the statistic stages use: `None` when that is every row,
    /// else a seeded sample, ascending.
    pub fn rows(self, n: usize, seed: u64) -> Option<Vec<usize>> {
        let m = self.limit()?;
        if m >= n {
            return None;
        }
        let mut rows = Rng::new(seed, 0x5a3).sample(n, m);
        rows.sort_unstable();
        Some(rows)
    }

    /// How `audit.json` names the policy.
    pub fn describe(self) -> String {
        match self {
            Sampling::Auto => format!("auto (statistic stages on up to {DEFAULT_SAMPLE} rows)"),
            Sampling::Rows(m) => format!("sample (statistic stages on up to {m} rows)"),
            Sampling::Exact => "exact (every stage on every row)".into(),
        }
    }
}

/// An estimate from a sample with its standard error.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, schemars::JsonSchema)]
pub struct Estimate {
    /// The value found.
    pub value: f64,
    /// Its standard error as an estimate of the whole corpus's value (0 when every row was
    /// used).
    pub standard_error: f64,
    /// For a share: its 95% Wilson score interval `[low, high]` (absent when every row was
    /// used, or for an estimate that is not a share). Unlike `value ± 2 standard_error` it
    /// stays honest at the edges: a recall of 3 out of 3 has standard error 0 but interval
    /// [0.44, 1].
    #[serde(skip_serializing_if = "Option::is_none")]
    pub interval: Option<[f64; 2]>,
}

impl Estimate {
    /// A share `p` counted on `m` rows drawn at random from `n`: the binomial standard error
    /// with the finite-population correction, and the Wilson interval over the `m` draws.
    pub fn share(p: f64, m: usize, n: usize) -> Estimate {
        if m == 0 || m >= n {
            return Estimate {
                value: p,
                standard_error: 0.0,
                interval: None,
            };
        }
        let standard_error = (p * (1.0 - p) / m as f64 * (n - m) as f64 / (n - 1) as f64).sqrt();
        Estimate {
            value: p,
            standard_error,
            interval: Some(wilson(p, m as f64)),
        }
    }

    /// A statistic that is not a share (a silhouette), with its standard error.
    pub fn mean(value: f64, standard_error: f64) -> Estimate {
        Estimate {
            value,
            standard_error,
            interval: None,
        }
    }
}

/// The 95% Wilson score interval of a share `p` observed over `m` trials.
fn wilson(p: f64, m: f64) -> [f64; 2] {
    const Z: f64 = 1.959_963_984_540_054;
    let z2 = Z * Z;
    let centre = (p + z2 / (2.0 * m)) / (1.0 + z2 / m);
    let half = Z / (1.0 + z2 / m) * (p * (1.0 - p) / m + z2 / (4.0 * m * m)).sqrt();
    [(centre - half).max(0.0), (centre + half).min(1.0)]
}

/// What one stage ran on.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct StageRows {
    /// The stage.
    pub stage: String,
    /// Rows it ran on.
    pub rows: usize,
    /// Whether that is every row of the corpus.
    pub every_row: bool,
    /// The stage's headline number, with its standard error when it was estimated.
    pub estimate: Option<Estimate>,
    /// What the estimate is, and what else follows from the sample.
    pub note: String,
}

/// The policy and what each stage ran on.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct SamplingSummary {
    /// The policy (`auto`, `sample`, `exact`) and its limit.
    pub policy: String,
    /// Rows of the corpus.
    pub rows: usize,
    /// Rows of the shared sample the statistic stages ran on (all rows when not sampled).
    pub sample_rows: usize,
    /// Seed of the sample.
    pub seed: u64,
    /// Stage by stage.
    pub stages: Vec<StageRows>,
    /// What the memory budget decided (sample cap, index copy, training rows).
    pub memory: MemoryPlan,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_policy_samples_only_above_its_limit() {
        assert_eq!(Sampling::Auto.rows(30_000, 1), None);
        assert_eq!(Sampling::Exact.rows(10_000_000, 1), None);
        let r = Sampling::Rows(500).rows(2_000, 7).unwrap();
        assert_eq!(r.len(), 500);
        assert!(r.windows(2).all(|w| w[0] < w[1]));
        assert_eq!(Some(r), Sampling::Rows(500).rows(2_000, 7), "seeded");
        assert_eq!(Error::rule(Sampling::Rows(99).check()), "sample");
        assert!(Sampling::Rows(100).check().is_ok());
        assert_eq!(Sampling::Auto.capped(Some(8_000)), Sampling::Rows(8_000));
        assert_eq!(Sampling::Auto.capped(Some(80_000)), Sampling::Auto);
        assert_eq!(Sampling::Rows(500).capped(Some(8_000)), Sampling::Rows(500));
        assert_eq!(Sampling::Exact.capped(Some(8_000)), Sampling::Exact);
    }

    #[test]
    fn a_share_estimate_has_the_binomial_error() {
        let e = Estimate::share(0.5, 100, 1_000_000);
        assert!((e.standard_error - 0.05).abs() < 1e-4);
        assert_eq!(Estimate::share(0.3, 50, 50).standard_error, 0.0);
        assert_eq!(Estimate::share(0.3, 50, 50).interval, None);
    }

    #[test]
    fn a_share_has_the_wilson_interval() {
        // 3 of 3 (the 10M duplicate check's recall sample): standard error 0, interval wide.
        let e = Estimate::share(1.0, 3, usize::MAX);
        assert_eq!(e.standard_error, 0.0);
        let [lo, hi] = e.interval.unwrap();
        assert!((lo - 0.4385).abs() < 1e-3 && hi == 1.0, "{lo} {hi}");
        // 50 of 100: 0.404 to 0.596 (statsmodels proportion_confint(50, 100, method="wilson")).
        let [lo, hi] = Estimate::share(0.5, 100, 1_000_000).interval.unwrap();
        assert!(
            (lo - 0.4038).abs() < 1e-3 && (hi - 0.5962).abs() < 1e-3,
            "{lo} {hi}"
        );
    }

    use crate::error::Error;
}
