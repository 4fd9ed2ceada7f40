//! PCA by randomised SVD (Halko, Martinsson & Tropp 2011; scikit-learn's
//! `PCA(svd_solver="randomized")`): a Gaussian sketch of the centred data, a few power
//! iterations with QR re-orthonormalisation, then an exact SVD of the small projected matrix.
//! The data are never centred in memory: the mean is folded into each product as a rank-1
//! correction.

use faer::linalg::matmul::matmul;
use faer::{Accum, Mat, MatRef, Par};

use crate::embeddings::Embeddings;
use crate::error::{Error, Result};
use crate::rng::{gaussian, Rng};

/// Parameters of [`Pca`]; build with [`Pca::params`].
#[derive(Debug, Clone, PartialEq)]
pub struct PcaParams {
    n_components: usize,
    n_oversamples: usize,
    n_iter: Option<usize>,
    seed: u64,
}

/// Principal component analysis by randomised SVD.
#[derive(Debug, Clone, Copy)]
pub struct Pca;

impl Pca {
    /// Parameters for `n_components` components (scikit-learn `PCA(n_components)`).
    pub fn params(n_components: usize) -> PcaParams {
        PcaParams {
            n_components,
            n_oversamples: 10,
            n_iter: None,
            seed: 42,
        }
    }
}

impl PcaParams {
    /// Extra sketch columns beyond `n_components` (default 10, as scikit-learn's
    /// `n_oversamples`).
    pub fn n_oversamples(mut self, n: usize) -> Self {
        self.n_oversamples = n;
        self
    }

    /// Power iterations (default: 7 when `n_components` is below 10% of the smaller side of the
    /// matrix, else 4, as scikit-learn's `iterated_power="auto"`).
    pub fn n_iter(mut self, n: usize) -> Self {
        self.n_iter = Some(n);
        self
    }

    /// Seed of the random sketch (default 42, scikit-learn's `random_state`).
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    /// Validates the parameters.
    pub fn check(&self) -> Result<()> {
        if self.n_components == 0 {
            return Err(Error::InvalidParameter {
                name: "n_components",
                value: "0".into(),
                reason: "must be at least 1".into(),
            });
        }
        Ok(())
    }

