//! What probing and duplicates do to retrieval, measured on held-out rows.

use std::time::Instant;

use serde::Serialize;

use crate::embeddings::Embeddings;
use crate::error::{Error, Result};
use crate::index::{ClusterIndex, Hit};
use crate::neighbors::FiledRows;
use crate::rng::Rng;

/// Parameters of a retrieval evaluation; build with [`RetrievalEval::params`].
#[derive(Debug, Clone, PartialEq)]
pub struct RetrievalEvalParams {
    nlist: Option<usize>,
    nprobes: Vec<usize>,
    queries: usize,
    top_k: usize,
    repeats: usize,
    seed: u64,
    hubness: bool,
    dedup_threshold: Option<f64>,
    labels: Option<Vec<usize>>,
    known_pairs: Option<Vec<crate::kernel::Pair>>,
    index_copy: Option<bool>,
    train_per_list: usize,
}

impl Default for RetrievalEvalParams {
    fn default() -> Self {
        RetrievalEvalParams {
            nlist: None,
            nprobes: vec![1, 2, 4, 8, 16],
            queries: 1000,
            top_k: 10,
            repeats: 3,
            seed: 42,
            hubness: true,
            dedup_threshold: Some(0.95),
            labels: None,
            known_pairs: None,
            index_copy: None,
            train_per_list: crate::index::TRAIN_PER_LIST,
        }
    }
}

impl RetrievalEval {
    /// The peer harness's protocol: 1,000 held-out queries (at most a tenth of the corpus),
    /// recall@10 at nprobe 1, 2, 4, 8, 16, hubness and the duplicate impact at 0.95.
    pub fn params() -> RetrievalEvalParams {
        RetrievalEvalParams::default()
    }
}

impl RetrievalEvalParams {
    /// Cells of the index (default `round(sqrt(n_db))`).
    pub fn nlist(mut self, nlist: Option<usize>) -> Self {
        self.nlist = nlist;
        self
    }
    /// Cells probed, one measurement each (default 1, 2, 4, 8, 16; values above `nlist` are
    /// skipped and reported).
    pub fn nprobes(mut self, nprobes: Vec<usize>) -> Self {
        self.nprobes = nprobes;
        self
    }
    /// Held-out query rows (default 1000, at most a tenth of the corpus, as the peer harness).
    pub fn queries(mut self, queries: usize) -> Self {
        self.queries = queries;
        self
    }
    /// Results per query (default 10).
    pub fn top_k(mut self, k: usize) -> Self {
        self.top_k = k;
        self
    }
    /// Timed repetitions of each search; the median counts (default 3).
    pub fn repeats(mut self, repeats: usize) -> Self {
        self.repeats = repeats;
        self
    }
    /// Seed of the query sample and the index (default 42).
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }
    /// Count hub and orphan documents (default true).
    pub fn hubness(mut self, yes: bool) -> Self {
        self.hubness = yes;
        self
    }
    /// Measure the share of top-k slots taken by near duplicates at this cosine, before and
    /// after deduplication (default 0.95; None skips it).
    pub fn dedup_threshold(mut self, t: Option<f64>) -> Self {
        self.dedup_threshold = t;
        self
    }
    /// Near-duplicate pairs of the corpus already found (rows of the data evaluated, any
    /// threshold at or below [`dedup_threshold`](Self::dedup_threshold), every pair at or above
    /// it present, as [`crate::dedup::Dedup`] returns them): the duplicate impact uses them
    /// instead of searching again. Default: it searches ([`crate::dedup::Dedup`]'s automatic
    /// mode: exact up to [`crate::dedup::CLUSTERED_ABOVE_ROWS`] rows, clustered above).
    pub fn duplicate_pairs(mut self, pairs: Vec<crate::kernel::Pair>) -> Self {
        self.known_pairs = Some(pairs);
        self
    }
    /// Whether the index keeps its own copy of the indexed rows (`Some(false)`: it files ids
    /// and reads the corpus). Default `None`: a copy for f32 rows up to [`COPY_MAX_VALUES`]
    /// values, ids above and for half floats.
    pub fn index_copy(mut self, copy: Option<bool>) -> Self {
        self.index_copy = copy;
        self
    }
    /// Rows sampled per cell to train the index (default 256, as FAISS).
    pub fn train_per_list(mut self, rows: usize) -> Self {
        self.train_per_list = rows;
        self
    }
    /// A group of every corpus row (say its K-Means cluster): recall is also reported per
    /// group ([`RetrievalEval::per_label`]). Default none.
    pub fn labels(mut self, labels: Option<Vec<usize>>) -> Self {
        self.labels = labels;
        self
    }

    /// The rules that do not depend on the data.
    pub fn check(&self) -> Result<()> {
        for (name, value) in [
            ("queries", self.queries),
            ("top_k", self.top_k),
            ("repeats", self.repeats),
            ("nlist", self.nlist.unwrap_or(1)),
        ] {
            if value == 0 {
                return Err(Error::param(name, 0, "must be at least 1"));
            }
        }
        if self.nprobes.is_empty() || self.nprobes.contains(&0) {
            return Err(Error::param(
                "nprobe",
                format!("{:?}", self.nprobes),
                "needs values of at least 1",
            ));
        }
        if let Some(t) = self.dedup_threshold {
            Error::check_threshold("dedup_threshold", t)?;
        }
        Ok(())
    }

    /// Holds out the query rows, indexes the rest, and measures recall@k against exact search
    /// and queries per second for each `nprobe`, recall per cell (and per label), hubness and
    /// the effect of deduplication.
    pub fn fit(&self, data: &Embeddings) -> Result<RetrievalEval> {
        self.check()?;
        evaluate(data, self)
    }
}

