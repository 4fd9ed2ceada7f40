//! How a query report shows in a notebook (see [`crate::display`]), and its per-query table.

use polars::prelude::DataFrame;

use super::QueryReport;
use crate::display::{block, evcxr_display, facts, table, Rich};
use crate::error::Result;
use crate::io::frame::{bool_col, f64_col, frame, opt_i32_col, str_col};

impl QueryReport {
    /// One row per query: id, text, best_cosine, gap, topic (-1 / null: no topics), top_ids
    /// (the exact top-k's ids, comma-separated).
    pub fn to_frame(&self) -> Result<DataFrame> {
        let q = &self.per_query;
        let top: Vec<String> = q.iter().map(|r| r.top_ids.join(",")).collect();
        frame(
            q.len(),
            vec![
                str_col("id", q.iter().map(|r| r.id.as_str())),
                str_col("text", q.iter().map(|r| r.text.as_str())),
                f64_col("best_cosine", q.iter().map(|r| r.best_cosine)),
                bool_col("gap", q.iter().map(|r| r.gap)),
                opt_i32_col(
                    "topic",
                    q.iter().map(|r| r.topic.map(|t| t as i32)).collect(),
                ),
                str_col("top_ids", top.iter().map(String::as_str)),
            ],
        )
    }

    /// Writes the report as JSON atomically to `path`.
    pub fn write_json(&self, path: &std::path::Path) -> Result<()> {
        let text = serde_json::to_string_pretty(self)?;
        crate::io::write_atomic(path, |w| w.write_all(text.as_bytes()))
    }

    /// Writes [`to_frame`](Self::to_frame) atomically to `path` as Parquet.
    pub fn write_table(&self, path: &std::path::Path) -> Result<()> {
        let f = self.to_frame()?;
        crate::io::write_parquet(path, f.height(), f.columns().to_vec())
    }
}

impl Rich for QueryReport {
    /// Coverage and its gaps, demand and supply per topic, dead and hot documents, recall.
    fn to_html(&self) -> String {
        let c = &self.coverage;
        let mut items = vec![
            ("queries", c.queries.to_string()),
            (
                "coverage gaps",
                format!(
                    "{} ({:.1}%) below cosine {:.3}",
                    c.gaps,
                    100.0 * c.gap_share,
                    c.threshold
                ),
            ),
            (
                "dead documents",
                format!(
                    "{:.1}% (at least {:.1}% with {} slots)",
                    100.0 * self.content.dead_share,
                    100.0 * self.content.dead_floor,
                    self.content.slots
                ),
            ),
        ];
        let recall: Vec<String> = self
            .retrieval
            .per_nprobe
            .iter()
            .map(|p| format!("{}: {:.3}", p.nprobe, p.recall))
            .collect();
        items.push(("IVF recall by nprobe", recall.join(", ")));
        if let Some(j) = &self.judged {
            items.push((
                "judged (exact)",
                format!(
                    "recall@{} {:.3}, MRR {:.3}, nDCG@10 {:.3} over {} queries",
                    self.top_k, j.exact.recall_at_k, j.exact.mrr, j.exact.ndcg_at_10, j.queries
                ),
            ));
        }
        let gaps: Vec<Vec<String>> = c
            .gap_topics
            .iter()
            .map(|g| {
                vec![
                    g.size.to_string(),
                    g.label.clone(),
                    g.examples
                        .first()
                        .map_or_else(String::new, |e| e.query.clone()),
                ]
            })
            .collect();
        let demand: Vec<Vec<String>> = self
            .demand
            .iter()
            .map(|d| {
                vec![
                    d.cluster.to_string(),
                    d.label.clone(),
                    format!("{:.1}%", 100.0 * d.doc_share),
                    format!("{:.1}%", 100.0 * d.query_share),
                    format!("{:.2}", d.ratio),
                ]
            })
            .collect();
        block(
            "Queries",
            &(facts(&items)
                + &table(&["gap queries", "about", "example"], &gaps, 10)
                + &table(
                    &["cluster", "label", "documents", "queries", "ratio"],
                    &demand,
                    20,
                )),
        )
    }
}
evcxr_display!(QueryReport);
