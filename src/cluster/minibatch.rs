//! Mini-Batch K-Means (Sculley 2010), as scikit-learn's `MiniBatchKMeans`: k-means++ on an
//! initial sample, then per batch an assignment through the kernel and a per-centre learning
//! rate of 1/count; low-count centres are reassigned to batch points; training stops when the
//! smoothed batch inertia has not improved for `max_no_improvement` batches.
//!
//! [`MiniBatchKMeansModel::partial_fit`] takes one batch at a time, so data larger than memory
//! (Parquet record batches) can be clustered in a stream.

use super::kmeans::{kmeans_plus_plus, KMeansModel};
use crate::embeddings::Embeddings;
use crate::error::{Error, Result};
use crate::kernel::nearest;
use crate::linalg::row_sq_norms;
use crate::rng::Rng;

/// Mini-Batch K-Means parameters. Defaults follow scikit-learn.
#[derive(Debug, Clone, PartialEq)]
pub struct MiniBatchKMeansParams {
    n_clusters: usize,
    batch_size: usize,
    max_iter: usize,
    max_no_improvement: usize,
    reassignment_ratio: f64,
    seed: u64,
}

/// Entry point: `MiniBatchKMeans::params(n_clusters)`.
#[derive(Debug, Clone, Copy)]
pub struct MiniBatchKMeans;

impl MiniBatchKMeans {
    /// Parameters for `n_clusters` clusters.
    pub fn params(n_clusters: usize) -> MiniBatchKMeansParams {
        MiniBatchKMeansParams {
            n_clusters,
            batch_size: 1024,
            max_iter: 100,
            max_no_improvement: 10,
            reassignment_ratio: 0.01,
            seed: 42,
        }
    }
}

impl MiniBatchKMeansParams {
    /// Rows per batch. Default 1024 (scikit-learn `batch_size`).
    pub fn batch_size(mut self, b: usize) -> Self {
        self.batch_size = b;
        self
    }
    /// Passes over the data at most. Default 100 (scikit-learn `max_iter`).
    pub fn max_iter(mut self, m: usize) -> Self {
        self.max_iter = m;
        self
    }
    /// Stop after this many batches without improvement of the smoothed inertia. Default 10
    /// (scikit-learn `max_no_improvement`).
    pub fn max_no_improvement(mut self, m: usize) -> Self {
        self.max_no_improvement = m;
        self
    }
    /// Centres whose count is below this share of the largest count are moved to batch
    /// points. Default 0.01 (scikit-learn `reassignment_ratio`).
    pub fn reassignment_ratio(mut self, r: f64) -> Self {
        self.reassignment_ratio = r;
        self
    }
    /// Seed. Default 42.
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    /// Validates the parameters.
    pub fn check(&self) -> Result<()> {
        if self.n_clusters == 0 {
            return Err(Error::param("k", self.n_clusters, "must be at least 1"));
        }
        if self.batch_size == 0 {
            return Err(Error::param(
                "batch_size",
                self.batch_size,
                "must be at least 1",
            ));
        }
        if self.max_iter == 0 {
            return Err(Error::param(
                "max_iter",
                self.max_iter,
                "must be at least 1",
            ));
        }
        if !(0.0..=1.0).contains(&self.reassignment_ratio) {
            return Err(Error::param(
                "reassignment_ratio",
                self.reassignment_ratio,
                "must be in [0, 1]",
            ));
        }
        Ok(())
    }

    /// Fits on data in memory: batches drawn at random (with replacement, as scikit-learn),
    /// then a final full assignment.
    pub fn fit(&self, data: &Embeddings) -> Result<KMeansModel> {
        self.check()?;
        let (n, d) = (data.rows(), data.dim());
        if self.n_clusters > n {
            return Err(Error::param(
                "k",
                self.n_clusters,
                format!("is more than the {n} rows to cluster"),
            ));
        }
        let mut rng = Rng::new(self.seed, 0x3b);
        let init_size = (3 * self.batch_size).max(3 * self.n_clusters).min(n);
        let init_rows = rng.sample(n, init_size);
        let mut model = MiniBatchKMeansModel::start(self.clone(), &data.select(&init_rows))?;
        let steps = (self.max_iter * n).div_ceil(self.batch_size);
        model.smoothing = (2.0 * self.batch_size as f64 / (n as f64 + 1.0)).min(1.0);
        let mut batch = Vec::with_capacity(self.batch_size * d);
        for _ in 0..steps {
            batch.clear();
            for _ in 0..self.batch_size.min(n) {
                let r = rng.below(n);
                batch.extend_from_slice(&data.row(r));
            }
            model.step(&batch, d, &mut rng);
            if model.converged() {
                break;
            }
        }
        Ok(model.finish(data))
    }
}

