//! `ClusterIndex` (the IVF index), `Dedup` and `near_duplicates`.

use std::sync::Arc;

use embedscope::dedup::{self, Dedup, DedupMode, DedupParams, Deduplication, Keep};
use embedscope::display::Rich;
use embedscope::retrieve::{ClusterIndex, ClusterIndexParams, Hit};
use embedscope::Embeddings;
use numpy::{PyArray1, PyArray2, PyArrayMethods};
use pyo3::prelude::*;

use crate::arrays::{labels, read, values_f32, vector};
use crate::cluster::{choose, fitted};
use crate::errors::OrRaise;

/// Search results: row ids and cosines, queries x k.
type Hits<'py> = (Bound<'py, PyArray2<i64>>, Bound<'py, PyArray2<f32>>);

/// Pairs of rows (pairs x 2) and their cosines.
pub type Pairs<'py> = (Bound<'py, PyArray2<i64>>, Bound<'py, PyArray1<f32>>);

/// Search results as FAISS gives them: row ids (int64) and cosines (float32), queries x k,
/// padded with -1 and -inf where a query found fewer than k rows in its probed cells.
fn hit_arrays<'py>(py: Python<'py>, hits: &[Vec<Hit>], k: usize) -> PyResult<Hits<'py>> {
    let mut ids = vec![-1i64; hits.len() * k];
    let mut scores = vec![f32::NEG_INFINITY; hits.len() * k];
    for (q, list) in hits.iter().enumerate() {
        for (j, h) in list.iter().take(k).enumerate() {
            ids[q * k + j] = h.row as i64;
            scores[q * k + j] = h.score;
        }
    }
    Ok((
        PyArray1::from_vec(py, ids).reshape([hits.len(), k])?,
        PyArray1::from_vec(py, scores).reshape([hits.len(), k])?,
    ))
}

/// Cluster-based retrieval (an IVF index): K-Means cells trained on a sample, each query
/// scanning its `nprobe` nearest cells. `search` against `exact_search` is what the audit's
/// retrieval section measures.
#[pyclass(name = "ClusterIndex", module = "embedscope._native")]
pub struct PyClusterIndex {
    params: ClusterIndexParams,
    index: Option<Arc<ClusterIndex<'static>>>,
}

#[pymethods]
impl PyClusterIndex {
    #[new]
    #[pyo3(signature = (nlist = None, *, train_per_list = 256, max_iter = 10, random_state = 42))]
    fn new(
        nlist: Option<usize>,
        train_per_list: usize,
        max_iter: usize,
        random_state: u64,
    ) -> PyResult<Self> {
        let mut params = ClusterIndex::params()
            .train_per_list(train_per_list)
            .max_iter(max_iter)
            .seed(random_state);
        if let Some(n) = nlist {
            params = params.nlist(n);
        }
        params.check().or_raise()?;
        Ok(PyClusterIndex {
            params,
            index: None,
        })
    }

