//! The inverted file (IVF) over K-Means cells, as the reference workflow's
//! `ClusterRetriever` and FAISS's `IndexIVFFlat` (inner product on unit rows, so scores are
//! cosine similarities): the one index that retrieval, its evaluation and the clustered
//! duplicate search share.
//!
//! [`ClusterIndex::params`] trains spherical K-Means (`nlist` cells, default `round(sqrt(n))`;
//! random rows as the start, 10 iterations) on at most `256 · nlist` rows, as FAISS does, assigns every row to its nearest centroid and
//! stores the rows grouped by cell, contiguous (a [`crate::neighbors::InvertedFile`] by inner
//! product, the one HDBSCAN's approximate graph uses by Euclidean distance). A search probes the
//! `nprobe` cells whose centroids are most similar to the query and scans them exactly;
//! [`ClusterIndex::exact_search`] scans everything, for comparison. Batches of queries are
//! answered cell by cell: the queries probing a cell are multiplied with its rows in one blocked
//! product, so the work is matrix work whatever `nprobe` is. Results are sorted by (score descending, row ascending) and do not
//! depend on the number of threads. [`ClusterIndex::range_pairs`] finds every pair above a
//! cosine within and between neighbouring cells.
//!
//! [`ClusterIndexParams::build_over`] files row ids only and reads the corpus again when it
//! searches (one probed cell gathered at a time): no second copy of millions of rows, at the
//! cost of gathering each probed cell's rows per search.

mod display;

use serde::Serialize;

use crate::cluster::KMeans;
use crate::embeddings::Embeddings;
use crate::error::{Error, Result};
use crate::neighbors::{top_k_tiles, FiledRows, InvertedFile, Measure};
use crate::rng::Rng;

/// One search result.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Hit {
    /// Row of the indexed corpus.
    pub row: usize,
    /// Cosine similarity to the query.
    pub score: f32,
    /// The cell (K-Means cluster) the row is filed under.
    pub cluster: usize,
}

/// Rows sampled per cell to train an index's cells, by default (as FAISS).
pub const TRAIN_PER_LIST: usize = 256;

/// Parameters of a [`ClusterIndex`].
#[derive(Debug, Clone, PartialEq)]
pub struct ClusterIndexParams {
    nlist: Option<usize>,
    train_per_list: usize,
    max_iter: usize,
    seed: u64,
}

impl Default for ClusterIndexParams {
    fn default() -> Self {
        ClusterIndexParams {
            nlist: None,
            train_per_list: TRAIN_PER_LIST,
            max_iter: 10,
            seed: 42,
        }
    }
}

impl ClusterIndexParams {
    /// Number of cells (default `round(sqrt(n))`, at least 1).
    pub fn nlist(mut self, nlist: usize) -> Self {
        self.nlist = Some(nlist);
        self
    }

    /// K-Means is trained on at most `train_per_list · nlist` rows, sampled (default 256, as
    /// FAISS's `max_points_per_centroid`).
    pub fn train_per_list(mut self, rows: usize) -> Self {
        self.train_per_list = rows;
        self
    }

    /// K-Means iterations at most (default 10, as FAISS trains an IVF's cells).
    pub fn max_iter(mut self, max_iter: usize) -> Self {
        self.max_iter = max_iter;
        self
    }

    /// Seed of the training sample and the k-means++ initialisation (default 42).
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    /// The number of cells for `n` rows.
    pub fn nlist_for(&self, n: usize) -> usize {
        self.nlist
            .unwrap_or_else(|| (n as f64).sqrt().round() as usize)
            .max(1)
    }

    /// The rules that do not depend on the data: a set `nlist`, `train_per_list` and
    /// `max_iter` at least 1.
    pub fn check(&self) -> Result<()> {
        for (name, value) in [
            ("nlist", self.nlist.unwrap_or(1)),
            ("train_per_list", self.train_per_list),
            ("max_iter", self.max_iter),
        ] {
            if value == 0 {
                return Err(Error::param(name, 0, "must be at least 1"));
            }
        }
        Ok(())
    }

