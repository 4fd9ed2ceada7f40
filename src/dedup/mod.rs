//! Duplicates: exact (same text after normalisation, by hash) and near (cosine at or above a
//! threshold, every pair found through the similarity kernel: tiles of the upper triangle of
//! the all-pairs product with the threshold fused, never an `n x n` matrix), grouped by
//! union-find.

mod display;
mod run;

pub use run::{Dedup, DedupMode, DedupParams, Deduplication, CLUSTERED_ABOVE_ROWS};

use rayon::prelude::*;
use serde::Serialize;

use crate::embeddings::Embeddings;
use crate::error::{Error, Result};
use crate::kernel::for_each_upper_tile;
use crate::linalg::dot_f64;
use std::sync::atomic::{AtomicU32, Ordering};

pub use crate::kernel::Pair;

/// Every pair of rows with cosine similarity `>= threshold`, sorted by (row_a, row_b). Exact:
/// the tiles' f32 products decide clear cases, and pairs within 1e-5 of the threshold are
/// recomputed in f64, so a pair exactly at the threshold is in.
///
/// ```
/// use embedscope::{dedup::near_duplicates, Embeddings};
/// let data = Embeddings::new(vec![1.0, 0.0, 1.0, 0.001, 0.0, 1.0], 2)?;
/// let pairs = near_duplicates(&data, 0.95)?;
/// assert_eq!((pairs.len(), pairs[0].row_a, pairs[0].row_b), (1, 0, 1));
/// # Ok::<(), embedscope::Error>(())
/// ```
pub fn near_duplicates(data: &Embeddings, threshold: f64) -> Result<Vec<Pair>> {
    Ok(scan(data, threshold)?.pairs)
}

/// What one pass over the upper triangle finds: the pairs at or above the threshold and every
/// row's nearest-neighbour cosine.
#[derive(Debug, Clone, PartialEq)]
pub struct Scan {
    /// Pairs with cosine `>= threshold`, sorted by (row_a, row_b).
    pub pairs: Vec<Pair>,
    /// Each row's highest cosine to another row (NaN for a corpus of one row).
    pub nearest: Vec<f32>,
}

/// [`near_duplicates`] and [`nearest_cosines`] in one pass over the upper triangle: each
/// tile's values are read once for the threshold test, the row maxima and the column maxima
/// (folded into shared per-row maxima, an order-independent reduction).
pub fn scan(data: &Embeddings, threshold: f64) -> Result<Scan> {
    check_threshold(threshold)?;
    data.require_unit("cosine threshold", &threshold.to_string())?;
    let (n, d) = (data.rows(), data.dim());
    let x = data.as_f32();
    let loose = (threshold - 1e-5) as f32;
    let col_max: Vec<AtomicU32> = (0..n).map(|_| AtomicU32::new(0)).collect();
    let parts = for_each_upper_tile(&x, d, |start, rows, dots| {
        let m = n - start;
        let mut pairs = Vec::new();
        let mut row_max = vec![f32::NEG_INFINITY; rows];
        let mut cols = vec![f32::NEG_INFINITY; m];
        for r in 0..rows {
            let i = start + r;
            // Columns are rows start.., so row j sits at column j - start; only j > i count.
            let line = &dots[r * m + r + 1..(r + 1) * m];
            let cm = &mut cols[r + 1..];
            let mut best = f32::NEG_INFINITY;
            for (ci, (chunk, cmc)) in line.chunks(16).zip(cm.chunks_mut(16)).enumerate() {
                let mut top = f32::NEG_INFINITY;
                for (&v, c) in chunk.iter().zip(cmc.iter_mut()) {
                    top = if v > top { v } else { top };
                    *c = if v > *c { v } else { *c };
                }
                best = if top > best { top } else { best };
                if top >= loose {
                    for (o, &v) in chunk.iter().enumerate() {
                        if v >= loose {
                            let j = i + 1 + ci * 16 + o;
                            let exact = dot_f64(&x[i * d..(i + 1) * d], &x[j * d..(j + 1) * d]);
                            if exact >= threshold {
                                pairs.push(Pair {
                                    row_a: i,
                                    row_b: j,
                                    cosine: exact as f32,
                                });
                            }
                        }
                    }
                }
            }
            row_max[r] = best;
        }
        for (c, &v) in cols.iter().enumerate() {
            if v > f32::NEG_INFINITY {
                col_max[start + c].fetch_max(order_key(v), Ordering::Relaxed);
            }
        }
        (pairs, row_max)
    });
    let mut pairs = Vec::new();
    let mut nearest = Vec::with_capacity(n);
    for (p, r) in parts {
        pairs.extend(p);
        nearest.extend(r);
    }
    for (v, c) in nearest.iter_mut().zip(&col_max) {
        let c = c.load(Ordering::Relaxed);
        let best = if c == 0 {
            f32::NEG_INFINITY
        } else {
            from_order_key(c)
        };
        *v = v.max(best).min(1.0);
        if *v == f32::NEG_INFINITY {
            *v = f32::NAN;
        }
    }
    Ok(Scan { pairs, nearest })
}