/// Recall and speed at one `nprobe`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct NprobeResult {
    /// Cells probed.
    pub nprobe: usize,
    /// Share of the exact top-k found (recall@k).
    pub recall: f64,
    /// Queries per second (all queries in one batch, median of the repeats).
    pub qps: f64,
    /// Seconds for the batch (median).
    pub seconds: f64,
    /// Average share of the corpus scanned per query.
    pub scanned_fraction: f64,
}

/// Which cells' documents probing misses.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ClusterRecall {
    /// Cell.
    pub cluster: usize,
    /// Rows filed under it.
    pub size: usize,
    /// Exact top-k results of the queries that lie in this cell.
    pub truth_hits: usize,
    /// Share of those found, per `nprobe` (in the order of [`RetrievalEval::per_nprobe`]).
    pub recall: Vec<f64>,
}

/// A document and how many other documents' top-k it appears in.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Occurrence {
    /// Row of the corpus.
    pub row: usize,
    /// Its k-occurrence.
    pub count: usize,
}

/// Hubness of the corpus: how often each document appears in the other documents' top-k
/// (its k-occurrence, mean `k`). Hubs crowd into many result lists; orphans (anti-hubs) are
/// in none, so no document-as-query retrieves them.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Hubness {
    /// The `k` of the top-k lists.
    pub k: usize,
    /// Whether the neighbour lists are exact (always, since the sample bounds the work).
    pub exact: bool,
    /// Documents whose lists were counted: every indexed one up to 50,000, else a seeded
    /// sample of 50,000 counted among themselves (hubness is a statistic of the corpus: see
    /// the audit's sampling policy).
    pub rows: usize,
    /// Skewness of the k-occurrence distribution (Radovanović et al.; above 1 means strong
    /// hubs).
    pub skewness: f64,
    /// Largest k-occurrence.
    pub max_count: usize,
    /// Documents in no other document's top-k.
    pub orphans: usize,
    /// `orphans / rows`.
    pub orphan_share: f64,
    /// Share of all top-k slots taken by the 1% most frequent documents.
    pub top1pct_slot_share: f64,
    /// The 10 strongest hubs.
    pub hubs: Vec<Occurrence>,
    /// Up to 10 orphans (first rows).
    pub orphan_rows: Vec<usize>,
}

