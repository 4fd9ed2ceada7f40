//! `KMeans`, `Hdbscan` and `KSweep`: scikit-learn's estimator shape (`fit` returns the
//! estimator, results in trailing-underscore attributes) over the core's params -> check ->
//! fit -> model. Parameters are checked when the estimator is made, before any data is read.

use embedscope::cluster::{
    Hdbscan, HdbscanModel, HdbscanParams, KMeans, KMeansAlgorithm, KMeansInit, KMeansModel,
    KMeansParams, KSweep, KSweepParams, Metric, Selection,
};
use embedscope::display::Rich;
use numpy::{PyArray1, PyArray2};
use pyo3::exceptions::PyAttributeError;
use pyo3::prelude::*;
use pyo3::types::PyDict;

use crate::arrays::{labels, matrix, read, vector};
use crate::errors::{invalid, OrRaise};
use crate::progress;

/// The fitted model, or the error scikit-learn users expect before `fit`.
pub fn fitted<'a, T>(model: &'a Option<T>, name: &str) -> PyResult<&'a T> {
    model.as_ref().ok_or_else(|| {
        PyAttributeError::new_err(format!("this {name} is not fitted yet; call fit(X) first"))
    })
}

/// One of `choices` by its name, else an error naming the parameter and value.
pub fn choose<T: Copy>(parameter: &str, value: &str, choices: &[(&str, T)]) -> PyResult<T> {
    choices
        .iter()
        .find(|(n, _)| *n == value)
        .map(|(_, v)| *v)
        .ok_or_else(|| {
            let names: Vec<&str> = choices.iter().map(|(n, _)| *n).collect();
            invalid(format!(
                "invalid parameter `{parameter}` = {value:?}: expected one of {}",
                names.join(", ")
            ))
        })
}

/// The metrics by name.
pub const METRICS: [(&str, Metric); 2] =
    [("euclidean", Metric::Euclidean), ("cosine", Metric::Cosine)];

/// K-Means (scikit-learn's `KMeans`): greedy k-means++, `n_init` restarts, Hamerly's exact
/// acceleration. Rows are L2-normalised first, as every embedscope stage.
#[pyclass(name = "KMeans", module = "embedscope._native")]
pub struct PyKMeans {
    params: KMeansParams,
    model: Option<KMeansModel>,
}

#[pymethods]
impl PyKMeans {
    #[new]
    #[pyo3(signature = (n_clusters = 8, *, n_init = 10, max_iter = 300, tol = 1e-4, random_state = 42,
                        init = "k-means++", algorithm = "hamerly", spherical = false, train_per_cluster = None))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        n_clusters: usize,
        n_init: usize,
        max_iter: usize,
        tol: f64,
        random_state: u64,
        init: &str,
        algorithm: &str,
        spherical: bool,
        train_per_cluster: Option<usize>,
    ) -> PyResult<Self> {
        let init = choose(
            "init",
            init,
            &[
                ("k-means++", KMeansInit::KMeansPlusPlus),
                ("random", KMeansInit::Random),
            ],
        )?;
        let algorithm = choose(
            "algorithm",
            algorithm,
            &[
                ("hamerly", KMeansAlgorithm::Hamerly),
                ("lloyd", KMeansAlgorithm::Lloyd),
            ],
        )?;
        let params = KMeans::params(n_clusters)
            .n_init(n_init)
            .max_iter(max_iter)
            .tol(tol)
            .seed(random_state)
            .init(init)
            .algorithm(algorithm)
            .spherical(spherical)
            .train_per_cluster(train_per_cluster);
        params.check().or_raise()?;
        Ok(PyKMeans {
            params,
            model: None,
        })
    }

    /// Fits on `X` (rows x dimensions, or an `Embeddings`); returns the estimator.
    #[pyo3(signature = (x, y = None))]
    fn fit<'py>(
        mut slf: PyRefMut<'py, Self>,
        x: &Bound<'py, PyAny>,
        y: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<PyRefMut<'py, Self>> {
        let _ = y;
        let data = read(x, "X", true)?;
        let params = slf.params.clone();
        let model = slf.py().detach(|| params.fit(&data)).or_raise()?;
        slf.model = Some(model);
        Ok(slf)
    }

    /// Fits on `X` and returns the labels.
    #[pyo3(signature = (x, y = None))]
    fn fit_predict<'py>(
        slf: PyRefMut<'py, Self>,
        x: &Bound<'py, PyAny>,
        y: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyArray1<i64>>> {
        let slf = Self::fit(slf, x, y)?;
        slf.labels_(slf.py())
    }

    /// The nearest centroid of each row of `X`.
    fn predict<'py>(
        &self,
        py: Python<'py>,
        x: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyArray1<i64>>> {
        let model = fitted(&self.model, "KMeans")?;
        let data = read(x, "X", true)?;
        let out = py.detach(|| model.predict(&data)).or_raise()?;
        Ok(labels(py, out.into_iter().map(Some)))
    }

    /// Cluster of each training row (ids ordered by size, largest first).
    #[getter]
    fn labels_<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyArray1<i64>>> {
        let m = fitted(&self.model, "KMeans")?;
        Ok(labels(py, m.labels().iter().map(|&l| Some(l))))
    }

    /// Centroids (n_clusters x dimensions).
    #[getter]
    fn cluster_centers_<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyArray2<f32>>> {
        let m = fitted(&self.model, "KMeans")?;
        let dim = m.centroids().len() / m.n_clusters().max(1);
        matrix(py, m.centroids().to_vec(), m.n_clusters(), dim)
    }

    /// Sum of squared distances of the rows to their centroids.
    #[getter]
    fn inertia_(&self) -> PyResult<f64> {
        Ok(fitted(&self.model, "KMeans")?.inertia())
    }

    /// Iterations of the best run.
    #[getter]
    fn n_iter_(&self) -> PyResult<usize> {
        Ok(fitted(&self.model, "KMeans")?.n_iter())
    }

    /// Rows per cluster, largest first.
    #[getter]
    fn sizes_(&self) -> PyResult<Vec<usize>> {
        Ok(fitted(&self.model, "KMeans")?.sizes().to_vec())
    }

    #[getter]
    fn n_clusters(&self) -> usize {
        self.params.n_clusters()
    }

    fn __repr__(&self) -> String {
        format!("KMeans(n_clusters={})", self.params.n_clusters())
    }

    fn _repr_html_(&self) -> String {
        self.model
            .as_ref()
            .map_or_else(|| self.__repr__(), |m| m.to_html())
    }
}

