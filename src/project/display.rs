//! How projections show in a notebook (see [`crate::display`]).

use polars::prelude::DataFrame;

use super::UmapModel;
use crate::display::{block, evcxr_display, facts, row_of, scatter_svg, table, Rich, Scatter};
use crate::error::Result;
use crate::io::frame::{f32_col, frame, u32_col};

impl UmapModel {
    fn points2(&self) -> Vec<[f32; 2]> {
        let c = self.n_components();
        self.embedding()
            .chunks_exact(c)
            .map(|r| [r[0], if c > 1 { r[1] } else { 0.0 }])
            .collect()
    }

    /// The map coloured by `groups` (one per row, say cluster labels), with group names and
    /// hover texts: a [`Scatter`] that displays itself.
    pub fn scatter(&self, groups: &[usize], names: &[String], hover: &[String]) -> Scatter {
        Scatter {
            title: "UMAP".into(),
            points: self.points2(),
            groups: groups.to_vec(),
            names: names.to_vec(),
            hover: hover.to_vec(),
        }
    }

    /// One row per document: row, x0, x1, ...
    pub fn to_frame(&self) -> Result<DataFrame> {
        let c = self.n_components();
        let n = self.rows();
        let y = self.embedding();
        let mut cols = vec![u32_col("row", 0..n)];
        for j in 0..c {
            cols.push(f32_col(&format!("x{j}"), (0..n).map(|i| y[i * c + j])));
        }
        frame(n, cols)
    }
}

impl Rich for UmapModel {
    /// Rows, components, initialisation, and the first two components as a scatter (SVG).
    fn to_html(&self) -> String {
        let pts = self.points2();
        block(
            "UMAP",
            &(facts(&[
                ("rows", self.rows().to_string()),
                ("components", self.n_components().to_string()),
            ]) + &row_of(&[scatter_svg(
                "UMAP (first two components)",
                &pts,
                &vec![0; pts.len()],
            )])),
        )
    }
}
evcxr_display!(UmapModel);

impl Rich for crate::project::PcaModel {
    /// Components and the variance each explains.
    fn to_html(&self) -> String {
        let rows: Vec<Vec<String>> = self
            .explained_variance_ratio()
            .iter()
            .enumerate()
            .map(|(i, r)| vec![i.to_string(), format!("{:.2}%", 100.0 * r)])
            .collect();
        block(
            "PCA",
            &(facts(&[("components", self.n_components().to_string())])
                + &table(&["component", "explained variance"], &rows, 20)),
        )
    }
}
evcxr_display!(crate::project::PcaModel);
