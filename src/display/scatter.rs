//! A 2-D scatter plot that shows itself (the UMAP map coloured by cluster).

use serde_json::Value;

use super::{block, plotly_scatter, row_of, scatter_svg, table, Rich};

/// A 2-D scatter plot with groups, names and hover texts (from [`UmapModel::scatter`]).
#[derive(Debug, Clone, PartialEq)]
pub struct Scatter {
    /// Title.
    pub title: String,
    /// Coordinates.
    pub points: Vec<[f32; 2]>,
    /// Group of each point.
    pub groups: Vec<usize>,
    /// Name of each group.
    pub names: Vec<String>,
    /// Hover text of each point.
    pub hover: Vec<String>,
}

impl Rich for Scatter {
    /// The scatter as SVG with a legend of the groups.
    fn to_html(&self) -> String {
        let legend: Vec<Vec<String>> = self
            .names
            .iter()
            .enumerate()
            .map(|(g, n)| {
                vec![
                    g.to_string(),
                    n.clone(),
                    self.groups.iter().filter(|&&x| x == g).count().to_string(),
                ]
            })
            .collect();
        block(
            &self.title,
            &(row_of(&[scatter_svg(&self.title, &self.points, &self.groups)])
                + &table(&["group", "name", "points"], &legend, 30)),
        )
    }

    /// The scatter as a plotly figure (scattergl, hover texts).
    fn to_plotly(&self) -> Option<Value> {
        Some(plotly_scatter(
            &self.title,
            &self.points,
            &self.groups,
            &self.names,
            &self.hover,
        ))
    }
}
super::evcxr_display!(Scatter);
