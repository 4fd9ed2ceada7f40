//! `Corpus` (a file, a store or columns from Python) and the whole audit.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use embedscope::audit::{
    removal_groups_by_id, AuditDocument, MemoryBudget, Sampling, VerdictThresholds, WorkerResults,
};
use embedscope::display::Rich;
use embedscope::health::{Health, TokenCounter};
use embedscope::io::{self, ColumnCells, Corpus, LoadOptions, ResolvedColumns, RowRanges};
use embedscope::queries::Queries;
use embedscope::report::{write_html, ReportOptions};
use embedscope::stability::Stability;
use embedscope::store::{self, StoreOptions};
use embedscope::Audit;
use numpy::PyArray2;
use pyo3::prelude::*;
use pyo3::types::PyBytes;

use crate::arrays::{matrix, values_f32};
use crate::errors::{invalid, OrRaise};
use crate::progress;
use crate::text::PyEmbedder;

/// A corpus: ids, texts, reference labels and vectors, row-aligned; read from a file
/// (`.jsonl`, `.csv`, `.parquet`, `.npy`, a folder of shards), a store (`postgres://`,
/// `chroma://`) or built from columns.
#[pyclass(name = "Corpus", module = "embedscope._native", frozen)]
pub struct PyCorpus {
    pub inner: Arc<Corpus>,
}

#[pymethods]
impl PyCorpus {
    /// Reads `source` with the command line's rules and messages: `text_column` (default
    /// `text`), `id_column` (default `id` when present), `vector_column` (default `embedding`
    /// or `vector` when present), `label_column`; for Postgres `table` or `sql`, `order_by`.
    #[staticmethod]
    #[pyo3(signature = (source, *, text_column = "text".to_string(), id_column = None, vector_column = None,
                        label_column = None, table = None, sql = None, order_by = None, batch_rows = 10_000))]
    #[allow(clippy::too_many_arguments)]
    fn load(
        py: Python<'_>,
        source: String,
        text_column: String,
        id_column: Option<String>,
        vector_column: Option<String>,
        label_column: Option<String>,
        table: Option<String>,
        sql: Option<String>,
        order_by: Option<String>,
        batch_rows: usize,
    ) -> PyResult<Self> {
        let options = LoadOptions {
            text_column,
            id_column,
            vector_column,
            label_column,
        };
        if batch_rows == 0 {
            return Err(invalid(
                "invalid parameter `batch_rows` = 0: must be at least 1",
            ));
        }
        let corpus = py.detach(|| -> embedscope::Result<Corpus> {
            if store::is_store(&source) {
                let opts = StoreOptions {
                    table,
                    query: sql,
                    batch_rows,
                    order_by,
                    ..StoreOptions::default()
                };
                let mut s = store::open(&source, &opts)?;
                store::load(s.as_mut(), &options, batch_rows)
            } else {
                io::load(Path::new(&source), &options)
            }
        });
        Ok(PyCorpus {
            inner: Arc::new(corpus.or_raise()?),
        })
    }

    /// A corpus from a frame's columns, each row checked as a file's row (errors name
    /// `source`, the row and the column). `columns` names the (text, vector, label, id)
    /// columns as [`resolve_columns`] chose them. `vectors` is a rows x dim array, or with
    /// `vector_offsets` (rows + 1 int64, as Arrow's list offsets) the values back to back;
    /// `vector_nulls` marks rows without a vector.
    #[staticmethod]
    #[pyo3(signature = (*, source = "<memory>".to_string(), columns = None, ids = None, texts = None, labels = None,
                        vectors = None, vector_offsets = None, vector_nulls = None))]
    #[allow(clippy::too_many_arguments)]
    fn from_columns(
        py: Python<'_>,
        source: String,
        columns: Option<ColumnNames>,
        ids: Option<Vec<Option<String>>>,
        texts: Option<Vec<Option<String>>>,
        labels: Option<Vec<Option<String>>>,
        vectors: Option<&Bound<'_, PyAny>>,
        vector_offsets: Option<Vec<i64>>,
        vector_nulls: Option<Vec<bool>>,
    ) -> PyResult<Self> {
        let (text, vector, label, id) = columns.unwrap_or_default();
        let names = ResolvedColumns {
            text: Some(text.unwrap_or_else(|| "text".into())),
            vector: Some(vector.unwrap_or_else(|| "vector".into())),
            label: Some(label.unwrap_or_else(|| "label".into())),
            id: id.or_else(|| Some("id".into())),
        };
        if texts.is_none() && vectors.is_none() {
            return Err(invalid(format!(
                "{source}: a corpus needs texts or vectors"
            )));
        }
        let (values, ranges) = match vectors {
            None => (Vec::new(), None),
            Some(v) => {
                let (values, ranges) = vector_cells(v, vector_offsets, vector_nulls)?;
                (values, Some(ranges))
            }
        };
        let rows = [
            ids.as_ref().map(Vec::len),
            texts.as_ref().map(Vec::len),
            labels.as_ref().map(Vec::len),
            ranges.as_ref().map(Vec::len),
        ]
        .into_iter()
        .flatten()
        .max()
        .unwrap_or(0);
        let cells = ColumnCells {
            ids,
            texts,
            labels,
            vectors: ranges.map(|r| (values.as_slice(), r)),
        };
        let corpus = py
            .detach(|| io::from_columns(Path::new(&source), rows, &names, cells))
            .or_raise()?;
        Ok(PyCorpus {
            inner: Arc::new(corpus),
        })
    }

    fn __len__(&self) -> usize {
        self.inner.len()
    }

    /// Where the corpus came from.
    #[getter]
    fn source(&self) -> String {
        self.inner.source.display().to_string()
    }

    #[getter]
    fn ids(&self) -> Vec<String> {
        self.inner.ids.clone()
    }

    #[getter]
    fn texts(&self) -> Option<Vec<String>> {
        self.inner.texts.clone()
    }

    #[getter]
    fn labels(&self) -> Option<Vec<String>> {
        self.inner.labels.clone()
    }

    /// The vectors (normalised float32, rows x dim), if the source carries them.
    #[getter]
    fn vectors<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyArray2<f32>>>> {
        self.inner
            .vectors
            .as_ref()
            .map(|v| matrix(py, v.as_f32().into_owned(), v.rows(), v.dim()))
            .transpose()
    }

    fn __repr__(&self) -> String {
        format!(
            "Corpus({:?}, rows={}, texts={}, vectors={})",
            self.source(),
            self.inner.len(),
            self.inner.texts.is_some(),
            self.inner
                .vectors
                .as_ref()
                .map_or("no".to_string(), |v| format!("{} dims", v.dim()))
        )
    }
}

