//! polars columns and frames for the `to_frame()` views and the Parquet tables.

use polars::prelude::*;

use crate::error::{Error, Result};

pub(crate) fn frame(height: usize, columns: Vec<Column>) -> Result<DataFrame> {
    DataFrame::new(height, columns).map_err(|e| Error::table("a frame", e))
}

pub(crate) fn u32_col(name: &str, v: impl Iterator<Item = usize>) -> Column {
    UInt32Chunked::from_iter_values(name.into(), v.map(|x| x as u32))
        .into_series()
        .into_column()
}

pub(crate) fn f64_col(name: &str, v: impl Iterator<Item = f64>) -> Column {
    Float64Chunked::from_iter_values(name.into(), v)
        .into_series()
        .into_column()
}

pub(crate) fn f32_col(name: &str, v: impl Iterator<Item = f32>) -> Column {
    Float32Chunked::from_iter_values(name.into(), v)
        .into_series()
        .into_column()
}

pub(crate) fn str_col<'a>(name: &str, v: impl Iterator<Item = &'a str>) -> Column {
    StringChunked::from_iter_values(name.into(), v)
        .into_series()
        .into_column()
}

pub(crate) fn i32_col(name: &str, v: impl Iterator<Item = i32>) -> Column {
    Int32Chunked::from_iter_values(name.into(), v)
        .into_series()
        .into_column()
}

pub(crate) fn bool_col(name: &str, v: impl Iterator<Item = bool>) -> Column {
    BooleanChunked::from_iter_values(name.into(), v)
        .into_series()
        .into_column()
}

pub(crate) fn opt_i32_col(name: &str, v: Vec<Option<i32>>) -> Column {
    Int32Chunked::from_iter_options(name.into(), v.into_iter())
        .into_series()
        .into_column()
}

pub(crate) fn opt_f32_col(name: &str, v: Vec<Option<f32>>) -> Column {
    Float32Chunked::from_iter_options(name.into(), v.into_iter())
        .into_series()
        .into_column()
}
