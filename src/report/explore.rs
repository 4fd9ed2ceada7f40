//! The data behind the report's explorable map: one column per property of the plotted points
//! (coordinates, id, text, cluster, noise, outlier score, duplicate group, health, nearest
//! neighbours) and the duplicate policy's drop list, as gzip-compressed JSON in base64. The
//! page inflates it with the browser's `DecompressionStream`; compression keeps 50,000
//! documents' texts within the page's size budget.

use std::collections::HashMap;
use std::io::Write;

use flate2::write::GzEncoder;
use flate2::Compression;
use serde::Serialize;

use crate::audit::{Audit, CorpusMap};
use crate::error::{Error, Result};

/// The explorable map's columns, one entry per plotted point (see the module docs).
#[derive(Serialize)]
struct Explore<'a> {
    x: Vec<f64>,
    y: Vec<f64>,
    /// K-Means cluster.
    cluster: Vec<usize>,
    id: &'a [String],
    /// The text's first 2,000 characters (absent without texts).
    #[serde(skip_serializing_if = "Option::is_none")]
    text: Option<&'a [String]>,
    /// The whole text's length in characters.
    #[serde(skip_serializing_if = "Option::is_none")]
    length: Option<&'a [u32]>,
    /// Characters the text column keeps at most.
    text_chars: usize,
    /// Cosine to the cluster's mean direction.
    centroid: Vec<f64>,
    /// HDBSCAN cluster, -1 for noise, null outside the noise section's sample.
    #[serde(skip_serializing_if = "Option::is_none")]
    hdbscan: Option<Vec<Option<i64>>>,
    /// GLOSH outlier score, null outside the noise section's sample.
    #[serde(skip_serializing_if = "Option::is_none")]
    outlier: Option<Vec<Option<f64>>>,
    /// Removal group, -1 for none.
    #[serde(skip_serializing_if = "Option::is_none")]
    group: Option<Vec<i64>>,
    /// 1 when the removal policy drops the document.
    #[serde(skip_serializing_if = "Option::is_none")]
    dropped: Option<Vec<u8>>,
    /// Tokens (null: not counted), 1 when over the embedder's limit, and the language ("" when
    /// unclear), from the chunk-health check.
    #[serde(skip_serializing_if = "Option::is_none")]
    tokens: Option<Vec<Option<usize>>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    truncated: Option<Vec<u8>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    language: Option<Vec<&'static str>>,
    /// Nearest plotted points, flat `[point, cosine, point, cosine, ...]`, nearest first.
    nn: Vec<Vec<Num>>,
    /// Every document the duplicate policy drops: `[id, row or null, group, kept id]` (absent
    /// above [`MAX_PAGE_DROPS`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    drops: Option<Vec<DropEntry<'a>>>,
    /// Documents the policy drops, when there are too many to carry (the review then points to
    /// the tables).
    #[serde(skip_serializing_if = "Option::is_none")]
    drops_omitted: Option<usize>,
}

/// Dropped documents the page carries at most (about 5 MB of JSON before compression): the
/// duplicate review needs every one, so above this the page carries none and says where the
/// list is.
const MAX_PAGE_DROPS: usize = 200_000;

/// A dropped document as the page reads it: `[id, row or null, group, kept id]`.
type DropEntry<'a> = (&'a str, Option<usize>, usize, &'a str);

/// A point index (printed as an integer) or a cosine, in one flat list.
#[derive(Serialize)]
#[serde(untagged)]
enum Num {
    Point(u32),
    Cosine(f64),
}

fn round(v: f32, digits: i32) -> f64 {
    let scale = 10f64.powi(digits);
    (f64::from(v) * scale).round() / scale
}