/// Names of the (text, vector, label, id) columns.
type ColumnNames = (
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
);

/// Vector cells from Python: a rows x dim array, or flat values with Arrow-style offsets.
fn vector_cells(
    vectors: &Bound<'_, PyAny>,
    offsets: Option<Vec<i64>>,
    nulls: Option<Vec<bool>>,
) -> PyResult<(Vec<f32>, RowRanges)> {
    let (values, shape) = values_f32(vectors, "vectors")?;
    let mut ranges: RowRanges = match (offsets, shape.as_slice()) {
        (None, [rows, dim]) => (0..*rows).map(|r| Some((r * dim, (r + 1) * dim))).collect(),
        (None, _) => {
            return Err(invalid(format!(
                "vectors: expected a 2-D array (rows x dimensions), got shape {shape:?}"
            )))
        }
        (Some(off), _) => {
            let bad = off
                .windows(2)
                .position(|w| w[0] < 0 || w[1] < w[0] || w[1] as usize > values.len());
            if let Some(r) = bad.or((off.is_empty()).then_some(0)) {
                return Err(invalid(format!(
                    "vector_offsets: row {r}: offsets out of order or past the values"
                )));
            }
            off.windows(2)
                .map(|w| Some((w[0] as usize, w[1] as usize)))
                .collect()
        }
    };
    if let Some(nulls) = nulls {
        if nulls.len() != ranges.len() {
            return Err(invalid(format!(
                "vector_nulls: {} flags for {} rows",
                nulls.len(),
                ranges.len()
            )));
        }
        for (r, null) in ranges.iter_mut().zip(nulls) {
            if null {
                *r = None;
            }
        }
    }
    Ok((values, ranges))
}