/// A `u32` whose unsigned order is the order of the finite `f32` `v` (sign flips the rest).
fn order_key(v: f32) -> u32 {
    let b = v.to_bits();
    if b & 0x8000_0000 != 0 {
        !b
    } else {
        b | 0x8000_0000
    }
}

fn from_order_key(k: u32) -> f32 {
    f32::from_bits(if k & 0x8000_0000 != 0 {
        k & 0x7fff_ffff
    } else {
        !k
    })
}

fn check_threshold(threshold: f64) -> Result<()> {
    Error::check_threshold("threshold", threshold)
}

/// Each row's highest cosine similarity to another row (the nearest neighbour), through the
/// kernel's tiles with fused maxima: the distribution that tells where a duplicate threshold
/// sits. NaN for a corpus of one row.
pub fn nearest_cosines(data: &Embeddings) -> Result<Vec<f32>> {
    Ok(scan(data, 1.0)?.nearest)
}

/// Counts of `values` in `bins` equal bins over `[lo, hi]` (`hi` falls in the last bin;
/// values below `lo`, above `hi` or not finite are not counted): `(left edges, counts)`.
pub fn histogram(values: &[f32], lo: f64, hi: f64, bins: usize) -> (Vec<f64>, Vec<usize>) {
    let width = (hi - lo) / bins as f64;
    let mut counts = vec![0usize; bins];
    for &v in values {
        let v = f64::from(v);
        if v.is_finite() && v >= lo && v <= hi {
            counts[(((v - lo) / width) as usize).min(bins - 1)] += 1;
        }
    }
    let edges = (0..bins)
        .map(|b| ((lo + b as f64 * width) * 1e6).round() / 1e6)
        .collect();
    (edges, counts)
}

/// Groups of rows joined by `pairs` (union-find), each sorted, groups ordered by their first
/// row; rows in no pair are left out.
pub fn groups(n: usize, pairs: impl IntoIterator<Item = (usize, usize)>) -> Vec<Vec<usize>> {
    let mut parent: Vec<usize> = (0..n).collect();
    let mut touched = vec![false; n];
    for (a, b) in pairs {
        touched[a] = true;
        touched[b] = true;
        let (ra, rb) = (
            crate::union_find::find_root(&mut parent, a),
            crate::union_find::find_root(&mut parent, b),
        );
        if ra != rb {
            parent[ra.max(rb)] = ra.min(rb);
        }
    }
    let mut by_root: std::collections::BTreeMap<usize, Vec<usize>> = Default::default();
    for i in (0..n).filter(|&i| touched[i]) {
        by_root
            .entry(crate::union_find::find_root(&mut parent, i))
            .or_default()
            .push(i);
    }
    by_root.into_values().collect()
}

/// Groups for removal: near-duplicate `pairs` and exact-text groups joined, since a row is
/// redundant whether its text repeats exactly or its vector nearly does.
pub fn removal_groups(
    n: usize,
    pairs: impl IntoIterator<Item = (usize, usize)>,
    exact: Option<&[Vec<usize>]>,
) -> Vec<Vec<usize>> {
    let mut links: Vec<(usize, usize)> = pairs.into_iter().collect();
    for g in exact.into_iter().flatten() {
        links.extend(g[1..].iter().map(|&r| (g[0], r)));
    }
    groups(n, links)
}

