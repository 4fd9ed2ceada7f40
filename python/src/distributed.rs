//! The steps the audit on Ray (`embedscope.ray`) runs inside its tasks, each over one batch of
//! rows, the core doing the work: the nearest K-Means centroid, per-cluster sums (reduced into
//! mean directions on the driver) and each row's cosine to its cluster's direction, the pairs
//! of one IVF cell, the top k of sampled queries among a batch's rows (exact and per nprobe),
//! and the text keys exact duplicates are grouped by.

use embedscope::cluster::nearest_centroids;
use embedscope::dedup::{pairs_between, text_key, Pair, TextNorm};
use embedscope::kernel::for_each_tile;
use numpy::{PyArray1, PyArray2, PyArray3, PyArrayMethods};
use pyo3::prelude::*;

use crate::arrays::{labels as label_array, read, values_f32, vector};
use crate::errors::{invalid, OrRaise};
use crate::search::{pair_arrays, Pairs};

/// Clusters (int64) and squared distances (float32), one per row.
type Assigned<'py> = (Bound<'py, PyArray1<i64>>, Bound<'py, PyArray1<f32>>);

/// The nearest of `centroids` (k x dim) to each row of `x`: (cluster int64, squared distance
/// float32), as `KMeans.predict` computes it.
#[pyfunction]
pub fn assign<'py>(
    py: Python<'py>,
    x: &Bound<'py, PyAny>,
    centroids: &Bound<'py, PyAny>,
) -> PyResult<Assigned<'py>> {
    let data = read(x, "vectors", true)?;
    let (c, _) = values_f32(centroids, "centroids")?;
    let (labels, dist) = py.detach(|| nearest_centroids(&data, &c)).or_raise()?;
    Ok((
        label_array(py, labels.into_iter().map(Some)),
        vector(py, dist),
    ))
}

/// Per-cluster sums of the (normalised) rows of `x`, k x dim float64: summed across batches
/// and normalised, the clusters' mean directions.
#[pyfunction]
pub fn cluster_sums<'py>(
    py: Python<'py>,
    x: &Bound<'py, PyAny>,
    labels: Vec<i64>,
    k: usize,
) -> PyResult<Bound<'py, PyArray2<f64>>> {
    let data = read(x, "vectors", true)?;
    let labels = checked_labels(&labels, k, data.rows())?;
    let d = data.dim();
    let sums = py.detach(|| data.view().group_sums(d, &labels, k));
    PyArray1::from_vec(py, sums).reshape([k, d])
}

/// Each row's cosine to its cluster's mean direction (`directions`: k x dim, unit rows).
#[pyfunction]
pub fn direction_cosines<'py>(
    py: Python<'py>,
    x: &Bound<'py, PyAny>,
    labels: Vec<i64>,
    directions: &Bound<'py, PyAny>,
) -> PyResult<Bound<'py, PyArray1<f32>>> {
    let data = read(x, "vectors", true)?;
    let dirs: Vec<f64> = directions
        .py()
        .import("numpy")?
        .call_method1("ascontiguousarray", (directions, "float64"))?
        .call_method0("ravel")?
        .extract::<numpy::PyReadonlyArray1<'_, f64>>()?
        .as_array()
        .to_vec();
    let d = data.dim();
    let k = dirs.len() / d.max(1);
    if dirs.len() != k * d {
        return Err(invalid(format!(
            "directions: {} values are not k x {d}",
            dirs.len()
        )));
    }
    let labels = checked_labels(&labels, k, data.rows())?;
    let out = py.detach(|| data.view().cosines_to(d, &labels, &dirs));
    Ok(vector(py, out))
}

fn checked_labels(labels: &[i64], k: usize, rows: usize) -> PyResult<Vec<usize>> {
    if labels.len() != rows {
        return Err(invalid(format!("labels: {} for {rows} rows", labels.len())));
    }
    labels
        .iter()
        .enumerate()
        .map(|(i, &l)| {
            usize::try_from(l)
                .ok()
                .filter(|&c| c < k)
                .ok_or_else(|| invalid(format!("labels[{i}] = {l}: not a cluster of 0..{k}")))
        })
        .collect()
}

/// The near-duplicate pairs of one IVF cell: each row of `probers` (the rows that probe the
/// cell, its own among them) against each row filed in it (`home`), cosine `>= threshold`
/// (recomputed in f64, as the core's clustered search does). Rows are named by `prober_rows`
/// and `home_rows` (the caller's positions: the same row under the same number on both
/// sides). Returns (pairs, smaller first: pairs x 2 int64; cosines), each pair once, sorted.
#[pyfunction]
pub fn cell_pairs<'py>(
    py: Python<'py>,
    probers: &Bound<'py, PyAny>,
    prober_rows: Vec<usize>,
    home: &Bound<'py, PyAny>,
    home_rows: Vec<usize>,
    threshold: f64,
) -> PyResult<Pairs<'py>> {
    let a = read(probers, "probers", true)?;
    let b = read(home, "home", true)?;
    if a.rows() != prober_rows.len() || b.rows() != home_rows.len() {
        return Err(invalid("cell_pairs: one row number per row"));
    }
    let found = py.detach(|| pairs_between(&a, &b, threshold)).or_raise()?;
    let mut pairs: Vec<Pair> = found
        .into_iter()
        .map(|(i, j, cosine)| (prober_rows[i], home_rows[j], cosine))
        .filter(|(p, q, _)| p != q)
        .map(|(p, q, cosine)| Pair {
            row_a: p.min(q),
            row_b: p.max(q),
            cosine,
        })
        .collect();
    pairs.sort_by_key(|p| (p.row_a, p.row_b));
    pairs.dedup_by_key(|p| (p.row_a, p.row_b));
    pair_arrays(py, &pairs)
}

