//! k-nearest-neighbour graphs: exact through the kernel ([`crate::kernel::knn`]), by
//! NN-descent, or approximate with an inverted file (IVF): rows are bucketed into cells;
//! each row names its `probes` nearest centroids, and each cell's rows are compared, in one
//! blocked product, with the rows of every cell its members named. Cost `n x probes x n/cells` instead of `n²`; recall is measured
//! against the exact graph ([`recall`]) and reported by the callers.

mod nndescent;

pub(crate) use nndescent::nn_descent;
pub use nndescent::{NnDescent, NnDescentParams};

use rayon::prelude::*;

use crate::embeddings::Embeddings;
use crate::kernel::Shortlist;
use crate::linalg::{matmul_abt, row_sq_norms};

/// A kNN graph: per row, `k` neighbour indices and Euclidean distances, sorted by distance (the
/// row itself first at distance 0).
#[derive(Debug, Clone, PartialEq)]
pub struct KnnGraph {
    /// Neighbours per row.
    pub k: usize,
    /// `n x k` indices, row-major.
    pub indices: Vec<u32>,
    /// `n x k` distances, row-major.
    pub distances: Vec<f32>,
}

/// A row and its shortlist of `(squared distance, neighbour)`, sorted.
type RowNeighbours = (u32, Vec<(f32, u32)>);

/// Exact kNN through the kernel.
pub fn exact(data: &Embeddings, k: usize) -> KnnGraph {
    let k = k.min(data.rows());
    let (indices, distances) = crate::kernel::knn(data.as_slice(), data.dim(), k);
    KnnGraph {
        k,
        indices,
        distances,
    }
}

/// How an inverted-file graph over `n` rows is cut for `k` neighbours: `(cells, probes)` with
/// `cells` 4·sqrt(n) when 0 is given, or `None` when the probed cells would hold about every
/// row anyway (then [`exact`] costs no more).
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

