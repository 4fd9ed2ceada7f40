//! The checks that stand beside the audit: chunk health before embedding, topic stability,
//! and two corpora compared. Each result renders in a notebook (`_repr_html_`, the evcxr
//! display's HTML) and gives its JSON (the command line's `--json`).

use std::path::PathBuf;
use std::sync::Arc;

use embedscope::compare::{Compare, CompareThresholds, Comparison};
use embedscope::display::Rich;
use embedscope::health::{Health, HealthReport, TokenCounter};
use embedscope::report::{write_compare_html, ReportOptions};
use embedscope::stability::{Stability, StabilityParams, StabilityReport};
use pyo3::prelude::*;

use crate::arrays::read;
use crate::audit::PyCorpus;
use crate::cluster::fitted;
use crate::errors::{invalid, OrRaise};
use crate::progress;
use crate::text::PyEmbedder;

/// A result shown as HTML, with its JSON.
#[pyclass(name = "Report", module = "embedscope._native", frozen)]
pub struct PyReport {
    kind: &'static str,
    html: String,
    json: String,
    passed: Option<bool>,
}

impl PyReport {
    fn of<T: Rich + serde::Serialize>(
        kind: &'static str,
        value: &T,
        passed: Option<bool>,
    ) -> PyResult<Self> {
        Ok(PyReport {
            kind,
            html: value.to_html(),
            json: serde_json::to_string_pretty(value).or_raise()?,
            passed,
        })
    }
}

#[pymethods]
impl PyReport {
    fn _repr_html_(&self) -> String {
        self.html.clone()
    }

    /// The result as JSON (what the command line's `--json` writes).
    fn to_json(&self) -> String {
        self.json.clone()
    }

    /// The result as Python data (`json.loads(to_json())`).
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        py.import("json")?.call_method1("loads", (&self.json,))
    }

    /// Whether every check held (None where the result has no verdict).
    #[getter]
    fn passed(&self) -> Option<bool> {
        self.passed
    }

    fn __repr__(&self) -> String {
        format!(
            "{}({})",
            self.kind,
            self.passed.map_or("", |p| if p { "PASS" } else { "FAIL" })
        )
    }
}

/// Chunk health of `texts` before embedding (`embedscope health`): tokens against the
/// embedder's limit (counted by `embedder`'s tokenizer; `tokens=False` skips them), empty and
/// very short chunks, boilerplate, encoding damage, languages.
#[pyfunction]
#[pyo3(signature = (texts, *, ids = None, embedder = None, tokens = true, max_tokens = None, min_tokens = 8,
                    boilerplate_min_share = 0.01, seed = 42))]
#[allow(clippy::too_many_arguments)]
pub fn health(
    py: Python<'_>,
    texts: Vec<String>,
    ids: Option<Vec<String>>,
    embedder: Option<Py<PyEmbedder>>,
    tokens: bool,
    max_tokens: Option<usize>,
    min_tokens: usize,
    boilerplate_min_share: f64,
    seed: u64,
) -> PyResult<PyReport> {
    let ids = ids.unwrap_or_else(|| (0..texts.len()).map(|i| i.to_string()).collect());
    if ids.len() != texts.len() {
        return Err(invalid(format!(
            "health: {} ids for {} texts",
            ids.len(),
            texts.len()
        )));
    }
    let params = Health::params()
        .min_tokens(min_tokens)
        .boilerplate_min_share(boilerplate_min_share)
        .seed(seed);
    params.check().or_raise()?;
    let choice = embedder.map_or_else(Default::default, |e| e.get().choice.clone());
    let report: HealthReport = py
        .detach(|| -> embedscope::Result<HealthReport> {
            let counter = if tokens {
                Some(TokenCounter::at(choice.model_dir.as_deref(), max_tokens)?)
            } else {
                None
            };
            let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
            params.run_texts(&refs, &ids, counter.as_ref())
        })
        .or_raise()?;
    let passed = Some(report.pass);
    PyReport::of("HealthReport", &report, passed)
}