/// The columns a frame with columns `names` gives a corpus, by the file rules (`text` unless
/// named, `embedding` or `vector` when present, `id` when present): (text, vector, label,
/// id), each a name or None. A named column that is missing raises, naming `source` and the
/// columns present.
#[pyfunction]
#[pyo3(signature = (source, names, *, text_column = "text".to_string(), id_column = None, vector_column = None, label_column = None))]
pub fn resolve_columns(
    source: String,
    names: Vec<String>,
    text_column: String,
    id_column: Option<String>,
    vector_column: Option<String>,
    label_column: Option<String>,
) -> PyResult<ColumnNames> {
    let options = LoadOptions {
        text_column,
        id_column,
        vector_column,
        label_column,
    };
    let r = io::resolve(Path::new(&source), &names, &options).or_raise()?;
    Ok((r.text, r.vector, r.label, r.id))
}

/// The result of an audit: render it (`_repr_html_`, `write_html`), read its tables
/// (`table(name)` as Parquet bytes) and its JSON document.
#[pyclass(name = "Audit", module = "embedscope._native", frozen)]
pub struct PyAudit {
    audit: Arc<Audit>,
    corpus: Arc<Corpus>,
    /// Assembled from a cluster's results: its per-row tables are the workers'.
    merged: bool,
}

impl PyAudit {
    /// Refuses the per-row tables of an audit assembled from a cluster's results: `corpus`
    /// is only its sample.
    fn local_tables(&self) -> PyResult<()> {
        if self.merged {
            return Err(invalid(
                "the per-row tables of an audit on Ray are the workers': use RayAudit.write_tables or RayAudit.assignments()",
            ));
        }
        Ok(())
    }
}

#[pymethods]
impl PyAudit {
    fn _repr_html_(&self) -> String {
        self.audit.to_html()
    }

    /// The audit as `audit.json`'s text, naming the report `report` (default: none).
    #[pyo3(signature = (report = None))]
    fn to_json(&self, py: Python<'_>, report: Option<String>) -> PyResult<String> {
        py.detach(|| {
            AuditDocument {
                audit: &self.audit,
                report: report.unwrap_or_default(),
            }
            .to_json()
        })
        .or_raise()
    }

    /// The names of the tables: assignments, and as the sections ran duplicate_pairs, queries.
    fn table_names(&self) -> PyResult<Vec<&'static str>> {
        self.local_tables()?;
        Ok(self
            .audit
            .tables(&self.corpus)
            .or_raise()?
            .into_iter()
            .map(|(n, _)| n)
            .collect())
    }

    /// The table `name` as Parquet bytes.
    fn table<'py>(&self, py: Python<'py>, name: &str) -> PyResult<Bound<'py, PyBytes>> {
        self.local_tables()?;
        let bytes = py.detach(|| -> embedscope::Result<Option<Vec<u8>>> {
            let tables = self.audit.tables(&self.corpus)?;
            match tables.into_iter().find(|(n, _)| *n == name) {
                Some((_, frame)) => Ok(Some(io::parquet_bytes(frame)?)),
                None => Ok(None),
            }
        });
        match bytes.or_raise()? {
            Some(b) => Ok(PyBytes::new(py, &b)),
            None => Err(invalid(format!(
                "no table {name:?} in this audit (tables: {})",
                self.table_names()?.join(", ")
            ))),
        }
    }

    /// Writes the self-contained HTML report to `path` (atomically).
    fn write_html(&self, py: Python<'_>, path: PathBuf) -> PyResult<()> {
        py.detach(|| write_html(&path, &self.audit, &ReportOptions::default()))
            .or_raise()
    }

    /// Writes `audit.json` to `path`, naming the report `report` (default: none).
    #[pyo3(signature = (path, report = None))]
    fn write_json(&self, py: Python<'_>, path: PathBuf, report: Option<PathBuf>) -> PyResult<()> {
        let report = report.unwrap_or_default();
        py.detach(|| self.audit.write_json(&path, &report))
            .or_raise()
    }

    /// Writes the tables as `<name>.parquet` into `dir`; returns the paths.
    fn write_tables(&self, py: Python<'_>, dir: PathBuf) -> PyResult<Vec<PathBuf>> {
        self.local_tables()?;
        py.detach(|| self.audit.write_tables(&self.corpus, &dir))
            .or_raise()
    }

    /// The corpus the audit ran on.
    #[getter]
    fn corpus(&self) -> PyCorpus {
        PyCorpus {
            inner: self.corpus.clone(),
        }
    }

    /// Centroids of the chosen K-Means model (k x dim): what every row is assigned by.
    #[getter]
    fn centroids<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyArray2<f32>>> {
        let k = self.audit.optimal_k.chosen_k;
        let dim = self.audit.centroids.len() / k.max(1);
        matrix(py, self.audit.centroids.clone(), k, dim)
    }

    /// Cluster of every row.
    #[getter]
    fn labels<'py>(&self, py: Python<'py>) -> Bound<'py, numpy::PyArray1<i64>> {
        crate::arrays::labels(py, self.audit.labels.iter().map(|&l| Some(l)))
    }

    /// Whether every measured check of the verdict holds.
    #[getter]
    fn passed(&self) -> bool {
        self.audit.verdict.pass
    }

    /// The chosen K.
    #[getter]
    fn chosen_k(&self) -> usize {
        self.audit.optimal_k.chosen_k
    }

    /// What the audit noted (sampling, skipped sections, failures it survived).
    #[getter]
    fn notes(&self) -> Vec<String> {
        self.audit.notes.clone()
    }

    fn __repr__(&self) -> String {
        format!(
            "Audit(rows={}, k={}, verdict={})",
            self.audit.corpus.rows,
            self.audit.optimal_k.chosen_k,
            if self.audit.verdict.pass {
                "PASS"
            } else {
                "FAIL"
            }
        )
    }
}

