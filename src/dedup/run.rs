//! The whole duplicate search as one step: [`Dedup::params`] -> [`DedupParams::check`] ->
//! [`DedupParams::run`]: near pairs (exact or clustered, by size), the clustered mode's
//! recall measured on a sample, exact-text groups, both joined into removal groups, and the
//! rows that stay.

use std::time::Instant;

use serde::Serialize;

use super::{
    check_threshold, exact_duplicates, groups, keepers, kept_rows, near_duplicates_clustered,
    pair_recall_sample, removal_groups, scan, ClusteredParams, Keep, Pair, PairRecall, TextNorm,
};
use crate::embeddings::Embeddings;
use crate::error::{Error, Result};

/// Rows above which [`DedupMode::Auto`] compares within and between neighbouring cells
/// instead of every pair.
pub const CLUSTERED_ABOVE_ROWS: usize = 100_000;

/// How near duplicates are found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "lowercase")]
#[cfg_attr(feature = "cli", derive(clap::ValueEnum))]
pub enum DedupMode {
    /// Exact up to [`CLUSTERED_ABOVE_ROWS`] rows, clustered above.
    #[default]
    Auto,
    /// Every pair: the kernel over the upper triangle.
    Exact,
    /// Only pairs within and between neighbouring K-Means cells (SemDeDup-style), with the
    /// recall against exact measured on a sample.
    Clustered,
}

/// Entry point: `Dedup::params(threshold)`.
#[derive(Debug, Clone, Copy)]
pub struct Dedup;

impl Dedup {
    /// Near duplicates at cosine `>= threshold` (the reference workflow's is 0.95).
    pub fn params(threshold: f64) -> DedupParams {
        DedupParams {
            threshold,
            mode: DedupMode::Auto,
            nlist: None,
            nprobe: 3,
            recall_sample: 2000,
            keep: Keep::First,
            norm: TextNorm::default(),
            seed: 42,
            train_per_list: crate::index::TRAIN_PER_LIST,
        }
    }
}

/// Parameters of a duplicate search; build with [`Dedup::params`].
#[derive(Debug, Clone, PartialEq)]
pub struct DedupParams {
    threshold: f64,
    mode: DedupMode,
    nlist: Option<usize>,
    nprobe: usize,
    recall_sample: usize,
    keep: Keep,
    norm: TextNorm,
    seed: u64,
    train_per_list: usize,
}

impl DedupParams {
    /// Exact, clustered, or by size (default [`DedupMode::Auto`]).
    pub fn mode(mut self, mode: DedupMode) -> Self {
        self.mode = mode;
        self
    }
    /// Cells of the clustered mode (default `round(sqrt(n))`).
    pub fn nlist(mut self, nlist: Option<usize>) -> Self {
        self.nlist = nlist;
        self
    }
    /// Cells each row is compared with in the clustered mode, its own among them (default 3).
    pub fn nprobe(mut self, nprobe: usize) -> Self {
        self.nprobe = nprobe;
        self
    }
    /// Rows sampled per cell to train the clustered mode's cells (default 256, as FAISS; an
    /// audit under a memory budget may take fewer, down to 39).
    pub fn train_per_list(mut self, rows: usize) -> Self {
        self.train_per_list = rows;
        self
    }
    /// Rows sampled to measure the clustered mode's recall against exact (default 2,000; 0
    /// skips it).
    pub fn recall_sample(mut self, rows: usize) -> Self {
        self.recall_sample = rows;
        self
    }
    /// Which row of a group stays (default [`Keep::First`]).
    pub fn keep(mut self, keep: Keep) -> Self {
        self.keep = keep;
        self
    }
    /// How texts are normalised before exact comparison (default [`TextNorm::default`]).
    pub fn text_norm(mut self, norm: TextNorm) -> Self {
        self.norm = norm;
        self
    }
    /// Seed of the clustered mode's cells and the recall sample (default 42).
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    /// Checks every rule before any work: threshold in (0, 1], `nprobe` and `nlist` at least 1.
    pub fn check(&self) -> Result<&Self> {
        check_threshold(self.threshold)?;
        if self.nprobe == 0 {
            return Err(Error::param("nprobe", 0, "must be at least 1"));
        }
        if self.nlist == Some(0) {
            return Err(Error::param("nlist", 0, "must be at least 1"));
        }
        Ok(self)
    }

    /// Whether `rows` rows are searched in the clustered mode.
    pub fn clustered_for(&self, rows: usize) -> bool {
        match self.mode {
            DedupMode::Exact => false,
            DedupMode::Clustered => true,
            DedupMode::Auto => rows > CLUSTERED_ABOVE_ROWS,
        }
    }

