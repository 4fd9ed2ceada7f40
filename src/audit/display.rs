//! How an audit shows in a notebook: the summary (see [`crate::display`]); `write_html` writes
//! the full report.

use serde_json::Value;

use super::Audit;
use crate::display::{
    block, escape, evcxr_display, facts, line_svg, plotly_lines, row_of, scatter_svg, table, Rich,
    Series,
};

impl Rich for Audit {
    /// The summary: facts, the verdict, the clusters and the K curve (SVG), and the map when
    /// there is one. `write_html` writes the full report.
    fn to_html(&self) -> String {
        let mut f = vec![
            ("documents", self.corpus.rows.to_string()),
            ("K", self.optimal_k.chosen_k.to_string()),
        ];
        if let Some(s) = &self.stability {
            f.push((
                "stable clusters",
                format!(
                    "{} of {}",
                    s.clusters.len() - s.unstable_clusters,
                    s.clusters.len()
                ),
            ));
        }
        if let Some(d) = &self.duplicates {
            f.push(("duplicates", format!("{:.1}%", 100.0 * d.share)));
        }
        if let Some(n) = &self.noise {
            f.push(("noise", format!("{:.1}%", 100.0 * n.noise_share)));
        }
        if let Some(r) = &self.retrieval {
            f.push((
                "recall@10",
                format!("{:.3} at nprobe {}", r.recall, r.nprobe),
            ));
        }
        f.push((
            "verdict",
            if self.verdict.pass {
                "PASS".into()
            } else {
                format!("FAIL ({})", self.verdict.failed.join(", "))
            },
        ));
        let clusters: Vec<Vec<String>> = self
            .clusters
            .iter()
            .map(|c| {
                vec![
                    c.id.to_string(),
                    c.size.to_string(),
                    c.label.clone(),
                    c.keywords
                        .iter()
                        .take(5)
                        .map(|k| k.term.as_str())
                        .collect::<Vec<_>>()
                        .join(", "),
                    c.examples
                        .first()
                        .map_or_else(String::new, |e| e.text.chars().take(120).collect()),
                ]
            })
            .collect();
        let sil = Series {
            name: "silhouette".into(),
            x: self.optimal_k.per_k.iter().map(|s| s.k as f64).collect(),
            y: self.optimal_k.per_k.iter().map(|s| s.silhouette).collect(),
        };
        let mut charts = vec![line_svg(
            "Silhouette",
            &[sil],
            Some(self.optimal_k.chosen_k as f64),
        )];
        if let Some(m) = &self.map {
            let groups: Vec<usize> = m.rows.iter().map(|&r| self.labels[r]).collect();
            charts.push(scatter_svg("Map (UMAP)", &m.points, &groups));
        }
        let notes: String = self
            .notes
            .iter()
            .map(|n| format!("<p style=\"margin:2px 0;color:#b35c00\">{}</p>", escape(n)))
            .collect();
        block(
            &format!("Audit of {}", self.corpus.source),
            &(facts(&f)
                + &notes
                + &row_of(&charts)
                + &table(
                    &[
                        "cluster",
                        "size",
                        "label",
                        "keywords",
                        "nearest the centroid",
                    ],
                    &clusters,
                    30,
                )),
        )
    }

    /// The silhouette curve as a plotly figure.
    fn to_plotly(&self) -> Option<Value> {
        let sil = Series {
            name: "silhouette".into(),
            x: self.optimal_k.per_k.iter().map(|s| s.k as f64).collect(),
            y: self.optimal_k.per_k.iter().map(|s| s.silhouette).collect(),
        };
        Some(plotly_lines(
            "Silhouette by k",
            "k",
            &[sil],
            Some(self.optimal_k.chosen_k as f64),
        ))
    }
}
evcxr_display!(Audit);
