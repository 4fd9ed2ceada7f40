//! The comparison's verdict: did B keep what A had? Each check is measured when its part ran
//! (recall and duplicates need the two audits, topics one space) and is left unmeasured
//! otherwise, as the audit's verdict does.

use serde::Serialize;

use super::{sides::recall_at, Comparison, TopicStatus};
use crate::audit::verdict::{check_limits, failed_checks};
use crate::audit::Check;
use crate::error::Result;

/// The limits the comparison is held to.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct CompareThresholds {
    /// Largest drop of cluster-retrieval recall@10 at `nprobe` from A to B. Default 0.05.
    pub max_recall_drop: f64,
    /// The nprobe the recall is read at. Default 3.
    pub nprobe: usize,
    /// Largest share of its documents a topic of A may lose in B (a gone topic loses all).
    /// Default 0.5.
    pub max_topic_loss: f64,
    /// Smallest mean share of A's neighbours B keeps. Default 0.5.
    pub min_neighbour_overlap: f64,
    /// Largest rise of the duplicate share from A to B. Default 0.05.
    pub max_duplicate_rise: f64,
}

impl Default for CompareThresholds {
    fn default() -> Self {
        CompareThresholds {
            max_recall_drop: 0.05,
            nprobe: 3,
            max_topic_loss: 0.5,
            min_neighbour_overlap: 0.5,
            max_duplicate_rise: 0.05,
        }
    }
}

impl CompareThresholds {
    /// Every share in [0, 1], `nprobe` at least 1.
    pub fn check(&self) -> Result<()> {
        check_limits(
            &[
                ("max_recall_drop", self.max_recall_drop),
                ("max_topic_loss", self.max_topic_loss),
                ("min_neighbour_overlap", self.min_neighbour_overlap),
                ("max_duplicate_rise", self.max_duplicate_rise),
            ],
            self.nprobe,
        )
    }
}

/// Pass or fail against [`CompareThresholds`].
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct CompareVerdict {
    /// Every measured check holds.
    pub pass: bool,
    /// Names of the failed checks.
    pub failed: Vec<String>,
    /// All checks.
    pub checks: Vec<Check>,
    /// The limits used.
    pub thresholds: CompareThresholds,
}

pub(super) fn verdict(c: &Comparison, t: &CompareThresholds) -> CompareVerdict {
    let check = Check::new;
    let sides = c.side_by_side.as_ref();
    let recall_drop = sides.and_then(|s| {
        recall_at(&s.a, t.nprobe)
            .zip(recall_at(&s.b, t.nprobe))
            .map(|(a, b)| a - b)
    });
    let duplicate_rise = sides.and_then(|s| {
        s.a.duplicate_share
            .zip(s.b.duplicate_share)
            .map(|(a, b)| b - a)
    });
    let topic_loss = c.topics.as_ref().map(|t| {
        t.topics
            .iter()
            .filter(|x| x.status != TopicStatus::New && x.size_a > 0)
            .map(|x| (x.size_a as f64 - x.size_b as f64).max(0.0) / x.size_a as f64)
            .fold(0.0, f64::max)
    });
    let checks = vec![
        check(
            "neighbour_overlap",
            Some(c.neighbours.mean_overlap),
            ">=",
            t.min_neighbour_overlap,
        ),
        check(
            &format!("recall_drop_at_nprobe_{}", t.nprobe),
            recall_drop,
            "<=",
            t.max_recall_drop,
        ),
        check("topic_loss", topic_loss, "<=", t.max_topic_loss),
        check("duplicate_rise", duplicate_rise, "<=", t.max_duplicate_rise),
    ];
    let failed = failed_checks(&checks);
    CompareVerdict {
        pass: failed.is_empty(),
        failed,
        checks,
        thresholds: t.clone(),
    }
}
