//! How a duplicate scan shows in a notebook (see [`crate::display`]).

use polars::prelude::DataFrame;

use super::Scan;
use crate::display::{block, evcxr_display, facts, line_svg, row_of, table, Rich, Series};
use crate::error::Result;
use crate::io::frame::{f32_col, frame, u32_col};

impl Scan {
    /// One row per pair: row_a, row_b, cosine.
    pub fn to_frame(&self) -> Result<DataFrame> {
        let p = &self.pairs;
        frame(
            p.len(),
            vec![
                u32_col("row_a", p.iter().map(|x| x.row_a)),
                u32_col("row_b", p.iter().map(|x| x.row_b)),
                f32_col("cosine", p.iter().map(|x| x.cosine)),
            ],
        )
    }
}

impl Rich for Scan {
    /// Pairs, the groups they form, the nearest-neighbour cosine distribution and the closest
    /// pairs.
    fn to_html(&self) -> String {
        let n = self.nearest.len();
        let groups = crate::dedup::groups(n, self.pairs.iter().map(|p| (p.row_a, p.row_b)));
        let (edges, counts) = crate::dedup::histogram(&self.nearest, 0.5, 1.0, 25);
        let hist = Series {
            name: "documents".into(),
            x: edges.iter().map(|e| e + 0.01).collect(),
            y: counts.iter().map(|&c| c as f64).collect(),
        };
        let mut top = self.pairs.clone();
        top.sort_by(|a, b| b.cosine.total_cmp(&a.cosine).then(a.row_a.cmp(&b.row_a)));
        let rows: Vec<Vec<String>> = top
            .iter()
            .map(|p| {
                vec![
                    p.row_a.to_string(),
                    p.row_b.to_string(),
                    format!("{:.4}", p.cosine),
                ]
            })
            .collect();
        block(
            "Near duplicates",
            &(facts(&[
                ("rows", n.to_string()),
                ("pairs", self.pairs.len().to_string()),
                ("groups", groups.len().to_string()),
                (
                    "removable",
                    groups
                        .iter()
                        .map(|g| g.len() - 1)
                        .sum::<usize>()
                        .to_string(),
                ),
            ]) + &row_of(&[line_svg("Nearest-neighbour cosine", &[hist], None)])
                + &table(&["row_a", "row_b", "cosine"], &rows, 10)),
        )
    }
}
evcxr_display!(Scan);
