//! How a comparison shows in a notebook (see [`crate::display`]).

use polars::prelude::DataFrame;

use super::Comparison;
use crate::display::{block, evcxr_display, facts, line_svg, row_of, table, Rich, Series};
use crate::error::Result;
use crate::io::frame::{f64_col, frame, i32_col, opt_f32_col, str_col, u32_col};

impl Comparison {
    /// One row per A-cluster: cluster_a, cluster_b (-1: unmatched), size_a, size_b, overlap,
    /// jaccard.
    pub fn to_frame(&self) -> Result<DataFrame> {
        let m = &self.clusters.matches;
        frame(
            m.len(),
            vec![
                u32_col("cluster_a", m.iter().map(|c| c.a)),
                i32_col("cluster_b", m.iter().map(|c| c.b.map_or(-1, |b| b as i32))),
                u32_col("size_a", m.iter().map(|c| c.a_size)),
                u32_col("size_b", m.iter().map(|c| c.b_size)),
                u32_col("overlap", m.iter().map(|c| c.overlap)),
                f64_col("jaccard", m.iter().map(|c| c.jaccard)),
            ],
        )
    }
}

impl Comparison {
    /// Writes the comparison's tables into `dir` (created if missing), each atomically:
    /// `neighbours.parquet` (id, shared, jaccard, cluster_a, cluster_b: one row per query
    /// document), `clusters.parquet` ([`to_frame`](Self::to_frame)) and, in one space,
    /// `topics.parquet` (status, cluster_a, cluster_b (-1: none), label_a, label_b, size_a,
    /// size_b, share_a, share_b, cosine, centroid_shift, drift_p). Returns the files written.
    pub fn write_tables(&self, dir: &std::path::Path) -> Result<Vec<std::path::PathBuf>> {
        std::fs::create_dir_all(dir).map_err(|e| crate::error::Error::Io {
            path: dir.to_path_buf(),
            source: e,
        })?;
        let mut written = Vec::new();
        let d = &self.per_document;
        let path = dir.join("neighbours.parquet");
        crate::io::write_parquet(
            &path,
            d.len(),
            vec![
                str_col("id", d.iter().map(|x| x.id.as_str())),
                u32_col("shared", d.iter().map(|x| x.shared)),
                f64_col("jaccard", d.iter().map(|x| x.jaccard)),
                u32_col("cluster_a", d.iter().map(|x| x.cluster_a)),
                u32_col("cluster_b", d.iter().map(|x| x.cluster_b)),
            ],
        )?;
        written.push(path);
        let path = dir.join("clusters.parquet");
        let f = self.to_frame()?;
        crate::io::write_parquet(&path, f.height(), f.columns().to_vec())?;
        written.push(path);
        if let Some(t) = &self.topics {
            let t = &t.topics;
            let opt = |v: Vec<Option<f64>>| v.into_iter().map(|x| x.map(|y| y as f32)).collect();
            let path = dir.join("topics.parquet");
            crate::io::write_parquet(
                &path,
                t.len(),
                vec![
                    str_col(
                        "status",
                        t.iter().map(|x| match x.status {
                            super::TopicStatus::Matched => "matched",
                            super::TopicStatus::New => "new",
                            super::TopicStatus::Gone => "gone",
                        }),
                    ),
                    i32_col("cluster_a", t.iter().map(|x| x.a.map_or(-1, |v| v as i32))),
                    i32_col("cluster_b", t.iter().map(|x| x.b.map_or(-1, |v| v as i32))),
                    str_col("label_a", t.iter().map(|x| x.label_a.as_str())),
                    str_col("label_b", t.iter().map(|x| x.label_b.as_str())),
                    u32_col("size_a", t.iter().map(|x| x.size_a)),
                    u32_col("size_b", t.iter().map(|x| x.size_b)),
                    f64_col("share_a", t.iter().map(|x| x.share_a)),
                    f64_col("share_b", t.iter().map(|x| x.share_b)),
                    opt_f32_col("cosine", opt(t.iter().map(|x| x.cosine).collect())),
                    opt_f32_col(
                        "centroid_shift",
                        opt(t.iter().map(|x| x.centroid_shift).collect()),
                    ),
                    opt_f32_col("drift_p", opt(t.iter().map(|x| x.drift_p).collect())),
                ],
            )?;
            written.push(path);
        }
        Ok(written)
    }

