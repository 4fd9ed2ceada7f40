//! How a stability report shows in a notebook (see [`crate::display`]).

use polars::prelude::DataFrame;

use super::StabilityReport;
use crate::display::{block, evcxr_display, facts, table, Rich};
use crate::error::Result;
use crate::io::frame::{bool_col, f64_col, frame, u32_col};

impl StabilityReport {
    /// One row per cluster: cluster, size, stability, seed_jaccard, bootstrap_jaccard,
    /// dissolved, unstable.
    pub fn to_frame(&self) -> Result<DataFrame> {
        let c = &self.clusters;
        frame(
            c.len(),
            vec![
                u32_col("cluster", c.iter().map(|s| s.cluster)),
                u32_col("size", c.iter().map(|s| s.size)),
                f64_col("stability", c.iter().map(|s| s.stability)),
                f64_col("seed_jaccard", c.iter().map(|s| s.seed_jaccard)),
                f64_col("bootstrap_jaccard", c.iter().map(|s| s.bootstrap_jaccard)),
                u32_col("dissolved", c.iter().map(|s| s.dissolved)),
                bool_col("unstable", c.iter().map(|s| s.unstable)),
            ],
        )
    }
}

impl Rich for StabilityReport {
    /// The headline figures, the vote on K, each cluster's stability (least stable first) and
    /// HDBSCAN's spread across subsamples.
    fn to_html(&self) -> String {
        let mut items = vec![
            ("K", self.k.to_string()),
            (
                "ARI between seeds",
                format!(
                    "mean {:.3}, least {:.3}",
                    self.mean_seed_ari, self.min_seed_ari
                ),
            ),
            (
                "ARI on resamples",
                format!(
                    "mean {:.3}, least {:.3}",
                    self.mean_bootstrap_ari, self.min_bootstrap_ari
                ),
            ),
            (
                "unstable clusters",
                format!(
                    "{} of {} ({:.1}% of the rows; stability < {})",
                    self.unstable_clusters,
                    self.clusters.len(),
                    100.0 * self.unstable_rows_share,
                    self.unstable_below
                ),
            ),
            ("how many clusters", self.k_vote_text()),
        ];
        if let Some(h) = &self.hdbscan {
            items.push((
                "HDBSCAN on subsamples",
                format!(
                    "{:.0}-{:.0} clusters, noise {:.1}-{:.1}%",
                    h.clusters.min,
                    h.clusters.max,
                    100.0 * h.noise_share.min,
                    100.0 * h.noise_share.max
                ),
            ));
        }
        let mut order: Vec<&super::ClusterStability> = self.clusters.iter().collect();
        order.sort_by(|a, b| {
            a.stability
                .total_cmp(&b.stability)
                .then(a.cluster.cmp(&b.cluster))
        });
        let rows: Vec<Vec<String>> = order
            .iter()
            .map(|c| {
                vec![
                    c.cluster.to_string(),
                    c.size.to_string(),
                    format!("{:.3}", c.stability),
                    format!("{:.3}", c.seed_jaccard),
                    format!("{:.3}", c.bootstrap_jaccard),
                    if c.unstable { "unstable" } else { "" }.into(),
                ]
            })
            .collect();
        block(
            "Topic stability",
            &(facts(&items)
                + &table(
                    &["cluster", "size", "stability", "seeds", "resamples", ""],
                    &rows,
                    20,
                )),
        )
    }
}
evcxr_display!(StabilityReport);
