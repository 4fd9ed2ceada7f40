//! numpy arrays in and out, and the `Embeddings` class.
//!
//! In: a 2-D array of float32 (read as it is), float64 or float16 (converted; float16 stays
//! half in memory, as a float16 `.npy` does on the command line); a non-contiguous array is
//! read in row order; any other dtype is refused naming it. Rows are validated (finite, not all
//! zero) and L2-normalised by the core, whose messages name the row and dimension.
//! Out: matrices the core owns are handed to numpy without a copy.

use std::sync::Arc;

use embedscope::display::Rich;
use embedscope::{f16, Embeddings};
use numpy::{
    Element, PyArray1, PyArray2, PyArrayMethods, PyReadonlyArray2, PyUntypedArray,
    PyUntypedArrayMethods,
};
use pyo3::prelude::*;
use pyo3::types::PyType;

use crate::errors::invalid;

/// A validated, L2-normalised vector matrix (rows × dimensions), shared by the stages without
/// a copy: `Embeddings.from_numpy(X)` once, then pass it to any `fit` in place of `X`.
#[pyclass(name = "Embeddings", module = "embedscope._native", frozen)]
pub struct PyEmbeddings {
    pub inner: Arc<Embeddings>,
}

#[pymethods]
impl PyEmbeddings {
    /// Validates and normalises `array` (rows × dimensions; float32, float64 or float16).
    /// `normalize=False` keeps the rows as they are (points such as a UMAP output, for a
    /// Euclidean HDBSCAN).
    #[classmethod]
    #[pyo3(signature = (array, normalize = true))]
    fn from_numpy(
        _cls: &Bound<'_, PyType>,
        array: &Bound<'_, PyAny>,
        normalize: bool,
    ) -> PyResult<Self> {
        Ok(PyEmbeddings {
            inner: read(array, "vectors", normalize)?,
        })
    }

    /// The rows as a float32 array (normalised unless made with `normalize=False`).
    fn to_numpy<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyArray2<f32>>> {
        let (rows, dim) = (self.inner.rows(), self.inner.dim());
        let data = self.inner.as_f32().into_owned();
        matrix(py, data, rows, dim)
    }

    /// (rows, dimensions).
    #[getter]
    fn shape(&self) -> (usize, usize) {
        (self.inner.rows(), self.inner.dim())
    }

    /// Whether the rows are stored as float16.
    #[getter]
    fn is_half(&self) -> bool {
        self.inner.is_half()
    }

    fn __len__(&self) -> usize {
        self.inner.rows()
    }

    fn __repr__(&self) -> String {
        format!(
            "Embeddings(rows={}, dim={}, dtype={})",
            self.inner.rows(),
            self.inner.dim(),
            if self.inner.is_half() {
                "float16"
            } else {
                "float32"
            }
        )
    }

    fn _repr_html_(&self) -> String {
        self.inner.to_html()
    }
}

/// The vectors `obj` holds: an `Embeddings` (shared, no copy) or anything `numpy.asarray`
/// takes. `what` names the argument in messages; `normalize` false keeps the rows as points.
pub fn read(obj: &Bound<'_, PyAny>, what: &str, normalize: bool) -> PyResult<Arc<Embeddings>> {
    if let Ok(e) = obj.extract::<PyRef<'_, PyEmbeddings>>() {
        if normalize && !e.inner.is_unit() {
            return Err(invalid(format!(
                "{what}: these Embeddings were made with normalize=False; pass the array instead"
            )));
        }
        return Ok(e.inner.clone());
    }
    let py = obj.py();
    let array = if obj.is_instance_of::<PyUntypedArray>() {
        obj.clone()
    } else {
        py.import("numpy")?
            .call_method1("asarray", (obj,))
            .map_err(|e| invalid(format!("{what}: not an array of vectors ({e})")))?
    };
    let untyped = array.cast::<PyUntypedArray>()?;
    let shape = untyped.shape().to_vec();
    if shape.len() != 2 {
        return Err(invalid(format!(
            "{what}: expected a 2-D array (rows x dimensions), got shape {shape:?}"
        )));
    }
    let dim = shape[1];
    let dtype: String = array.getattr("dtype")?.str()?.extract()?;
    let kind: String = array.getattr("dtype")?.getattr("kind")?.extract()?;
    let size: usize = array.getattr("dtype")?.getattr("itemsize")?.extract()?;
    let built = match (kind.as_str(), size) {
        ("f", 4) => {
            let data = copy::<f32>(&array)?;
            build(py, data, dim, normalize)
        }
        ("f", 8) => {
            let data: Vec<f32> = copy::<f64>(&array)?.into_iter().map(|x| x as f32).collect();
            build(py, data, dim, normalize)
        }
        ("f", 2) => {
            let data = copy::<f16>(&array)?;
            if normalize {
                py.detach(|| Embeddings::new_half(data, dim))
            } else {
                let data = data.into_iter().map(f32::from).collect();
                build(py, data, dim, false)
            }
        }
        _ => return Err(not_float(what, &dtype)),
    };
    built
        .map(Arc::new)
        .map_err(|e| invalid(format!("{what}: {e}")))
}