/// Top-k slots taken by near duplicates of a better-ranked result.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, schemars::JsonSchema)]
pub struct SlotShare {
    /// Redundant slots / all slots.
    pub redundant_share: f64,
    /// Queries with at least one redundant slot.
    pub queries_affected: usize,
    /// Mean number of results per query that are not near duplicates of a better one.
    pub mean_distinct: f64,
}

/// The effect of deduplication on exact top-k results of the held-out queries.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, schemars::JsonSchema)]
pub struct DedupImpact {
    /// Cosine at or above which two documents are near duplicates.
    pub threshold: f64,
    /// Rows removed by deduplication (keep the first of each group).
    pub removed_rows: usize,
    /// On the corpus as it is.
    pub before: SlotShare,
    /// On the deduplicated corpus.
    pub after: SlotShare,
}

/// Everything [`evaluate`] measured. Rows are rows of the input corpus.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RetrievalEval {
    /// Rows indexed (the corpus minus the queries).
    pub n_db: usize,
    /// Held-out query rows.
    pub n_queries: usize,
    /// Cells.
    pub nlist: usize,
    /// Results per query.
    pub top_k: usize,
    /// Smallest, median and largest cell.
    pub list_sizes: [usize; 3],
    /// Seconds to train the cells and file the rows.
    pub build_seconds: f64,
    /// Whether the index held its own copy of the rows. Above [`COPY_MAX_VALUES`] values (or for
    /// half-float corpora) it files row ids and gathers each probed cell's rows from the corpus
    /// per search, so the timings include that gathering.
    pub index_copy: bool,
    /// Exact search: queries per second (one batch through the kernel).
    pub exact_qps: f64,
    /// Recall and speed per `nprobe`.
    pub per_nprobe: Vec<NprobeResult>,
    /// `nprobe` values skipped (above `nlist`).
    pub skipped_nprobes: Vec<usize>,
    /// Recall per cell, worst first (cells no exact result lies in are left out).
    pub per_cluster: Vec<ClusterRecall>,
    /// Recall per group of [`RetrievalEvalParams::labels`] (`cluster` is the group, `size`
    /// its rows among the indexed ones), worst first; empty without labels.
    pub per_label: Vec<ClusterRecall>,
    /// Hub and orphan documents, if asked for.
    pub hubness: Option<Hubness>,
    /// Near duplicates in the results before and after deduplication, if asked for.
    pub dedup: Option<DedupImpact>,
    /// The held-out rows.
    pub query_rows: Vec<usize>,
}

