//! The inverted file (IVF) every approximate search shares: rows filed under cells (one
//! centroid each, stored contiguous by cell), queries that probe their nearest cells, and the
//! probed cells scanned exactly, cell by cell: the queries probing a cell are multiplied with its
//! rows in one blocked product, so the work is matrix work whatever the number of probes is.
//!
//! Two measures: [`Measure::InnerProduct`] (unit rows: cosine similarity, FAISS's
//! `IndexIVFFlat` with inner product; [`crate::index::ClusterIndex`] for retrieval and the
//! clustered duplicate search) and [`Measure::Euclidean`] (any rows: HDBSCAN's approximate kNN
//! graph, [`InvertedFile::knn_graph`]). Who trains the cells is the caller's business (spherical
//! K-Means for the index, Mini-Batch K-Means for HDBSCAN). Results are sorted by (key, row) and
//! do not depend on the number of threads.

use rayon::prelude::*;

use super::KnnGraph;
use crate::embeddings::Embeddings;
use crate::kernel::{for_each_tile, Pair, Shortlist};
use crate::linalg::{matmul_abt, row_sq_norms};

/// How rows and centroids are compared.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Measure {
    /// Larger inner product is nearer (cosine on unit rows). Keys are `-dot`.
    InnerProduct,
    /// Smaller Euclidean distance is nearer. Keys are `|x|² - 2·dot` (the squared distance less
    /// the query's own squared norm, which does not change the order).
    Euclidean,
}

/// A shortlist entry: `(key, row)`, smaller key nearer (see [`Measure`]).
pub type Entry = (f32, u32);

/// Rows filed under cells: see the [module docs](self).
#[derive(Debug, Clone)]
pub struct InvertedFile {
    measure: Measure,
    dim: usize,
    centroids: Vec<f32>,
    /// Cell `c` holds positions `offsets[c]..offsets[c + 1]` of `ids`, `vectors` and `sq`.
    offsets: Vec<usize>,
    ids: Vec<u32>,
    vectors: Vec<f32>,
    /// Squared norms of the filed rows, by position (Euclidean only; empty otherwise).
    sq: Vec<f32>,
    cell_of: Vec<u32>,
}

impl InvertedFile {
    /// Files every row of `data` under its nearest row of `centroids` (`cells x dim`).
    pub fn file(data: &Embeddings, centroids: Vec<f32>, measure: Measure) -> InvertedFile {
        let all: Vec<usize> = (0..data.rows()).collect();
        InvertedFile::file_rows(data, &all, centroids, measure)
    }

    /// Files rows `rows` of `data` (filed row `p` is `data` row `rows[p]`; results name `p`)
    /// under their nearest centroids. The file's copy of the rows is the only one made.
    pub fn file_rows(
        data: &Embeddings,
        rows: &[usize],
        centroids: Vec<f32>,
        measure: Measure,
    ) -> InvertedFile {
        InvertedFile::file_by(
            data.dim(),
            rows.len(),
            |p| data.row(rows[p]),
            centroids,
            measure,
            true,
        )
    }

    /// Files every row of `data` under its nearest centroid, keeping only the row ids: no copy
    /// of the vectors. Its searches take `data` again ([`pairs_above_in`](Self::pairs_above_in)),
    /// gathering one cell's rows at a time.
    pub fn file_ids(data: &Embeddings, centroids: Vec<f32>, measure: Measure) -> InvertedFile {
        InvertedFile::file_by(
            data.dim(),
            data.rows(),
            |i| data.row(i),
            centroids,
            measure,
            false,
        )
    }