/// Topic stability (`embedscope stability`): K-Means at `k` refitted with other seeds and on
/// bootstrap resamples; per-cluster stability (mean best-match Jaccard), pairwise ARI, the
/// vote on K over resamples.
#[pyclass(name = "Stability", module = "embedscope._native")]
pub struct PyStability {
    params: StabilityParams,
    report: Option<StabilityReport>,
}

#[pymethods]
impl PyStability {
    #[new]
    #[pyo3(signature = (runs = 5, *, k_min = 2, k_max = 10, n_init = 10, unstable_below = 0.6, random_state = 42))]
    fn new(
        runs: usize,
        k_min: usize,
        k_max: usize,
        n_init: usize,
        unstable_below: f64,
        random_state: u64,
    ) -> PyResult<Self> {
        let params = Stability::params()
            .runs(runs)
            .k_range(k_min, k_max)
            .n_init(n_init)
            .unstable_below(unstable_below)
            .seed(random_state);
        params.check().or_raise()?;
        Ok(PyStability {
            params,
            report: None,
        })
    }

    /// Checks the stability of `k` clusters on `X` (the reference: K-Means at `k` with this
    /// check's initialisations and seed, as `embedscope stability` fits it); returns self.
    fn fit<'py>(
        mut slf: PyRefMut<'py, Self>,
        x: &Bound<'py, PyAny>,
        k: usize,
    ) -> PyResult<PyRefMut<'py, Self>> {
        let data = read(x, "X", true)?;
        let params = slf.params.clone();
        let report = slf.py().detach(|| params.run(&data, k)).or_raise()?;
        slf.report = Some(report);
        Ok(slf)
    }

    /// The report (renders in a notebook; `to_json()`).
    #[getter]
    fn report_(&self) -> PyResult<PyReport> {
        PyReport::of("StabilityReport", fitted(&self.report, "Stability")?, None)
    }

    fn _repr_html_(&self) -> String {
        self.report
            .as_ref()
            .map_or_else(|| "Stability()".to_string(), |r| r.to_html())
    }
}

/// Two corpora compared (`embedscope compare`): snapshots or models, rows matched by id.
#[pyclass(name = "Comparison", module = "embedscope._native", frozen)]
pub struct PyComparison {
    inner: Arc<Comparison>,
}

#[pymethods]
impl PyComparison {
    fn _repr_html_(&self) -> String {
        self.inner.to_html()
    }

    /// The comparison as JSON (what `compare --json` writes).
    fn to_json(&self) -> PyResult<String> {
        serde_json::to_string_pretty(&*self.inner).or_raise()
    }

    /// Whether every check of the comparison's verdict held.
    #[getter]
    fn passed(&self) -> bool {
        self.inner.verdict.pass
    }

    /// Writes the comparison report (the two maps linked) to `path`, atomically.
    fn write_html(&self, py: Python<'_>, path: PathBuf) -> PyResult<()> {
        py.detach(|| write_compare_html(&path, &self.inner, &ReportOptions::default()))
            .or_raise()
    }

    /// Writes the comparison's JSON to `path`, atomically.
    fn write_json(&self, py: Python<'_>, path: PathBuf) -> PyResult<()> {
        py.detach(|| self.inner.write_json(&path)).or_raise()
    }
}

/// Compares corpora `a` and `b` (each with vectors) as `embedscope compare` does, with its
/// defaults: each side audited, topics matched, neighbours and retrieval compared, drift
/// tested, cross-side duplicates found. `quick=True` skips the audits.
#[pyfunction]
#[pyo3(signature = (a, b, *, quick = false, map = true, k_min = 2, k_max = 10, n_init = 10, seed = 42,
                    neighbours = 10, queries = 5000, sample = 50_000, dedup_threshold = 0.95,
                    nprobe = 3, timings = true, progress = None))]
