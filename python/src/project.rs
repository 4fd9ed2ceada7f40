//! `Umap`: umap-learn's estimator (`fit`, `fit_transform`, `transform`, `embedding_`).

use embedscope::cluster::Metric;
use embedscope::display::Rich;
use embedscope::project::{Umap, UmapInit, UmapKnn, UmapModel, UmapParams};
use numpy::PyArray2;
use pyo3::prelude::*;

use crate::arrays::{matrix, read};
use crate::cluster::{choose, fitted, METRICS};
use crate::errors::OrRaise;
use crate::progress;

/// UMAP (umap-learn's algorithm and defaults, cosine metric): a 2-D map, or a 5-D reduction
/// for HDBSCAN. `metric="cosine"` normalises the rows; `"euclidean"` takes them as given.
#[pyclass(name = "Umap", module = "embedscope._native")]
pub struct PyUmap {
    params: UmapParams,
    metric: Metric,
    model: Option<UmapModel>,
}

#[pymethods]
impl PyUmap {
    #[new]
    #[pyo3(signature = (n_neighbors = 15, n_components = 2, *, min_dist = 0.1, spread = 1.0, metric = "cosine",
                        n_epochs = None, learning_rate = 1.0, negative_sample_rate = 5, repulsion_strength = 1.0,
                        local_connectivity = 1.0, init = "spectral", knn = "auto", random_state = 42))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        n_neighbors: usize,
        n_components: usize,
        min_dist: f64,
        spread: f64,
        metric: &str,
        n_epochs: Option<usize>,
        learning_rate: f64,
        negative_sample_rate: usize,
        repulsion_strength: f64,
        local_connectivity: f64,
        init: &str,
        knn: &str,
        random_state: u64,
    ) -> PyResult<Self> {
        let metric = choose("metric", metric, &METRICS)?;
        let init = choose(
            "init",
            init,
            &[
                ("spectral", UmapInit::Spectral),
                ("pca", UmapInit::Pca),
                ("random", UmapInit::Random),
            ],
        )?;
        let knn = choose(
            "knn",
            knn,
            &[
                ("auto", UmapKnn::Auto),
                ("exact", UmapKnn::Exact),
                ("nn-descent", UmapKnn::NnDescent),
            ],
        )?;
        let mut params = Umap::params()
            .n_neighbors(n_neighbors)
            .n_components(n_components)
            .min_dist(min_dist)
            .spread(spread)
            .metric(metric)
            .learning_rate(learning_rate)
            .negative_sample_rate(negative_sample_rate)
            .repulsion_strength(repulsion_strength)
            .local_connectivity(local_connectivity)
            .init(init)
            .knn(knn)
            .seed(random_state);
        if let Some(n) = n_epochs {
            params = params.n_epochs(n);
        }
        params.check().or_raise()?;
        Ok(PyUmap {
            params,
            metric,
            model: None,
        })
    }

    /// Fits on `X`; returns the estimator. `progress(stage, done, total)` is called as it goes.
    #[pyo3(signature = (x, y = None, *, progress = None))]
    fn fit<'py>(
        mut slf: PyRefMut<'py, Self>,
        x: &Bound<'py, PyAny>,
        y: Option<&Bound<'py, PyAny>>,
        progress: Option<Py<PyAny>>,
    ) -> PyResult<PyRefMut<'py, Self>> {
        let _ = y;
        let data = read(x, "X", slf.metric == Metric::Cosine)?;
        let params = slf.params.clone();
        let sink = progress::sink(progress);
        let model = slf
            .py()
            .detach(|| params.fit_with_progress(&data, sink.as_ref()))
            .or_raise()?;
        slf.model = Some(model);
        Ok(slf)
    }

    /// Fits on `X` and returns the embedding (rows x n_components).
    #[pyo3(signature = (x, y = None, *, progress = None))]
    fn fit_transform<'py>(
        slf: PyRefMut<'py, Self>,
        x: &Bound<'py, PyAny>,
        y: Option<&Bound<'py, PyAny>>,
        progress: Option<Py<PyAny>>,
    ) -> PyResult<Bound<'py, PyArray2<f32>>> {
        let slf = Self::fit(slf, x, y, progress)?;
        slf.embedding_(slf.py())
    }

    /// Places new rows into the fitted embedding.
    fn transform<'py>(
        &self,
        py: Python<'py>,
        x: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyArray2<f32>>> {
        let model = fitted(&self.model, "Umap")?;
        let data = read(x, "X", self.metric == Metric::Cosine)?;
        let rows = data.rows();
        let out = py.detach(|| model.transform(&data)).or_raise()?;
        matrix(py, out, rows, model.n_components())
    }

    /// The embedding of the training rows (rows x n_components).
    #[getter]
    fn embedding_<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyArray2<f32>>> {
        let m = fitted(&self.model, "Umap")?;
        matrix(py, m.embedding().to_vec(), m.rows(), m.n_components())
    }

    fn __repr__(&self) -> String {
        format!("Umap(n_components={})", self.params.get_n_components())
    }

    fn _repr_html_(&self) -> String {
        self.model
            .as_ref()
            .map_or_else(|| self.__repr__(), |m| m.to_html())
    }
}