    /// Trains the cells on `data` (unit rows) and files every row.
    pub fn build(&self, data: &Embeddings) -> Result<ClusterIndex<'static>> {
        let all: Vec<usize> = (0..data.rows()).collect();
        self.build_rows(data, &all)
    }

    /// Trains the cells on rows `rows` of `data` (unit rows) and files them: indexed row `p`
    /// (what hits name) is `data` row `rows[p]`. The index's copy is the only one made.
    pub fn build_rows(&self, data: &Embeddings, rows: &[usize]) -> Result<ClusterIndex<'static>> {
        let centroids = self.train_rows(data, rows)?;
        Ok(ClusterIndex {
            file: InvertedFile::file_rows(data, rows, centroids, Measure::InnerProduct),
            from: None,
        })
    }

    /// [`build_rows`](Self::build_rows) without a copy: the index files row ids and borrows
    /// `data`, gathering a probed cell's rows (widened when half) as it searches. Same cells,
    /// same results; what an index over millions of rows uses.
    pub fn build_over<'a>(
        &self,
        data: &'a Embeddings,
        rows: &'a [usize],
    ) -> Result<ClusterIndex<'a>> {
        let centroids = self.train_rows(data, rows)?;
        let from = FiledRows {
            data,
            rows: Some(rows),
        };
        Ok(ClusterIndex {
            file: InvertedFile::file_rows_ids(from, centroids, Measure::InnerProduct),
            from: Some(from),
        })
    }

    /// Files every row of `data` (unit rows) under `centroids` trained elsewhere (`nlist x
    /// dim`, unit rows: [`train`](Self::train)'s or [`ClusterIndex::centroids`]): a cluster's
    /// workers file their shards under the cells the driver trained on a sample, and get the
    /// cells one index over every row would give.
    pub fn file_under(
        &self,
        data: &Embeddings,
        centroids: Vec<f32>,
    ) -> Result<ClusterIndex<'static>> {
        let d = data.dim();
        Error::check_centroids(centroids.len(), d, "nlist")?;
        data.require_unit("cosine index", "")?;
        let unit = Embeddings::new(centroids.clone(), d).map_err(Error::from)?;
        if unit
            .as_f32()
            .iter()
            .zip(&centroids)
            .any(|(a, b)| (a - b).abs() > 1e-4)
        {
            return Err(Error::param(
                "centroids",
                "rows that are not unit length",
                "the cells are filed by inner product with unit centroids",
            ));
        }
        let all: Vec<usize> = (0..data.rows()).collect();
        Ok(ClusterIndex {
            file: InvertedFile::file_rows(data, &all, centroids, Measure::InnerProduct),
            from: None,
        })
    }

    /// The unit centroids [`build`](Self::build) would file `data` under (the clustered
    /// duplicate search files row ids under them, without a copy of the vectors).
    pub fn train(&self, data: &Embeddings) -> Result<Vec<f32>> {
        let all: Vec<usize> = (0..data.rows()).collect();
        self.train_rows(data, &all)
    }

    /// Spherical K-Means on (a sample of) rows `rows` of `data`: unit centroids, `nlist x dim`.
    fn train_rows(&self, data: &Embeddings, rows: &[usize]) -> Result<Vec<f32>> {
        self.check()?;
        let n = rows.len();
        if n == 0 {
            return Err(Error::param("rows", 0, "the corpus is empty"));
        }
        data.require_unit("cosine index", "")?;
        let d = data.dim();
        let nlist = self.nlist_for(n);
        if nlist > n {
            return Err(Error::param(
                "nlist",
                nlist,
                format!("is more than the {n} rows to index"),
            ));
        }
        let cap = self.train_per_list.saturating_mul(nlist);
        let train_rows: Vec<usize> = if n > cap {
            let mut picked = Rng::new(self.seed, 0x1f).sample(n, cap);
            picked.sort_unstable();
            picked.into_iter().map(|p| rows[p]).collect()
        } else {
            rows.to_vec()
        };
        let whole = train_rows.len() == data.rows();
        let train = (!whole).then(|| data.select(&train_rows));
        let model = KMeans::params(nlist)
            .n_init(1)
            .init(crate::cluster::KMeansInit::Random)
            .max_iter(self.max_iter)
            .spherical(true)
            .seed(self.seed)
            .fit(train.as_ref().unwrap_or(data))?;
        drop(train);
        // Unit centroids: probing and filing by the largest inner product.
        let mut centroids = model.centroids().to_vec();
        for c in centroids.chunks_exact_mut(d) {
            crate::linalg::normalise(c);
        }
        Ok(centroids)
    }
}