    /// Trains the cells on `X` and files every row; returns the index. With `centroids`
    /// (nlist x dim, unit rows: another index's `centroids_`), files the rows under those
    /// cells instead of training.
    #[pyo3(signature = (x, y = None, *, centroids = None))]
    fn fit<'py>(
        mut slf: PyRefMut<'py, Self>,
        x: &Bound<'py, PyAny>,
        y: Option<&Bound<'py, PyAny>>,
        centroids: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<PyRefMut<'py, Self>> {
        let _ = y;
        let data = read(x, "X", true)?;
        let centroids = centroids.map(|c| values_f32(c, "centroids")).transpose()?;
        let params = slf.params.clone();
        let index = slf
            .py()
            .detach(|| match centroids {
                Some((c, _)) => params.file_under(&data, c),
                None => params.build(&data),
            })
            .or_raise()?;
        slf.index = Some(Arc::new(index));
        Ok(slf)
    }

    /// The `k` nearest rows of each query among its `nprobe` nearest cells: (ids, cosines).
    #[pyo3(signature = (queries, k = 10, nprobe = 3))]
    fn search<'py>(
        &self,
        py: Python<'py>,
        queries: &Bound<'py, PyAny>,
        k: usize,
        nprobe: usize,
    ) -> PyResult<Hits<'py>> {
        let index = fitted(&self.index, "ClusterIndex")?.clone();
        let q = read(queries, "queries", true)?;
        let hits = py.detach(|| index.search_batch(&q, k, nprobe)).or_raise()?;
        hit_arrays(py, &hits, k)
    }

    /// The exact `k` nearest rows of each query (every row scanned): (ids, cosines).
    #[pyo3(signature = (queries, k = 10))]
    fn exact_search<'py>(
        &self,
        py: Python<'py>,
        queries: &Bound<'py, PyAny>,
        k: usize,
    ) -> PyResult<Hits<'py>> {
        let index = fitted(&self.index, "ClusterIndex")?.clone();
        let q = read(queries, "queries", true)?;
        let hits = py.detach(|| index.exact_search(&q, k)).or_raise()?;
        hit_arrays(py, &hits, k)
    }

    /// The `nprobe` cells nearest each row of `X`, nearest first (rows x nprobe int64).
    #[pyo3(signature = (x, nprobe = 3))]
    fn probes<'py>(
        &self,
        py: Python<'py>,
        x: &Bound<'py, PyAny>,
        nprobe: usize,
    ) -> PyResult<Bound<'py, PyArray2<i64>>> {
        let index = fitted(&self.index, "ClusterIndex")?.clone();
        if nprobe == 0 || nprobe > index.nlist() {
            return Err(crate::errors::invalid(format!(
                "invalid parameter `nprobe` = {nprobe}: must be in 1..={} (the number of cells)",
                index.nlist()
            )));
        }
        let data = read(x, "X", true)?;
        let rows = data.rows();
        let probes = py.detach(|| index.probes(&data, nprobe));
        let flat: Vec<i64> = probes.iter().flatten().map(|&c| c as i64).collect();
        PyArray1::from_vec(py, flat).reshape([rows, nprobe])
    }

    /// Every pair of indexed rows with cosine >= `threshold` that probing finds (each row
    /// against the rows of its `nprobe` nearest cells): (pairs x 2 int64, cosines). With
    /// `nprobe = nlist` every pair.
    #[pyo3(signature = (threshold = 0.95, nprobe = 3))]
    fn range_pairs<'py>(
        &self,
        py: Python<'py>,
        threshold: f64,
        nprobe: usize,
    ) -> PyResult<Pairs<'py>> {
        let index = fitted(&self.index, "ClusterIndex")?.clone();
        let pairs = py
            .detach(|| index.range_pairs(threshold, nprobe))
            .or_raise()?;
        pair_arrays(py, &pairs)
    }

    /// The cells' unit centroids (nlist x dim).
    #[getter]
    fn centroids_<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyArray2<f32>>> {
        let index = fitted(&self.index, "ClusterIndex")?;
        crate::arrays::matrix(py, index.centroids().to_vec(), index.nlist(), index.dim())
    }

    /// The cell of each indexed row.
    #[getter]
    fn labels_<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyArray1<i64>>> {
        let index = fitted(&self.index, "ClusterIndex")?;
        Ok(labels(py, index.cells().iter().map(|&c| Some(c as usize))))
    }

    /// Number of cells.
    #[getter]
    fn nlist_(&self) -> PyResult<usize> {
        Ok(fitted(&self.index, "ClusterIndex")?.nlist())
    }

    /// Rows per cell.
    #[getter]
    fn list_sizes_(&self) -> PyResult<Vec<usize>> {
        Ok(fitted(&self.index, "ClusterIndex")?.list_sizes())
    }

    fn __len__(&self) -> usize {
        self.index.as_ref().map_or(0, |i| i.len())
    }

    fn __repr__(&self) -> String {
        match &self.index {
            Some(i) => format!("ClusterIndex(nlist={}, rows={})", i.nlist(), i.len()),
            None => "ClusterIndex()".to_string(),
        }
    }

    fn _repr_html_(&self) -> String {
        self.index
            .as_ref()
            .map_or_else(|| self.__repr__(), |m| m.to_html())
    }
}

/// Every pair of rows with cosine >= `threshold`, exactly: (pairs as rows x 2 int64, cosines).
#[pyfunction]
#[pyo3(signature = (x, threshold = 0.95))]
pub fn near_duplicates<'py>(
    py: Python<'py>,
    x: &Bound<'py, PyAny>,
    threshold: f64,
) -> PyResult<Pairs<'py>> {
    let data = read(x, "X", true)?;
    let pairs = py
        .detach(|| dedup::near_duplicates(&data, threshold))
        .or_raise()?;
    pair_arrays(py, &pairs)
}