fn evaluate(data: &Embeddings, params: &RetrievalEvalParams) -> Result<RetrievalEval> {
    let n = data.rows();
    if n < 20 {
        return Err(Error::param(
            "rows",
            n,
            "retrieval evaluation needs at least 20 rows (a tenth are held out as queries)",
        ));
    }
    data.require_unit("retrieval evaluation", "")?;
    if let Some(l) = &params.labels {
        if l.len() != n {
            return Err(Error::param(
                "labels",
                l.len(),
                format!("must name a group for each of the {n} rows"),
            ));
        }
    }
    let nq = params.queries.min(n / 10).max(1);
    let mut query_rows = Rng::new(params.seed, 0x9_e4).sample(n, nq);
    query_rows.sort_unstable();
    let mut held = vec![false; n];
    for &q in &query_rows {
        held[q] = true;
    }
    let db_rows: Vec<usize> = (0..n).filter(|&i| !held[i]).collect();
    // `db` reads the indexed rows from `data` by position.
    let db = FiledRows {
        data,
        rows: Some(&db_rows),
    };
    let q = data.select(&query_rows);
    let k = params.top_k.min(db.len());

    let mut ip = ClusterIndex::params()
        .seed(params.seed)
        .train_per_list(params.train_per_list);
    if let Some(nlist) = params.nlist {
        ip = ip.nlist(nlist);
    }
    let started = Instant::now();
    let index_copy = params
        .index_copy
        .unwrap_or_else(|| index_copies(db_rows.len(), data.dim(), data.is_half()));
    let index = if index_copy {
        ip.build_rows(data, &db_rows)?
    } else {
        ip.build_over(data, &db_rows)?
    };
    let build_seconds = started.elapsed().as_secs_f64();
    let nlist = index.nlist();
    let sizes = index.list_sizes();
    let mut sorted_sizes = sizes.clone();
    sorted_sizes.sort_unstable();

    let (truth, exact_seconds) = timed(params.repeats, || index.exact_search(&q, k))?;
    let (probes, skipped): (Vec<usize>, Vec<usize>) =
        params.nprobes.iter().partition(|&&p| p <= nlist);
    // The caller's labels of the indexed rows (hits are index rows: db positions).
    let group_of: Option<Vec<usize>> = params
        .labels
        .as_ref()
        .map(|l| db_rows.iter().map(|&r| l[r]).collect());
    let mut tally = Tally::new(&truth, nlist, group_of, probes.len());
    let mut per_nprobe = Vec::new();
    for (pi, &nprobe) in probes.iter().enumerate() {
        let (found, seconds) = timed(params.repeats, || index.search_batch(&q, k, nprobe))?;
        let hits_total = tally.record(pi, &found, &truth);
        let scanned: usize = index
            .probes(&q, nprobe)
            .iter()
            .map(|cells| cells.iter().map(|&c| sizes[c as usize]).sum::<usize>())
            .sum();
        let slots: usize = truth.iter().map(Vec::len).sum();
        per_nprobe.push(NprobeResult {
            nprobe,
            recall: hits_total as f64 / slots as f64,
            qps: nq as f64 / seconds,
            seconds,
            scanned_fraction: scanned as f64 / (nq * db.len()) as f64,
        });
    }
    let (per_cluster, per_label) = tally.tables(&sizes);

    let hubness = params.hubness.then(|| hubness(&db, k, params.seed));
    let dedup = match params.dedup_threshold {
        Some(t) => {
            // Pairs among the indexed rows, by db position.
            let found;
            let known = match &params.known_pairs {
                Some(known) => known,
                None => {
                    found = crate::dedup::Dedup::params(t)
                        .seed(params.seed)
                        .recall_sample(0)
                        .run(data, None)?
                        .pairs;
                    &found
                }
            };
            let mut pos = vec![usize::MAX; n];
            for (p, &r) in db_rows.iter().enumerate() {
                pos[r] = p;
            }
            let pairs: Vec<(usize, usize)> = known
                .iter()
                .filter(|p| f64::from(p.cosine) >= t)
                .filter_map(|p| {
                    let (a, b) = (*pos.get(p.row_a)?, *pos.get(p.row_b)?);
                    (a != usize::MAX && b != usize::MAX).then_some((a, b))
                })
                .collect();
            Some(dedup_impact(&db, &index, &q, &truth, t, k, &pairs)?)
        }
        None => None,
    };
    Ok(RetrievalEval {
        n_db: db.len(),
        n_queries: nq,
        nlist,
        top_k: k,
        list_sizes: [
            sorted_sizes[0],
            sorted_sizes[sorted_sizes.len() / 2],
            sorted_sizes[sorted_sizes.len() - 1],
        ],
        build_seconds,
        index_copy,
        exact_qps: nq as f64 / exact_seconds,
        per_nprobe,
        skipped_nprobes: skipped,
        per_cluster,
        per_label,
        hubness,
        dedup,
        query_rows,
    })
}

impl RetrievalEval {
    /// Writes recall per cell as CSV, atomically: `cluster, size, truth_hits`, then
    /// `recall_nprobe_P` for each nprobe measured, worst cell first.
    pub fn write_per_cluster_csv(&self, path: &std::path::Path) -> Result<()> {
        crate::io::write_atomic(path, |w| {
            write!(w, "cluster,size,truth_hits")?;
            for p in &self.per_nprobe {
                write!(w, ",recall_nprobe_{}", p.nprobe)?;
            }
            writeln!(w)?;
            for c in &self.per_cluster {
                write!(w, "{},{},{}", c.cluster, c.size, c.truth_hits)?;
                for x in &c.recall {
                    write!(w, ",{x}")?;
                }
                writeln!(w)?;
            }
            Ok(())
        })
    }
}