/// An inverted file over K-Means cells: see the [module docs](self). `'a` is the corpus an
/// index of ids ([`ClusterIndexParams::build_over`]) reads; an index with its own copy is
/// `ClusterIndex<'static>`.
#[derive(Debug, Clone)]
pub struct ClusterIndex<'a> {
    file: InvertedFile,
    /// Where an index of ids reads its rows (None: the file holds them).
    from: Option<FiledRows<'a>>,
}

impl ClusterIndex<'static> {
    /// Parameters with their defaults.
    pub fn params() -> ClusterIndexParams {
        ClusterIndexParams::default()
    }
}

impl ClusterIndex<'_> {
    /// Whether the index holds its own copy of the rows (else it reads the corpus it was built
    /// over).
    pub fn holds_rows(&self) -> bool {
        self.from.is_none()
    }

    /// Number of cells.
    pub fn nlist(&self) -> usize {
        self.file.nlist()
    }

    /// Number of indexed rows.
    pub fn len(&self) -> usize {
        self.file.len()
    }

    /// Whether the index holds no rows (never true for a built index).
    pub fn is_empty(&self) -> bool {
        self.file.is_empty()
    }

    /// Vector length.
    pub fn dim(&self) -> usize {
        self.file.dim()
    }

    /// Rows filed under each cell.
    pub fn list_sizes(&self) -> Vec<usize> {
        self.file.list_sizes()
    }

    /// The cell of each indexed row.
    pub fn cells(&self) -> &[u32] {
        self.file.cells()
    }

    /// Unit centroids, `nlist x dim` row-major.
    pub fn centroids(&self) -> &[f32] {
        self.file.centroids()
    }

    /// The rows filed under cell `c`.
    pub fn members(&self, c: usize) -> &[u32] {
        self.file.members(c)
    }

    /// The `nprobe` cells nearest each row of `x` (unit rows), nearest first.
    pub fn probes(&self, x: &Embeddings, nprobe: usize) -> Vec<Vec<u32>> {
        self.file.probes(&x.as_f32(), nprobe)
    }

    fn check_queries(&self, queries: &Embeddings, top_k: usize, nprobe: usize) -> Result<()> {
        if queries.dim() != self.dim() {
            return Err(Error::param(
                "query dim",
                queries.dim(),
                format!("the index holds {}-dimensional vectors", self.dim()),
            ));
        }
        queries.require_unit("cosine search", "")?;
        if top_k == 0 {
            return Err(Error::param("top_k", 0, "must be at least 1"));
        }
        if nprobe == 0 || nprobe > self.nlist() {
            return Err(Error::param(
                "nprobe",
                nprobe,
                format!("must be in 1..={} (the number of cells)", self.nlist()),
            ));
        }
        Ok(())
    }

    /// The `top_k` rows most similar to `query` (any non-zero vector; it is normalised) among
    /// the `nprobe` cells nearest it.
    ///
    /// ```
    /// use embedscope::{retrieve::ClusterIndex, Embeddings};
    /// let data = Embeddings::new(vec![1.0, 0.0, 0.9, 0.1, 0.0, 1.0, 0.1, 0.9], 2)?;
    /// let index = ClusterIndex::params().nlist(2).build(&data)?;
    /// let hits = index.search(&[1.0, 0.05], 2, 1)?;
    /// assert_eq!(hits.iter().map(|h| h.row).collect::<Vec<_>>(), vec![0, 1]);
    /// # Ok::<(), embedscope::Error>(())
    /// ```
    pub fn search(&self, query: &[f32], top_k: usize, nprobe: usize) -> Result<Vec<Hit>> {
        let q = Embeddings::new(query.to_vec(), query.len().max(1)).map_err(Error::from)?;
        Ok(self.search_batch(&q, top_k, nprobe)?.remove(0))
    }

    /// [`search`](Self::search) for a text, embedded by `embedder` (which must be the model the
    /// indexed vectors came from; a different dimension is an error).
    pub fn search_text(
        &self,
        embedder: &dyn crate::embed::Embedder,
        text: &str,
        top_k: usize,
        nprobe: usize,
    ) -> Result<Vec<Hit>> {
        let v = embedder.embed(&[text], &crate::progress::Silent)?;
        self.search(&v, top_k, nprobe)
    }

    /// [`search`](Self::search) for every row of `queries` (unit rows), answered cell by cell
    /// with one blocked product per probed cell.
    pub fn search_batch(
        &self,
        queries: &Embeddings,
        top_k: usize,
        nprobe: usize,
    ) -> Result<Vec<Vec<Hit>>> {
        self.check_queries(queries, top_k, nprobe)?;
        let q = queries.as_f32();
        let probes = self.file.probes(&q, nprobe);
        let lists = match self.from {
            Some(from) => self.file.scan_in(from, &q, &probes, top_k),
            None => self.file.scan(&q, &probes, top_k),
        };
        Ok(lists.iter().map(|b| self.hits(b)).collect())
    }

    /// The exact `top_k` over every indexed row, for each row of `queries` (unit rows).
    pub fn exact_search(&self, queries: &Embeddings, top_k: usize) -> Result<Vec<Vec<Hit>>> {
        self.check_queries(queries, top_k, 1)?;
        let q = queries.as_f32();
        let best = match self.from {
            Some(from) => self.file.exact_scan_in(from, &q, top_k, None),
            None => self.file.exact_scan(&q, top_k),
        };
        Ok(best.iter().map(|b| self.hits(b)).collect())
    }

    /// [`exact_search`](Self::exact_search) over the indexed rows `r` with `skip[r]` false
    /// (`skip` has one flag per indexed row).
    pub fn exact_search_skipping(
        &self,
        queries: &Embeddings,
        top_k: usize,
        skip: &[bool],
    ) -> Result<Vec<Vec<Hit>>> {
        self.check_queries(queries, top_k, 1)?;
        if skip.len() != self.len() {
            return Err(Error::param(
                "skip",
                skip.len(),
                format!("must flag each of the {} indexed rows", self.len()),
            ));
        }
        let q = queries.as_f32();
        let best = match self.from {
            Some(from) => self.file.exact_scan_in(from, &q, top_k, Some(skip)),
            None => self.file.exact_scan_skipping(&q, top_k, skip),
        };
        Ok(best.iter().map(|b| self.hits(b)).collect())
    }

    fn hits(&self, best: &[(f32, u32)]) -> Vec<Hit> {
        best.iter()
            .map(|&(s, row)| Hit {
                row: row as usize,
                score: -s,
                cluster: self.file.cells()[row as usize] as usize,
            })
            .collect()
    }

    /// Every pair of indexed rows with cosine `>= threshold` that probing finds: each row is
    /// compared with the rows of its `nprobe` nearest cells (its own among them). With
    /// `nprobe = nlist` this is the exact set. Pairs are `row_a < row_b`, sorted, each once.
    pub fn range_pairs(&self, threshold: f64, nprobe: usize) -> Result<Vec<crate::kernel::Pair>> {
        Error::check_threshold("threshold", threshold)?;
        if nprobe == 0 || nprobe > self.nlist() {
            return Err(Error::param(
                "nprobe",
                nprobe,
                format!("must be in 1..={} (the number of cells)", self.nlist()),
            ));
        }
        Ok(match self.from {
            Some(from) => self.file.pairs_above_in(from, threshold, nprobe),
            None => self.file.pairs_above(threshold, nprobe),
        })
    }
}

