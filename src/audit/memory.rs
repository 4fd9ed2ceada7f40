//! The memory budget: how much an audit may hold, and the sizes it picks from that instead of
//! failing. One place decides, from the corpus' shape and the budget: how many rows the
//! statistic stages may sample, whether the retrieval index keeps its own copy of the rows or
//! files ids and reads the corpus, and how many rows train the clustered duplicate search's
//! cells. The corpus itself must fit: a file whose vectors alone exceed the budget is refused
//! before it is read ([`MemoryPlan::check_corpus`]).

use serde::Serialize;

use crate::error::{Error, Result};
use crate::index::TRAIN_PER_LIST;

/// How much memory an audit may use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum MemoryBudget {
    /// Nine tenths of the memory available when the audit starts (Linux `MemAvailable`); no
    /// limit where that is unknown.
    #[default]
    Auto,
    /// At most this many bytes.
    Bytes(u64),
    /// No limit: the fixed defaults (a 50,000-row sample, an index copy up to 1.5 GB, 256
    /// training rows per duplicate-search cell).
    Unlimited,
}

impl MemoryBudget {
    /// The budget in bytes (`None`: no limit).
    pub fn bytes(self) -> Option<u64> {
        match self {
            MemoryBudget::Auto => available_bytes().map(|b| b / 10 * 9),
            MemoryBudget::Bytes(b) => Some(b),
            MemoryBudget::Unlimited => None,
        }
    }

    /// The budget as `--max-memory` (and Python's `max_memory=`) names it: `auto`,
    /// `unlimited` (or `none`), or a size ([`parse`](Self::parse)); case and surrounding space
    /// do not matter.
    pub fn from_flag(text: &str) -> Result<MemoryBudget> {
        match text.trim().to_ascii_lowercase().as_str() {
            "auto" => Ok(MemoryBudget::Auto),
            "unlimited" | "none" => Ok(MemoryBudget::Unlimited),
            size => MemoryBudget::parse(size),
        }
    }

    /// Parses a size as the command line takes it: bytes, or a number with `K`, `M`, `G` or
    /// `T` (powers of 1024; `KiB`, `MB`, `GiB`… are read the same), e.g. `12G`, `512M`, `1.5G`.
    pub fn parse(text: &str) -> Result<MemoryBudget> {
        let t = text.trim();
        let bad = || {
            Error::param(
                "max-memory",
                text,
                "expected a size such as 12G, 512M or 4096000000",
            )
        };
        let digits = t
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(t.len());
        let (number, unit) = t.split_at(digits);
        let value: f64 = number.parse().map_err(|_| bad())?;
        let unit = unit.trim().to_ascii_uppercase();
        let unit = unit.trim_end_matches('B').trim_end_matches('I');
        let scale: f64 = match unit {
            "" => 1.0,
            "K" => 1024.0,
            "M" => 1024.0 * 1024.0,
            "G" => 1024.0 * 1024.0 * 1024.0,
            "T" => 1024.0 * 1024.0 * 1024.0 * 1024.0,
            _ => return Err(bad()),
        };
        let bytes = value * scale;
        if !bytes.is_finite() || bytes < (64 << 20) as f64 {
            return Err(Error::param(
                "max-memory",
                text,
                "must be at least 64M (the statistic stages alone need more)",
            ));
        }
        Ok(MemoryBudget::Bytes(bytes as u64))
    }
}

/// A size in GiB, or MiB below one GiB.
fn size(bytes: u64) -> String {
    if bytes >= 1 << 30 {
        format!("{:.1} GiB", bytes as f64 / (1u64 << 30) as f64)
    } else {
        format!("{:.0} MiB", bytes as f64 / (1u64 << 20) as f64)
    }
}