pub fn pair_arrays<'py>(py: Python<'py>, pairs: &[dedup::Pair]) -> PyResult<Pairs<'py>> {
    let rows: Vec<i64> = pairs
        .iter()
        .flat_map(|p| [p.row_a as i64, p.row_b as i64])
        .collect();
    let cos: Vec<f32> = pairs.iter().map(|p| p.cosine).collect();
    Ok((
        PyArray1::from_vec(py, rows).reshape([pairs.len(), 2])?,
        vector(py, cos),
    ))
}

/// Duplicate removal: near-duplicate pairs (every pair, or within neighbouring K-Means cells
/// above 200,000 rows), exact duplicates of the normalised texts, groups, and the row kept of
/// each group.
#[pyclass(name = "Dedup", module = "embedscope._native")]
pub struct PyDedup {
    params: DedupParams,
    result: Option<Deduplication>,
}

#[pymethods]
impl PyDedup {
    #[new]
    #[pyo3(signature = (threshold = 0.95, *, mode = "auto", nlist = None, nprobe = 3, keep = "first", random_state = 42))]
    fn new(
        threshold: f64,
        mode: &str,
        nlist: Option<usize>,
        nprobe: usize,
        keep: &str,
        random_state: u64,
    ) -> PyResult<Self> {
        let mode = choose(
            "mode",
            mode,
            &[
                ("auto", DedupMode::Auto),
                ("exact", DedupMode::Exact),
                ("clustered", DedupMode::Clustered),
            ],
        )?;
        let keep = choose(
            "keep",
            keep,
            &[
                ("first", Keep::First),
                ("longest", Keep::Longest),
                ("centroid", Keep::Centroid),
            ],
        )?;
        let params = Dedup::params(threshold)
            .mode(mode)
            .nlist(nlist)
            .nprobe(nprobe)
            .keep(keep)
            .seed(random_state);
        params.check().or_raise()?;
        Ok(PyDedup {
            params,
            result: None,
        })
    }

    /// Searches `X` (and `texts`, for exact duplicates and `keep="longest"`); returns self.
    #[pyo3(signature = (x, texts = None))]
    fn fit<'py>(
        mut slf: PyRefMut<'py, Self>,
        x: &Bound<'py, PyAny>,
        texts: Option<Vec<String>>,
    ) -> PyResult<PyRefMut<'py, Self>> {
        let data: Arc<Embeddings> = read(x, "X", true)?;
        let params = slf.params.clone();
        let result = slf
            .py()
            .detach(|| params.run(&data, texts.as_deref()))
            .or_raise()?;
        slf.result = Some(result);
        Ok(slf)
    }

    /// Near-duplicate pairs (rows x 2) and their cosines.
    #[getter]
    fn pairs_<'py>(&self, py: Python<'py>) -> PyResult<Pairs<'py>> {
        pair_arrays(py, &fitted(&self.result, "Dedup")?.pairs)
    }

    /// Groups of duplicates (near and exact joined), each a list of rows.
    #[getter]
    fn groups_(&self) -> PyResult<Vec<Vec<usize>>> {
        Ok(fitted(&self.result, "Dedup")?.removal_groups.clone())
    }

    /// The rows that stay, ascending.
    #[getter]
    fn kept_<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyArray1<i64>>> {
        let r = fitted(&self.result, "Dedup")?;
        Ok(vector(py, r.kept.iter().map(|&k| k as i64).collect()))
    }

    /// Whether the clustered mode ran, and its pair recall against exact on a sample.
    #[getter]
    fn recall_(&self) -> PyResult<Option<f64>> {
        Ok(fitted(&self.result, "Dedup")?
            .recall
            .as_ref()
            .and_then(|r| r.recall))
    }

    fn __repr__(&self) -> String {
        match &self.result {
            Some(r) => format!(
                "Dedup(pairs={}, groups={}, kept={} of {})",
                r.pairs.len(),
                r.removal_groups.len(),
                r.kept.len(),
                r.rows
            ),
            None => "Dedup()".to_string(),
        }
    }
}