/// The `nprobe` cells nearest each row of `x` (unit rows) among unit `centroids` (`nlist x
/// dim`: an index's [`ClusterIndex::centroids`]), nearest first, ties to the lower cell: the
/// cells [`ClusterIndex::probes`] gives, without an index (a cluster's worker holding only the
/// driver's centroids).
pub fn probe_cells(x: &Embeddings, centroids: &[f32], nprobe: usize) -> Result<Vec<Vec<u32>>> {
    let d = x.dim();
    Error::check_centroids(centroids.len(), d, "nlist")?;
    let nlist = centroids.len() / d;
    if nprobe == 0 || nprobe > nlist {
        return Err(Error::param(
            "nprobe",
            nprobe,
            format!("must be in 1..={nlist} (the number of cells)"),
        ));
    }
    x.require_unit("cosine index", "")?;
    Ok(crate::neighbors::nearest_cells(
        x.view(),
        centroids,
        d,
        nprobe,
        Measure::InnerProduct,
    ))
}

/// The exact `top_k` rows of `db` for each row of `queries` (both unit rows, same dimension):
/// `(row, cosine)` sorted by (cosine descending, row ascending). Through the kernel's tiles.
pub fn exact_top_k(db: &Embeddings, queries: &Embeddings, top_k: usize) -> Vec<Vec<(usize, f32)>> {
    top_k_tiles(&queries.as_f32(), db.view(), None, None, db.dim(), top_k)
        .into_iter()
        .map(|b| b.into_iter().map(|(s, r)| (r as usize, -s)).collect())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn random_unit(n: usize, d: usize, seed: u64) -> Embeddings {
        let mut rng = Rng::new(seed, 0);
        let v = (0..n * d).map(|_| rng.next_f64() as f32 - 0.5).collect();
        Embeddings::new(v, d).unwrap()
    }

    #[test]
    fn rows_filed_under_centroids_from_elsewhere_get_the_cells_and_pairs_of_one_index() {
        let data = random_unit(600, 8, 3);
        let params = ClusterIndex::params().nlist(12);
        let index = params.build(&data).unwrap();
        let filed = params
            .file_under(&data, index.centroids().to_vec())
            .unwrap();
        assert_eq!(filed.cells(), index.cells());
        assert_eq!(
            filed.range_pairs(0.8, 3).unwrap(),
            index.range_pairs(0.8, 3).unwrap()
        );
        // Probing without an index gives the index's probes.
        let probes = probe_cells(&data, index.centroids(), 4).unwrap();
        assert_eq!(probes, index.probes(&data, 4));
        // Bad centroids are named.
        let e = params.file_under(&data, vec![1.0; 7]).unwrap_err();
        assert!(e.to_string().contains("nlist x 8"), "{e}");
        let e = params.file_under(&data, vec![2.0; 16]).unwrap_err();
        assert!(e.to_string().contains("not unit length"), "{e}");
        assert_eq!(
            Error::rule(probe_cells(&data, index.centroids(), 13)),
            "nprobe"
        );
    }

    fn naive_top_k(data: &Embeddings, q: &[f32], k: usize) -> Vec<usize> {
        let mut s: Vec<(f64, usize)> = (0..data.rows())
            .map(|i| (crate::linalg::dot_f64(&data.row(i), q), i))
            .collect();
        s.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
        s.into_iter().take(k).map(|(_, i)| i).collect()
    }

    #[test]
    fn probing_every_cell_is_exact_search() {
        let data = random_unit(700, 12, 1);
        let queries = random_unit(40, 12, 2);
        let index = ClusterIndex::params().nlist(9).build(&data).unwrap();
        assert_eq!(index.list_sizes().iter().sum::<usize>(), 700);
        let all = index.search_batch(&queries, 10, 9).unwrap();
        let exact = index.exact_search(&queries, 10).unwrap();
        for (qi, (a, e)) in all.iter().zip(&exact).enumerate() {
            let rows = |h: &[Hit]| h.iter().map(|h| h.row).collect::<Vec<_>>();
            assert_eq!(rows(a), rows(e));
            assert_eq!(rows(e), naive_top_k(&data, &queries.row(qi), 10));
            for h in a {
                assert_eq!(h.cluster, index.cells()[h.row] as usize);
            }
        }
    }

    #[test]
    fn one_probe_scans_the_nearest_cell_only() {
        let data = random_unit(500, 8, 3);
        let index = ClusterIndex::params().nlist(7).build(&data).unwrap();
        let q = data.row(17).to_vec();
        let hits = index.search(&q, 5, 1).unwrap();
        assert_eq!(hits[0].row, 17);
        let qe = Embeddings::new(q.clone(), 8).unwrap();
        let cell = index.probes(&qe, 1)[0][0] as usize;
        assert!(hits.iter().all(|h| h.cluster == cell));
        // Scores are sorted and are the cosines.
        for w in hits.windows(2) {
            assert!(w[0].score >= w[1].score);
        }
        let c = crate::linalg::dot_f64(&data.row(hits[1].row), &q);
        assert!((f64::from(hits[1].score) - c).abs() < 1e-5);
    }

    #[test]
    fn range_pairs_with_every_probe_equal_the_exact_pairs() {
        let mut v = random_unit(400, 6, 5).into_vec();
        // Plant near copies.
        for (a, b) in [(3usize, 250usize), (10, 11), (399, 0)] {
            for j in 0..6 {
                v[b * 6 + j] = v[a * 6 + j] + 0.001 * j as f32;
            }
        }
        let data = Embeddings::new(v, 6).unwrap();
        let index = ClusterIndex::params().nlist(6).build(&data).unwrap();
        let exact = crate::dedup::near_duplicates(&data, 0.97).unwrap();
        assert_eq!(index.range_pairs(0.97, 6).unwrap(), exact);
        let some = index.range_pairs(0.97, 2).unwrap();
        assert!(some.iter().all(|p| exact.contains(p)));
    }

    #[test]
    fn bad_parameters_are_errors() {
        let data = random_unit(50, 4, 7);
        use crate::error::Error as E;
        let rule = E::rule::<ClusterIndex>;
        assert_eq!(rule(ClusterIndex::params().nlist(51).build(&data)), "nlist");
        assert_eq!(rule(ClusterIndex::params().nlist(0).build(&data)), "nlist");
        assert_eq!(
            rule(ClusterIndex::params().max_iter(0).build(&data)),
            "max_iter"
        );
        let index = ClusterIndex::params().nlist(5).build(&data).unwrap();
        let q = |v: &[f32], k, p| E::rule(index.search(v, k, p));
        assert_eq!(q(&[1.0, 0.0, 0.0, 0.0], 3, 6), "nprobe");
        assert_eq!(q(&[1.0, 0.0, 0.0, 0.0], 0, 1), "top_k");
        assert_eq!(q(&[1.0, 0.0, 0.0], 3, 1), "query dim");
        assert!(matches!(
            index.search(&[0.0; 4], 3, 1),
            Err(Error::InvalidEmbeddings(
                crate::error::EmbeddingsError::ZeroRow { row: 0 }
            ))
        ));
        assert_eq!(E::rule(index.range_pairs(1.5, 1)), "threshold");
    }
}