/// Exact hits, and those probing found, per cell and per group of the caller's labels.
struct Tally {
    truth_in: Vec<usize>,
    found_in: Vec<Vec<usize>>,
    group_of: Option<Vec<usize>>,
    truth_in_group: Vec<usize>,
    found_in_group: Vec<Vec<usize>>,
}

impl Tally {
    fn new(truth: &[Vec<Hit>], nlist: usize, group_of: Option<Vec<usize>>, probes: usize) -> Self {
        let groups = group_of
            .as_ref()
            .map_or(0, |g| g.iter().max().map_or(0, |&m| m + 1));
        let mut t = Tally {
            truth_in: vec![0usize; nlist],
            found_in: vec![vec![0usize; probes]; nlist],
            truth_in_group: vec![0usize; groups],
            found_in_group: vec![vec![0usize; probes]; groups],
            group_of,
        };
        for h in truth.iter().flatten() {
            t.truth_in[h.cluster] += 1;
            if let Some(g) = &t.group_of {
                t.truth_in_group[g[h.row]] += 1;
            }
        }
        t
    }

    /// Counts the exact hits that `found` (probe setting `pi`) holds; returns how many.
    fn record(&mut self, pi: usize, found: &[Vec<Hit>], truth: &[Vec<Hit>]) -> usize {
        let mut hits_total = 0usize;
        for (f, t) in found.iter().zip(truth) {
            for h in t {
                if f.iter().any(|g| g.row == h.row) {
                    hits_total += 1;
                    self.found_in[h.cluster][pi] += 1;
                    if let Some(g) = &self.group_of {
                        self.found_in_group[g[h.row]][pi] += 1;
                    }
                }
            }
        }
        hits_total
    }

    /// Recall per cell (of `sizes` rows) and per group.
    fn tables(&self, sizes: &[usize]) -> (Vec<ClusterRecall>, Vec<ClusterRecall>) {
        let per_cluster = recall_table(sizes, &self.truth_in, &self.found_in);
        let per_label = self.group_of.as_ref().map_or_else(Vec::new, |g| {
            let mut size = vec![0usize; self.truth_in_group.len()];
            for &x in g {
                size[x] += 1;
            }
            recall_table(&size, &self.truth_in_group, &self.found_in_group)
        });
        (per_cluster, per_label)
    }
}

/// Recall per group (groups no exact result lies in left out), worst first at the smallest
/// nprobe, then by the number of exact hits.
pub(crate) fn recall_table(
    size: &[usize],
    truth: &[usize],
    found: &[Vec<usize>],
) -> Vec<ClusterRecall> {
    let mut table: Vec<ClusterRecall> = (0..size.len())
        .filter(|&c| truth[c] > 0)
        .map(|c| ClusterRecall {
            cluster: c,
            size: size[c],
            truth_hits: truth[c],
            recall: found[c]
                .iter()
                .map(|&f| f as f64 / truth[c] as f64)
                .collect(),
        })
        .collect();
    table.sort_by(|a, b| {
        let ra = a.recall.first().copied().unwrap_or(1.0);
        let rb = b.recall.first().copied().unwrap_or(1.0);
        ra.total_cmp(&rb)
            .then(b.truth_hits.cmp(&a.truth_hits))
            .then(a.cluster.cmp(&b.cluster))
    });
    table
}

/// Runs `f` `repeats` times; its last result and the median seconds.
fn timed<T>(repeats: usize, mut f: impl FnMut() -> Result<T>) -> Result<(T, f64)> {
    let mut times = Vec::with_capacity(repeats);
    let mut last = None;
    for _ in 0..repeats {
        let started = Instant::now();
        last = Some(f()?);
        times.push(started.elapsed().as_secs_f64());
    }
    times.sort_by(f64::total_cmp);
    Ok((
        last.expect("repeats >= 1"),
        times[times.len() / 2].max(1e-9),
    ))
}

