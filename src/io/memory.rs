//! A corpus from columns held in memory (a data frame's, handed over from Python or a Ray
//! batch): the columns are chosen by the same rules as a file's ([`resolve`]) and every row is
//! checked by the same [`Sink`], so a bad row gets the words a file's bad row gets, with the
//! frame's name where a file's path would be.

use std::path::Path;

use super::sink::{resolve_columns, Location, Sink};
use super::{Corpus, LoadOptions};
use crate::error::{Error, Result};

/// Which columns of a frame with columns `names` hold the texts, vectors, labels and ids
/// under `options` (the file rules: `text` unless named, `embedding` or `vector` when
/// present, `id` when present); a named column that is missing is an error naming `source`
/// and the columns present.
pub fn resolve(source: &Path, names: &[String], options: &LoadOptions) -> Result<ResolvedColumns> {
    let (cols, id) = resolve_columns(source, names, options)?;
    Ok(ResolvedColumns {
        text: cols.text.map(str::to_string),
        vector: cols.vector.map(str::to_string),
        label: cols.label.map(str::to_string),
        id: id.map(str::to_string),
    })
}

/// The columns [`resolve`] chose.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResolvedColumns {
    /// The text column, if the frame has it.
    pub text: Option<String>,
    /// The vector column, if any.
    pub vector: Option<String>,
    /// The reference label column, if asked for.
    pub label: Option<String>,
    /// The id column, if any.
    pub id: Option<String>,
}

/// Each row's `(start, end)` in a column's values back to back, `None` for a null cell.
pub type RowRanges = Vec<Option<(usize, usize)>>;

/// The cells of the resolved columns, one per row (`None` for a null cell).
#[derive(Debug, Default)]
pub struct ColumnCells<'a> {
    /// Ids (a null id becomes the row number).
    pub ids: Option<Vec<Option<String>>>,
    /// Texts.
    pub texts: Option<Vec<Option<String>>>,
    /// Reference labels.
    pub labels: Option<Vec<Option<String>>>,
    /// Every row's vector values back to back, and each row's `(start, end)` in them.
    pub vectors: Option<(&'a [f32], RowRanges)>,
}

/// The corpus of `rows` rows from `cells` of the `columns` [`resolve`] chose, each row
/// checked as a file's (present, equal lengths, finite), errors naming `source` and
/// `row N`.
pub fn from_columns(
    source: &Path,
    rows: usize,
    columns: &ResolvedColumns,
    cells: ColumnCells<'_>,
) -> Result<Corpus> {
    let lengths = [
        ("ids", cells.ids.as_ref().map(Vec::len)),
        ("texts", cells.texts.as_ref().map(Vec::len)),
        ("labels", cells.labels.as_ref().map(Vec::len)),
        ("vectors", cells.vectors.as_ref().map(|v| v.1.len())),
    ];
    for (what, len) in lengths {
        if let Some(len) = len.filter(|&l| l != rows) {
            return Err(Error::param(
                what,
                len,
                format!("cells, but the frame has {rows} rows"),
            ));
        }
    }
    let cols = super::sink::Columns {
        text: columns.text.as_deref().filter(|_| cells.texts.is_some()),
        vector: columns
            .vector
            .as_deref()
            .filter(|_| cells.vectors.is_some()),
        label: columns.label.as_deref().filter(|_| cells.labels.is_some()),
    };
    let mut sink = Sink::new(source, cols);
    let take = |v: &mut Option<Vec<Option<String>>>, row: usize| {
        v.as_mut().and_then(|cells| cells[row].take())
    };
    let (mut ids, mut texts, mut labels) = (cells.ids, cells.texts, cells.labels);
    for row in 0..rows {
        let vector = cells
            .vectors
            .as_ref()
            .and_then(|(values, ranges)| ranges[row].map(|(s, e)| &values[s..e]));
        sink.push(
            Location::Row(row),
            take(&mut ids, row),
            take(&mut texts, row),
            take(&mut labels, row),
            vector,
        )?;
    }
    sink.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(n: &[&str]) -> Vec<String> {
        n.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn columns_are_chosen_as_a_files_and_a_missing_one_is_named() {
        let r = resolve(
            Path::new("<frame>"),
            &names(&["id", "text", "embedding"]),
            &LoadOptions::default(),
        )
        .unwrap();
        assert_eq!(r.vector.as_deref(), Some("embedding"));
        assert_eq!(r.id.as_deref(), Some("id"));
        let options = LoadOptions {
            vector_column: Some("vec".into()),
            ..LoadOptions::default()
        };
        let e = resolve(Path::new("<frame>"), &names(&["text"]), &options)
            .unwrap_err()
            .to_string();
        assert_eq!(e, "<frame>: no column `vec` (columns present: text)");
    }

    #[test]
    fn rows_are_checked_with_a_files_words() {
        let cols = resolve(
            Path::new("<frame>"),
            &names(&["text", "vector"]),
            &LoadOptions::default(),
        )
        .unwrap();
        let values = [1.0, 0.0, f32::NAN, 1.0];
        let cells = || ColumnCells {
            texts: Some(vec![Some("a".into()), Some("b".into())]),
            vectors: Some((&values[..], vec![Some((0, 2)), Some((2, 4))])),
            ..ColumnCells::default()
        };
        let e = from_columns(Path::new("<frame>"), 2, &cols, cells())
            .unwrap_err()
            .to_string();
        assert_eq!(
            e,
            "<frame>: row 1: column `vector`, element 0: value NaN is not finite"
        );
        let ok = ColumnCells {
            texts: Some(vec![Some("a".into()), None]),
            ..cells()
        };
        let e = from_columns(Path::new("<frame>"), 2, &cols, ok)
            .unwrap_err()
            .to_string();
        assert_eq!(e, "<frame>: row 1: column `text` is missing or null");
        let fine = ColumnCells {
            texts: Some(vec![Some("a".into()), Some("b".into())]),
            vectors: Some((&values[..2], vec![Some((0, 2)), Some((0, 2))])),
            ..ColumnCells::default()
        };
        let c = from_columns(Path::new("<frame>"), 2, &cols, fine).unwrap();
        assert_eq!(c.ids, ["0", "1"]);
        assert_eq!(c.vectors.unwrap().rows(), 2);
    }
}