    /// Files the `n` rows `row(p)` under their nearest centroids ([`build`](Self::build)).
    fn file_by<'a>(
        d: usize,
        n: usize,
        row: impl Fn(usize) -> &'a [f32],
        centroids: Vec<f32>,
        measure: Measure,
        copy: bool,
    ) -> InvertedFile {
        let cell_of = nearest_cells_by(n, d, &row, &centroids, 1, measure)
            .into_iter()
            .map(|c| c[0])
            .collect();
        InvertedFile::build(d, row, centroids, cell_of, measure, copy)
    }

    /// Files row `i` of `data` under cell `cell_of[i]` (the caller's assignment, e.g. K-Means
    /// labels; each below the number of centroids).
    pub fn with_cells(
        data: &Embeddings,
        centroids: Vec<f32>,
        cell_of: Vec<u32>,
        measure: Measure,
    ) -> InvertedFile {
        InvertedFile::build(
            data.dim(),
            |i| data.row(i),
            centroids,
            cell_of,
            measure,
            true,
        )
    }

    /// Files row `row(p)` under `cell_of[p]` for every `p`, copying the rows in cell order when
    /// `copy` (else the file holds ids only).
    fn build<'a>(
        d: usize,
        row: impl Fn(usize) -> &'a [f32],
        centroids: Vec<f32>,
        cell_of: Vec<u32>,
        measure: Measure,
        copy: bool,
    ) -> InvertedFile {
        let nlist = centroids.len() / d;
        let mut offsets = vec![0usize; nlist + 1];
        for &c in &cell_of {
            offsets[c as usize + 1] += 1;
        }
        for c in 0..nlist {
            offsets[c + 1] += offsets[c];
        }
        let mut next = offsets.clone();
        let mut ids = vec![0u32; cell_of.len()];
        for (i, &c) in cell_of.iter().enumerate() {
            ids[next[c as usize]] = i as u32;
            next[c as usize] += 1;
        }
        let mut vectors = Vec::with_capacity(if copy { ids.len() * d } else { 0 });
        if copy {
            for &i in &ids {
                vectors.extend_from_slice(row(i as usize));
            }
        }
        let euclidean = measure == Measure::Euclidean;
        InvertedFile {
            measure,
            dim: d,
            sq: if euclidean && copy {
                row_sq_norms(&vectors, d)
            } else if euclidean {
                ids.iter()
                    .map(|&i| row_sq_norms(row(i as usize), d)[0])
                    .collect()
            } else {
                Vec::new()
            },
            centroids,
            offsets,
            ids,
            vectors,
            cell_of,
        }
    }

    /// Number of cells.
    pub fn nlist(&self) -> usize {
        self.offsets.len() - 1
    }

    /// Number of filed rows.
    pub fn len(&self) -> usize {
        self.ids.len()
    }

    /// Whether no row is filed.
    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }

    /// Vector length.
    pub fn dim(&self) -> usize {
        self.dim
    }

    /// Rows filed under each cell.
    pub fn list_sizes(&self) -> Vec<usize> {
        self.offsets.windows(2).map(|w| w[1] - w[0]).collect()
    }

    /// The cell of each filed row.
    pub fn cells(&self) -> &[u32] {
        &self.cell_of
    }

    /// Centroids, `nlist x dim` row-major.
    pub fn centroids(&self) -> &[f32] {
        &self.centroids
    }

    /// The rows filed under cell `c`.
    pub fn members(&self, c: usize) -> &[u32] {
        &self.ids[self.offsets[c]..self.offsets[c + 1]]
    }

    /// For each row of `x`, its `nprobe` nearest cells, nearest first (ties to the lower cell).
    pub fn probes(&self, x: &[f32], nprobe: usize) -> Vec<Vec<u32>> {
        nearest_cells(x, &self.centroids, self.dim, nprobe, self.measure)
    }

    /// For each query (rows of `q`), the `k` nearest rows of the cells it probes (`probes`, one
    /// list per query), as `(key, row)` sorted.
    pub fn scan(&self, q: &[f32], probes: &[Vec<u32>], k: usize) -> Vec<Vec<Entry>> {
        assert!(self.holds_vectors(), "a search needs the filed vectors");
        let by_cell = invert(probes, self.nlist());
        let per_cell: Vec<Vec<(u32, Vec<Entry>)>> = by_cell
            .par_iter()
            .enumerate()
            .map(|(c, qs)| {
                let (lo, hi) = (self.offsets[c], self.offsets[c + 1]);
                let (ids, m) = (&self.ids[lo..hi], hi - lo);
                let mut out = Vec::with_capacity(qs.len());
                let mut best = Shortlist::new(k);
                let d = self.dim;
                let rows = &self.vectors[lo * d..hi * d];
                let q_of = |qi: u32| &q[qi as usize * d..(qi as usize + 1) * d];
                self.cell_products(rows, m, q_of, qs, |block, dots| {
                    for (r, &qi) in block.iter().enumerate() {
                        best.clear();
                        let dots = &dots[r * m..(r + 1) * m];
                        match self.measure {
                            Measure::InnerProduct => {
                                for (p, &s) in dots.iter().enumerate() {
                                    best.offer(-s, ids[p]);
                                }
                            }
                            Measure::Euclidean => {
                                let sq = &self.sq[lo..hi];
                                for (p, &s) in dots.iter().enumerate() {
                                    best.offer(sq[p] - 2.0 * s, ids[p]);
                                }
                            }
                        }
                        out.push((qi, best.finish_by(|_, s| s).to_vec()));
                    }
                });
                out
            })
            .collect();
        let mut merged: Vec<Vec<Entry>> = vec![Vec::new(); probes.len()];
        for (qi, list) in per_cell.into_iter().flatten() {
            merged[qi as usize].extend(list);
        }
        merged.par_iter_mut().for_each(|cand| {
            cand.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
            cand.truncate(k);
        });
        merged
    }

    /// The exact `k` nearest filed rows for each row of `q`, as [`scan`](Self::scan) with every
    /// cell probed, through the kernel's tiles.
    pub fn exact_scan(&self, q: &[f32], k: usize) -> Vec<Vec<Entry>> {
        top_k_tiles(q, &self.vectors, Some(&self.ids), None, self.dim, k)
    }

    /// [`exact_scan`](Self::exact_scan) over the filed rows `r` with `skip[r]` false.
    pub fn exact_scan_skipping(&self, q: &[f32], k: usize, skip: &[bool]) -> Vec<Vec<Entry>> {
        top_k_tiles(q, &self.vectors, Some(&self.ids), Some(skip), self.dim, k)
    }

    /// The approximate `k`-NN graph of the filed rows themselves (Euclidean; `data` is what
    /// was filed). Each row names its `probes` nearest cells, and every row of a cell scans the
    /// union of the cells its cell-mates named (so rows near a boundary see across it, at the
    /// cost of one product per cell pair), extended by the cells nearest the cell's centroid
    /// where that holds fewer than `k` rows. Row `i` comes first at distance 0; distances are
    /// Euclidean, tiny ones recomputed exactly. Deterministic.
    pub fn knn_graph(&self, data: &Embeddings, probes: usize, k: usize) -> KnnGraph {
        assert_eq!(self.measure, Measure::Euclidean, "a kNN graph is Euclidean");
        assert_eq!(
            (data.rows(), data.dim()),
            (self.len(), self.dim),
            "the filed rows"
        );
        let (n, d) = (self.len(), self.dim);
        let k = k.min(n);
        let (x, x_sq) = (data.as_slice(), row_sq_norms(data.as_slice(), d));
        let own = self.probes(x, probes.clamp(1, self.nlist()));
        let shared = self.cell_unions(&own, k);
        drop(own);
        // Cell by cell: its rows (contiguous) against the rows of its cells, one product per
        // block of 256 rows, one shortlist per row.
        let per_cell: Vec<Vec<(u32, Vec<Entry>)>> = shared
            .par_iter()
            .enumerate()
            .map(|(a, union)| {
                let (lo, hi) = (self.offsets[a], self.offsets[a + 1]);
                if lo == hi {
                    return Vec::new();
                }
                let (mut cand, mut cand_sq, mut cand_ids) = (Vec::new(), Vec::new(), Vec::new());
                for &c in union {
                    let (clo, chi) = (self.offsets[c as usize], self.offsets[c as usize + 1]);
                    cand.extend_from_slice(&self.vectors[clo * d..chi * d]);
                    cand_sq.extend_from_slice(&self.sq[clo..chi]);
                    cand_ids.extend_from_slice(&self.ids[clo..chi]);
                }
                let m = cand_ids.len();
                let mut out = Vec::with_capacity(hi - lo);
                let mut dots = Vec::new();
                let mut best = Shortlist::new(k);
                for start in (lo..hi).step_by(256) {
                    let end = (start + 256).min(hi);
                    dots.resize((end - start) * m, 0.0);
                    matmul_abt(
                        &mut dots,
                        &self.vectors[start * d..end * d],
                        &cand,
                        (end - start, m, d),
                        false,
                        faer::Par::Seq,
                    );
                    for p in start..end {
                        let i = self.ids[p];
                        best.clear();
                        let row = &dots[(p - start) * m..(p - start + 1) * m];
                        for (col, &dot) in row.iter().enumerate() {
                            let j = cand_ids[col];
                            let d2 = if j == i {
                                0.0
                            } else {
                                (self.sq[p] + cand_sq[col] - 2.0 * dot).max(0.0)
                            };
                            best.offer(d2, j);
                        }
                        out.push((i, best.finish(x, d, &x_sq, i as usize).to_vec()));
                    }
                }
                out
            })
            .collect();
        let mut indices = vec![0u32; n * k];
        let mut distances = vec![0.0f32; n * k];
        for (i, best) in per_cell.into_iter().flatten() {
            let i = i as usize;
            for (r, &(d2, j)) in best.iter().enumerate() {
                indices[i * k + r] = j;
                distances[i * k + r] = d2.sqrt();
            }
        }
        KnnGraph {
            k,
            indices,
            distances,
        }
    }

    /// Per cell, the union of the cells its rows name in `own` (ascending), extended by the
    /// cells nearest its centroid until it holds at least `k` rows.
    fn cell_unions(&self, own: &[Vec<u32>], k: usize) -> Vec<Vec<u32>> {
        let sizes = self.list_sizes();
        (0..self.nlist())
            .into_par_iter()
            .map(|a| {
                let mut union: Vec<u32> = self
                    .members(a)
                    .iter()
                    .flat_map(|&i| own[i as usize].iter().copied())
                    .collect();
                union.sort_unstable();
                union.dedup();
                let mut rows: usize = union.iter().map(|&c| sizes[c as usize]).sum();
                if rows < k && !self.members(a).is_empty() {
                    let d = self.dim;
                    let centre = &self.centroids[a * d..(a + 1) * d];
                    let order =
                        nearest_cells(centre, &self.centroids, d, self.nlist(), self.measure);
                    for c in order.into_iter().flatten() {
                        if rows >= k {
                            break;
                        }
                        if union.binary_search(&c).is_err() {
                            rows += sizes[c as usize];
                            union.push(c);
                        }
                    }
                    union.sort_unstable();
                }
                union
            })
            .collect()
    }

    /// Every pair of filed rows with inner product `>= threshold` that probing finds: each row
    /// is compared with the rows of its `nprobe` nearest cells (its own among them). With every
    /// cell probed this is the exact set. Pairs are `row_a < row_b`, sorted, each once; the
    /// cosine is recomputed in f64.
    pub fn pairs_above(&self, threshold: f64, nprobe: usize) -> Vec<Pair> {
        assert!(
            self.holds_vectors(),
            "a file of ids searches with pairs_above_in"
        );
        let d = self.dim;
        self.pairs_by(|p| &self.vectors[p * d..(p + 1) * d], threshold, nprobe)
    }

    /// [`pairs_above`](Self::pairs_above) for a file of ids ([`file_ids`](Self::file_ids)) over
    /// the `data` it was filed from.
    pub fn pairs_above_in(&self, data: &Embeddings, threshold: f64, nprobe: usize) -> Vec<Pair> {
        assert_eq!(
            (data.rows(), data.dim()),
            (self.len(), self.dim),
            "the filed rows"
        );
        self.pairs_by(|p| data.row(self.ids[p] as usize), threshold, nprobe)
    }

    /// Whether the file holds its rows' vectors (else ids only).
    fn holds_vectors(&self) -> bool {
        self.vectors.len() == self.ids.len() * self.dim
    }

    /// The pair search with `row(p)` the vector at position `p`.
    fn pairs_by<'a>(
        &self,
        row: impl Fn(usize) -> &'a [f32] + Sync,
        threshold: f64,
        nprobe: usize,
    ) -> Vec<Pair> {
        assert_eq!(
            self.measure,
            Measure::InnerProduct,
            "pairs are by inner product"
        );
        let d = self.dim;
        // Queries are the filed rows, in cell order (position p is row ids[p]).
        let probes = nearest_cells_by(self.len(), d, &row, &self.centroids, nprobe, self.measure);
        let by_cell = invert(&probes, self.nlist());
        drop(probes);
        let loose = (threshold - 1e-5) as f32;
        let mut pairs: Vec<Pair> = by_cell
            .par_iter()
            .enumerate()
            .flat_map_iter(|(c, qs)| {
                let (lo, hi) = (self.offsets[c], self.offsets[c + 1]);
                let m = hi - lo;
                let mut out = Vec::new();
                if qs.is_empty() || m == 0 {
                    return out.into_iter();
                }
                let gathered;
                let rows: &[f32] = if self.holds_vectors() {
                    &self.vectors[lo * d..hi * d]
                } else {
                    gathered = (lo..hi)
                        .flat_map(|p| row(p).iter().copied())
                        .collect::<Vec<f32>>();
                    &gathered
                };
                self.cell_products(
                    rows,
                    m,
                    |qp| row(qp as usize),
                    qs,
                    |block, dots| {
                        for (r, &qp) in block.iter().enumerate() {
                            let qp = qp as usize;
                            for (p, &s) in dots[r * m..(r + 1) * m].iter().enumerate() {
                                let p = lo + p;
                                // A pair may be met from both ends; duplicates go after the sort.
                                if s >= loose && qp != p {
                                    let exact = crate::linalg::dot_f64(row(qp), row(p));
                                    if exact >= threshold {
                                        let (a, b) = (self.ids[qp], self.ids[p]);
                                        out.push(Pair {
                                            row_a: a.min(b) as usize,
                                            row_b: a.max(b) as usize,
                                            cosine: exact as f32,
                                        });
                                    }
                                }
                            }
                        }
                    },
                );
                out.into_iter()
            })
            .collect();
        pairs.sort_by_key(|p| (p.row_a, p.row_b));
        pairs.dedup_by_key(|p| (p.row_a, p.row_b));
        pairs
    }

    /// The queries `qs` (`q_of(qi)` each) against a cell's `m` rows `rows`, in blocks of 256
    /// queries: `f(block, dots)` with `dots` row-major `block.len() x m`.
    fn cell_products<'q>(
        &self,
        rows: &[f32],
        m: usize,
        q_of: impl Fn(u32) -> &'q [f32],
        qs: &[u32],
        mut f: impl FnMut(&[u32], &[f32]),
    ) {
        let d = self.dim;
        if qs.is_empty() || m == 0 {
            return;
        }
        let mut dots = Vec::new();
        let mut a = Vec::new();
        for block in qs.chunks(256) {
            a.clear();
            for &qi in block {
                a.extend_from_slice(q_of(qi));
            }
            dots.resize(block.len() * m, 0.0);
            matmul_abt(
                &mut dots,
                &a,
                rows,
                (block.len(), m, d),
                false,
                faer::Par::Seq,
            );
            f(block, &dots);
        }
    }
}