/// How texts are normalised before the exact comparison. Default: whitespace collapsed (and
/// trimmed), lowercased, punctuation kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct TextNorm {
    /// Lowercase (Unicode).
    pub lowercase: bool,
    /// Trim, and collapse every run of whitespace to one space.
    pub collapse_whitespace: bool,
    /// Drop punctuation characters (Unicode `is_ascii_punctuation` and general punctuation),
    /// so "Hello, world!" equals "hello world".
    pub strip_punctuation: bool,
}

impl Default for TextNorm {
    fn default() -> Self {
        TextNorm {
            lowercase: true,
            collapse_whitespace: true,
            strip_punctuation: false,
        }
    }
}

impl TextNorm {
    /// `text` normalised.
    pub fn apply(&self, text: &str) -> String {
        let mut t: String = if self.strip_punctuation {
            text.chars()
                .filter(|c| !(c.is_ascii_punctuation() || is_general_punctuation(*c)))
                .collect()
        } else {
            text.to_string()
        };
        if self.collapse_whitespace {
            t = t.split_whitespace().collect::<Vec<_>>().join(" ");
        }
        if self.lowercase {
            t = t.to_lowercase();
        }
        t
    }
}

/// Punctuation outside ASCII: the General Punctuation block and common CJK/fullwidth marks.
fn is_general_punctuation(c: char) -> bool {
    matches!(c as u32, 0x2010..=0x205E | 0x3000..=0x303F | 0xFF01..=0xFF0F | 0x00A1 | 0x00BF | 0x00AB | 0x00BB)
}

/// Every pair of a row of `a` and a row of `b` with cosine `>= threshold` (both unit rows, same
/// dimension): `(row of a, row of b, cosine)`, the cosine recomputed in f64 for the products
/// near the threshold, as the clustered search does within its cells. What one cell of a
/// distributed duplicate search compares: the rows probing it against the rows filed in it.
pub fn pairs_between(
    a: &Embeddings,
    b: &Embeddings,
    threshold: f64,
) -> Result<Vec<(usize, usize, f32)>> {
    Error::check_threshold("threshold", threshold)?;
    if a.dim() != b.dim() {
        return Err(Error::param(
            "dim",
            a.dim(),
            format!("the other side has {} dimensions", b.dim()),
        ));
    }
    let (d, m) = (a.dim(), b.rows());
    let loose = (threshold - 1e-5) as f32;
    let (av, bv) = (a.as_f32(), b.as_f32());
    Ok(
        crate::kernel::for_each_tile(&av[..], &bv, d, |start, rows, dots| {
            let mut out = Vec::new();
            for r in 0..rows {
                let i = start + r;
                for (j, &s) in dots[r * m..(r + 1) * m].iter().enumerate() {
                    if s >= loose {
                        let exact = dot_f64(&av[i * d..(i + 1) * d], &bv[j * d..(j + 1) * d]);
                        if exact >= threshold {
                            out.push((i, j, exact as f32));
                        }
                    }
                }
            }
            out
        })
        .into_iter()
        .flatten()
        .collect(),
    )
}

/// The key exact duplicates are grouped by: xxh3-128 of the normalised text
/// ([`TextNorm::apply`]); equal keys are confirmed on the texts.
pub fn text_key(normalised: &str) -> u128 {
    xxhash_rust::xxh3::xxh3_128(normalised.as_bytes())
}

/// Groups of rows whose texts are equal after normalisation ([`TextNorm`]), by 128-bit hash
/// then compared.
pub fn exact_duplicates(texts: &[String], norm: &TextNorm) -> Vec<Vec<usize>> {
    let norm = |t: &str| norm.apply(t);
    let keys: Vec<(u128, usize)> = texts
        .par_iter()
        .enumerate()
        .map(|(i, t)| (text_key(&norm(t)), i))
        .collect();
    let mut sorted = keys;
    sorted.sort_unstable();
    let mut pairs = Vec::new();
    for w in sorted.chunk_by(|a, b| a.0 == b.0) {
        for k in 1..w.len() {
            // A hash match is checked on the text (collisions are astronomically rare, but
            // the answer must be exact).
            if norm(&texts[w[0].1]) == norm(&texts[w[k].1]) {
                pairs.push((w[0].1, w[k].1));
            }
        }
    }
    groups(texts.len(), pairs)
}

