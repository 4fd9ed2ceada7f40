//! How a comparison shows in a notebook (see [`crate::display`]).

use polars::prelude::DataFrame;

use super::Comparison;
use crate::display::{block, evcxr_display, facts, line_svg, row_of, table, Rich, Series};
use crate::error::Result;
use crate::io::frame::{f64_col, frame, i32_col, u32_col};

impl Comparison {
    /// One row per A-cluster: cluster_a, cluster_b (-1: unmatched), size_a, size_b, overlap,
    /// jaccard.
    pub fn to_frame(&self) -> Result<DataFrame> {
        let m = &self.clusters.matches;
        frame(
            m.len(),
            vec![
                u32_col("cluster_a", m.iter().map(|c| c.a)),
                i32_col("cluster_b", m.iter().map(|c| c.b.map_or(-1, |b| b as i32))),
                u32_col("size_a", m.iter().map(|c| c.a_size)),
                u32_col("size_b", m.iter().map(|c| c.b_size)),
                u32_col("overlap", m.iter().map(|c| c.overlap)),
                f64_col("jaccard", m.iter().map(|c| c.jaccard)),
            ],
        )
    }
}

impl Rich for Comparison {
    /// The headline figures, the distribution of shared neighbours, the cluster matches and
    /// the documents whose neighbourhoods changed most.
    fn to_html(&self) -> String {
        let n = &self.neighbours;
        let c = &self.clusters;
        let items = vec![
            ("documents in both", self.overlap.both.to_string()),
            (
                "neighbours kept",
                format!(
                    "{:.1}% of {} (median {:.0}%)",
                    100.0 * n.mean_overlap,
                    n.k,
                    100.0 * n.median_overlap
                ),
            ),
            (
                "K",
                format!(
                    "A {} (silhouette {:.3}), B {} ({:.3})",
                    c.k_a, self.a.silhouette, c.k_b, self.b.silhouette
                ),
            ),
            ("ARI at own K", format!("{:.3}", c.ari_own_k)),
            (
                "ARI at A's K",
                c.ari_common_k
                    .map_or_else(|| "-".into(), |a| format!("{a:.3}")),
            ),
        ];
        let chart = line_svg(
            "Documents by neighbours shared",
            &[Series {
                name: "documents".into(),
                x: (0..n.histogram.len()).map(|s| s as f64).collect(),
                y: n.histogram.iter().map(|&h| h as f64).collect(),
            }],
            None,
        );
        let matches: Vec<Vec<String>> = c
            .matches
            .iter()
            .map(|m| {
                vec![
                    m.a.to_string(),
                    m.b.map_or_else(|| "-".into(), |b| b.to_string()),
                    m.a_size.to_string(),
                    m.b_size.to_string(),
                    format!("{:.3}", m.jaccard),
                ]
            })
            .collect();
        let changed: Vec<Vec<String>> = n
            .changed
            .iter()
            .map(|d| {
                vec![
                    format!("{} / {}", d.shared, n.k),
                    d.doc.text.clone(),
                    d.neighbours_a
                        .first()
                        .map_or_else(String::new, |x| x.text.clone()),
                    d.neighbours_b
                        .first()
                        .map_or_else(String::new, |x| x.text.clone()),
                ]
            })
            .collect();
        block(
            "Comparison",
            &(facts(&items)
                + &row_of(&[chart])
                + &table(
                    &["A cluster", "B match", "A size", "B size", "Jaccard"],
                    &matches,
                    20,
                )
                + &table(
                    &["shared", "document", "nearest under A", "nearest under B"],
                    &changed,
                    5,
                )),
        )
    }
}
evcxr_display!(Comparison);
