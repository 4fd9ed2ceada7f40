//! The audit's noise section: BERTopic's route (UMAP to 5-D, then HDBSCAN) over the corpus,
//! noise per K-Means cluster and the most outlying documents.

use serde::Serialize;

use super::sampling::Estimate;
use super::text_of;
use crate::cluster::{Hdbscan, HdbscanParams};
use crate::embeddings::Embeddings;
use crate::error::Result;
use crate::io::Corpus;
use crate::metric::Metric;
use crate::progress::Progress;
use crate::project::Umap;

/// A document the noise section points at.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct OutlierDoc {
    /// Row.
    pub row: usize,
    /// Id.
    pub id: String,
    /// Text (start).
    pub text: String,
    /// GLOSH outlier score (0 inlier .. 1 outlier).
    pub score: f32,
    /// Its K-Means cluster.
    pub cluster: usize,
}

/// Noise and outliers: HDBSCAN on BERTopic's 5-D UMAP reduction.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct NoiseSummary {
    /// How it was computed.
    pub method: String,
    /// HDBSCAN `min_cluster_size`.
    pub min_cluster_size: usize,
    /// Dense clusters HDBSCAN found.
    pub n_clusters: usize,
    /// Documents in none of them.
    pub noise: usize,
    /// `noise / rows`: the noise share the verdict checks.
    pub noise_share: f64,
    /// Rows it ran on (all, or the audit's sample).
    pub rows: usize,
    /// The noise share's standard error as an estimate of the whole corpus's (0 on every row).
    pub noise_share_se: f64,
    /// Noise per K-Means cluster: `(cluster, noise rows, share of the cluster)`.
    pub per_cluster: Vec<(usize, usize, f64)>,
    /// The most outlying documents (highest GLOSH score).
    pub outliers: Vec<OutlierDoc>,
    /// HDBSCAN cluster of every row it ran on (None: noise).
    #[serde(skip)]
    pub labels: Vec<Option<usize>>,
    /// GLOSH score of every row it ran on.
    #[serde(skip)]
    pub scores: Vec<f32>,
    /// The corpus rows it ran on, ascending (`None`: every row).
    #[serde(skip)]
    pub sample: Option<Vec<usize>>,
}

impl NoiseSummary {
    /// The corpus row of each row it ran on.
    pub fn row_of(&self) -> Vec<usize> {
        match &self.sample {
            Some(rows) => rows.clone(),
            None => (0..self.labels.len()).collect(),
        }
    }
}

/// The noise section's HDBSCAN on `n` points: `min_cluster_size` 10 (BERTopic's default; at
/// most half the points), Euclidean.
pub(super) fn noise_hdbscan(n: usize, seed: u64) -> HdbscanParams {
    Hdbscan::params()
        .min_cluster_size(10.min(n / 2).max(2))
        .metric(Metric::Euclidean)
        .seed(seed)
}

/// HDBSCAN (`min_cluster_size` 10, BERTopic's default) on the 5-D UMAP reduction (cosine, 15
/// neighbours, `min_dist` 0): the share of documents in no dense region and the most outlying,
/// and the 5-D points (for the stability check's subsamples).
pub(super) fn noise(
    corpus: &Corpus,
    data: &Embeddings,
    sample: Option<&[usize]>,
    kmeans: &[usize],
    k: usize,
    seed: u64,
    progress: &dyn Progress,
) -> Result<(NoiseSummary, Embeddings)> {
    let n = data.rows();
    let row_of = |i: usize| sample.map_or(i, |s| s[i]);
    let nn = 15.min(n - 1);
    let reduced = Umap::params()
        .n_components(5)
        .n_neighbors(nn)
        .min_dist(0.0)
        .seed(seed)
        .fit_with_progress(data, progress)?;
    let mcs = 10.min(n / 2).max(2);
    // 5-D points take the exact kd-tree Borůvka route (memory O(n), as the CLI's BERTopic
    // route).
    progress.start("HDBSCAN", 0);
    let points = reduced.points()?;
    let model = noise_hdbscan(n, seed).fit(&points)?;
    progress.finish();
    let labels = model.labels().to_vec();
    let scores = model.outlier_scores().to_vec();
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by(|&a, &b| scores[b].total_cmp(&scores[a]).then(a.cmp(&b)));
    let mut noise_in = vec![0usize; k];
    let mut size = vec![0usize; k];
    for (i, label) in labels.iter().enumerate() {
        let c = kmeans[row_of(i)];
        size[c] += 1;
        if label.is_none() {
            noise_in[c] += 1;
        }
    }
    let population = corpus.len().max(n);
    let share = Estimate::share(model.noise() as f64 / n as f64, n, population);
    let summary = NoiseSummary {
        method: format!(
            "UMAP to 5-D (cosine, n_neighbors = {nn}, min_dist = 0), then HDBSCAN (min_cluster_size = {mcs}, exact tree by kd-tree Borůvka), as BERTopic"
        ),
        min_cluster_size: mcs,
        n_clusters: model.n_clusters(),
        noise: model.noise(),
        noise_share: share.value,
        rows: n,
        noise_share_se: share.standard_error,
        per_cluster: (0..k)
            .map(|c| (c, noise_in[c], noise_in[c] as f64 / size[c].max(1) as f64))
            .collect(),
        outliers: order
            .iter()
            .take(15)
            .map(|&i| {
                let r = row_of(i);
                OutlierDoc {
                    row: r,
                    id: corpus.ids[r].clone(),
                    text: text_of(corpus, r),
                    score: scores[i],
                    cluster: kmeans[r],
                }
            })
            .collect(),
        labels,
        scores,
        sample: sample.map(<[usize]>::to_vec),
    };
    Ok((summary, points))
}
