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
use crate::matrix::View;

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

/// The rows a file was filed from, which a file of ids ([`InvertedFile::file_ids`],
/// [`InvertedFile::file_rows_ids`]) reads again when it searches: filed position `p` is row
/// `rows[p]` of `data` (row `p` when `rows` is `None`). Half-float rows are widened as they are
/// gathered.
#[derive(Debug, Clone, Copy)]
pub struct FiledRows<'a> {
    /// The matrix.
    pub data: &'a Embeddings,
    /// Which of its rows were filed, in filed order (all of them when `None`).
    pub rows: Option<&'a [usize]>,
}

impl FiledRows<'_> {
    /// Number of filed rows.
    pub fn len(&self) -> usize {
        self.rows.map_or(self.data.rows(), <[usize]>::len)
    }

    /// Whether no row was filed.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The `data` row at filed position `p`.
    pub fn row_of(&self, p: usize) -> usize {
        self.rows.map_or(p, |r| r[p])
    }

    /// The vector at filed position `p` (widened when half).
    pub fn row(&self, p: usize) -> std::borrow::Cow<'_, [f32]> {
        self.data.row(self.row_of(p))
    }

    /// Appends the vector at filed position `p` (as f32) to `out`.
    fn gather(&self, p: usize, out: &mut Vec<f32>) {
        self.data.gather_into(std::iter::once(self.row_of(p)), out);
    }
}

/// Where a search reads filed rows: the file's own copy (in cell order) or the rows it was
/// filed from.
#[derive(Clone, Copy)]
enum Source<'a> {
    Own(&'a [f32]),
    Filed(FiledRows<'a>, &'a [u32]),
}