    /// Writes the comparison as JSON (`compare.json`) atomically to `path`.
    pub fn write_json(&self, path: &std::path::Path) -> Result<()> {
        let text = serde_json::to_string_pretty(self)?;
        crate::io::write_atomic(path, |w| w.write_all(text.as_bytes()))
    }

    /// Drops the wall time, so that two runs serialise and render byte-identically.
    pub fn without_timings(mut self) -> Comparison {
        self.seconds = 0.0;
        self
    }
}

impl Rich for Comparison {
    /// The headline figures and verdict, topics, drift and copies, the distribution of shared
    /// neighbours, the audits side by side, the cluster matches and the documents whose
    /// neighbourhoods changed most.
    fn to_html(&self) -> String {
        let n = &self.neighbours;
        let c = &self.clusters;
        let items = vec![
            ("documents in both", self.overlap.both.to_string()),
            (
                "neighbours kept",
                format!(
                    "{:.1}% of {} (median {:.0}%)",
                    100.0 * n.mean_overlap,
                    n.k,
                    100.0 * n.median_overlap
                ),
            ),
            (
                "K",
                format!(
                    "A {} (silhouette {:.3}), B {} ({:.3})",
                    c.k_a, self.a.silhouette, c.k_b, self.b.silhouette
                ),
            ),
            ("ARI at own K", format!("{:.3}", c.ari_own_k)),
            (
                "ARI at A's K",
                c.ari_common_k
                    .map_or_else(|| "-".into(), |a| format!("{a:.3}")),
            ),
            (
                "verdict",
                if self.verdict.pass {
                    "PASS".into()
                } else {
                    format!("FAIL ({})", self.verdict.failed.join(", "))
                },
            ),
        ];
        let mut more: Vec<(&str, String)> = Vec::new();
        if let Some(t) = &self.topics {
            more.push((
                "topics matched / new / gone",
                format!("{} / {} / {}", t.matched, t.new, t.gone),
            ));
        }
        if let Some(d) = &self.drift {
            more.push(("drift", format!("MMD² {:.5}, p = {:.3}", d.mmd2, d.p_value)));
        }
        if let Some(x) = self.cross_duplicates.as_ref().filter(|x| x.added > 0) {
            more.push((
                "new documents copying old ones",
                format!("{} of {}", x.copies, x.searched),
            ));
        }
        if !self.space.same {
            more.push(("embedding spaces", "two (no topics or drift)".into()));
        }
        let sides: Vec<Vec<String>> = self
            .side_by_side
            .iter()
            .flat_map(|s| &s.metrics)
            .map(|m| {
                let f = |x: Option<f64>| x.map_or_else(|| "-".into(), |v| format!("{v:.3}"));
                vec![
                    m.name.clone(),
                    f(m.a),
                    f(m.b),
                    m.better.clone().unwrap_or_default(),
                ]
            })
            .collect();
        let chart = line_svg(
            "Documents by neighbours shared",
            &[Series {
                name: "documents".into(),
                x: (0..n.histogram.len()).map(|s| s as f64).collect(),
                y: n.histogram.iter().map(|&h| h as f64).collect(),
            }],
            None,
        );
        let matches: Vec<Vec<String>> = c
            .matches
            .iter()
            .map(|m| {
                vec![
                    m.a.to_string(),
                    m.b.map_or_else(|| "-".into(), |b| b.to_string()),
                    m.a_size.to_string(),
                    m.b_size.to_string(),
                    format!("{:.3}", m.jaccard),
                ]
            })
            .collect();
        let changed: Vec<Vec<String>> = n
            .changed
            .iter()
            .map(|d| {
                vec![
                    format!("{} / {}", d.shared, n.k),
                    d.doc.text.clone(),
                    d.neighbours_a
                        .first()
                        .map_or_else(String::new, |x| x.text.clone()),
                    d.neighbours_b
                        .first()
                        .map_or_else(String::new, |x| x.text.clone()),
                ]
            })
            .collect();
        block(
            "Comparison",
            &(facts(&items)
                + &facts(&more)
                + &row_of(&[chart])
                + &if sides.is_empty() {
                    String::new()
                } else {
                    table(&["side by side", "A", "B", "better"], &sides, 10)
                }
                + &table(
                    &["A cluster", "B match", "A size", "B size", "Jaccard"],
                    &matches,
                    20,
                )
                + &table(
                    &["shared", "document", "nearest under A", "nearest under B"],
                    &changed,
                    5,
                )),
        )
    }
}
evcxr_display!(Comparison);
