//! linfa integration (feature `linfa`, on by default): the clustering parameter types implement
//! [`linfa::traits::Fit`] over `DatasetBase<Array2<f32>, T>`, and [`KMeansModel`] implements
//! [`linfa::traits::PredictInplace`] (so `Predict`), so embedscope's models drop into linfa
//! pipelines.
//!
//! The inherent `fit(&Embeddings)` methods share the name; call the trait explicitly:
//!
//! ```
//! use embedscope::cluster::KMeans;
//! use linfa::prelude::*;
//! use ndarray::array;
//!
//! let records = array![[1.0f32, 0.0], [0.9, 0.1], [0.0, 1.0], [0.1, 0.9]];
//! let dataset = DatasetBase::from(records.clone());
//! let model = Fit::fit(&KMeans::params(2), &dataset)?;
//! let labels: ndarray::Array1<usize> = Predict::predict(&model, &records);
//! assert_eq!(labels[0], labels[1]);
//! assert_ne!(labels[0], labels[2]);
//! # Ok::<(), embedscope::Error>(())
//! ```
//!
//! As everywhere in embedscope, rows are L2-normalised first: clusters are of directions.

use linfa::traits::{Fit, PredictInplace};
use linfa::DatasetBase;
use ndarray::{Array1, Array2, ArrayBase, Data, Ix2};

use super::{
    AgglomerativeModel, AgglomerativeParams, HdbscanModel, HdbscanParams, KMeansModel,
    KMeansParams, MiniBatchKMeansParams,
};
use crate::embeddings::Embeddings;
use crate::error::{Error, Result};

impl From<linfa::Error> for Error {
    fn from(e: linfa::Error) -> Self {
        Error::Unsupported(format!("linfa: {e}"))
    }
}

fn embeddings<S: Data<Elem = f32>>(records: &ArrayBase<S, Ix2>) -> Result<Embeddings> {
    let dim = records.ncols();
    let data: Vec<f32> = records.iter().copied().collect();
    Ok(Embeddings::new(data, dim)?)
}

impl<T> Fit<Array2<f32>, T, Error> for KMeansParams {
    type Object = KMeansModel;
    fn fit(&self, dataset: &DatasetBase<Array2<f32>, T>) -> Result<KMeansModel> {
        KMeansParams::fit(self, &embeddings(dataset.records())?)
    }
}

impl<T> Fit<Array2<f32>, T, Error> for MiniBatchKMeansParams {
    type Object = KMeansModel;
    fn fit(&self, dataset: &DatasetBase<Array2<f32>, T>) -> Result<KMeansModel> {
        MiniBatchKMeansParams::fit(self, &embeddings(dataset.records())?)
    }
}

impl<T> Fit<Array2<f32>, T, Error> for AgglomerativeParams {
    type Object = AgglomerativeModel;
    fn fit(&self, dataset: &DatasetBase<Array2<f32>, T>) -> Result<AgglomerativeModel> {
        AgglomerativeParams::fit(self, &embeddings(dataset.records())?)
    }
}

impl<T> Fit<Array2<f32>, T, Error> for HdbscanParams {
    type Object = HdbscanModel;
    fn fit(&self, dataset: &DatasetBase<Array2<f32>, T>) -> Result<HdbscanModel> {
        HdbscanParams::fit(self, &embeddings(dataset.records())?)
    }
}

impl PredictInplace<Array2<f32>, Array1<usize>> for KMeansModel {
    fn predict_inplace(&self, x: &Array2<f32>, y: &mut Array1<usize>) {
        // A record set that cannot be embeddings (NaN, zero rows, wrong width) has no nearest
        // centroid; linfa's signature has no error channel, so such rows get cluster 0 and a
        // warning is logged.
        match embeddings(x).and_then(|e| self.predict(&e)) {
            Ok(labels) => y.iter_mut().zip(labels).for_each(|(t, l)| *t = l),
            Err(e) => {
                tracing::warn!("KMeansModel::predict_inplace: {e}");
                y.fill(0);
            }
        }
    }

    fn default_target(&self, x: &Array2<f32>) -> Array1<usize> {
        Array1::zeros(x.nrows())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cluster::{Hdbscan, KMeans};
    use linfa::traits::Predict;

    fn records() -> Array2<f32> {
        let mut v = Vec::new();
        for g in 0..3 {
            for j in 0..8 {
                let mut row = [0.0f32; 3];
                row[g] = 1.0;
                row[(g + 1) % 3] = 0.02 * j as f32;
                v.extend_from_slice(&row);
            }
        }
        Array2::from_shape_vec((24, 3), v).unwrap()
    }

    #[test]
    fn linfa_fit_equals_direct_fit() {
        let x = records();
        let dataset = DatasetBase::from(x.clone());
        let via_linfa = Fit::fit(&KMeans::params(3), &dataset).unwrap();
        let direct = KMeans::params(3).fit(&embeddings(&x).unwrap()).unwrap();
        assert_eq!(via_linfa, direct);
        let predicted: Array1<usize> = Predict::predict(&via_linfa, &x);
        assert_eq!(predicted.to_vec(), direct.labels());
        let h = Fit::fit(&Hdbscan::params().min_cluster_size(4), &dataset).unwrap();
        assert_eq!(h.n_clusters(), 3);
    }
}