/// Ids and cosines, lists x queries x k.
type TopLists<'py> = (Bound<'py, PyArray3<i64>>, Bound<'py, PyArray3<f32>>);

/// The top `k` rows of a batch for each query: exact (every row), and for each `nprobes[p]`
/// among the rows whose cell is one of the query's first `nprobes[p]` probes
/// (`query_probes`: queries x max nprobe, nearest first). Returns (ids, cosines), each
/// (len(nprobes) + 1) x queries x k, the exact lists last, sorted by (cosine descending, id
/// ascending), padded with -1 / -inf: merged across batches, what IVF at each nprobe finds
/// against exact search.
#[pyfunction]
#[allow(clippy::too_many_arguments)]
pub fn batch_top_k<'py>(
    py: Python<'py>,
    queries: &Bound<'py, PyAny>,
    query_probes: Vec<Vec<i64>>,
    x: &Bound<'py, PyAny>,
    ids: Vec<i64>,
    cells: Vec<i64>,
    nprobes: Vec<usize>,
    k: usize,
) -> PyResult<TopLists<'py>> {
    let q = read(queries, "queries", true)?;
    let data = read(x, "vectors", true)?;
    let (nq, n, d) = (q.rows(), data.rows(), data.dim());
    if ids.len() != n || cells.len() != n || query_probes.len() != nq {
        return Err(invalid(
            "batch_top_k: one id and cell per row, one probe list per query",
        ));
    }
    if k == 0 {
        return Err(invalid("invalid parameter `k` = 0: must be at least 1"));
    }
    let lists = nprobes.len() + 1;
    let (out_ids, out_scores) = py.detach(|| {
        let qv = q.as_f32();
        let xv = data.as_f32();
        let per_query: Vec<Vec<Vec<(f32, i64)>>> =
            for_each_tile(&qv[..], &xv, d, |start, rows, dots| {
                (0..rows)
                    .map(|r| {
                        let probes = &query_probes[start + r];
                        let mut best: Vec<Vec<(f32, i64)>> = vec![Vec::new(); lists];
                        for (j, &s) in dots[r * n..(r + 1) * n].iter().enumerate() {
                            best[lists - 1].push((s, ids[j]));
                            if let Some(at) = probes.iter().position(|&c| c == cells[j]) {
                                for (p, &np) in nprobes.iter().enumerate() {
                                    if at < np {
                                        best[p].push((s, ids[j]));
                                    }
                                }
                            }
                        }
                        for b in best.iter_mut() {
                            b.sort_by(|x, y| y.0.total_cmp(&x.0).then(x.1.cmp(&y.1)));
                            b.truncate(k);
                        }
                        best
                    })
                    .collect::<Vec<_>>()
            })
            .into_iter()
            .flatten()
            .collect();
        let mut out_ids = vec![-1i64; lists * nq * k];
        let mut out_scores = vec![f32::NEG_INFINITY; lists * nq * k];
        for (qi, best) in per_query.iter().enumerate() {
            for (p, list) in best.iter().enumerate() {
                for (j, &(s, id)) in list.iter().enumerate() {
                    out_ids[(p * nq + qi) * k + j] = id;
                    out_scores[(p * nq + qi) * k + j] = s;
                }
            }
        }
        (out_ids, out_scores)
    });
    Ok((
        PyArray1::from_vec(py, out_ids).reshape([lists, nq, k])?,
        PyArray1::from_vec(py, out_scores).reshape([lists, nq, k])?,
    ))
}

/// The key each text's exact duplicates share (xxh3-128 of the normalised text, as 32 hex
/// digits) and the normalised text a group is confirmed on.
#[pyfunction]
pub fn text_keys(py: Python<'_>, texts: Vec<String>) -> (Vec<String>, Vec<String>) {
    py.detach(|| {
        let norm = TextNorm::default();
        texts
            .iter()
            .map(|t| {
                let n = norm.apply(t);
                (format!("{:032x}", text_key(&n)), n)
            })
            .unzip()
    })
}

/// Each id's sampling key for `seed` (xxh3-64 of the id): a row is in the seeded sample of
/// `m` rows when its key is among the `m` smallest, whatever the partitioning of the data
/// and the order the batches arrive in.
#[pyfunction]
pub fn sample_keys(py: Python<'_>, ids: Vec<String>, seed: u64) -> Bound<'_, PyArray1<u64>> {
    let keys: Vec<u64> = py.detach(|| {
        ids.iter()
            .map(|id| xxhash_rust::xxh3::xxh3_64_with_seed(id.as_bytes(), seed))
            .collect()
    });
    vector(py, keys)
}

/// The `nprobe` IVF cells nearest each row of `x` among unit `centroids` (nlist x dim, a
/// `ClusterIndex`'s `centroids_`), nearest first: rows x nprobe int64.
#[pyfunction]
pub fn probe_cells<'py>(
    py: Python<'py>,
    x: &Bound<'py, PyAny>,
    centroids: &Bound<'py, PyAny>,
    nprobe: usize,
) -> PyResult<Bound<'py, PyArray2<i64>>> {
    let data = read(x, "vectors", true)?;
    let (c, _) = values_f32(centroids, "centroids")?;
    let probes = py
        .detach(|| embedscope::index::probe_cells(&data, &c, nprobe))
        .or_raise()?;
    let flat: Vec<i64> = probes.iter().flatten().map(|&c| c as i64).collect();
    PyArray1::from_vec(py, flat).reshape([data.rows(), nprobe])
}