/// Bytes the machine has available now (Linux `MemAvailable`), if known.
fn available_bytes() -> Option<u64> {
    let text = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = text.lines().find(|l| l.starts_with("MemAvailable:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

/// Bytes per sampled row the statistic stages hold at their peak (the K sweep, the 2-D map, the
/// 5-D UMAP and HDBSCAN of the noise section), measured at 50,000 rows: 9.6 KB.
pub const SAMPLE_ROW_BYTES: u64 = 10 << 10;

/// Bytes per corpus row of the per-row stages' working lists (labels, cosines, probed cells,
/// positions) beside the vectors, measured at 10M rows.
pub const WORKING_ROW_BYTES: u64 = 160;

/// Fewest rows the statistic stages are cut to when memory is short.
pub const MIN_SAMPLE: usize = 2_000;

/// What the budget decided for one corpus.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct MemoryPlan {
    /// Where the budget came from: `auto` (the machine's available memory), `given`
    /// (`--max-memory SIZE`) or `unlimited`.
    pub budget: String,
    /// The budget in bytes (None: no limit).
    pub budget_bytes: Option<u64>,
    /// What the corpus holds: its vectors, ids and the per-row working lists.
    pub corpus_bytes: u64,
    /// Most rows the statistic stages may sample within the budget (None: no cap from memory).
    pub sample_cap: Option<usize>,
    /// Whether the retrieval index may keep its own copy of the rows (else it files ids).
    pub index_copy: bool,
    /// Training rows per cell of the clustered duplicate search and the retrieval index.
    pub train_per_list: usize,
    /// The plan in words.
    pub note: String,
}

impl MemoryPlan {
    /// The plan for `rows x dim` vectors held in half (`half`) or single precision under
    /// `budget`.
    pub fn for_budget(budget: MemoryBudget, rows: usize, dim: usize, half: bool) -> MemoryPlan {
        let mut plan = MemoryPlan::new(budget.bytes(), rows, dim, half);
        plan.budget = match budget {
            MemoryBudget::Auto => "auto",
            MemoryBudget::Bytes(_) => "given",
            MemoryBudget::Unlimited => "unlimited",
        }
        .into();
        plan
    }

    /// Leaves out what depends on the machine's free memory at the start (an `auto` budget's
    /// bytes and the sample cap they gave), so that two runs serialise byte-identically.
    pub fn without_machine_figures(&mut self) {
        if self.budget == "auto" {
            self.budget_bytes = None;
            self.sample_cap = None;
            self.note = format!(
                "memory budget auto (the machine's figures left out); the retrieval index {}; {} training rows per cell",
                if self.index_copy {
                    "keeps a copy of the rows"
                } else {
                    "files row ids and reads the corpus"
                },
                self.train_per_list
            );
        }
    }

    /// The plan for `rows x dim` vectors held in half (`half`) or single precision under
    /// `budget` bytes (`None`: no limit).
    pub fn new(budget: Option<u64>, rows: usize, dim: usize, half: bool) -> MemoryPlan {
        let width = if half { 2 } else { 4 };
        let corpus_bytes = rows as u64 * (dim as u64 * width + 40 + WORKING_ROW_BYTES);
        let copy_bytes = rows as u64 * dim as u64 * 4;
        let fixed_copy = crate::retrieve::index_copies(rows, dim, half);
        let nlist = ((rows as f64).sqrt().round() as u64).max(1);
        let Some(budget) = budget else {
            return MemoryPlan {
                budget: "unlimited".into(),
                budget_bytes: None,
                corpus_bytes,
                sample_cap: None,
                index_copy: fixed_copy,
                train_per_list: TRAIN_PER_LIST,
                note: "no memory budget: fixed sizes".into(),
            };
        };
        let free = budget.saturating_sub(corpus_bytes);
        // A quarter of what is left may train the cells; the rest holds the sample's stages.
        let train_per_list =
            (free / 4 / (nlist * dim as u64 * 4)).clamp(39, TRAIN_PER_LIST as u64) as usize;
        let train_bytes = train_per_list as u64 * nlist * dim as u64 * 4;
        let index_copy = fixed_copy && copy_bytes <= free.saturating_sub(train_bytes) / 2;
        let left = free
            .saturating_sub(train_bytes)
            .saturating_sub(if index_copy { copy_bytes } else { 0 });
        let sample_cap = ((left / SAMPLE_ROW_BYTES) as usize).max(MIN_SAMPLE);
        let note = format!(
            "memory budget {}: the corpus holds {}; statistic stages on at most {} rows; \
             the retrieval index {}; {} training rows per cell",
            size(budget),
            size(corpus_bytes),
            sample_cap,
            if index_copy {
                "keeps a copy of the rows"
            } else {
                "files row ids and reads the corpus"
            },
            train_per_list
        );
        MemoryPlan {
            budget: "given".into(),
            budget_bytes: Some(budget),
            corpus_bytes,
            sample_cap: Some(sample_cap),
            index_copy,
            train_per_list,
            note,
        }
    }

    /// Refuses, before anything is read, a corpus whose vectors alone (`rows x dim`, half or
    /// single precision) would not fit in `budget` bytes; `what` names the input.
    pub fn check_corpus(
        budget: Option<u64>,
        what: &str,
        rows: usize,
        dim: usize,
        half: bool,
    ) -> Result<()> {
        let Some(budget) = budget else { return Ok(()) };
        let need = MemoryPlan::new(None, rows, dim, half).corpus_bytes
            + SAMPLE_ROW_BYTES * MIN_SAMPLE as u64;
        if need > budget {
            let gib = |b: u64| b as f64 / (1u64 << 30) as f64;
            return Err(Error::Unsupported(format!(
                "{what}: {rows} x {dim} {} vectors need about {:.1} GiB, more than the memory \
                 budget of {:.1} GiB (--max-memory, or nine tenths of the available memory){}",
                if half { "float16" } else { "float32" },
                gib(need),
                gib(budget),
                if half {
                    ""
                } else {
                    "; stored as float16 they would need half"
                }
            )));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_parse_in_powers_of_1024() {
        assert_eq!(
            MemoryBudget::parse("12G").unwrap(),
            MemoryBudget::Bytes(12 << 30)
        );
        assert_eq!(
            MemoryBudget::parse("512MiB").unwrap(),
            MemoryBudget::Bytes(512 << 20)
        );
        assert_eq!(
            MemoryBudget::parse("1.5gb").unwrap(),
            MemoryBudget::Bytes(3 << 29)
        );
        for bad in ["", "lots", "12X", "1M", "-3G"] {
            assert!(MemoryBudget::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn the_flag_names_auto_unlimited_or_a_size() {
        assert_eq!(
            MemoryBudget::from_flag(" Auto ").unwrap(),
            MemoryBudget::Auto
        );
        assert_eq!(
            MemoryBudget::from_flag("none").unwrap(),
            MemoryBudget::Unlimited
        );
        assert_eq!(
            MemoryBudget::from_flag("UNLIMITED").unwrap(),
            MemoryBudget::Unlimited
        );
        assert_eq!(
            MemoryBudget::from_flag("512M").unwrap(),
            MemoryBudget::Bytes(512 << 20)
        );
        assert!(MemoryBudget::from_flag("lots").is_err());
    }

    #[test]
    fn a_tight_budget_cuts_the_sample_the_copy_and_the_training_rows() {
        let roomy = MemoryPlan::new(Some(64 << 30), 1_000_000, 384, false);
        assert!(roomy.index_copy && roomy.train_per_list == 256);
        assert!(roomy.sample_cap.unwrap() > 50_000);
        let tight = MemoryPlan::new(Some(2_200 << 20), 1_000_000, 384, false);
        assert!(!tight.index_copy);
        assert!(tight.train_per_list < 256 && tight.train_per_list >= 39);
        assert!(tight.sample_cap.unwrap() < 50_000, "{tight:?}");
        // Half floats leave room: ten million rows in 12 GiB keep the default sample.
        let ten_m = MemoryPlan::new(Some(12 << 30), 10_000_000, 384, true);
        assert!(ten_m.sample_cap.unwrap() >= 50_000, "{ten_m:?}");
        assert!(!ten_m.index_copy);
        assert!(MemoryPlan::new(None, 10, 4, false).sample_cap.is_none());
    }

    #[test]
    fn a_corpus_larger_than_the_budget_is_refused_before_reading() {
        let err = MemoryPlan::check_corpus(Some(8 << 30), "x.npy", 10_000_000, 384, false)
            .unwrap_err()
            .to_string();
        assert!(err.contains("x.npy") && err.contains("float16"), "{err}");
        assert!(MemoryPlan::check_corpus(Some(12 << 30), "x.npy", 10_000_000, 384, true).is_ok());
        assert!(MemoryPlan::check_corpus(None, "x.npy", usize::MAX / 1024, 384, false).is_ok());
    }
}