/// SemDeDup-style near duplicates for large corpora: rows are filed into K-Means cells
/// ([`crate::index::ClusterIndex`], `nlist` default `round(sqrt(n))`) and each row is
/// compared only with the rows of its `nprobe` nearest cells, its own among them: pairs within a
/// cell and between neighbouring cells. Cost about `n · nprobe · n / nlist` products instead of
/// `n² / 2`; a pair split across cells that neither row probes is missed, so the recall against
/// the exact set is measured ([`pair_recall_sample`]) and reported.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ClusteredParams {
    /// Cells (default `round(sqrt(n))`).
    pub(crate) nlist: Option<usize>,
    /// Cells each row is compared with (default 3).
    pub(crate) nprobe: usize,
    /// Seed of the K-Means training (default 42).
    pub(crate) seed: u64,
    /// Training rows per cell (default 256).
    pub(crate) train_per_list: usize,
}

impl Default for ClusteredParams {
    fn default() -> Self {
        ClusteredParams {
            nlist: None,
            nprobe: 3,
            seed: 42,
            train_per_list: crate::index::TRAIN_PER_LIST,
        }
    }
}

/// Near-duplicate pairs by the clustered mode ([`ClusteredParams`]): a subset of
/// [`near_duplicates`], sorted the same way, and the number of cells used.
pub(crate) fn near_duplicates_clustered(
    data: &Embeddings,
    threshold: f64,
    params: &ClusteredParams,
) -> Result<(Vec<Pair>, usize)> {
    check_threshold(threshold)?;
    let mut ip = crate::index::ClusterIndex::params()
        .seed(params.seed)
        .train_per_list(params.train_per_list);
    if let Some(nlist) = params.nlist {
        ip = ip.nlist(nlist);
    }
    let nlist = ip.nlist_for(data.rows()).min(data.rows());
    // The cells of the index, but a file of row ids: no second copy of the corpus.
    let centroids = ip.nlist(nlist).train(data)?;
    let file = crate::neighbors::InvertedFile::file_ids(
        data,
        centroids,
        crate::neighbors::Measure::InnerProduct,
    );
    Ok((
        file.pairs_above_in(
            crate::neighbors::FiledRows { data, rows: None },
            threshold,
            params.nprobe.clamp(1, nlist),
        ),
        nlist,
    ))
}

/// The recall of a pair set measured on a sample of rows: every pair at or above `threshold`
/// that involves a sampled row is found exactly (the sample against the whole corpus, through
/// the kernel), and the share of those in `pairs` is the recall.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, schemars::JsonSchema)]
pub struct PairRecall {
    /// Rows sampled.
    pub rows: usize,
    /// Exact pairs involving a sampled row.
    pub exact_pairs: usize,
    /// Of those, how many `pairs` holds.
    pub found: usize,
    /// `found / exact_pairs` (None when the sample meets no pair).
    pub recall: Option<f64>,
}

/// Measures the recall of `pairs` (as [`near_duplicates_clustered`] returns them) on `sample`
/// random rows: see [`PairRecall`].
pub fn pair_recall_sample(
    data: &Embeddings,
    pairs: &[Pair],
    threshold: f64,
    sample: usize,
    seed: u64,
) -> Result<PairRecall> {
    check_threshold(threshold)?;
    let (n, d) = (data.rows(), data.dim());
    let mut rows = crate::rng::Rng::new(seed, 0x5e_d0).sample(n, sample.min(n));
    rows.sort_unstable();
    let q = data.select(&rows);
    let loose = (threshold - 1e-5) as f32;
    // The sample against every row, one block of rows at a time (bounded memory at millions).
    let qx = q.as_f32();
    let exact: Vec<(usize, usize)> =
        crate::kernel::for_each_tile_block(&qx, data.view(), d, |start, nr, c0, cols, dots| {
            let mut out = Vec::new();
            for r in 0..nr {
                let i = rows[start + r];
                let qi = &qx[(start + r) * d..(start + r + 1) * d];
                for (c, &v) in dots[r * cols..(r + 1) * cols].iter().enumerate() {
                    let j = c0 + c;
                    if v >= loose && j != i && dot_f64(qi, &data.row(j)) >= threshold {
                        out.push((i.min(j), i.max(j)));
                    }
                }
            }
            out
        })
        .concat();
    let mut exact = exact;
    exact.sort_unstable();
    exact.dedup();
    let have: std::collections::HashSet<(usize, usize)> =
        pairs.iter().map(|p| (p.row_a, p.row_b)).collect();
    let found = exact.iter().filter(|p| have.contains(p)).count();
    Ok(PairRecall {
        rows: rows.len(),
        exact_pairs: exact.len(),
        found,
        recall: (!exact.is_empty()).then(|| found as f64 / exact.len() as f64),
    })
}