/// Rows the hubness count runs on: every row up to this many, a seeded sample above.
const HUBNESS_MAX_ROWS: usize = 50_000;

/// k-occurrence of every row of `db` over the exact top-`k` lists of all other rows, or of a
/// seeded sample of [`HUBNESS_MAX_ROWS`] rows among themselves above that; rows reported
/// as corpus rows.
fn hubness(db: &FiledRows<'_>, k: usize, seed: u64) -> Hubness {
    let picked: Vec<usize> = if db.len() > HUBNESS_MAX_ROWS {
        let mut s = Rng::new(seed, 0x4b0).sample(db.len(), HUBNESS_MAX_ROWS);
        s.sort_unstable();
        s
    } else {
        (0..db.len()).collect()
    };
    let rows: Vec<usize> = picked.iter().map(|&p| db.row_of(p)).collect();
    let db = db.data.select(&rows);
    let n = db.rows();
    let k = k.min(n - 1).max(1);
    let graph = crate::neighbors::exact(&db, k + 1);
    let kk = graph.k;
    let mut count = vec![0usize; n];
    for i in 0..n {
        // The row itself is normally first; skip it wherever it is, keep k others.
        graph.indices[i * kk..(i + 1) * kk]
            .iter()
            .filter(|&&j| j as usize != i)
            .take(k)
            .for_each(|&j| count[j as usize] += 1);
    }
    let mean = count.iter().sum::<usize>() as f64 / n as f64;
    let (m2, m3) = count.iter().fold((0.0, 0.0), |(a, b), &c| {
        let x = c as f64 - mean;
        (a + x * x, b + x * x * x)
    });
    let (m2, m3) = (m2 / n as f64, m3 / n as f64);
    let skewness = if m2 > 0.0 { m3 / m2.powf(1.5) } else { 0.0 };
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by(|&a, &b| count[b].cmp(&count[a]).then(a.cmp(&b)));
    let top = (n / 100).max(1);
    let slots: usize = count.iter().sum();
    let orphans: Vec<usize> = (0..n).filter(|&i| count[i] == 0).collect();
    Hubness {
        k,
        exact: true,
        rows: n,
        skewness,
        max_count: count[order[0]],
        orphans: orphans.len(),
        orphan_share: orphans.len() as f64 / n as f64,
        top1pct_slot_share: order[..top].iter().map(|&i| count[i]).sum::<usize>() as f64
            / slots.max(1) as f64,
        hubs: order[..10.min(n)]
            .iter()
            .map(|&i| Occurrence {
                row: rows[i],
                count: count[i],
            })
            .collect(),
        orphan_rows: orphans.iter().take(10).map(|&i| rows[i]).collect(),
    }
}

/// Hubs and orphans among the rows of `data` (unit rows, at least 2): each row's
/// k-occurrence over the exact top-`k` lists of all the others, counted among every row up to
/// 50,000, else among a sample of 50,000 drawn with `seed`, as [`RetrievalEval`] counts them;
/// rows in the result are `data`'s. The audit on a cluster counts its sample's this way.
pub fn hubness_sampled(data: &Embeddings, k: usize, seed: u64) -> Hubness {
    hubness(&FiledRows { data, rows: None }, k, seed)
}

/// Redundant slots in result lists over `db`: a slot is redundant when its document is a near
/// duplicate (cosine `>= threshold`) of a better-ranked one.
fn slot_share(db: &FiledRows<'_>, lists: &[Vec<usize>], threshold: f64) -> SlotShare {
    let (mut redundant, mut slots, mut affected, mut distinct) = (0usize, 0usize, 0usize, 0usize);
    for list in lists {
        let mut any = false;
        for (s, &a) in list.iter().enumerate() {
            slots += 1;
            let dup = list[..s]
                .iter()
                .any(|&b| crate::linalg::dot_f64(&db.row(a), &db.row(b)) >= threshold);
            if dup {
                redundant += 1;
                any = true;
            } else {
                distinct += 1;
            }
        }
        affected += usize::from(any);
    }
    SlotShare {
        redundant_share: redundant as f64 / slots.max(1) as f64,
        queries_affected: affected,
        mean_distinct: distinct as f64 / lists.len().max(1) as f64,
    }
}