    /// Finds the duplicates of `data` (unit rows); `texts` (one per row) add the exact-text
    /// groups and serve [`Keep::Longest`].
    pub fn run(&self, data: &Embeddings, texts: Option<&[String]>) -> Result<Deduplication> {
        self.check()?;
        let n = data.rows();
        if let Some(t) = texts {
            if t.len() != n {
                return Err(Error::param(
                    "texts",
                    t.len(),
                    format!("must be one per row ({n} rows)"),
                ));
            }
        }
        let clustered = self.clustered_for(n);
        let started = Instant::now();
        let (pairs, nearest, nlist) = if clustered {
            let params = ClusteredParams {
                nlist: self.nlist,
                nprobe: self.nprobe,
                seed: self.seed,
                train_per_list: self.train_per_list,
            };
            let (pairs, cells) = near_duplicates_clustered(data, self.threshold, &params)?;
            (pairs, None, Some(cells))
        } else {
            let s = scan(data, self.threshold)?;
            (s.pairs, Some(s.nearest), None)
        };
        let seconds = started.elapsed().as_secs_f64();
        let started = Instant::now();
        let recall = (clustered && self.recall_sample > 0)
            .then(|| {
                pair_recall_sample(data, &pairs, self.threshold, self.recall_sample, self.seed)
            })
            .transpose()?;
        let recall_seconds = recall.map(|_| started.elapsed().as_secs_f64());
        let near_groups = groups(n, pairs.iter().map(|p| (p.row_a, p.row_b)));
        let exact_groups = texts.map(|t| exact_duplicates(t, &self.norm));
        let removal_groups = removal_groups(
            n,
            pairs.iter().map(|p| (p.row_a, p.row_b)),
            exact_groups.as_deref(),
        );
        let keepers = keepers(&removal_groups, self.keep, Some(data), texts)?;
        let kept = kept_rows(n, &removal_groups, &keepers);
        Ok(Deduplication {
            threshold: self.threshold,
            keep: self.keep,
            rows: n,
            nlist,
            nprobe: self.nprobe,
            pairs,
            nearest,
            recall,
            near_groups,
            exact_groups,
            removal_groups,
            keepers,
            kept,
            seconds,
            recall_seconds,
        })
    }
}

/// What a duplicate search found.
#[derive(Debug, Clone, PartialEq)]
pub struct Deduplication {
    /// The cosine threshold.
    pub threshold: f64,
    /// Which row of a group stayed.
    pub keep: Keep,
    /// Rows searched.
    pub rows: usize,
    /// Cells of the clustered mode (`None`: every pair was compared).
    pub nlist: Option<usize>,
    /// Cells each row was compared with in the clustered mode.
    pub nprobe: usize,
    /// Near-duplicate pairs, sorted by (row_a, row_b).
    pub pairs: Vec<Pair>,
    /// Each row's nearest-neighbour cosine (exact mode only: the same pass finds it).
    pub nearest: Option<Vec<f32>>,
    /// The clustered mode's recall against exact on a sample.
    pub recall: Option<PairRecall>,
    /// Groups of near-duplicate pairs (union-find).
    pub near_groups: Vec<Vec<usize>>,
    /// Groups of identical normalised texts (`None` without texts).
    pub exact_groups: Option<Vec<Vec<usize>>>,
    /// Near and exact groups joined: what removal works on.
    pub removal_groups: Vec<Vec<usize>>,
    /// The row kept of each removal group.
    pub keepers: Vec<usize>,
    /// The rows that stay, ascending.
    pub kept: Vec<usize>,
    /// Seconds of the pair search.
    pub seconds: f64,
    /// Seconds of the recall measurement.
    pub recall_seconds: Option<f64>,
}

impl Deduplication {
    /// Whether pairs were searched in the clustered mode.
    pub fn clustered(&self) -> bool {
        self.nlist.is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn data() -> Embeddings {
        Embeddings::new(
            vec![1.0, 0.0, 1.0, 0.001, 0.0, 1.0, 0.001, 1.0, -1.0, 0.0],
            2,
        )
        .unwrap()
    }

    #[test]
    fn every_rule_is_checked_before_any_work() {
        for (p, name) in [
            (Dedup::params(0.0), "threshold"),
            (Dedup::params(1.5), "threshold"),
            (Dedup::params(0.9).nprobe(0), "nprobe"),
            (Dedup::params(0.9).nlist(Some(0)), "nlist"),
        ] {
            match p.check() {
                Err(Error::InvalidParameter { name: got, .. }) => assert_eq!(got, name),
                other => panic!("{name}: {other:?}"),
            }
        }
    }

    #[test]
    fn near_and_exact_groups_join_for_removal() {
        let texts: Vec<String> = ["a", "a", "b", "c", "A"].map(String::from).to_vec();
        let d = Dedup::params(0.95).run(&data(), Some(&texts)).unwrap();
        assert!(!d.clustered());
        assert_eq!(d.near_groups, vec![vec![0, 1], vec![2, 3]]);
        // "a", "a" and "A" are one exact group (lowercased); row 4 joins rows 0 and 1.
        assert_eq!(d.exact_groups, Some(vec![vec![0, 1, 4]]));
        assert_eq!(d.removal_groups, vec![vec![0, 1, 4], vec![2, 3]]);
        assert_eq!(d.kept, vec![0, 2]);
        let longest = Dedup::params(0.95)
            .keep(Keep::Longest)
            .run(&data(), None)
            .unwrap_err();
        assert!(matches!(
            longest,
            Error::InvalidParameter { name: "keep", .. }
        ));
    }

    #[test]
    fn clustered_mode_with_every_cell_probed_equals_exact() {
        let exact = Dedup::params(0.95).run(&data(), None).unwrap();
        let clustered = Dedup::params(0.95)
            .mode(DedupMode::Clustered)
            .nlist(Some(2))
            .nprobe(2)
            .run(&data(), None)
            .unwrap();
        assert_eq!(
            (clustered.nlist, clustered.pairs.clone()),
            (Some(2), exact.pairs)
        );
        assert_eq!(clustered.recall.map(|r| r.recall), Some(Some(1.0)));
    }
}
