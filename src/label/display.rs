//! How topics show in a notebook (see [`crate::display`]).

use polars::prelude::DataFrame;

use super::Topics;
use crate::display::{block, evcxr_display, table, Rich};
use crate::error::Result;
use crate::io::frame::{f64_col, frame, str_col, u32_col};

impl Topics {
    /// One row per (cluster, keyword): cluster, rank, term, weight.
    pub fn to_frame(&self) -> Result<DataFrame> {
        let flat: Vec<(usize, usize, &str, f64)> = self
            .keywords
            .iter()
            .enumerate()
            .flat_map(|(c, kw)| {
                kw.iter()
                    .enumerate()
                    .map(move |(r, k)| (c, r, k.term.as_str(), k.weight))
            })
            .collect();
        frame(
            flat.len(),
            vec![
                u32_col("cluster", flat.iter().map(|x| x.0)),
                u32_col("rank", flat.iter().map(|x| x.1)),
                str_col("term", flat.iter().map(|x| x.2)),
                f64_col("weight", flat.iter().map(|x| x.3)),
            ],
        )
    }
}

impl Rich for Topics {
    /// Per cluster: size, label and the top keywords with weights.
    fn to_html(&self) -> String {
        let rows: Vec<Vec<String>> = self
            .keywords
            .iter()
            .enumerate()
            .map(|(c, kw)| {
                vec![
                    c.to_string(),
                    self.sizes.get(c).map_or(String::new(), |s| s.to_string()),
                    self.labels.get(c).cloned().unwrap_or_default(),
                    kw.iter()
                        .take(8)
                        .map(|k| format!("{} ({:.3})", k.term, k.weight))
                        .collect::<Vec<_>>()
                        .join(", "),
                ]
            })
            .collect();
        block(
            "Topics (c-TF-IDF)",
            &table(
                &["cluster", "size", "label", "keywords (weight)"],
                &rows,
                50,
            ),
        )
    }
}
evcxr_display!(Topics);