/// The share of exact top-k slots taken by near duplicates of a better hit, on `db` and on
/// `db` deduplicated at `threshold` (keep the first of each group).
fn dedup_impact(
    db: &FiledRows<'_>,
    index: &ClusterIndex<'_>,
    q: &Embeddings,
    truth: &[Vec<Hit>],
    threshold: f64,
    k: usize,
    pairs: &[(usize, usize)],
) -> Result<DedupImpact> {
    let before: Vec<Vec<usize>> = truth
        .iter()
        .map(|h| h.iter().map(|h| h.row).collect())
        .collect();
    let groups = crate::dedup::groups(db.len(), pairs.iter().copied());
    let keep = crate::dedup::keepers(&groups, crate::dedup::Keep::First, None, None)?;
    let kept = crate::dedup::kept_rows(db.len(), &groups, &keep);
    let mut removed = vec![true; db.len()];
    for &r in &kept {
        removed[r] = false;
    }
    // The exact top-k over the kept rows only (db positions, as `before`).
    let after: Vec<Vec<usize>> = index
        .exact_search_skipping(q, k, &removed)?
        .into_iter()
        .map(|l| l.into_iter().map(|h| h.row).collect())
        .collect();
    Ok(DedupImpact {
        threshold,
        removed_rows: db.len() - kept.len(),
        before: slot_share(db, &before, threshold),
        after: slot_share(db, &after, threshold),
    })
}

/// Values (rows x dimensions) up to which the evaluated index keeps its own copy of the rows
/// (1.5 GB of f32, about a million 384-d rows): above it, or for half floats, the index files
/// ids and reads the corpus, so the audit of millions of rows holds one copy of them.
pub const COPY_MAX_VALUES: usize = 384 << 20;