/// Per row of `q`, the `k` rows of `db` with the largest inner product as `(-dot, id)` sorted
/// ascending, `id` taken from `ids` (position when None), ids with `skip[id]` left out.
/// Through the kernel's tiles.
pub(crate) fn top_k_tiles(
    q: &[f32],
    db: &[f32],
    ids: Option<&[u32]>,
    skip: Option<&[bool]>,
    d: usize,
    k: usize,
) -> Vec<Vec<Entry>> {
    crate::kernel::shortlists(q, db, d, k, |_, p, s| {
        let id = ids.map_or(p as u32, |ids| ids[p]);
        skip.is_none_or(|skip| !skip[id as usize])
            .then_some((-s, id))
    })
}

/// For each row of `x`, the `nprobe` nearest rows of `centroids`, nearest first (ties to the
/// lower cell).
fn nearest_cells(
    x: &[f32],
    centroids: &[f32],
    d: usize,
    nprobe: usize,
    measure: Measure,
) -> Vec<Vec<u32>> {
    let nlist = centroids.len() / d;
    let c_sq = match measure {
        Measure::InnerProduct => vec![0.0; nlist],
        Measure::Euclidean => row_sq_norms(centroids, d),
    };
    let scale = match measure {
        Measure::InnerProduct => 1.0,
        Measure::Euclidean => 2.0,
    };
    let parts = for_each_tile(x, centroids, d, |_, rows, dots| {
        let mut best = Shortlist::new(nprobe);
        (0..rows)
            .map(|r| {
                best.clear();
                for (c, &s) in dots[r * nlist..(r + 1) * nlist].iter().enumerate() {
                    best.offer(c_sq[c] - scale * s, c as u32);
                }
                best.finish_by(|_, s| s).iter().map(|&(_, c)| c).collect()
            })
            .collect::<Vec<Vec<u32>>>()
    });
    parts.concat()
}