/// Approximate kNN with an inverted file: rows filed into the cells of `labels` (one per row,
/// each a row of `centroids`), each row probing its `probes` nearest cells; a cell's rows are
/// compared with the union of the rows its members probe. The caller trains the cells (HDBSCAN
/// with Mini-Batch K-Means) and picks their number with [`ivf_layout`]. Deterministic.
pub fn ivf(
    data: &Embeddings,
    k: usize,
    labels: &[usize],
    centroids: &[f32],
    probes: usize,
) -> KnnGraph {
    let (n, d) = (data.rows(), data.dim());
    let k = k.min(n);
    let cells = Cells::new(labels, centroids, d);
    let x = data.as_slice();
    let x_sq = row_sq_norms(x, d);
    let row_cells = nearest_cells(x, &cells, probes.clamp(1, cells.count));
    let per_cell: Vec<Vec<RowNeighbours>> = (0..cells.count)
        .into_par_iter()
        .map(|a| {
            let rows = &cells.members[a];
            if rows.is_empty() {
                return Vec::new();
            }
            let cand = cells.candidates(a, &row_cells, k);
            search_cell(x, &x_sq, d, rows, &cand, k)
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

/// The cells of an inverted file: members, centroids, their squared norms and products.
struct Cells<'a> {
    count: usize,
    d: usize,
    centroids: &'a [f32],
    members: Vec<Vec<u32>>,
    c_sq: Vec<f32>,
    gram: Vec<f32>,
}

impl<'a> Cells<'a> {
    fn new(labels: &[usize], centroids: &'a [f32], d: usize) -> Self {
        let count = centroids.len() / d;
        let mut members: Vec<Vec<u32>> = vec![Vec::new(); count];
        for (i, &c) in labels.iter().enumerate() {
            members[c].push(i as u32);
        }
        let mut gram = vec![0.0f32; count * count];
        matmul_abt(
            &mut gram,
            centroids,
            centroids,
            (count, count, d),
            false,
            faer::Par::Seq,
        );
        Cells {
            count,
            d,
            centroids,
            members,
            c_sq: row_sq_norms(centroids, d),
            gram,
        }
    }

    /// The rows cell `a` is compared with: those of every cell its members probe, and, where
    /// that is fewer than `k`, of the cells nearest `a`'s centroid until `k` rows are in.
    fn candidates(&self, a: usize, row_cells: &[Vec<u32>], k: usize) -> Vec<u32> {
        let mut probe: Vec<u32> = self.members[a]
            .iter()
            .flat_map(|&i| row_cells[i as usize].iter().copied())
            .collect();
        probe.sort_unstable();
        probe.dedup();
        let mut cand: Vec<u32> = Vec::new();
        for &c in &probe {
            cand.extend_from_slice(&self.members[c as usize]);
        }
        if cand.len() < k {
            let (cells, c_sq, gram) = (self.count, &self.c_sq, &self.gram);
            let mut order: Vec<usize> = (0..cells)
                .filter(|c| probe.binary_search(&(*c as u32)).is_err())
                .collect();
            order.sort_by(|&p, &q| {
                let dp = c_sq[p] - 2.0 * gram[a * cells + p];
                let dq = c_sq[q] - 2.0 * gram[a * cells + q];
                dp.total_cmp(&dq).then(p.cmp(&q))
            });
            for c in order {
                cand.extend_from_slice(&self.members[c]);
                if cand.len() >= k {
                    break;
                }
            }
        }
        cand
    }
}

/// Each row's own `probes` nearest cells; a cell searches the union of its rows' lists, so
/// rows near a cell boundary still see the cells across it.
fn nearest_cells(x: &[f32], cells: &Cells<'_>, probes: usize) -> Vec<Vec<u32>> {
    let (count, c_sq) = (cells.count, &cells.c_sq);
    let parts = crate::kernel::for_each_tile(x, cells.centroids, cells.d, |_, rows, dots| {
        (0..rows)
            .map(|r| {
                let mut order: Vec<(f32, u32)> = (0..count)
                    .map(|c| (c_sq[c] - 2.0 * dots[r * count + c], c as u32))
                    .collect();
                order.select_nth_unstable_by(probes - 1, |a, b| {
                    a.0.total_cmp(&b.0).then(a.1.cmp(&b.1))
                });
                order.truncate(probes);
                order.into_iter().map(|(_, c)| c).collect::<Vec<u32>>()
            })
            .collect::<Vec<_>>()
    });
    parts.concat()
}

/// The `k` nearest of `cand` for every row of `rows`, in bounded tiles of query rows.
fn search_cell(
    x: &[f32],
    x_sq: &[f32],
    d: usize,
    rows: &[u32],
    cand: &[u32],
    k: usize,
) -> Vec<RowNeighbours> {
    let gather = |ids: &[u32]| -> Vec<f32> {
        let mut v = Vec::with_capacity(ids.len() * d);
        for &i in ids {
            v.extend_from_slice(&x[i as usize * d..(i as usize + 1) * d]);
        }
        v
    };
    let (qa, cb) = (gather(rows), gather(cand));
    let m = cand.len();
    let mut out = Vec::with_capacity(rows.len());
    for (t, chunk) in rows.chunks(256).enumerate() {
        let q = &qa[t * 256 * d..(t * 256 + chunk.len()) * d];
        let mut dots = vec![0.0f32; chunk.len() * m];
        matmul_abt(
            &mut dots,
            q,
            &cb,
            (chunk.len(), m, d),
            false,
            faer::Par::Seq,
        );
        for (r, &i) in chunk.iter().enumerate() {
            let i = i as usize;
            let mut best = Shortlist::new(k);
            for (col, &j) in cand.iter().enumerate() {
                let d2 = if j as usize == i {
                    0.0
                } else {
                    (x_sq[i] + x_sq[j as usize] - 2.0 * dots[r * m + col]).max(0.0)
                };
                best.offer(d2, j);
            }
            let best = best.finish(x, d, x_sq, i).to_vec();
            out.push((i as u32, best));
        }
    }
    out
}

/// Share of `exact`'s neighbours that `approx` found (rows compared position-free; a neighbour
/// at the same distance as the exact k-th counts, since ties are interchangeable).
pub fn recall(approx: &KnnGraph, exact: &KnnGraph) -> f64 {
    let k = exact.k.min(approx.k);
    let n = exact.indices.len() / exact.k;
    let mut hit = 0usize;
    for i in 0..n {
        let want = &exact.indices[i * exact.k..i * exact.k + k];
        let kth = exact.distances[i * exact.k + k - 1];
        for r in 0..k {
            let j = approx.indices[i * approx.k + r];
            if want.contains(&j) || approx.distances[i * approx.k + r] <= kth {
                hit += 1;
            }
        }
    }
    hit as f64 / (n * k) as f64
}

/// [`recall`] of `approx` on `sample` rows drawn with `seed` (exact neighbours of just those
/// rows through the kernel), for graphs too large to compare whole.
pub fn recall_sample(data: &Embeddings, approx: &KnnGraph, sample: usize, seed: u64) -> f64 {
    let n = data.rows();
    let rows: Vec<usize> = if sample >= n {
        (0..n).collect()
    } else {
        let mut r = crate::rng::Rng::new(seed, 0x2eca).sample(n, sample);
        r.sort_unstable();
        r
    };
    let queries = data.select(&rows);
    let (ei, ed) =
        crate::kernel::knn_between(queries.as_slice(), data.as_slice(), data.dim(), approx.k);
    let k = approx.k;
    let pick = |v: &[u32]| -> Vec<u32> {
        rows.iter()
            .flat_map(|&i| v[i * k..(i + 1) * k].iter().copied())
            .collect()
    };
    let pick_d = |v: &[f32]| -> Vec<f32> {
        rows.iter()
            .flat_map(|&i| v[i * k..(i + 1) * k].iter().copied())
            .collect()
    };
    let sub = KnnGraph {
        k,
        indices: pick(&approx.indices),
        distances: pick_d(&approx.distances),
    };
    let ex = KnnGraph {
        k: ei.len() / rows.len(),
        indices: ei,
        distances: ed,
    };
    recall(&sub, &ex)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::Rng;

    #[test]
    fn ivf_recall_and_determinism() {
        let mut rng = Rng::new(1, 0);
        let (n, d) = (3000, 16);
        let centres: Vec<f32> = (0..20 * d).map(|_| rng.next_f64() as f32 - 0.5).collect();
        let v: Vec<f32> = (0..n * d)
            .map(|i| centres[(i / d % 20) * d + i % d] + 0.2 * (rng.next_f64() as f32 - 0.5))
            .collect();
        let e = Embeddings::new(v, d).unwrap();
        let ex = exact(&e, 10);
        // The planted cells: row r was drawn around centre r % 20.
        let labels: Vec<usize> = (0..n).map(|r| r % 20).collect();
        let (cells, probes) = ivf_layout(n, 10, 20, 8).unwrap();
        assert_eq!((cells, probes), (20, 8));
        let ap = ivf(&e, 10, &labels, &centres, probes);
        let r = recall(&ap, &ex);
        assert!(r > 0.9, "recall {r}");
        assert_eq!(ap, ivf(&e, 10, &labels, &centres, probes));
        assert_eq!(ivf_layout(n, 10, 20, 20), None, "every cell probed: exact");
        assert_eq!(ivf_layout(30, 10, 0, 2), None, "small corpus: exact");
        assert!(
            (0..n).all(|i| ap.indices[i * 10] == i as u32 || ap.distances[i * 10] == 0.0),
            "self first"
        );
        assert_eq!(recall(&ex, &ex), 1.0);
    }
}
