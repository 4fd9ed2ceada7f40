//! `embedscope._native`: the Rust core exposed to Python through PyO3. The Python package
//! (`python/embedscope/`) is a thin layer over it: data frames in, the same errors as the
//! command line out, `_repr_html_` from the same renderings as the evcxr notebooks.
//!
//! Conventions kept here:
//! - numpy arrays in: float32 read as it is, float64 and float16 converted, anything else
//!   refused with a message; non-contiguous arrays are copied in row order.
//! - numpy arrays out: vectors the core produced are handed over without a copy
//!   (`PyArray::from_vec`), labels are int64 with -1 for noise (scikit-learn's convention; the
//!   core keeps noise typed).
//! - every long call releases the GIL (`Python::detach`), so other Python threads run.
//! - every error of the core becomes an [`EmbedscopeError`] (a `ValueError`) with the core's
//!   own message, the words the command line prints.

use pyo3::prelude::*;

mod arrays;
mod audit;
mod checks;
mod cluster;
mod distributed;
mod errors;
mod progress;
mod project;
mod search;
mod text;

pub use errors::EmbedscopeError;

/// The native module.
#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("EmbedscopeError", m.py().get_type::<EmbedscopeError>())?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    m.add_class::<arrays::PyEmbeddings>()?;
    m.add_class::<cluster::PyKMeans>()?;
    m.add_class::<cluster::PyHdbscan>()?;
    m.add_class::<cluster::PyKSweep>()?;
    m.add_class::<project::PyUmap>()?;
    m.add_class::<search::PyClusterIndex>()?;
    m.add_class::<search::PyDedup>()?;
    m.add_class::<text::PyEmbedder>()?;
    m.add_class::<audit::PyCorpus>()?;
    m.add_class::<audit::PyAudit>()?;
    m.add_class::<audit::PyWorkerResults>()?;
    m.add_class::<checks::PyReport>()?;
    m.add_class::<checks::PyStability>()?;
    m.add_class::<checks::PyComparison>()?;
    m.add_function(wrap_pyfunction!(checks::health, m)?)?;
    m.add_function(wrap_pyfunction!(checks::compare, m)?)?;
    m.add_function(wrap_pyfunction!(checks::queries, m)?)?;
    m.add_function(wrap_pyfunction!(search::near_duplicates, m)?)?;
    m.add_function(wrap_pyfunction!(text::topics, m)?)?;
    m.add_function(wrap_pyfunction!(audit::run_audit, m)?)?;
    m.add_function(wrap_pyfunction!(audit::resolve_columns, m)?)?;
    m.add_function(wrap_pyfunction!(distributed::assign, m)?)?;
    m.add_function(wrap_pyfunction!(distributed::cluster_sums, m)?)?;
    m.add_function(wrap_pyfunction!(distributed::direction_cosines, m)?)?;
    m.add_function(wrap_pyfunction!(distributed::cell_pairs, m)?)?;
    m.add_function(wrap_pyfunction!(distributed::batch_top_k, m)?)?;
    m.add_function(wrap_pyfunction!(distributed::text_keys, m)?)?;
    m.add_function(wrap_pyfunction!(distributed::sample_keys, m)?)?;
    m.add_function(wrap_pyfunction!(distributed::probe_cells, m)?)?;
    Ok(())
}