/// HDBSCAN (the `hdbscan` library's): `metric="euclidean"` clusters an array's rows as given
/// (points, such as a 5-D UMAP output: BERTopic's route), `metric="cosine"` normalises them.
#[pyclass(name = "Hdbscan", module = "embedscope._native")]
pub struct PyHdbscan {
    params: HdbscanParams,
    metric: Metric,
    model: Option<HdbscanModel>,
}

#[pymethods]
impl PyHdbscan {
    #[new]
    #[pyo3(signature = (min_cluster_size = 5, *, min_samples = None, cluster_selection_method = "eom",
                        cluster_selection_epsilon = 0.0, metric = "euclidean", allow_single_cluster = false,
                        knn_graph = None, random_state = 42))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        min_cluster_size: usize,
        min_samples: Option<usize>,
        cluster_selection_method: &str,
        cluster_selection_epsilon: f64,
        metric: &str,
        allow_single_cluster: bool,
        knn_graph: Option<usize>,
        random_state: u64,
    ) -> PyResult<Self> {
        let selection = choose(
            "cluster_selection_method",
            cluster_selection_method,
            &[("eom", Selection::Eom), ("leaf", Selection::Leaf)],
        )?;
        let metric = choose("metric", metric, &METRICS)?;
        let mut params = Hdbscan::params()
            .min_cluster_size(min_cluster_size)
            .selection(selection)
            .cluster_selection_epsilon(cluster_selection_epsilon)
            .metric(metric)
            .allow_single_cluster(allow_single_cluster)
            .seed(random_state);
        if let Some(m) = min_samples {
            params = params.min_samples(m);
        }
        if let Some(k) = knn_graph {
            params = params.knn_graph(k);
        }
        params.check().or_raise()?;
        Ok(PyHdbscan {
            params,
            metric,
            model: None,
        })
    }

    /// Fits on `X`; returns the estimator.
    #[pyo3(signature = (x, y = None))]
    fn fit<'py>(
        mut slf: PyRefMut<'py, Self>,
        x: &Bound<'py, PyAny>,
        y: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<PyRefMut<'py, Self>> {
        let _ = y;
        let data = read(x, "X", slf.metric == Metric::Cosine)?;
        let params = slf.params.clone();
        let model = slf.py().detach(|| params.fit(&data)).or_raise()?;
        slf.model = Some(model);
        Ok(slf)
    }

    /// Fits on `X` and returns the labels (-1: noise).
    #[pyo3(signature = (x, y = None))]
    fn fit_predict<'py>(
        slf: PyRefMut<'py, Self>,
        x: &Bound<'py, PyAny>,
        y: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyArray1<i64>>> {
        let slf = Self::fit(slf, x, y)?;
        slf.labels_(slf.py())
    }

    /// Cluster of each row, -1 for noise (ids ordered by size, largest first).
    #[getter]
    fn labels_<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyArray1<i64>>> {
        Ok(labels(
            py,
            fitted(&self.model, "Hdbscan")?.labels().iter().copied(),
        ))
    }

    /// Strength of each row's membership, 0 for noise.
    #[getter]
    fn probabilities_<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyArray1<f32>>> {
        Ok(vector(
            py,
            fitted(&self.model, "Hdbscan")?.probabilities().to_vec(),
        ))
    }

    /// GLOSH outlier score of each row.
    #[getter]
    fn outlier_scores_<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyArray1<f32>>> {
        Ok(vector(
            py,
            fitted(&self.model, "Hdbscan")?.outlier_scores().to_vec(),
        ))
    }

    /// Persistence of each cluster.
    #[getter]
    fn cluster_persistence_<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyArray1<f64>>> {
        Ok(vector(
            py,
            fitted(&self.model, "Hdbscan")?
                .cluster_persistence()
                .to_vec(),
        ))
    }

    /// Number of clusters found.
    #[getter]
    fn n_clusters_(&self) -> PyResult<usize> {
        Ok(fitted(&self.model, "Hdbscan")?.n_clusters())
    }

    /// Rows per cluster, largest first.
    #[getter]
    fn sizes_(&self) -> PyResult<Vec<usize>> {
        Ok(fitted(&self.model, "Hdbscan")?.sizes().to_vec())
    }

    fn __repr__(&self) -> String {
        "Hdbscan()".to_string()
    }

    fn _repr_html_(&self) -> String {
        self.model
            .as_ref()
            .map_or_else(|| self.__repr__(), |m| m.to_html())
    }
}