/// [`nearest_cells`] for the `n` rows `row(p)`, gathered 65,536 at a time (bounded memory
/// whatever `n`).
fn nearest_cells_by<'a>(
    n: usize,
    d: usize,
    row: impl Fn(usize) -> &'a [f32],
    centroids: &[f32],
    nprobe: usize,
    measure: Measure,
) -> Vec<Vec<u32>> {
    let mut out = Vec::with_capacity(n);
    let mut x = Vec::new();
    for start in (0..n).step_by(1 << 16) {
        x.clear();
        for p in start..(start + (1 << 16)).min(n) {
            x.extend_from_slice(row(p));
        }
        out.extend(nearest_cells(&x, centroids, d, nprobe, measure));
    }
    out
}

/// For each cell, the queries that probe it, ascending.
fn invert(probes: &[Vec<u32>], nlist: usize) -> Vec<Vec<u32>> {
    let mut by_cell = vec![Vec::new(); nlist];
    for (qi, cells) in probes.iter().enumerate() {
        for &c in cells {
            by_cell[c as usize].push(qi as u32);
        }
    }
    by_cell
}

/// How an inverted file over `n` rows is cut for a `k`-NN graph: `(cells, probes)` with
/// `cells` 4·sqrt(n) when 0 is given, or `None` when the probed cells would hold about every
/// row anyway (then the exact graph costs no more).
pub fn ivf_layout(n: usize, k: usize, cells: usize, probes: usize) -> Option<(usize, usize)> {
    let cells = if cells == 0 {
        (4.0 * (n as f64).sqrt()) as usize
    } else {
        cells
    }
    .clamp(1, n);
    let probes = probes.clamp(1, cells);
    (probes < cells && n > 4 * k.min(n)).then_some((cells, probes))
}
