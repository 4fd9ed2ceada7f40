//! `to_html`, `to_plotly`, `to_frame` and `evcxr_display` for the public result types (see
//! [`crate::display`]).

use polars::prelude::*;
use serde_json::Value;

use crate::audit::Audit;
use crate::cluster::{AgglomerativeModel, HdbscanModel, KMeansModel, KSweep};
use crate::dedup::Scan;
use crate::display::{
    block, escape, evcxr_display, facts, line_svg, plotly_lines, plotly_scatter, row_of,
    scatter_svg, table, Series,
};
use crate::embeddings::Embeddings;
use crate::error::{Error, Result};
use crate::label::Topics;
use crate::project::UmapModel;
use crate::retrieve::RetrievalEval;

fn frame(height: usize, columns: Vec<Column>) -> Result<DataFrame> {
    DataFrame::new(height, columns).map_err(|e| Error::Unsupported(e.to_string()))
}

fn u32_col(name: &str, v: impl Iterator<Item = usize>) -> Column {
    UInt32Chunked::from_iter_values(name.into(), v.map(|x| x as u32))
        .into_series()
        .into_column()
}

fn f64_col(name: &str, v: impl Iterator<Item = f64>) -> Column {
    Float64Chunked::from_iter_values(name.into(), v)
        .into_series()
        .into_column()
}

fn f32_col(name: &str, v: impl Iterator<Item = f32>) -> Column {
    Float32Chunked::from_iter_values(name.into(), v)
        .into_series()
        .into_column()
}

fn str_col<'a>(name: &str, v: impl Iterator<Item = &'a str>) -> Column {
    StringChunked::from_iter_values(name.into(), v)
        .into_series()
        .into_column()
}

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

impl Embeddings {
    /// A summary: rows, dimension, whether the rows are unit vectors, the first values.
    pub fn to_html(&self) -> String {
        let rows: Vec<Vec<String>> = (0..self.rows().min(3))
            .map(|i| {
                let r = self.row(i);
                let mut v: Vec<String> = r.iter().take(6).map(|x| format!("{x:.4}")).collect();
                if r.len() > 6 {
                    v.push("…".into());
                }
                vec![i.to_string(), v.join(", ")]
            })
            .collect();
        block(
            "Embeddings",
            &(facts(&[
                ("rows", self.rows().to_string()),
                ("dimensions", self.dim().to_string()),
                (
                    "rows",
                    if self.is_unit() {
                        "unit length (cosine = dot product)".into()
                    } else {
                        "points (not normalised)".into()
                    },
                ),
            ]) + &table(&["row", "values"], &rows, 3)),
        )
    }
}
evcxr_display!(Embeddings);

impl KMeansModel {
    /// k, inertia, iterations and the cluster sizes.
    pub fn to_html(&self) -> String {
        block(
            "K-Means",
            &(facts(&[
                ("k", self.n_clusters().to_string()),
                ("inertia", format!("{:.4}", self.inertia())),
                ("iterations", self.n_iter().to_string()),
            ]) + &sizes_table(self.sizes())),
        )
    }

    /// One row per document: row, cluster.
    pub fn to_frame(&self) -> Result<DataFrame> {
        let n = self.labels().len();
        frame(
            n,
            vec![
                u32_col("row", 0..n),
                u32_col("cluster", self.labels().iter().copied()),
            ],
        )
    }
}
evcxr_display!(KMeansModel);

impl AgglomerativeModel {
    /// Clusters after the cut and their sizes.
    pub fn to_html(&self) -> String {
        block(
            "Agglomerative clustering",
            &(facts(&[("clusters", self.n_clusters().to_string())]) + &sizes_table(self.sizes())),
        )
    }

    /// One row per document: row, cluster.
    pub fn to_frame(&self) -> Result<DataFrame> {
        let n = self.labels().len();
        frame(
            n,
            vec![
                u32_col("row", 0..n),
                u32_col("cluster", self.labels().iter().copied()),
            ],
        )
    }
}
evcxr_display!(AgglomerativeModel);