    /// Fits the components of `data` (rows as given: embeddings are already L2-normalised).
    pub fn fit(&self, data: &Embeddings) -> Result<PcaModel> {
        self.check()?;
        let (n, d) = (data.rows(), data.dim());
        if self.n_components > n.min(d) {
            return Err(Error::InvalidParameter {
                name: "n_components",
                value: self.n_components.to_string(),
                reason: format!("must be at most min(rows, dimensions) = {}", n.min(d)),
            });
        }
        let xs = data.as_f32();
        let x = MatRef::from_row_major_slice(&xs, n, d);
        let mut mean = vec![0.0f64; d];
        for i in 0..n {
            for (m, &v) in mean.iter_mut().zip(data.row(i).iter()) {
                *m += v as f64;
            }
        }
        mean.iter_mut().for_each(|m| *m /= n as f64);
        let mut total_var = 0.0f64;
        for i in 0..n {
            for (m, &v) in mean.iter().zip(data.row(i).iter()) {
                total_var += (v as f64 - m).powi(2);
            }
        }
        total_var /= (n.max(2) - 1) as f64;
        let mean32: Vec<f32> = mean.iter().map(|&m| m as f32).collect();
        let mu = MatRef::from_column_major_slice(&mean32, d, 1);

        let l = (self.n_components + self.n_oversamples).min(n.min(d));
        let n_iter = self
            .n_iter
            .unwrap_or(if (self.n_components as f64) < 0.1 * n.min(d) as f64 {
                7
            } else {
                4
            });
        let mut rng = Rng::new(self.seed, 0x9ca);
        let omega = Mat::<f32>::from_fn(d, l, |_, _| gaussian(&mut rng) as f32);
        // Y = Xc·Ω, Q = orth(Y); then (Z = Xcᵀ·Q, Q = orth(Xc·orth(Z))) n_iter times.
        let mut q = orth(&centred_times(x, mu, omega.as_ref()));
        for _ in 0..n_iter {
            let z = orth(&centred_t_times(x, mu, q.as_ref()));
            q = orth(&centred_times(x, mu, z.as_ref()));
        }
        // B = Qᵀ·Xc (l x d), in f64 for the small SVD.
        let bt = centred_t_times(x, mu, q.as_ref()); // d x l = Bᵀ
        let b = Mat::<f64>::from_fn(l, d, |i, j| bt[(j, i)] as f64);
        let svd = b.thin_svd().map_err(|e| Error::Numerical {
            stage: "PCA",
            message: format!("the SVD did not converge: {e:?}"),
        })?;
        let (s, v) = (svd.S(), svd.V());
        let k = self.n_components;
        let mut components = vec![0.0f32; k * d];
        for c in 0..k {
            // Sign fixed as scikit-learn's svd_flip(u_based_decision=False): the largest
            // absolute loading of each component positive.
            let big = (0..d).fold(0.0f64, |m, j| {
                if v[(j, c)].abs() > m.abs() {
                    v[(j, c)]
                } else {
                    m
                }
            });
            let sign = if big < 0.0 { -1.0 } else { 1.0 };
            for j in 0..d {
                components[c * d + j] = (sign * v[(j, c)]) as f32;
            }
        }
        let singular_values: Vec<f64> = (0..k).map(|c| s[c]).collect();
        let explained_variance: Vec<f64> = singular_values
            .iter()
            .map(|sv| sv * sv / (n.max(2) - 1) as f64)
            .collect();
        let explained_variance_ratio = explained_variance
            .iter()
            .map(|v| if total_var > 0.0 { v / total_var } else { 0.0 })
            .collect();
        Ok(PcaModel {
            dim: d,
            mean: mean32,
            components,
            singular_values,
            explained_variance,
            explained_variance_ratio,
        })
    }
}

/// A fitted PCA.
#[derive(Debug, Clone, PartialEq)]
pub struct PcaModel {
    dim: usize,
    mean: Vec<f32>,
    components: Vec<f32>,
    singular_values: Vec<f64>,
    explained_variance: Vec<f64>,
    explained_variance_ratio: Vec<f64>,
}

impl PcaModel {
    /// Number of components.
    pub fn n_components(&self) -> usize {
        self.singular_values.len()
    }

    /// The components, `n_components x dim` row-major, unit length.
    pub fn components(&self) -> &[f32] {
        &self.components
    }

    /// The column means removed before projecting.
    pub fn mean(&self) -> &[f32] {
        &self.mean
    }

    /// Singular values of the centred data.
    pub fn singular_values(&self) -> &[f64] {
        &self.singular_values
    }

    /// Variance along each component (`s² / (n - 1)`).
    pub fn explained_variance(&self) -> &[f64] {
        &self.explained_variance
    }

    /// Share of the total variance along each component.
    pub fn explained_variance_ratio(&self) -> &[f64] {
        &self.explained_variance_ratio
    }

    /// Projects rows onto the components: `rows x n_components` row-major.
    pub fn transform(&self, data: &Embeddings) -> Result<Vec<f32>> {
        if data.dim() != self.dim {
            return Err(Error::InvalidParameter {
                name: "data",
                value: format!("{} dimensions", data.dim()),
                reason: format!("the PCA was fitted on {} dimensions", self.dim),
            });
        }
        let k = self.n_components();
        let mut out = vec![0.0f32; data.rows() * k];
        let mut centred = vec![0.0f32; self.dim];
        for (i, o) in out.chunks_mut(k).enumerate() {
            for ((c, &v), &m) in centred.iter_mut().zip(data.row(i).iter()).zip(&self.mean) {
                *c = v - m;
            }
            for (c, oc) in o.iter_mut().enumerate() {
                let comp = &self.components[c * self.dim..(c + 1) * self.dim];
                *oc = comp.iter().zip(&centred).map(|(a, b)| a * b).sum();
            }
        }
        Ok(out)
    }
}

