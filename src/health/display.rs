//! How a health report shows in a notebook (see [`crate::display`]).

use polars::prelude::DataFrame;

use super::HealthReport;
use crate::display::{block, evcxr_display, facts, line_svg, row_of, table, Rich, Series};
use crate::error::Result;
use crate::io::frame::{bool_col, frame, opt_i32_col, str_col, u32_col};

impl HealthReport {
    /// One row per chunk: row, then [`frame_columns`](Self::frame_columns).
    pub fn to_frame(&self) -> Result<DataFrame> {
        let n = self.per_row().len();
        let mut columns = vec![u32_col("row", 0..n)];
        columns.extend(self.frame_columns());
        frame(n, columns)
    }

    /// Per chunk: tokens (null without a tokenizer), truncated, boilerplate_chars, damaged,
    /// language (empty when unclear); the audit's tables carry them too.
    pub(crate) fn frame_columns(&self) -> Vec<polars::prelude::Column> {
        let r = self.per_row();
        vec![
            opt_i32_col(
                "tokens",
                r.iter()
                    .map(|h| h.tokens.map(|t| t.min(i32::MAX as usize) as i32))
                    .collect(),
            ),
            bool_col("truncated", r.iter().map(|h| h.truncated)),
            u32_col("boilerplate_chars", r.iter().map(|h| h.boilerplate_chars)),
            bool_col("damaged", r.iter().map(|h| h.damage.any())),
            str_col("language", r.iter().map(|h| h.language.unwrap_or(""))),
        ]
    }
}

impl Rich for HealthReport {
    /// The facts, the token-length histogram with the limit marked, the checks and the most
    /// widespread boilerplate.
    fn to_html(&self) -> String {
        let mut items = vec![("chunks", self.rows.to_string())];
        let mut charts = Vec::new();
        if let Some(t) = &self.tokens {
            items.push((
                "over the token limit",
                format!("{} ({:.1}%)", t.truncated, 100.0 * t.truncated_share),
            ));
            items.push((
                "tokens never embedded",
                format!("{:.1}%", 100.0 * t.tokens_lost_share),
            ));
            let width = t.bin_left_edges.get(1).copied().unwrap_or(1) as f64;
            charts.push(line_svg(
                "Chunk length in tokens",
                &[Series {
                    name: "chunks".into(),
                    x: t.bin_left_edges
                        .iter()
                        .map(|&e| e as f64 + width / 2.0)
                        .collect(),
                    y: t.counts.iter().map(|&c| c as f64).collect(),
                }],
                Some(t.limit as f64),
            ));
        }
        items.push((
            "empty",
            (self.short.empty + self.short.whitespace_only).to_string(),
        ));
        items.push((
            "boilerplate",
            format!("{:.1}% of the text", 100.0 * self.boilerplate.text_share),
        ));
        items.push(("damaged", self.encoding.damaged_chunks.to_string()));
        if let Some(main) = &self.languages.main {
            items.push(("main language", main.clone()));
        }
        items.push(("verdict", if self.pass { "PASS" } else { "FAIL" }.into()));
        let checks: Vec<Vec<String>> = self
            .checks
            .iter()
            .map(|c| {
                vec![
                    c.name.clone(),
                    c.value.map_or_else(|| "-".into(), |v| format!("{v:.4}")),
                    format!("{} {}", c.op, c.limit),
                    match c.pass {
                        Some(true) => "pass".into(),
                        Some(false) => format!("FAIL: {}", c.advice),
                        None => "-".into(),
                    },
                ]
            })
            .collect();
        let boiler: Vec<Vec<String>> = self
            .boilerplate
            .items
            .iter()
            .map(|b| vec![b.chunks.to_string(), b.kind.clone(), b.text.clone()])
            .collect();
        let refs: Vec<(&str, String)> = items.iter().map(|(k, v)| (*k, v.clone())).collect();
        block(
            "Chunk health",
            &(facts(&refs)
                + &row_of(&charts)
                + &table(&["check", "value", "limit", "state"], &checks, 10)
                + &table(&["chunks", "kind", "boilerplate"], &boiler, 5)),
        )
    }
}
evcxr_display!(HealthReport);