impl MiniBatchKMeansParams {
    /// Trains on a stream of row batches (for example [`crate::io::vector_batches`] over a
    /// Parquet file larger than memory): `open()` starts a pass over the data; passes repeat,
    /// each chunk's rows shuffled and fed `batch_size` at a time, until the smoothed inertia
    /// stops improving or `max_iter` passes are done. `rows` is the stream's total length.
    pub fn fit_stream<I, F>(&self, mut open: F, rows: usize) -> Result<MiniBatchKMeansModel>
    where
        F: FnMut() -> Result<I>,
        I: Iterator<Item = Result<Embeddings>>,
    {
        self.check()?;
        let mut model: Option<MiniBatchKMeansModel> = None;
        let mut rng = Rng::new(self.seed, 0x57);
        'passes: for _ in 0..self.max_iter {
            for chunk in open()? {
                let chunk = chunk?;
                let mut order: Vec<usize> = (0..chunk.rows()).collect();
                for i in (1..order.len()).rev() {
                    order.swap(i, rng.below(i + 1));
                }
                for rows_of in order.chunks(self.batch_size) {
                    let batch = chunk.select(rows_of);
                    let m = match model.take() {
                        None => {
                            let mut m = MiniBatchKMeansModel::start(self.clone(), &batch)?;
                            m.expect_rows(rows);
                            m
                        }
                        Some(m) => m,
                    };
                    let next = MiniBatchKMeansModel::partial_fit(Some(m), self, &batch)?;
                    let done = next.converged();
                    model = Some(next);
                    if done {
                        break 'passes;
                    }
                }
            }
        }
        model.ok_or_else(|| Error::param("rows", 0, "the stream had no rows"))
    }
}

/// Every row of a stream assigned: [`MiniBatchKMeansModel::assign_stream`].
#[derive(Debug, Clone, PartialEq)]
pub struct StreamAssignment {
    /// Cluster of each row, numbered by size (0 = largest).
    pub labels: Vec<usize>,
    /// Rows per non-empty cluster, largest first.
    pub sizes: Vec<usize>,
    /// Sum of squared distances to the assigned centres.
    pub inertia: f64,
}

/// A Mini-Batch K-Means being trained.
#[derive(Debug, Clone)]
pub struct MiniBatchKMeansModel {
    params: MiniBatchKMeansParams,
    dim: usize,
    centers: Vec<f32>,
    counts: Vec<f64>,
    steps: usize,
    rng: Rng,
    /// Weight of a new batch in the smoothed inertia (scikit-learn: `2 * batch / (n + 1)`).
    smoothing: f64,
    smoothed: Option<f64>,
    best: f64,
    no_improvement: usize,
}

impl MiniBatchKMeansModel {
    /// Initialises the centres with k-means++ on `first` (at least `k` rows).
    pub fn start(params: MiniBatchKMeansParams, first: &Embeddings) -> Result<Self> {
        params.check()?;
        let (n, d, k) = (first.rows(), first.dim(), params.n_clusters);
        if k > n {
            return Err(Error::param(
                "k",
                k,
                format!("needs a first batch of at least k rows, got {n}"),
            ));
        }
        let mut rng = Rng::new(params.seed, 0x5eed);
        let x = first.as_f32();
        let centers = kmeans_plus_plus(&x, &row_sq_norms(&x, d), d, k, &mut rng);
        Ok(MiniBatchKMeansModel {
            params,
            dim: d,
            centers,
            counts: vec![0.0; k],
            steps: 0,
            rng,
            smoothing: 0.01,
            smoothed: None,
            best: f64::INFINITY,
            no_improvement: 0,
        })
    }

    /// Trains on one batch (rows are normalised by [`Embeddings`]); the first call initialises.
    pub fn partial_fit(
        model: Option<Self>,
        params: &MiniBatchKMeansParams,
        batch: &Embeddings,
    ) -> Result<Self> {
        let mut m = match model {
            Some(m) => m,
            None => Self::start(params.clone(), batch)?,
        };
        if batch.dim() != m.dim {
            return Err(Error::param(
                "dim",
                batch.dim(),
                format!("the model has {} dimensions", m.dim),
            ));
        }
        let mut rng = m.rng.clone();
        m.step(&batch.as_f32(), batch.dim(), &mut rng);
        m.rng = rng;
        Ok(m)
    }