/// `(X - 1μᵀ)·B` for `B` (`d x l`).
fn centred_times(x: MatRef<'_, f32>, mu: MatRef<'_, f32>, b: MatRef<'_, f32>) -> Mat<f32> {
    let mut y = Mat::<f32>::zeros(x.nrows(), b.ncols());
    matmul(y.as_mut(), Accum::Replace, x, b, 1.0, Par::rayon(0));
    let mut mb = Mat::<f32>::zeros(1, b.ncols());
    matmul(
        mb.as_mut(),
        Accum::Replace,
        mu.transpose(),
        b,
        1.0,
        Par::Seq,
    );
    for j in 0..b.ncols() {
        let c = mb[(0, j)];
        for i in 0..x.nrows() {
            y[(i, j)] -= c;
        }
    }
    y
}

/// `(X - 1μᵀ)ᵀ·Q` for `Q` (`n x l`).
fn centred_t_times(x: MatRef<'_, f32>, mu: MatRef<'_, f32>, q: MatRef<'_, f32>) -> Mat<f32> {
    let mut z = Mat::<f32>::zeros(x.ncols(), q.ncols());
    matmul(
        z.as_mut(),
        Accum::Replace,
        x.transpose(),
        q,
        1.0,
        Par::rayon(0),
    );
    for j in 0..q.ncols() {
        let col_sum: f32 = (0..q.nrows()).map(|i| q[(i, j)]).sum();
        for t in 0..x.ncols() {
            z[(t, j)] -= mu[(t, 0)] * col_sum;
        }
    }
    z
}

/// An orthonormal basis of the columns (thin QR).
fn orth(y: &Mat<f32>) -> Mat<f32> {
    y.qr().compute_thin_Q()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recovers_the_axes_of_an_elongated_cloud() {
        // Points along (1, 1, 0, ...) with spread 3, along (1, -1, 0, ...) with spread 1,
        // small noise elsewhere; offset so rows normalise without degeneracy.
        let d = 8;
        let mut rng = Rng::new(1, 2);
        let mut x = Vec::new();
        for _ in 0..500 {
            let (s, t) = (3.0 * gaussian(&mut rng), gaussian(&mut rng));
            let mut row = vec![0.0f32; d];
            row[0] = (s + t) as f32 + 20.0;
            row[1] = (s - t) as f32;
            for v in row.iter_mut().skip(2) {
                *v = 0.01 * gaussian(&mut rng) as f32;
            }
            x.extend(row);
        }
        // Embeddings normalise rows: with row[0] ~ 20 the cloud stays elongated along
        // the same two axes after normalisation.
        let data = Embeddings::new(x, d).unwrap();
        let m = Pca::params(2).fit(&data).unwrap();
        let ratio = m.explained_variance_ratio();
        assert!(
            ratio[0] > ratio[1] && ratio[0] + ratio[1] > 0.99,
            "{ratio:?}"
        );
        // Exact check against the dense covariance eigenvectors.
        let (n, dd) = (data.rows(), data.dim());
        let mean: Vec<f64> = (0..dd)
            .map(|j| (0..n).map(|i| data.row(i)[j] as f64).sum::<f64>() / n as f64)
            .collect();
        let cov = Mat::<f64>::from_fn(dd, dd, |a, b| {
            (0..n)
                .map(|i| (data.row(i)[a] as f64 - mean[a]) * (data.row(i)[b] as f64 - mean[b]))
                .sum::<f64>()
                / (n - 1) as f64
        });
        let eig = cov.self_adjoint_eigen(faer::Side::Lower).unwrap();
        for c in 0..2 {
            let e = dd - 1 - c;
            let cos: f64 = (0..dd)
                .map(|j| m.components()[c * dd + j] as f64 * eig.U()[(j, e)])
                .sum();
            assert!(cos.abs() > 0.9999, "component {c}: {cos}");
            let rel = (m.explained_variance()[c] - eig.S()[e]).abs() / eig.S()[e];
            assert!(rel < 1e-3, "variance {c}: {rel}");
        }
        let y = m.transform(&data).unwrap();
        assert_eq!(y.len(), 1000);
    }
}