impl Source<'_> {
    /// Appends the vector at cell-order position `p` to `out`.
    fn gather(&self, p: usize, d: usize, out: &mut Vec<f32>) {
        match self {
            Source::Own(v) => out.extend_from_slice(&v[p * d..(p + 1) * d]),
            Source::Filed(f, ids) => f.gather(ids[p] as usize, out),
        }
    }

    /// Positions `lo..hi` (one cell), borrowed from the copy or gathered into `buf`.
    fn cell<'b>(&'b self, lo: usize, hi: usize, d: usize, buf: &'b mut Vec<f32>) -> &'b [f32] {
        match self {
            Source::Own(v) => &v[lo * d..hi * d],
            Source::Filed(..) => {
                buf.clear();
                for p in lo..hi {
                    self.gather(p, d, buf);
                }
                buf
            }
        }
    }
}

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
        let from = FiledRows {
            data,
            rows: Some(rows),
        };
        InvertedFile::file_by(from, centroids, measure, true)
    }

    /// Files every row of `data` under its nearest centroid, keeping only the row ids: no copy
    /// of the vectors. Its searches take `data` again ([`pairs_above_in`](Self::pairs_above_in)),
    /// gathering one cell's rows at a time.
    pub fn file_ids(data: &Embeddings, centroids: Vec<f32>, measure: Measure) -> InvertedFile {
        InvertedFile::file_by(FiledRows { data, rows: None }, centroids, measure, false)
    }

    /// [`file_rows`](Self::file_rows) keeping only positions: the searches read `from` again
    /// ([`scan_in`](Self::scan_in), [`exact_scan_in`](Self::exact_scan_in)). What an index over
    /// millions of rows files when the corpus itself must stay the only copy.
    pub fn file_rows_ids(
        from: FiledRows<'_>,
        centroids: Vec<f32>,
        measure: Measure,
    ) -> InvertedFile {
        InvertedFile::file_by(from, centroids, measure, false)
    }

    /// Files the rows of `from` under their nearest centroids ([`build`](Self::build)).
    fn file_by(
        from: FiledRows<'_>,
        centroids: Vec<f32>,
        measure: Measure,
        copy: bool,
    ) -> InvertedFile {
        let cell_of = nearest_cells_by(from, &centroids, 1, measure)
            .into_iter()
            .map(|c| c[0])
            .collect();
        InvertedFile::build(from, centroids, cell_of, measure, copy)
    }

    /// Files row `i` of `data` under cell `cell_of[i]` (the caller's assignment, e.g. K-Means
    /// labels; each below the number of centroids).
    pub fn with_cells(
        data: &Embeddings,
        centroids: Vec<f32>,
        cell_of: Vec<u32>,
        measure: Measure,
    ) -> InvertedFile {
        let from = FiledRows { data, rows: None };
        InvertedFile::build(from, centroids, cell_of, measure, true)
    }

    /// Files position `p` of `from` under `cell_of[p]` for every `p`, copying the rows in cell
    /// order when `copy` (else the file holds ids only).
    fn build(
        from: FiledRows<'_>,
        centroids: Vec<f32>,
        cell_of: Vec<u32>,
        measure: Measure,
        copy: bool,
    ) -> InvertedFile {
        let d = from.data.dim();
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
                from.gather(i as usize, &mut vectors);
            }
        }
        let euclidean = measure == Measure::Euclidean;
        let mut one = Vec::with_capacity(d);
        InvertedFile {
            measure,
            dim: d,
            sq: if euclidean && copy {
                row_sq_norms(&vectors, d)
            } else if euclidean {
                ids.iter()
                    .map(|&i| {
                        one.clear();
                        from.gather(i as usize, &mut one);
                        row_sq_norms(&one, d)[0]
                    })
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
        nearest_cells(
            View::F32(x),
            &self.centroids,
            self.dim,
            nprobe,
            self.measure,
        )
    }

    /// For each query (rows of `q`), the `k` nearest rows of the cells it probes (`probes`, one
    /// list per query), as `(key, row)` sorted.
    pub fn scan(&self, q: &[f32], probes: &[Vec<u32>], k: usize) -> Vec<Vec<Entry>> {
        assert!(self.holds_vectors(), "a file of ids searches with scan_in");
        self.scan_from(Source::Own(&self.vectors), q, probes, k)
    }

    /// [`scan`](Self::scan) for a file of ids, reading each probed cell's rows from `from`
    /// (what it was filed from), one cell at a time.
    pub fn scan_in(
        &self,
        from: FiledRows<'_>,
        q: &[f32],
        probes: &[Vec<u32>],
        k: usize,
    ) -> Vec<Vec<Entry>> {
        self.check_filed(from);
        self.scan_from(Source::Filed(from, &self.ids), q, probes, k)
    }

    fn scan_from(
        &self,
        src: Source<'_>,
        q: &[f32],
        probes: &[Vec<u32>],
        k: usize,
    ) -> Vec<Vec<Entry>> {
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
                let mut buf = Vec::new();
                let rows = if qs.is_empty() {
                    &[][..]
                } else {
                    src.cell(lo, hi, d, &mut buf)
                };
                let q_of = |qi: u32, out: &mut Vec<f32>| {
                    out.extend_from_slice(&q[qi as usize * d..(qi as usize + 1) * d])
                };
                self.cell_products(rows, m, q_of, qs, |block, _, dots| {
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
        top_k_tiles(
            q,
            View::F32(&self.vectors),
            Some(&self.ids),
            None,
            self.dim,
            k,
        )
    }

    /// [`exact_scan`](Self::exact_scan) over the filed rows `r` with `skip[r]` false.
    pub fn exact_scan_skipping(&self, q: &[f32], k: usize, skip: &[bool]) -> Vec<Vec<Entry>> {
        top_k_tiles(
            q,
            View::F32(&self.vectors),
            Some(&self.ids),
            Some(skip),
            self.dim,
            k,
        )
    }

    /// [`exact_scan`](Self::exact_scan) (with `skip` over filed positions, as
    /// [`exact_scan_skipping`](Self::exact_scan_skipping)) for a file of ids: one pass over
    /// `from`'s matrix in row order, a block of columns at a time, half floats widened per block.
    pub fn exact_scan_in(
        &self,
        from: FiledRows<'_>,
        q: &[f32],
        k: usize,
        skip: Option<&[bool]>,
    ) -> Vec<Vec<Entry>> {
        self.check_filed(from);
        // The filed position of each data row (u32::MAX: not filed).
        let position: Option<Vec<u32>> = from.rows.map(|rows| {
            let mut at = vec![u32::MAX; from.data.rows()];
            for (p, &r) in rows.iter().enumerate() {
                at[r] = p as u32;
            }
            at
        });
        crate::kernel::shortlists(q, from.data.view(), self.dim, k, |_, r, s| {
            let p = position.as_ref().map_or(r as u32, |at| at[r]);
            (p != u32::MAX && skip.is_none_or(|skip| !skip[p as usize])).then_some((-s, p))
        })
    }

    /// Panics unless `from` has as many rows as were filed, of the file's dimension.
    fn check_filed(&self, from: FiledRows<'_>) {
        assert_eq!(
            (from.len(), from.data.dim()),
            (self.len(), self.dim),
            "the filed rows"
        );
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
        let x = data.as_f32();
        let (x, x_sq) = (&*x, row_sq_norms(&x, d));
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
                        out.push((i, best.finish(&*x, d, &x_sq, i as usize).to_vec()));
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
                    let order = nearest_cells(
                        View::F32(centre),
                        &self.centroids,
                        d,
                        self.nlist(),
                        self.measure,
                    );
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
        self.pairs_by(Source::Own(&self.vectors), threshold, nprobe)
    }

    /// [`pairs_above`](Self::pairs_above) for a file of ids ([`file_ids`](Self::file_ids)) over
    /// the `data` it was filed from.
    pub fn pairs_above_in(&self, from: FiledRows<'_>, threshold: f64, nprobe: usize) -> Vec<Pair> {
        self.check_filed(from);
        self.pairs_by(Source::Filed(from, &self.ids), threshold, nprobe)
    }

    /// Whether the file holds its rows' vectors (else ids only).
    fn holds_vectors(&self) -> bool {
        self.vectors.len() == self.ids.len() * self.dim
    }

    /// The pair search over the rows of `src`.
    fn pairs_by(&self, src: Source<'_>, threshold: f64, nprobe: usize) -> Vec<Pair> {
        assert_eq!(
            self.measure,
            Measure::InnerProduct,
            "pairs are by inner product"
        );
        let d = self.dim;
        // Queries are the filed rows, in cell order (position p is row ids[p]).
        let probes = match src {
            Source::Own(v) => nearest_cells(View::F32(v), &self.centroids, d, nprobe, self.measure),
            Source::Filed(from, ids) => {
                let order: Vec<usize> = ids.iter().map(|&p| from.row_of(p as usize)).collect();
                let in_cell_order = FiledRows {
                    data: from.data,
                    rows: Some(&order),
                };
                nearest_cells_by(in_cell_order, &self.centroids, nprobe, self.measure)
            }
        };
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
                let mut buf = Vec::new();
                let rows = src.cell(lo, hi, d, &mut buf);
                self.cell_products(
                    rows,
                    m,
                    |qp, out| src.gather(qp as usize, d, out),
                    qs,
                    |block, a, dots| {
                        for (r, &qp) in block.iter().enumerate() {
                            let qp = qp as usize;
                            let q_row = &a[r * d..(r + 1) * d];
                            for (c, &s) in dots[r * m..(r + 1) * m].iter().enumerate() {
                                let p = lo + c;
                                // A pair may be met from both ends; duplicates go after the sort.
                                if s >= loose && qp != p {
                                    let exact =
                                        crate::linalg::dot_f64(q_row, &rows[c * d..(c + 1) * d]);
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

    /// The queries `qs` (`q_of(qi, out)` appends each) against a cell's `m` rows `rows`, in
    /// blocks of 256 queries: `f(block, queries, dots)` with the block's query rows and `dots`
    /// row-major `block.len() x m`.
    fn cell_products(
        &self,
        rows: &[f32],
        m: usize,
        q_of: impl Fn(u32, &mut Vec<f32>),
        qs: &[u32],
        mut f: impl FnMut(&[u32], &[f32], &[f32]),
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
                q_of(qi, &mut a);
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
            f(block, &a, &dots);
        }
    }
}

/// Per row of `q`, the `k` rows of `db` with the largest inner product as `(-dot, id)` sorted
/// ascending, `id` taken from `ids` (position when None), ids with `skip[id]` left out.
/// Through the kernel's tiles.
pub(crate) fn top_k_tiles(
    q: &[f32],
    db: View<'_>,
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
pub fn nearest_cells(
    x: View<'_>,
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

/// [`nearest_cells`] for the rows of `from`: the matrix read in place (tiles widened when
/// half) when every row was filed, else gathered 65,536 rows at a time (bounded memory
/// whatever the number of rows).
fn nearest_cells_by(
    from: FiledRows<'_>,
    centroids: &[f32],
    nprobe: usize,
    measure: Measure,
) -> Vec<Vec<u32>> {
    let (n, d) = (from.len(), from.data.dim());
    let Some(rows) = from.rows else {
        return nearest_cells(from.data.view(), centroids, d, nprobe, measure);
    };
    let mut out = Vec::with_capacity(n);
    let mut x = Vec::new();
    for chunk in rows.chunks(1 << 16) {
        x.clear();
        from.data.gather_into(chunk.iter().copied(), &mut x);
        out.extend(nearest_cells(View::F32(&x), centroids, d, nprobe, measure));
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