    /// Whether the smoothed batch inertia has not improved for `max_no_improvement` batches
    /// (scikit-learn's stopping rule); streaming callers stop feeding batches then.
    pub fn converged(&self) -> bool {
        self.no_improvement >= self.params.max_no_improvement
    }

    /// Sets the weight of each new batch in the smoothed inertia, for a stream of `rows`
    /// rows in total (scikit-learn: `2 * batch_size / (rows + 1)`).
    pub fn expect_rows(&mut self, rows: usize) {
        self.smoothing = (2.0 * self.params.batch_size as f64 / (rows as f64 + 1.0)).min(1.0);
    }

    /// One mini-batch update; returns the batch's inertia against the centres before the update.
    fn step(&mut self, batch: &[f32], d: usize, rng: &mut Rng) -> f64 {
        let k = self.centers.len() / d;
        let b_sq = row_sq_norms(batch, d);
        let (labels, dists) = nearest(
            batch,
            &b_sq,
            &self.centers,
            &row_sq_norms(&self.centers, d),
            d,
        );
        let mut sums = vec![0.0f64; k * d];
        let mut weights = vec![0.0f64; k];
        for (i, &c) in labels.iter().enumerate() {
            weights[c] += 1.0;
            for (s, v) in sums[c * d..(c + 1) * d]
                .iter_mut()
                .zip(&batch[i * d..(i + 1) * d])
            {
                *s += f64::from(*v);
            }
        }
        for c in 0..k {
            if weights[c] == 0.0 {
                continue;
            }
            let old = self.counts[c];
            let total = old + weights[c];
            for t in 0..d {
                let v = (f64::from(self.centers[c * d + t]) * old + sums[c * d + t]) / total;
                self.centers[c * d + t] = v as f32;
            }
            self.counts[c] = total;
        }
        self.steps += 1;
        // Every 10 + min(count) steps, as scikit-learn: centres that almost nobody picks move
        // to random batch points.
        let min_count = self.counts.iter().cloned().fold(f64::INFINITY, f64::min);
        let every = 10 + min_count as usize;
        if self.params.reassignment_ratio > 0.0 && self.steps.is_multiple_of(every) {
            let max_count = self.counts.iter().cloned().fold(0.0, f64::max);
            let low: Vec<usize> = (0..k)
                .filter(|&c| self.counts[c] < self.params.reassignment_ratio * max_count)
                .collect();
            let n_batch = labels.len();
            let low = &low[..low.len().min(n_batch / 2)];
            if !low.is_empty() {
                let keep_min = (0..k)
                    .filter(|c| !low.contains(c))
                    .map(|c| self.counts[c])
                    .fold(f64::INFINITY, f64::min);
                let picks = rng.sample(n_batch, low.len());
                for (&c, &r) in low.iter().zip(&picks) {
                    self.centers[c * d..(c + 1) * d].copy_from_slice(&batch[r * d..(r + 1) * d]);
                    self.counts[c] = if keep_min.is_finite() { keep_min } else { 1.0 };
                }
            }
        }
        let inertia: f64 = dists.iter().map(|&v| f64::from(v)).sum();
        let per_row = inertia / labels.len().max(1) as f64;
        let smoothed = match self.smoothed {
            None => per_row,
            Some(e) => e * (1.0 - self.smoothing) + per_row * self.smoothing,
        };
        self.smoothed = Some(smoothed);
        if smoothed < self.best {
            self.best = smoothed;
            self.no_improvement = 0;
        } else {
            self.no_improvement += 1;
        }
        inertia
    }

    /// Labels of a batch of rows (nearest centre) and their summed squared distances.
    pub fn predict(&self, batch: &Embeddings) -> (Vec<usize>, f64) {
        let d = self.dim;
        let x = batch.as_f32();
        let (labels, dists) = nearest(
            &*x,
            &row_sq_norms(&x, d),
            &self.centers,
            &row_sq_norms(&self.centers, d),
            d,
        );
        (labels, dists.iter().map(|&v| f64::from(v)).sum())
    }

    /// Assigns every row of a stream of batches (one more pass, as [`Self::predict`]) and
    /// numbers the clusters by size, largest first, as every clustering does; empty clusters
    /// are left out of `sizes`.
    pub fn assign_stream<I>(&self, batches: I) -> Result<StreamAssignment>
    where
        I: IntoIterator<Item = Result<Embeddings>>,
    {
        let mut raw = Vec::new();
        let mut inertia = 0.0;
        for batch in batches {
            let (labels, sum) = self.predict(&batch?);
            raw.extend(labels);
            inertia += sum;
        }
        let mut counts = vec![0usize; self.n_clusters()];
        raw.iter().for_each(|&l| counts[l] += 1);
        let (order, rank) = super::rank_by_size(&counts);
        Ok(StreamAssignment {
            labels: raw.iter().map(|&l| rank[l]).collect(),
            sizes: order
                .iter()
                .map(|&c| counts[c])
                .filter(|&size| size > 0)
                .collect(),
            inertia,
        })
    }

