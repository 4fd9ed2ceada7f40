//! How a retrieval evaluation shows in a notebook (see [`crate::display`]).

use polars::prelude::DataFrame;
use serde_json::Value;

use super::RetrievalEval;
use crate::display::{
    block, evcxr_display, facts, line_svg, plotly_lines, row_of, table, Rich, Series,
};
use crate::error::Result;
use crate::io::frame::{f64_col, frame, u32_col};

impl RetrievalEval {
    fn recall_series(&self) -> Series {
        Series {
            name: format!("recall@{}", self.top_k),
            x: self.per_nprobe.iter().map(|p| p.nprobe as f64).collect(),
            y: self.per_nprobe.iter().map(|p| p.recall).collect(),
        }
    }

    /// One row per nprobe: nprobe, recall, qps, seconds, scanned_fraction.
    pub fn to_frame(&self) -> Result<DataFrame> {
        let p = &self.per_nprobe;
        frame(
            p.len(),
            vec![
                u32_col("nprobe", p.iter().map(|x| x.nprobe)),
                f64_col("recall", p.iter().map(|x| x.recall)),
                f64_col("qps", p.iter().map(|x| x.qps)),
                f64_col("seconds", p.iter().map(|x| x.seconds)),
                f64_col("scanned_fraction", p.iter().map(|x| x.scanned_fraction)),
            ],
        )
    }
}

impl Rich for RetrievalEval {
    /// recall@k and speed per nprobe (table and SVG curve), hubness and the duplicate impact.
    fn to_html(&self) -> String {
        let rows: Vec<Vec<String>> = self
            .per_nprobe
            .iter()
            .map(|p| {
                vec![
                    p.nprobe.to_string(),
                    format!("{:.4}", p.recall),
                    format!("{:.0}", p.qps),
                    format!("{:.1}%", 100.0 * p.scanned_fraction),
                ]
            })
            .collect();
        let mut f = vec![
            ("indexed", self.n_db.to_string()),
            ("queries", self.n_queries.to_string()),
            ("cells", self.nlist.to_string()),
            ("exact search", format!("{:.0} queries/s", self.exact_qps)),
        ];
        if let Some(h) = &self.hubness {
            f.push(("hubness skewness", format!("{:.2}", h.skewness)));
            f.push((
                "orphans",
                format!("{} ({:.1}%)", h.orphans, 100.0 * h.orphan_share),
            ));
        }
        if let Some(d) = &self.dedup {
            f.push((
                "top-k slots held by near duplicates",
                format!(
                    "{:.1}% before, {:.1}% after removing {}",
                    100.0 * d.before.redundant_share,
                    100.0 * d.after.redundant_share,
                    d.removed_rows
                ),
            ));
        }
        block(
            "Cluster-based retrieval against exact search",
            &(facts(&f)
                + &row_of(&[line_svg("recall vs nprobe", &[self.recall_series()], None)])
                + &table(
                    &[
                        "nprobe",
                        &format!("recall@{}", self.top_k),
                        "queries/s",
                        "scanned",
                    ],
                    &rows,
                    20,
                )),
        )
    }

    /// recall vs nprobe as a plotly figure.
    fn to_plotly(&self) -> Option<Value> {
        Some(plotly_lines(
            "recall vs nprobe",
            "nprobe",
            &[self.recall_series()],
            None,
        ))
    }
}
evcxr_display!(RetrievalEval);