/// Runs the audit on `corpus`, with the command line's defaults (`embedscope audit`).
#[pyfunction]
#[pyo3(signature = (corpus, *, embedder = None, k_min = 2, k_max = 10, n_init = 10, seed = 42,
                    sample = None, exact = false, max_memory = "auto".to_string(), reembed = false,
                    map = true, duplicates = true, noise = true, retrieval = true, health = true,
                    max_tokens = None, strip_boilerplate = false, stability_runs = 5, unstable_below = 0.6,
                    dedup_threshold = 0.95, max_duplicate_share = 0.10, max_noise_share = 0.50,
                    min_recall = 0.80, nprobe = 3, queries = None, query_top_k = 10,
                    gap_threshold = None, gap_quantile = 0.05, max_gap_share = 0.20,
                    min_query_recall = 0.70, max_dead_share = 1.0, timings = true, progress = None))]
#[allow(clippy::too_many_arguments)]
pub fn run_audit(
    py: Python<'_>,
    corpus: &PyCorpus,
    embedder: Option<Py<PyEmbedder>>,
    k_min: usize,
    k_max: usize,
    n_init: usize,
    seed: u64,
    sample: Option<usize>,
    exact: bool,
    max_memory: String,
    reembed: bool,
    map: bool,
    duplicates: bool,
    noise: bool,
    retrieval: bool,
    health: bool,
    max_tokens: Option<usize>,
    strip_boilerplate: bool,
    stability_runs: usize,
    unstable_below: f64,
    dedup_threshold: f64,
    max_duplicate_share: f64,
    max_noise_share: f64,
    min_recall: f64,
    nprobe: usize,
    queries: Option<&PyCorpus>,
    query_top_k: usize,
    gap_threshold: Option<f64>,
    gap_quantile: f64,
    max_gap_share: f64,
    min_query_recall: f64,
    max_dead_share: f64,
    timings: bool,
    progress: Option<Py<PyAny>>,
) -> PyResult<PyAudit> {
    if exact && sample.is_some() {
        return Err(invalid("sample and exact=True exclude each other"));
    }
    let budget = MemoryBudget::from_flag(&max_memory).or_raise()?;
    if max_tokens == Some(0) {
        return Err(invalid(
            "invalid parameter `max_tokens` = 0: the embedder must read at least one token",
        ));
    }
    let embedder = match embedder {
        Some(e) => e,
        None => Py::new(py, PyEmbedder::local())?,
    };
    let embedder = embedder.get();
    let sink = progress::sink(progress);
    let corpus = corpus.inner.clone();
    // Judgements come from the queries' label column (the relevant ids), as on the command line.
    let mut queries = queries.map(|q| (*q.inner).clone());
    let query_params = Queries::params()
        .top_k(query_top_k)
        .gap_threshold(gap_threshold)
        .gap_quantile(gap_quantile);
    let query_params = match queries.as_mut() {
        Some(q) => query_params.judged_by_labels(q),
        None => query_params,
    };
    query_params.check().or_raise()?;
    let audit = py.detach(|| -> embedscope::Result<Audit> {
        let health_params = health
            .then(|| {
                let p = Health::params().seed(seed);
                p.check().map(|_| p)
            })
            .transpose()?;
        let mut builder = Audit::builder()
            .k_range(k_min, k_max)
            .n_init(n_init)
            .seed(seed)
            .sampling(Sampling::from_flags(exact, sample))
            .memory(budget)
            .reembed(reembed)
            .map(map)
            .strip_boilerplate(strip_boilerplate)
            .health(health_params)
            .stability((stability_runs > 0).then(|| {
                Stability::params()
                    .runs(stability_runs)
                    .unstable_below(unstable_below)
            }))
            .duplicates(duplicates)
            .noise(noise)
            .retrieval(retrieval)
            .dedup_threshold(dedup_threshold)
            .thresholds(VerdictThresholds {
                max_duplicate_share,
                max_noise_share,
                min_recall,
                nprobe,
                max_gap_share,
                min_query_recall,
                max_dead_share,
            })
            .progress(sink.as_ref());
        builder.check()?;
        let counter = if health {
            TokenCounter::for_embedder(&embedder.choice, max_tokens)
        } else {
            None
        };
        if let Some(c) = &counter {
            builder = builder.token_counter(c);
        }
        let needs_model = corpus.vectors.is_none()
            || reembed
            || queries.as_ref().is_some_and(|q| q.vectors.is_none());
        if needs_model {
            let model = embedder.model()?;
            builder = builder.embedder(model);
            if let Some(c) = embedder.cache(model)? {
                builder = builder.cache(c);
            }
        }
        if let Some(q) = &queries {
            builder = builder.queries(q, query_params);
        }
        let audit = builder.run(&corpus)?;
        Ok(if timings {
            audit
        } else {
            audit.without_timings()
        })
    });
    Ok(PyAudit {
        audit: Arc::new(audit.or_raise()?),
        corpus,
        merged: false,
    })
}

