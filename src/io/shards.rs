//! Parquet datasets in shards: a folder of `.parquet` files or a glob of them (the layout of
//! Hugging Face datasets and of most exports), read shard by shard in name order into one
//! corpus. Every shard must have the first shard's columns, with the same types, and vectors
//! of the same dimension; errors name the shard and the column.

use std::path::{Path, PathBuf};

use polars::prelude::ParquetReader;
use polars::prelude::SerReader;

use super::{Corpus, LoadOptions};
use crate::embeddings::Embeddings;
use crate::error::{Error, Result};

/// Whether `path` names a sharded dataset: a folder, or a file name with `*` or `?`.
pub(crate) fn is_sharded(path: &Path) -> bool {
    path.is_dir()
        || path
            .file_name()
            .and_then(|n| n.to_str())
            .is_some_and(|n| n.contains(['*', '?']))
}

/// The shards `path` names, sorted by name: a folder's `.parquet` files (not its subfolders'),
/// or the files of the pattern's folder whose names match it (`*` any run, `?` one character).
pub fn shard_paths(path: &Path) -> Result<Vec<PathBuf>> {
    let (dir, pattern) = if path.is_dir() {
        (path.to_path_buf(), "*.parquet".to_string())
    } else {
        let dir = match path.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        };
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
        (dir, name.to_string())
    };
    if !dir.is_dir() {
        return Err(Error::FileNotFound { path: dir });
    }
    let entries = std::fs::read_dir(&dir).map_err(|e| Error::io(&dir, e))?;
    let mut shards = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|e| Error::io(&dir, e))?;
        let p = entry.path();
        let name = entry.file_name();
        let Some(name) = name.to_str() else { continue };
        if p.is_file() && matches(&pattern, name) {
            shards.push(p);
        }
    }
    shards.sort();
    if shards.is_empty() {
        return Err(Error::Malformed {
            path: path.to_path_buf(),
            location: "dataset".into(),
            message: if path.is_dir() {
                "the folder holds no .parquet files".into()
            } else {
                format!("no file in {} matches `{pattern}`", dir.display())
            },
        });
    }
    if let Some(other) = shards
        .iter()
        .find(|p| super::Format::from_path(p).ok() != Some(super::Format::Parquet))
    {
        return Err(Error::Malformed {
            path: other.clone(),
            location: "dataset".into(),
            message: "a sharded dataset is read as Parquet, and this shard is not a .parquet file"
                .into(),
        });
    }
    Ok(shards)
}

/// `*` and `?` glob matching of one file name.
fn matches(pattern: &str, name: &str) -> bool {
    let (p, n): (Vec<char>, Vec<char>) = (pattern.chars().collect(), name.chars().collect());
    // Iterative matching with backtracking to the last `*`.
    let (mut i, mut j, mut star, mut mark) = (0usize, 0usize, None::<usize>, 0usize);
    while j < n.len() {
        if i < p.len() && (p[i] == '?' || p[i] == n[j]) {
            i += 1;
            j += 1;
        } else if i < p.len() && p[i] == '*' {
            star = Some(i);
            mark = j;
            i += 1;
        } else if let Some(s) = star {
            i = s + 1;
            mark += 1;
            j = mark;
        } else {
            return false;
        }
    }
    while i < p.len() && p[i] == '*' {
        i += 1;
    }
    i == p.len()
}

/// The columns and types of a shard, as `name: type` strings in file order.
fn schema_of(path: &Path) -> Result<Vec<(String, String)>> {
    let file = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
    let schema = ParquetReader::new(file)
        .schema()
        .map_err(|e| super::parquet::polars_error(path, e))?;
    Ok(schema
        .iter()
        .map(|(name, field)| (name.to_string(), format!("{:?}", field.dtype())))
        .collect())
}

/// Loads every shard `path` names into one corpus (rows in shard order; ids from the id
/// column, else the row number across the whole dataset).
pub(crate) fn load(path: &Path, options: &LoadOptions) -> Result<Corpus> {
    let shards = shard_paths(path)?;
    let first = &shards[0];
    let first_schema = schema_of(first)?;
    // A column of `shard` that differs from the first shard's.
    let column_error = |shard: &Path, name: &str, message: String| Error::Malformed {
        path: shard.to_path_buf(),
        location: format!("column `{name}`"),
        message,
    };
    // Every shard's schema first, before reading any data.
    for shard in &shards[1..] {
        let schema = schema_of(shard)?;
        for (name, ty) in &first_schema {
            match schema.iter().find(|(n, _)| n == name) {
                None => {
                    return Err(column_error(
                        shard,
                        name,
                        format!(
                            "missing, but the first shard {} has it: every shard must have the same columns",
                            first.display()
                        ),
                    ))
                }
                Some((_, t)) if t != ty => {
                    return Err(column_error(
                        shard,
                        name,
                        format!("has type {t}, but {ty} in the first shard {}", first.display()),
                    ))
                }
                Some(_) => {}
            }
        }
        if let Some((name, _)) = schema
            .iter()
            .find(|(n, _)| !first_schema.iter().any(|(f, _)| f == n))
        {
            return Err(column_error(
                shard,
                name,
                format!(
                    "is not in the first shard {}: every shard must have the same columns",
                    first.display()
                ),
            ));
        }
    }
    let names: Vec<String> = first_schema.iter().map(|(n, _)| n.clone()).collect();
    let (cols, id_col) = super::sink::resolve_columns(first, &names, options)?;
    let vector_col = cols.vector.map(str::to_string);
    let mut ids = Vec::new();
    let mut texts: Option<Vec<String>> = None;
    let mut labels: Option<Vec<String>> = None;
    let mut parts: Vec<Embeddings> = Vec::new();
    for shard in &shards {
        let c = super::parquet::load(shard, options)?;
        if let Some(v) = &c.vectors {
            if let Some(p) = parts.first() {
                if v.dim() != p.dim() {
                    return Err(column_error(
                        shard,
                        vector_col.as_deref().unwrap_or("vector"),
                        format!(
                            "vectors of {} dimensions, but {} in the first shard {}",
                            v.dim(),
                            p.dim(),
                            first.display()
                        ),
                    ));
                }
            }
        }
        let offset = ids.len();
        match id_col {
            Some(_) => ids.extend(c.ids),
            None => ids.extend((offset..offset + c.ids.len()).map(|i| i.to_string())),
        }
        if let Some(t) = c.texts {
            texts.get_or_insert_with(Vec::new).extend(t);
        }
        if let Some(l) = c.labels {
            labels.get_or_insert_with(Vec::new).extend(l);
        }
        if let Some(v) = c.vectors {
            parts.push(v);
        }
    }
    let vectors = if parts.is_empty() {
        None
    } else {
        Some(Embeddings::concat(parts))
    };
    Ok(Corpus {
        source: path.to_path_buf(),
        ids,
        texts,
        labels,
        vectors,
    })
}

#[cfg(test)]
mod tests {
    use super::matches;

    #[test]
    fn glob_matching() {
        assert!(matches("*.parquet", "train-00000-of-00005.parquet"));
        assert!(matches(
            "train-*-of-?????.parquet",
            "train-00001-of-00005.parquet"
        ));
        assert!(!matches("train-*.parquet", "test-00001.parquet"));
        assert!(!matches("*.parquet", "x.parquet.tmp"));
        assert!(matches("a*b*c", "aXXbYYc"));
        assert!(!matches("a?c", "ac"));
    }
}