fn build(
    py: Python<'_>,
    data: Vec<f32>,
    dim: usize,
    normalize: bool,
) -> Result<Embeddings, embedscope::EmbeddingsError> {
    py.detach(|| {
        if normalize {
            Embeddings::new(data, dim)
        } else {
            Embeddings::points(data, dim)
        }
    })
}

/// The values of a float array of any shape, as float32 in row order, and its shape: float64
/// and float16 converted, anything else refused naming the dtype.
pub fn values_f32(obj: &Bound<'_, PyAny>, what: &str) -> PyResult<(Vec<f32>, Vec<usize>)> {
    let py = obj.py();
    let array = py.import("numpy")?.call_method1("asarray", (obj,))?;
    let shape: Vec<usize> = array.cast::<PyUntypedArray>()?.shape().to_vec();
    let flat = array.call_method0("ravel")?;
    let dtype = array.getattr("dtype")?;
    let kind: String = dtype.getattr("kind")?.extract()?;
    let size: usize = dtype.getattr("itemsize")?.extract()?;
    let values = match (kind.as_str(), size) {
        ("f", 4) => flat
            .extract::<numpy::PyReadonlyArray1<'_, f32>>()?
            .as_array()
            .to_vec(),
        ("f", 8) => flat
            .extract::<numpy::PyReadonlyArray1<'_, f64>>()?
            .as_array()
            .iter()
            .map(|&x| x as f32)
            .collect(),
        ("f", 2) => flat
            .extract::<numpy::PyReadonlyArray1<'_, f16>>()?
            .as_array()
            .iter()
            .map(|&x| f32::from(x))
            .collect(),
        _ => return Err(not_float(what, &dtype.str()?.to_string())),
    };
    Ok((values, shape))
}

/// The error for a dtype that is not floating point.
fn not_float(what: &str, dtype: &str) -> PyErr {
    invalid(format!(
        "{what}: dtype {dtype} is not floating point; pass float32, float64 or float16 \
         vectors (for example X.astype(\"float32\"))"
    ))
}

/// The array's values in row order: one copy, straight from the buffer when it is contiguous.
fn copy<T: Element + Copy>(array: &Bound<'_, PyAny>) -> PyResult<Vec<T>> {
    let a: PyReadonlyArray2<'_, T> = array.extract()?;
    // `as_slice` also accepts a Fortran-ordered buffer (column after column); only a C-ordered
    // one is in row order.
    Ok(match a.as_slice() {
        Ok(s) if a.is_c_contiguous() => s.to_vec(),
        _ => a.as_array().iter().copied().collect(),
    })
}

/// A rows × cols float32 array over `data`, without a copy.
pub fn matrix(
    py: Python<'_>,
    data: Vec<f32>,
    rows: usize,
    cols: usize,
) -> PyResult<Bound<'_, PyArray2<f32>>> {
    PyArray1::from_vec(py, data).reshape([rows, cols])
}

/// Cluster labels as int64, -1 for noise.
pub fn labels<'py>(
    py: Python<'py>,
    labels: impl IntoIterator<Item = Option<usize>>,
) -> Bound<'py, PyArray1<i64>> {
    let v: Vec<i64> = labels
        .into_iter()
        .map(|l| l.map_or(-1, |c| c as i64))
        .collect();
    PyArray1::from_vec(py, v)
}

/// A 1-D array over `data`, without a copy.
pub fn vector<T: Element>(py: Python<'_>, data: Vec<T>) -> Bound<'_, PyArray1<T>> {
    PyArray1::from_vec(py, data)
}