/// Which row of a duplicate group stays.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "lowercase")]
#[cfg_attr(feature = "cli", derive(clap::ValueEnum))]
pub enum Keep {
    /// The first row (the reference workflow's choice).
    #[default]
    First,
    /// The longest text (characters); ties to the first.
    Longest,
    /// The row most similar to the group's mean direction; ties to the first.
    Centroid,
}

impl std::str::FromStr for Keep {
    type Err = Error;
    fn from_str(s: &str) -> Result<Keep> {
        match s {
            "first" => Ok(Keep::First),
            "longest" => Ok(Keep::Longest),
            "centroid" => Ok(Keep::Centroid),
            _ => Err(Error::param(
                "keep",
                s,
                "must be first, longest or centroid",
            )),
        }
    }
}

/// The row kept from each group (groups as [`groups`] returns them): `texts` are needed for
/// [`Keep::Longest`], `data` for [`Keep::Centroid`].
pub fn keepers(
    groups: &[Vec<usize>],
    keep: Keep,
    data: Option<&Embeddings>,
    texts: Option<&[String]>,
) -> Result<Vec<usize>> {
    match keep {
        Keep::First => Ok(groups.iter().map(|g| g[0]).collect()),
        Keep::Longest => {
            let texts = texts.ok_or_else(|| {
                Error::param(
                    "keep",
                    "longest",
                    "needs the texts (the input has no text column)",
                )
            })?;
            Ok(groups
                .iter()
                .map(|g| {
                    let mut best = g[0];
                    for &i in &g[1..] {
                        if texts[i].chars().count() > texts[best].chars().count() {
                            best = i;
                        }
                    }
                    best
                })
                .collect())
        }
        Keep::Centroid => {
            let data = data.ok_or_else(|| Error::param("keep", "centroid", "needs the vectors"))?;
            Ok(groups
                .par_iter()
                .map(|g| {
                    let d = data.dim();
                    let mut mean = vec![0.0f64; d];
                    for &i in g {
                        for (m, &v) in mean.iter_mut().zip(data.row(i).iter()) {
                            *m += f64::from(v);
                        }
                    }
                    let score = |i: usize| -> f64 {
                        data.row(i)
                            .iter()
                            .zip(&mean)
                            .map(|(&v, m)| f64::from(v) * m)
                            .sum()
                    };
                    let mut best = g[0];
                    for &i in &g[1..] {
                        if score(i) > score(best) {
                            best = i;
                        }
                    }
                    best
                })
                .collect())
        }
    }
}

