//! Texts: the `Embedder` class (which model, opened once) and c-TF-IDF `topics`.

use std::path::PathBuf;
use std::sync::OnceLock;

use embedscope::embed::{
    embed_texts, home_dir, Embedder, EmbedderChoice, EmbedderKind, EmbeddingCache,
};
use embedscope::label::{self, KeywordParams};
use numpy::PyArray2;
use pyo3::prelude::*;
use pyo3::types::PyDict;

use crate::arrays::matrix;
use crate::errors::{invalid, OrRaise};
use crate::progress;

/// An embedder, described by the same choices as the command line's `--embedder` flags and
/// opened (model loaded, API connected) on first use, then kept. Vectors are cached on disk by
/// model id unless `cache=False`, in the command line's cache (`~/.cache/embedscope/embeddings`).
#[pyclass(name = "Embedder", module = "embedscope._native", frozen)]
pub struct PyEmbedder {
    pub choice: EmbedderChoice,
    cache: Option<PathBuf>,
    opened: OnceLock<Box<dyn Embedder>>,
}

#[pymethods]
impl PyEmbedder {
    #[new]
    #[pyo3(signature = (kind = "local", *, model_dir = None, base_url = None, model = None, dimensions = None,
                        batch_size = 128, concurrency = 4, onnx = None, ort_library = None,
                        fastembed_model = None, cache = true, cache_dir = None))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        kind: &str,
        model_dir: Option<PathBuf>,
        base_url: Option<String>,
        model: Option<String>,
        dimensions: Option<usize>,
        batch_size: usize,
        concurrency: usize,
        onnx: Option<PathBuf>,
        ort_library: Option<PathBuf>,
        fastembed_model: Option<String>,
        cache: bool,
        cache_dir: Option<PathBuf>,
    ) -> PyResult<Self> {
        let defaults = EmbedderChoice::default();
        let choice = EmbedderChoice {
            kind: EmbedderKind::from_name(kind).or_raise()?,
            model_dir,
            base_url,
            api_model: model.unwrap_or(defaults.api_model),
            dimensions,
            batch_size,
            concurrency,
            onnx,
            ort_library,
            fastembed_model,
        };
        Ok(PyEmbedder {
            choice,
            cache: cache.then(|| cache_dir.unwrap_or_else(|| home_dir().join("embeddings"))),
            opened: OnceLock::new(),
        })
    }

    /// Embeds `texts` into an L2-normalised float32 array (texts x dim).
    #[pyo3(signature = (texts, *, progress = None))]
    fn embed<'py>(
        &self,
        py: Python<'py>,
        texts: Vec<String>,
        progress: Option<Py<PyAny>>,
    ) -> PyResult<Bound<'py, PyArray2<f32>>> {
        let sink = progress::sink(progress);
        let vectors = py.detach(|| self.embed_all(&texts, sink.as_ref()));
        let vectors = vectors.or_raise()?;
        let (rows, dim) = (vectors.rows(), vectors.dim());
        matrix(py, vectors.into_vec(), rows, dim)
    }

    /// The model id (what the cache files vectors under).
    #[getter]
    fn model_id(&self, py: Python<'_>) -> PyResult<String> {
        py.detach(|| self.model().map(|m| m.model_id().to_string()))
            .or_raise()
    }

    /// The vectors' dimension.
    #[getter]
    fn dim(&self, py: Python<'_>) -> PyResult<usize> {
        py.detach(|| self.model().map(|m| m.dim())).or_raise()
    }

    fn __repr__(&self) -> String {
        let name = EmbedderKind::NAMES
            .iter()
            .find(|(_, k)| *k == self.choice.kind)
            .map_or("?", |(n, _)| *n);
        format!("Embedder({name:?})")
    }
}

impl PyEmbedder {
    /// The default: the local all-MiniLM-L6-v2, cached.
    pub fn local() -> Self {
        PyEmbedder {
            choice: EmbedderChoice::default(),
            cache: Some(home_dir().join("embeddings")),
            opened: OnceLock::new(),
        }
    }

    /// The model, opened on first use.
    pub fn model(&self) -> embedscope::Result<&dyn Embedder> {
        if let Some(m) = self.opened.get() {
            return Ok(m.as_ref());
        }
        let m = self.choice.open()?;
        Ok(self.opened.get_or_init(|| m).as_ref())
    }

    /// The embedding cache for `model`, unless caching is off.
    /// `texts` embedded by this embedder's model, through its cache.
    pub fn embed_all(
        &self,
        texts: &[String],
        progress: &dyn embedscope::progress::Progress,
    ) -> embedscope::Result<embedscope::Embeddings> {
        let model = self.model()?;
        let mut cache = self.cache(model)?;
        Ok(embed_texts(model, texts, cache.as_mut(), progress)?.0)
    }

    pub fn cache(&self, model: &dyn Embedder) -> embedscope::Result<Option<EmbeddingCache>> {
        self.cache
            .as_ref()
            .map(|dir| EmbeddingCache::open(dir, model.model_id(), model.dim()))
            .transpose()
    }
}

/// c-TF-IDF keywords and a short label per cluster (BERTopic's topic representation):
/// `labels` holds each text's cluster, -1 for none. Returns a list of dicts (cluster, label,
/// size, keywords as (term, weight) pairs).
#[pyfunction]
#[pyo3(signature = (texts, labels, *, top_n = 10, max_ngram = 2, stop_words = true, reduce_frequent_words = false))]
pub fn topics<'py>(
    py: Python<'py>,
    texts: Vec<String>,
    labels: Vec<i64>,
    top_n: usize,
    max_ngram: usize,
    stop_words: bool,
    reduce_frequent_words: bool,
) -> PyResult<Vec<Bound<'py, PyDict>>> {
    if texts.len() != labels.len() {
        return Err(invalid(format!(
            "topics: {} texts but {} labels",
            texts.len(),
            labels.len()
        )));
    }
    let mut cluster_of = Vec::with_capacity(labels.len());
    for (i, &l) in labels.iter().enumerate() {
        cluster_of.push(match l {
            -1 => None,
            l if l >= 0 => Some(l as usize),
            l => {
                return Err(invalid(format!(
                    "labels[{i}] = {l}: a cluster id or -1 (none)"
                )))
            }
        });
    }
    let n_clusters = cluster_of.iter().flatten().max().map_or(0, |&c| c + 1);
    let params = KeywordParams::default()
        .top_n(top_n)
        .max_ngram(max_ngram)
        .stop_words(stop_words)
        .reduce_frequent_words(reduce_frequent_words);
    params.check().or_raise()?;
    let t = py
        .detach(|| label::topics(&texts, &cluster_of, n_clusters, &params))
        .or_raise()?;
    (0..n_clusters)
        .map(|c| {
            let d = PyDict::new(py);
            d.set_item("cluster", c)?;
            d.set_item("label", &t.labels[c])?;
            d.set_item("size", t.sizes[c])?;
            let kw: Vec<(String, f64)> = t.keywords[c]
                .iter()
                .map(|k| (k.term.clone(), k.weight))
                .collect();
            d.set_item("keywords", kw)?;
            Ok(d)
        })
        .collect()
}