/// What a cluster's workers found over every row (`embedscope.ray` builds it as JSON): the
/// ids whose texts the report shows, the duplicate groups, and the audit assembled from it
/// and the sample's audit (`Audit::merge` in the core).
#[pyclass(name = "WorkerResults", module = "embedscope._native")]
pub struct PyWorkerResults {
    inner: WorkerResults,
}

#[pymethods]
impl PyWorkerResults {
    #[new]
    fn new(py: Python<'_>, json: &str) -> PyResult<Self> {
        let inner = py.detach(|| WorkerResults::from_json(json)).or_raise()?;
        Ok(PyWorkerResults { inner })
    }

    /// The ids whose texts the duplicates section shows at the removal `threshold`.
    fn shown_ids(&self, threshold: f64) -> Vec<String> {
        self.inner.shown_ids(threshold)
    }

    /// The texts of the shown ids (id -> text).
    fn set_texts(&mut self, texts: std::collections::HashMap<String, String>) -> PyResult<()> {
        match self.inner.duplicates.as_mut() {
            Some(d) => {
                d.texts = texts;
                Ok(())
            }
            None => Err(invalid("set_texts: these results have no duplicates")),
        }
    }

    /// Removal groups at `threshold` (near pairs and equal texts joined), each sorted with
    /// the kept id first.
    fn groups(&self, threshold: f64) -> Vec<Vec<String>> {
        self.inner.duplicates.as_ref().map_or_else(Vec::new, |d| {
            removal_groups_by_id(&d.pairs, d.exact_groups.as_deref(), threshold)
        })
    }

    /// The audit of the whole dataset: `sample` (its sample's audit) with these results.
    #[pyo3(signature = (sample, timings = true))]
    fn merge(&self, py: Python<'_>, sample: &PyAudit, timings: bool) -> PyResult<PyAudit> {
        let base = (*sample.audit).clone();
        let corpus = sample.corpus.clone();
        let results = &self.inner;
        let audit = py
            .detach(|| Audit::merge(base, &corpus, results))
            .or_raise()?;
        Ok(PyAudit {
            audit: Arc::new(if timings {
                audit
            } else {
                audit.without_timings()
            }),
            corpus: sample.corpus.clone(),
            merged: true,
        })
    }
}