#[allow(clippy::too_many_arguments)]
pub fn compare(
    py: Python<'_>,
    a: &PyCorpus,
    b: &PyCorpus,
    quick: bool,
    map: bool,
    k_min: usize,
    k_max: usize,
    n_init: usize,
    seed: u64,
    neighbours: usize,
    queries: usize,
    sample: usize,
    dedup_threshold: f64,
    nprobe: usize,
    timings: bool,
    progress: Option<Py<PyAny>>,
) -> PyResult<PyComparison> {
    let params = Compare::params()
        .neighbours(neighbours)
        .queries(queries)
        .k_range(k_min, k_max)
        .n_init(n_init)
        .sample(sample)
        .dedup_threshold(dedup_threshold)
        .thresholds(CompareThresholds {
            nprobe,
            ..CompareThresholds::default()
        })
        .seed(seed);
    let sink = progress::sink(progress);
    let (a, b) = (a.inner.clone(), b.inner.clone());
    let c = py
        .detach(|| params.run_with_audits(&a, &b, quick, map, sink.as_ref()))
        .or_raise()?;
    Ok(PyComparison {
        inner: Arc::new(if timings { c } else { c.without_timings() }),
    })
}

/// The vectors of `corpus`, or its texts embedded by `embedder` (the local model by default).
fn vectors_of(
    corpus: &embedscope::Corpus,
    embedder: Option<&PyEmbedder>,
) -> embedscope::Result<embedscope::Embeddings> {
    if let Some(v) = &corpus.vectors {
        return Ok(v.clone());
    }
    let texts = corpus.texts.as_ref().ok_or_else(|| {
        embedscope::Error::Unsupported(format!(
            "{}: no vectors and no texts to embed",
            corpus.source.display()
        ))
    })?;
    let local;
    let embedder = match embedder {
        Some(e) => e,
        None => {
            local = PyEmbedder::local();
            &local
        }
    };
    embedder.embed_all(texts, &embedscope::progress::Silent)
}

/// What users ask against what the corpus holds (`embedscope queries`): coverage gaps, demand
/// against supply per topic, dead and hot documents, recall of cluster retrieval on the
/// queries, and with judgements (the queries' label column: the relevant ids) recall@k, MRR
/// and nDCG@10. Either side without vectors is embedded with `embedder`.
#[pyfunction]
#[pyo3(signature = (corpus, queries, *, embedder = None, top_k = 10, gap_threshold = None,
                    gap_quantile = 0.05, nprobe = vec![1, 2, 4, 8, 16], nlist = None, k_min = 2,
                    k_max = 10, n_init = 10, topics = true, seed = 42))]
#[allow(clippy::too_many_arguments)]
pub fn queries(
    py: Python<'_>,
    corpus: &PyCorpus,
    queries: &PyCorpus,
    embedder: Option<Py<PyEmbedder>>,
    top_k: usize,
    gap_threshold: Option<f64>,
    gap_quantile: f64,
    nprobe: Vec<usize>,
    nlist: Option<usize>,
    k_min: usize,
    k_max: usize,
    n_init: usize,
    topics: bool,
    seed: u64,
) -> PyResult<PyReport> {
    let mut asked = (*queries.inner).clone();
    let params = embedscope::queries::Queries::params()
        .top_k(top_k)
        .gap_threshold(gap_threshold)
        .gap_quantile(gap_quantile)
        .nprobes(nprobe)
        .nlist(nlist)
        .seed(seed)
        .judged_by_labels(&mut asked);
    params.check().or_raise()?;
    let embedder = embedder.as_ref().map(|e| e.get());
    let docs = corpus.inner.clone();
    let report = py.detach(|| -> embedscope::Result<_> {
        let mut docs = (*docs).clone();
        docs.vectors = Some(vectors_of(&docs, embedder)?);
        asked.vectors = Some(vectors_of(&asked, embedder)?);
        let sweep = embedscope::cluster::KSweep::params()
            .k_min(k_min)
            .k_max(k_max)
            .n_init(n_init);
        let params = if topics {
            params.topics(Some(embedscope::queries::Topics::fit(
                &docs, sweep, seed, None,
            )?))
        } else {
            params
        };
        params.run(&docs, &asked)
    });
    PyReport::of("QueryReport", &report.or_raise()?, None)
}