impl HdbscanModel {
    /// Clusters, noise and sizes.
    pub fn to_html(&self) -> String {
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

    /// One row per document: row, cluster (-1 = noise), probability, outlier_score (GLOSH).
    pub fn to_frame(&self) -> Result<DataFrame> {
        let n = self.labels().len();
        frame(
            n,
            vec![
                u32_col("row", 0..n),
                Int32Chunked::from_iter_values(
                    "cluster".into(),
                    self.labels().iter().map(|l| l.map_or(-1, |c| c as i32)),
                )
                .into_series()
                .into_column(),
                f32_col("probability", self.probabilities().iter().copied()),
                f32_col("outlier_score", self.outlier_scores().iter().copied()),
            ],
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

    /// The chosen K, the silhouette and elbow curves (SVG) and the scores per k.
    pub fn to_html(&self) -> String {
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
    pub fn to_plotly(&self) -> Value {
        plotly_lines(
            "Silhouette by k",
            "k",
            &[self.series("silhouette")],
            Some(self.chosen_k as f64),
        )
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
evcxr_display!(KSweep, plotly);

impl Topics {
    /// Per cluster: size, label and the top keywords with weights.
    pub fn to_html(&self) -> String {
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
evcxr_display!(Topics);

impl Scan {
    /// Pairs, the groups they form, the nearest-neighbour cosine distribution and the closest
    /// pairs.
    pub fn to_html(&self) -> String {
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
evcxr_display!(Scan);

impl RetrievalEval {
    fn recall_series(&self) -> Series {
        Series {
            name: format!("recall@{}", self.top_k),
            x: self.per_nprobe.iter().map(|p| p.nprobe as f64).collect(),
            y: self.per_nprobe.iter().map(|p| p.recall).collect(),
        }
    }

    /// recall@k and speed per nprobe (table and SVG curve), hubness and the duplicate impact.
    pub fn to_html(&self) -> String {
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
    pub fn to_plotly(&self) -> Value {
        plotly_lines("recall vs nprobe", "nprobe", &[self.recall_series()], None)
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
evcxr_display!(RetrievalEval, plotly);

impl UmapModel {
    fn points2(&self) -> Vec<[f32; 2]> {
        let c = self.n_components();
        self.embedding()
            .chunks_exact(c)
            .map(|r| [r[0], if c > 1 { r[1] } else { 0.0 }])
            .collect()
    }

    /// Rows, components, initialisation, and the first two components as a scatter (SVG).
    pub fn to_html(&self) -> String {
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
evcxr_display!(UmapModel);

impl crate::project::PcaModel {
    /// Components and the variance each explains.
    pub fn to_html(&self) -> String {
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

impl crate::cluster::MiniBatchKMeansModel {
    /// Clusters and whether the stream has converged.
    pub fn to_html(&self) -> String {
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

impl crate::retrieve::ClusterIndex {
    /// Rows, cells and the spread of cell sizes.
    pub fn to_html(&self) -> String {
        let mut sizes = self.list_sizes();
        sizes.sort_unstable();
        block(
            "Cluster index (IVF)",
            &facts(&[
                ("rows", self.len().to_string()),
                ("cells", self.nlist().to_string()),
                (
                    "cell sizes (min / median / max)",
                    format!(
                        "{} / {} / {}",
                        sizes[0],
                        sizes[sizes.len() / 2],
                        sizes[sizes.len() - 1]
                    ),
                ),
            ]),
        )
    }
}
evcxr_display!(crate::retrieve::ClusterIndex);

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

impl Scatter {
    /// The scatter as SVG with a legend of the groups.
    pub fn to_html(&self) -> String {
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
    pub fn to_plotly(&self) -> Value {
        plotly_scatter(
            &self.title,
            &self.points,
            &self.groups,
            &self.names,
            &self.hover,
        )
    }
}
evcxr_display!(Scatter, plotly);

impl Audit {
    /// The summary: facts, the verdict, the clusters and the K curve (SVG), and the map when
    /// there is one. `write_html` writes the full report.
    pub fn to_html(&self) -> String {
        let mut f = vec![
            ("documents", self.corpus.rows.to_string()),
            ("K", self.optimal_k.chosen_k.to_string()),
        ];
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
    pub fn to_plotly(&self) -> Value {
        let sil = Series {
            name: "silhouette".into(),
            x: self.optimal_k.per_k.iter().map(|s| s.k as f64).collect(),
            y: self.optimal_k.per_k.iter().map(|s| s.silhouette).collect(),
        };
        plotly_lines(
            "Silhouette by k",
            "k",
            &[sil],
            Some(self.optimal_k.chosen_k as f64),
        )
    }
}
evcxr_display!(Audit, plotly);

#[cfg(test)]
mod tests {
    use super::*;

    fn data() -> Embeddings {
        Embeddings::new(
            vec![
                1.0, 0.0, 0.9, 0.1, 0.0, 1.0, 0.1, 0.9, -1.0, 0.1, -0.9, 0.0, 1.0, 0.001,
            ],
            2,
        )
        .unwrap()
    }

    #[test]
    fn every_result_renders_html_and_frames() {
        let d = data();
        assert!(d.to_html().contains("dimensions: <b>2</b>"));
        let km = crate::cluster::KMeans::params(3).n_init(2).fit(&d).unwrap();
        assert!(km.to_html().contains("<table"));
        assert_eq!(km.to_frame().unwrap().shape(), (7, 2));
        let sweep = crate::cluster::KSweepParams::default()
            .k_min(2)
            .k_max(4)
            .fit(&d, &|_| {})
            .unwrap();
        let h = sweep.to_html();
        assert_eq!(h.matches("<svg").count(), 2);
        assert!(h.contains("◀"));
        assert_eq!(sweep.to_frame().unwrap().shape(), (3, 5));
        assert_eq!(
            sweep.to_plotly()["data"][0]["x"].as_array().unwrap().len(),
            3
        );
        let scan = crate::dedup::scan(&d, 0.99).unwrap();
        let np = scan.pairs.len();
        assert!(np >= 2 && scan.to_html().contains(&format!("pairs: <b>{np}</b>")));
        assert_eq!(scan.to_frame().unwrap().shape(), (np, 3));
        let hd = crate::cluster::Hdbscan::params()
            .min_cluster_size(2)
            .fit(&d)
            .unwrap();
        assert!(hd.to_html().contains("HDBSCAN"));
        assert_eq!(hd.to_frame().unwrap().shape(), (7, 4));
        let index = crate::retrieve::ClusterIndex::params()
            .nlist(2)
            .build(&d)
            .unwrap();
        assert!(index.to_html().contains("cells: <b>2</b>"));
        let pca = crate::project::Pca::params(2).fit(&d).unwrap();
        assert!(pca.to_html().contains("explained variance"));
        let ag = crate::cluster::Agglomerative::params(2).fit(&d).unwrap();
        assert_eq!(ag.to_frame().unwrap().shape(), (7, 2));
    }

    #[test]
    fn topics_and_scatter_escape_corpus_strings() {
        let texts = [
            "<b>rust</b> compiler",
            "rust cargo",
            "python <script>",
            "python numpy",
        ]
        .map(String::from);
        let t = crate::label::topics(
            &texts,
            &[Some(0), Some(0), Some(1), Some(1)],
            2,
            &Default::default(),
        )
        .unwrap();
        let h = t.to_html();
        assert!(h.contains("rust") && !h.contains("<script>"));
        assert_eq!(t.to_frame().unwrap().width(), 4);
        let s = Scatter {
            title: "<i>map</i>".into(),
            points: vec![[0.0, 0.0], [1.0, 1.0]],
            groups: vec![0, 1],
            names: vec!["a".into(), "<b>".into()],
            hover: vec!["x".into(), "</script>".into()],
        };
        let h = s.to_html();
        assert!(!h.contains("<i>map") && !h.contains("<b>") && h.contains("&lt;b&gt;"));
        assert_eq!(s.to_plotly()["data"][1]["text"][0], "&lt;/script&gt;");
    }
}