/// Whether an index of `rows x dim` vectors keeps its own copy of them by default: f32 rows up
/// to [`COPY_MAX_VALUES`] values; never half floats.
pub fn index_copies(rows: usize, dim: usize, half: bool) -> bool {
    !half && rows * dim <= COPY_MAX_VALUES
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Rows around a few directions, with planted copies.
    fn corpus() -> Embeddings {
        let (n, d) = (600, 16);
        let mut rng = Rng::new(11, 0);
        let mut v = Vec::with_capacity(n * d);
        for i in 0..n {
            let centre = i % 6;
            for j in 0..d {
                let base = if j == centre { 1.0 } else { 0.0 };
                v.push(base + rng.next_f64() as f32 - 0.5);
            }
        }
        // Rows 100..130 are near copies of rows 0..30.
        for i in 0..30 {
            for j in 0..d {
                v[(100 + i) * d + j] = v[i * d + j] * (1.0 + 0.001 * j as f32);
            }
        }
        Embeddings::new(v, d).unwrap()
    }

    #[test]
    fn recall_rises_with_nprobe_and_is_complete_when_every_cell_is_probed() {
        let data = corpus();
        let params = RetrievalEval::params()
            .nlist(Some(8))
            .nprobes(vec![1, 2, 8, 16])
            .queries(60)
            .repeats(1);
        let r = params.fit(&data).unwrap();
        assert_eq!((r.n_queries, r.n_db, r.nlist), (60, 540, 8));
        assert_eq!(r.skipped_nprobes, vec![16]);
        let recalls: Vec<f64> = r.per_nprobe.iter().map(|p| p.recall).collect();
        assert!(recalls.windows(2).all(|w| w[0] <= w[1]), "{recalls:?}");
        assert_eq!(recalls[2], 1.0);
        assert!((r.per_nprobe[2].scanned_fraction - 1.0).abs() < 1e-12);
        assert!(r.per_nprobe[0].scanned_fraction < 0.5);
        let truth_total: usize = r.per_cluster.iter().map(|c| c.truth_hits).sum();
        assert_eq!(truth_total, 600);
        for c in &r.per_cluster {
            assert_eq!(c.recall[2], 1.0);
        }
        assert!(r.per_label.is_empty());
        // Per group of the caller's labels: the six directions.
        let labels: Vec<usize> = (0..600).map(|i| i % 6).collect();
        let by = params
            .clone()
            .labels(Some(labels))
            .hubness(false)
            .dedup_threshold(None)
            .fit(&data)
            .unwrap();
        assert_eq!(by.per_label.len(), 6);
        assert_eq!(
            by.per_label.iter().map(|c| c.truth_hits).sum::<usize>(),
            600
        );
        assert_eq!(by.per_label.iter().map(|c| c.size).sum::<usize>(), 540);
        assert!(by.per_label.iter().all(|c| c.recall[2] == 1.0));
        // Hubness: k-occurrences sum to n_db * k.
        let h = r.hubness.unwrap();
        assert_eq!(h.k, 10);
        assert!(h.hubs[0].count >= 10 && h.hubs[0].count == h.max_count);
        assert!(r
            .query_rows
            .iter()
            .all(|q| !h.hubs.iter().any(|x| x.row == *q)));
    }

    #[test]
    fn dedup_removes_redundant_slots() {
        let data = corpus();
        let r = RetrievalEval::params()
            .nlist(Some(4))
            .queries(60)
            .repeats(1)
            .hubness(false)
            .fit(&data)
            .unwrap();
        let d = r.dedup.unwrap();
        assert!(d.removed_rows > 0 && d.removed_rows <= 30, "{d:?}");
        assert!(d.before.redundant_share > 0.0);
        assert_eq!(d.after.redundant_share, 0.0);
        assert_eq!(d.after.mean_distinct, 10.0);
        assert!(d.before.mean_distinct < 10.0);
    }

    #[test]
    fn slot_share_counts_duplicates_of_better_hits() {
        let data = Embeddings::new(vec![1.0, 0.0, 1.0, 0.001, 0.0, 1.0], 2).unwrap();
        let db = FiledRows {
            data: &data,
            rows: Some(&[0, 1, 2]),
        };
        let s = slot_share(&db, &[vec![0, 1, 2], vec![2, 0]], 0.95);
        assert_eq!(s.queries_affected, 1);
        assert!((s.redundant_share - 0.2).abs() < 1e-12);
        assert!((s.mean_distinct - 2.0).abs() < 1e-12);
    }

    #[test]
    fn too_small_or_bad_parameters_are_errors() {
        let data = corpus();
        let rule = |p: RetrievalEvalParams| match p.fit(&data) {
            Err(Error::InvalidParameter { name, .. }) => name,
            other => panic!("{other:?}"),
        };
        assert_eq!(rule(RetrievalEval::params().nprobes(vec![0])), "nprobe");
        assert_eq!(rule(RetrievalEval::params().nprobes(vec![])), "nprobe");
        assert_eq!(
            rule(RetrievalEval::params().dedup_threshold(Some(1.5))),
            "dedup_threshold"
        );
        for (p, name) in [
            (RetrievalEval::params().queries(0), "queries"),
            (RetrievalEval::params().top_k(0), "top_k"),
            (RetrievalEval::params().repeats(0), "repeats"),
            (RetrievalEval::params().nlist(Some(0)), "nlist"),
        ] {
            assert_eq!(rule(p), name);
        }
        let tiny = Embeddings::new(vec![1.0; 20], 2).unwrap();
        match RetrievalEval::params().fit(&tiny) {
            Err(Error::InvalidParameter { name, .. }) => assert_eq!(name, "rows"),
            other => panic!("{other:?}"),
        }
    }
}