/// The K sweep: K-Means for each k in `k_min..=k_max`, scored by silhouette,
/// Calinski-Harabasz and Davies-Bouldin; the best silhouette is chosen, the elbow reported.
#[pyclass(name = "KSweep", module = "embedscope._native")]
pub struct PyKSweep {
    params: KSweepParams,
    sweep: Option<KSweep>,
}

#[pymethods]
impl PyKSweep {
    #[new]
    #[pyo3(signature = (k_min = 2, k_max = 10, *, n_init = 10, random_state = 42, silhouette_sample = 10_000))]
    fn new(
        k_min: usize,
        k_max: usize,
        n_init: usize,
        random_state: u64,
        silhouette_sample: usize,
    ) -> PyResult<Self> {
        let params = KSweep::params()
            .k_min(k_min)
            .k_max(k_max)
            .n_init(n_init)
            .seed(random_state)
            .silhouette_sample(silhouette_sample);
        params.check().or_raise()?;
        Ok(PyKSweep {
            params,
            sweep: None,
        })
    }

    /// Sweeps k on `X`; `progress(stage, done, total)` is called as it goes.
    #[pyo3(signature = (x, y = None, *, progress = None))]
    fn fit<'py>(
        mut slf: PyRefMut<'py, Self>,
        x: &Bound<'py, PyAny>,
        y: Option<&Bound<'py, PyAny>>,
        progress: Option<Py<PyAny>>,
    ) -> PyResult<PyRefMut<'py, Self>> {
        let _ = y;
        let data = read(x, "X", true)?;
        let params = slf.params.clone();
        let sink = progress::sink(progress);
        let sweep = slf
            .py()
            .detach(|| params.fit_with_progress(&data, sink.as_ref()))
            .or_raise()?;
        slf.sweep = Some(sweep);
        Ok(slf)
    }

    /// The k with the best silhouette.
    #[getter]
    fn chosen_k_(&self) -> PyResult<usize> {
        Ok(fitted(&self.sweep, "KSweep")?.chosen_k)
    }

    /// The elbow of the inertia curve (Kneedle).
    #[getter]
    fn elbow_k_(&self) -> PyResult<usize> {
        Ok(fitted(&self.sweep, "KSweep")?.elbow_k)
    }

    /// Labels of the chosen k's model.
    #[getter]
    fn labels_<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyArray1<i64>>> {
        let s = fitted(&self.sweep, "KSweep")?;
        Ok(labels(
            py,
            s.chosen_model().labels().iter().map(|&l| Some(l)),
        ))
    }

    /// One dict per k: k, inertia, silhouette, silhouette_se, calinski_harabasz,
    /// davies_bouldin.
    #[getter]
    fn scores_<'py>(&self, py: Python<'py>) -> PyResult<Vec<Bound<'py, PyDict>>> {
        let s = fitted(&self.sweep, "KSweep")?;
        s.per_k
            .iter()
            .map(|k| {
                let d = PyDict::new(py);
                d.set_item("k", k.k)?;
                d.set_item("inertia", k.inertia)?;
                d.set_item("silhouette", k.silhouette)?;
                d.set_item("silhouette_se", k.silhouette_se)?;
                d.set_item("calinski_harabasz", k.calinski_harabasz)?;
                d.set_item("davies_bouldin", k.davies_bouldin)?;
                Ok(d)
            })
            .collect()
    }

    fn __repr__(&self) -> String {
        "KSweep()".to_string()
    }

    fn _repr_html_(&self) -> String {
        self.sweep
            .as_ref()
            .map_or_else(|| self.__repr__(), |m| m.to_html())
    }
}