/// The explorable map's data as base64 of gzip-compressed JSON (no points without a map);
/// `None` with neither a map nor duplicates.
pub(crate) fn explore_blob(audit: &Audit) -> Result<Option<String>> {
    // Without a map the page still carries the drop list, for the duplicate review.
    let no_map;
    let map = match (&audit.map, &audit.duplicates) {
        (Some(map), _) => map,
        (None, Some(_)) => {
            no_map = CorpusMap::default();
            &no_map
        }
        (None, None) => return Ok(None),
    };
    let rows = &map.rows;
    let noise_of: Option<HashMap<usize, (i64, f32)>> = audit.noise.as_ref().map(|n| {
        n.row_of()
            .into_iter()
            .enumerate()
            .map(|(s, row)| (row, (n.labels[s].map_or(-1, |c| c as i64), n.scores[s])))
            .collect()
    });
    // Duplicate membership by id, so the local audit (rows) and one assembled from a
    // cluster's results (ids only) read the same way.
    let dup_of: Option<HashMap<&str, (usize, bool)>> = audit.duplicates.as_ref().map(|d| {
        let mut m = HashMap::new();
        for drop in &d.drops {
            m.insert(drop.kept_id.as_str(), (drop.group, false));
        }
        for drop in &d.drops {
            m.insert(drop.id.as_str(), (drop.group, true));
        }
        m
    });
    let health = audit
        .health
        .as_ref()
        .map(|h| h.report.per_row())
        .filter(|r| !r.is_empty());
    let health_of = |row: usize| health.and_then(|h| h.get(row));
    let explore = Explore {
        x: map.points.iter().map(|p| round(p[0], 3)).collect(),
        y: map.points.iter().map(|p| round(p[1], 3)).collect(),
        cluster: rows.iter().map(|&r| audit.labels[r]).collect(),
        id: &map.ids,
        text: (!map.texts.is_empty()).then_some(map.texts.as_slice()),
        length: (!map.texts.is_empty()).then_some(map.lengths.as_slice()),
        text_chars: crate::audit::PANEL_CHARS,
        centroid: rows
            .iter()
            .map(|&r| round(audit.centroid_cosine.get(r).copied().unwrap_or(f32::NAN), 3))
            .collect(),
        hdbscan: noise_of
            .as_ref()
            .map(|m| rows.iter().map(|r| m.get(r).map(|v| v.0)).collect()),
        outlier: noise_of.as_ref().map(|m| {
            rows.iter()
                .map(|r| m.get(r).map(|v| round(v.1, 3)))
                .collect()
        }),
        group: dup_of.as_ref().map(|m| {
            map.ids
                .iter()
                .map(|id| m.get(id.as_str()).map_or(-1, |v| v.0 as i64))
                .collect()
        }),
        dropped: dup_of.as_ref().map(|m| {
            map.ids
                .iter()
                .map(|id| u8::from(m.get(id.as_str()).is_some_and(|v| v.1)))
                .collect()
        }),
        tokens: health.map(|_| {
            rows.iter()
                .map(|&r| health_of(r).and_then(|h| h.tokens))
                .collect()
        }),
        truncated: health.map(|_| {
            rows.iter()
                .map(|&r| u8::from(health_of(r).is_some_and(|h| h.truncated)))
                .collect()
        }),
        language: health.map(|_| {
            rows.iter()
                .map(|&r| health_of(r).and_then(|h| h.language).unwrap_or(""))
                .collect()
        }),
        nn: map
            .neighbours
            .iter()
            .map(|n| {
                n.iter()
                    .flat_map(|&(p, c)| [Num::Point(p), Num::Cosine(round(c, 3))])
                    .collect()
            })
            .collect(),
        drops: audit
            .duplicates
            .as_ref()
            .filter(|d| d.drops.len() <= MAX_PAGE_DROPS)
            .map(|d| {
                d.drops
                    .iter()
                    .map(|x| (x.id.as_str(), x.row, x.group, x.kept_id.as_str()))
                    .collect()
            }),
        drops_omitted: audit
            .duplicates
            .as_ref()
            .map(|d| d.drops.len())
            .filter(|&n| n > MAX_PAGE_DROPS),
    };
    let mut gz = GzEncoder::new(Vec::new(), Compression::default());
    serde_json::to_writer(&mut gz, &explore)?;
    // Into memory: cannot fail short of allocation, but reported rather than unwrapped.
    let in_memory = |e| Error::io("the report's map data (in memory)", e);
    gz.flush().map_err(in_memory)?;
    Ok(Some(base64(&gz.finish().map_err(in_memory)?)))
}

/// Standard base64 with padding.
fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for (i, shift) in [18, 12, 6, 0].into_iter().enumerate() {
            if i <= chunk.len() {
                out.push(ALPHABET[((n >> shift) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::base64;

    #[test]
    fn base64_matches_the_rfc_examples() {
        for (plain, coded) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ] {
            assert_eq!(base64(plain.as_bytes()), coded);
        }
    }
}
