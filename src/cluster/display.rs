//! How the clustering results show in a notebook (see [`crate::display`]).

use polars::prelude::DataFrame;
use serde_json::Value;

use super::{AgglomerativeModel, HdbscanModel, KMeansModel, KSweep};
use crate::display::{
    block, evcxr_display, facts, line_svg, plotly_lines, row_of, table, Rich, Series,
};
use crate::error::Result;
use crate::io::frame::{f32_col, f64_col, frame, i32_col, u32_col};

fn sizes_table(sizes: &[usize]) -> String {
    let n: usize = sizes.iter().sum();
    let rows: Vec<Vec<String>> = sizes
        .iter()
        .enumerate()
        .map(|(c, &s)| {
            vec![
                c.to_string(),
                s.to_string(),
                format!("{:.1}%", 100.0 * s as f64 / n.max(1) as f64),
            ]
        })
        .collect();
    table(&["cluster", "size", "share"], &rows, 20)
}

/// One row per document: row, cluster.
fn labels_frame(labels: &[usize]) -> Result<DataFrame> {
    let n = labels.len();
    frame(
        n,
        vec![
            u32_col("row", 0..n),
            u32_col("cluster", labels.iter().copied()),
        ],
    )
}

impl KMeansModel {
    /// One row per document: row, cluster.
    pub fn to_frame(&self) -> Result<DataFrame> {
        labels_frame(self.labels())
    }
}

impl Rich for KMeansModel {
    /// k, inertia, iterations and the cluster sizes.
    fn to_html(&self) -> String {
        block(
            "K-Means",
            &(facts(&[
                ("k", self.n_clusters().to_string()),
                ("inertia", format!("{:.4}", self.inertia())),
                ("iterations", self.n_iter().to_string()),
            ]) + &sizes_table(self.sizes())),
        )
    }
}
evcxr_display!(KMeansModel);

impl AgglomerativeModel {
    /// One row per document: row, cluster.
    pub fn to_frame(&self) -> Result<DataFrame> {
        labels_frame(self.labels())
    }
}

impl Rich for AgglomerativeModel {
    /// Clusters after the cut and their sizes.
    fn to_html(&self) -> String {
        block(
            "Agglomerative clustering",
            &(facts(&[("clusters", self.n_clusters().to_string())]) + &sizes_table(self.sizes())),
        )
    }
}
evcxr_display!(AgglomerativeModel);

impl HdbscanModel {
    /// One row per document: row, cluster (-1 = noise), probability, outlier_score (GLOSH).
    pub fn to_frame(&self) -> Result<DataFrame> {
        let n = self.labels().len();
        frame(
            n,
            vec![
                u32_col("row", 0..n),
                i32_col(
                    "cluster",
                    self.labels().iter().map(|l| l.map_or(-1, |c| c as i32)),
                ),
                f32_col("probability", self.probabilities().iter().copied()),
                f32_col("outlier_score", self.outlier_scores().iter().copied()),
            ],
        )
    }
}

impl Rich for HdbscanModel {
    /// Clusters, noise and sizes.
    fn to_html(&self) -> String {
        let n = self.labels().len();
        block(
            "HDBSCAN",
            &(facts(&[
                ("clusters", self.n_clusters().to_string()),
                (
                    "noise",
                    format!(
                        "{} of {n} ({:.1}%)",
                        self.noise(),
                        100.0 * self.noise() as f64 / n.max(1) as f64
                    ),
                ),
            ]) + &sizes_table(self.sizes())),
        )
    }
}
evcxr_display!(HdbscanModel);

impl KSweep {
    fn series(&self, key: &str) -> Series {
        Series {
            name: key.into(),
            x: self.per_k.iter().map(|s| s.k as f64).collect(),
            y: self
                .per_k
                .iter()
                .map(|s| match key {
                    "silhouette" => s.silhouette,
                    "inertia" => s.inertia,
                    "calinski_harabasz" => s.calinski_harabasz,
                    _ => s.davies_bouldin,
                })
                .collect(),
        }
    }

    /// One row per k: k, inertia, silhouette, calinski_harabasz, davies_bouldin.
    pub fn to_frame(&self) -> Result<DataFrame> {
        let p = &self.per_k;
        frame(
            p.len(),
            vec![
                u32_col("k", p.iter().map(|s| s.k)),
                f64_col("inertia", p.iter().map(|s| s.inertia)),
                f64_col("silhouette", p.iter().map(|s| s.silhouette)),
                f64_col("calinski_harabasz", p.iter().map(|s| s.calinski_harabasz)),
                f64_col("davies_bouldin", p.iter().map(|s| s.davies_bouldin)),
            ],
        )
    }
}

impl Rich for KSweep {
    /// The chosen K, the silhouette and elbow curves (SVG) and the scores per k.
    fn to_html(&self) -> String {
        let mark = Some(self.chosen_k as f64);
        let rows: Vec<Vec<String>> = self
            .per_k
            .iter()
            .map(|s| {
                vec![
                    format!("{}{}", s.k, if s.k == self.chosen_k { " ◀" } else { "" }),
                    format!("{:.4}", s.silhouette),
                    format!("{:.2}", s.inertia),
                    format!("{:.2}", s.calinski_harabasz),
                    format!("{:.3}", s.davies_bouldin),
                ]
            })
            .collect();
        let mut f = vec![
            ("chosen K (silhouette)", self.chosen_k.to_string()),
            ("elbow K (inertia)", self.elbow_k.to_string()),
            ("silhouette rows", self.silhouette_rows.to_string()),
        ];
        if self.weak_structure() {
            f.push(("structure", "weak (every silhouette < 0.1)".into()));
        }
        block(
            "Optimal K",
            &(facts(&f)
                + &row_of(&[
                    line_svg(
                        "Silhouette (higher is better)",
                        &[self.series("silhouette")],
                        mark,
                    ),
                    line_svg(
                        "Inertia (elbow)",
                        &[self.series("inertia")],
                        Some(self.elbow_k as f64),
                    ),
                ])
                + &table(
                    &[
                        "k",
                        "silhouette",
                        "inertia",
                        "Calinski-Harabasz",
                        "Davies-Bouldin",
                    ],
                    &rows,
                    50,
                )),
        )
    }

    /// The silhouette curve as a plotly figure, the chosen K ringed.
    fn to_plotly(&self) -> Option<Value> {
        Some(plotly_lines(
            "Silhouette by k",
            "k",
            &[self.series("silhouette")],
            Some(self.chosen_k as f64),
        ))
    }
}
evcxr_display!(KSweep);

impl Rich for crate::cluster::MiniBatchKMeansModel {
    /// Clusters and whether the stream has converged.
    fn to_html(&self) -> String {
        block(
            "Mini-Batch K-Means (streaming)",
            &facts(&[
                ("k", self.n_clusters().to_string()),
                ("converged", self.converged().to_string()),
            ]),
        )
    }
}
evcxr_display!(crate::cluster::MiniBatchKMeansModel);