    /// Number of centres.
    pub fn n_clusters(&self) -> usize {
        self.counts.len()
    }

    /// The centres so far, `k x dim`.
    pub fn centers(&self) -> &[f32] {
        &self.centers
    }

    /// Assigns every row of `data` to its nearest centre and returns the fitted model.
    pub fn finish(&self, data: &Embeddings) -> KMeansModel {
        let d = self.dim;
        let x = data.as_f32();
        let (labels, _) = nearest(
            &*x,
            &row_sq_norms(&x, d),
            &self.centers,
            &row_sq_norms(&self.centers, d),
            d,
        );
        KMeansModel::from_parts(&x, d, self.centers.clone(), labels, self.steps)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cluster::KMeans;

    fn cloud(n: usize, d: usize, groups: usize) -> Embeddings {
        let mut rng = Rng::new(5, 0);
        let centres: Vec<f32> = (0..groups * d)
            .map(|_| rng.next_f64() as f32 - 0.5)
            .collect();
        let v: Vec<f32> = (0..n * d)
            .map(|i| centres[(i / d % groups) * d + i % d] + 0.3 * (rng.next_f64() as f32 - 0.5))
            .collect();
        Embeddings::new(v, d).unwrap()
    }

    #[test]
    fn close_to_full_kmeans() {
        let e = cloud(4000, 16, 8);
        let full = KMeans::params(8).n_init(3).fit(&e).unwrap();
        let mb = MiniBatchKMeans::params(8).batch_size(256).fit(&e).unwrap();
        assert!(
            mb.inertia() <= full.inertia() * 1.02,
            "{} vs {}",
            mb.inertia(),
            full.inertia()
        );
        assert_eq!(mb.labels().len(), 4000);
    }

    #[test]
    fn partial_fit_streams_batches() {
        let e = cloud(3000, 8, 4);
        let params = MiniBatchKMeans::params(4).batch_size(500);
        let mut model = None;
        for _ in 0..5 {
            for start in (0..3000).step_by(500) {
                let rows: Vec<usize> = (start..start + 500).collect();
                model = Some(
                    MiniBatchKMeansModel::partial_fit(model, &params, &e.select(&rows)).unwrap(),
                );
            }
        }
        let fitted = model.unwrap().finish(&e);
        let full = KMeans::params(4).n_init(3).fit(&e).unwrap();
        assert!(
            fitted.inertia() <= full.inertia() * 1.02,
            "{} vs {}",
            fitted.inertia(),
            full.inertia()
        );
    }

    #[test]
    fn fit_stream_over_chunks() {
        let e = cloud(3000, 8, 4);
        let params = MiniBatchKMeans::params(4).batch_size(200);
        let open = || -> Result<std::vec::IntoIter<Result<Embeddings>>> {
            Ok((0..3)
                .map(|c| Ok(e.select(&(c * 1000..(c + 1) * 1000).collect::<Vec<_>>())))
                .collect::<Vec<_>>()
                .into_iter())
        };
        let model = params.fit_stream(open, 3000).unwrap();
        let (labels, inertia) = model.predict(&e);
        assert_eq!(labels.len(), 3000);
        let full = KMeans::params(4).n_init(3).fit(&e).unwrap();
        assert!(
            inertia <= full.inertia() * 1.02,
            "{inertia} vs {}",
            full.inertia()
        );
    }

    #[test]
    fn parameters_are_checked() {
        let rule = |p: MiniBatchKMeansParams| crate::error::Error::rule(p.check());
        assert_eq!(rule(MiniBatchKMeans::params(0)), "k");
        assert_eq!(rule(MiniBatchKMeans::params(2).batch_size(0)), "batch_size");
        assert_eq!(rule(MiniBatchKMeans::params(2).max_iter(0)), "max_iter");
        assert_eq!(
            rule(MiniBatchKMeans::params(2).reassignment_ratio(2.0)),
            "reassignment_ratio"
        );
        let tiny = cloud(3, 4, 1);
        assert_eq!(
            crate::error::Error::rule(MiniBatchKMeans::params(5).fit(&tiny)),
            "k"
        );
    }
}