/// The rows that stay: every row in no group, and the keeper of each group; ascending.
pub fn kept_rows(n: usize, groups: &[Vec<usize>], keepers: &[usize]) -> Vec<usize> {
    let mut drop = vec![false; n];
    for g in groups {
        for &i in g {
            drop[i] = true;
        }
    }
    for &k in keepers {
        drop[k] = false;
    }
    (0..n).filter(|&i| !drop[i]).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pairs_between_a_set_and_itself_are_the_near_duplicates() {
        let mut rng = crate::rng::Rng::new(9, 0);
        let v: Vec<f32> = (0..300 * 6).map(|_| rng.next_f64() as f32).collect();
        let data = Embeddings::new(v, 6).unwrap();
        let mut between: Vec<(usize, usize)> = pairs_between(&data, &data, 0.97)
            .unwrap()
            .into_iter()
            .filter(|(i, j, _)| i < j)
            .map(|(i, j, _)| (i, j))
            .collect();
        between.sort_unstable();
        let near: Vec<(usize, usize)> = near_duplicates(&data, 0.97)
            .unwrap()
            .iter()
            .map(|p| (p.row_a, p.row_b))
            .collect();
        assert!(!near.is_empty());
        assert_eq!(between, near);
        assert_eq!(Error::rule(pairs_between(&data, &data, 1.5)), "threshold");
    }
    use crate::rng::Rng;

    #[test]
    fn kernel_pairs_equal_a_naive_loop() {
        let mut rng = Rng::new(3, 0);
        let (n, d) = (700, 8);
        let mut v: Vec<f32> = (0..n * d).map(|_| rng.next_f64() as f32 - 0.5).collect();
        // Plant near copies.
        for i in (0..n).step_by(50) {
            for t in 0..d {
                v[(i + 1) * d + t] = v[i * d + t] + 0.001 * (t as f32);
            }
        }
        let data = Embeddings::new(v, d).unwrap();
        for t in [0.9, 0.95, 0.99] {
            let got: Vec<(usize, usize)> = near_duplicates(&data, t)
                .unwrap()
                .iter()
                .map(|p| (p.row_a, p.row_b))
                .collect();
            let mut want = Vec::new();
            for i in 0..n {
                for j in i + 1..n {
                    if dot_f64(&data.row(i), &data.row(j)) >= t {
                        want.push((i, j));
                    }
                }
            }
            assert_eq!(got, want, "threshold {t}");
            assert!(want.len() >= n / 50);
        }
    }

    #[test]
    fn nearest_cosines_match_a_naive_loop() {
        let mut rng = Rng::new(9, 0);
        let (n, d) = (300, 6);
        let v: Vec<f32> = (0..n * d).map(|_| rng.next_f64() as f32 - 0.5).collect();
        let data = Embeddings::new(v, d).unwrap();
        let got = nearest_cosines(&data).unwrap();
        for (i, &g) in got.iter().enumerate() {
            let cos = |j: usize| -> f32 {
                data.row(i)
                    .iter()
                    .zip(data.row(j).iter())
                    .map(|(a, b)| a * b)
                    .sum()
            };
            let want = (0..n)
                .filter(|&j| j != i)
                .map(cos)
                .fold(f32::NEG_INFINITY, f32::max);
            assert!((g - want).abs() < 1e-5, "row {i}");
        }
        let (edges, counts) = histogram(&got, -1.0, 1.0, 20);
        assert_eq!(edges.len(), 20);
        assert_eq!(counts.iter().sum::<usize>(), n);
    }

    #[test]
    fn a_pair_exactly_at_the_threshold_is_in() {
        // cos = 0.6 exactly: (1, 0) and (0.6, 0.8).
        let data = Embeddings::new(vec![1.0, 0.0, 0.6, 0.8], 2).unwrap();
        assert_eq!(near_duplicates(&data, 0.6).unwrap().len(), 1);
        assert_eq!(near_duplicates(&data, 0.6000001).unwrap().len(), 0);
        assert_eq!(
            crate::error::Error::rule(near_duplicates(&data, 0.0)),
            "threshold"
        );
        assert_eq!(
            crate::error::Error::rule(near_duplicates(&data, 1.5)),
            "threshold"
        );
    }

    #[test]
    fn exact_groups_after_normalisation() {
        let t = [
            "Hello  world",
            "hello world",
            "other",
            " HELLO world ",
            "other",
        ]
        .map(String::from);
        assert_eq!(
            exact_duplicates(&t, &TextNorm::default()),
            vec![vec![0, 1, 3], vec![2, 4]]
        );
        // Case kept: the three spellings differ; "other" still pairs.
        let keep_case = TextNorm {
            lowercase: false,
            ..Default::default()
        };
        assert_eq!(exact_duplicates(&t, &keep_case), vec![vec![2, 4]]);
        let strict = TextNorm {
            lowercase: false,
            collapse_whitespace: false,
            strip_punctuation: false,
        };
        assert_eq!(exact_duplicates(&t, &strict), vec![vec![2, 4]]);
        let loose = TextNorm {
            strip_punctuation: true,
            ..Default::default()
        };
        let p = ["Hello, world!", "hello world", "hello — world"].map(String::from);
        assert_eq!(exact_duplicates(&p, &loose), vec![vec![0, 1, 2]]);
        assert_eq!(loose.apply(" «Hi»  there… "), "hi there");
    }
}
