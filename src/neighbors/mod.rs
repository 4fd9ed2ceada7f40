//! k-nearest-neighbour graphs and searches: exact through the kernel
//! ([`crate::kernel::knn`]), by NN-descent, or through an inverted file ([`InvertedFile`]: rows
//! filed under cells, each query scanning its `probes` nearest cells; cost `n x probes x
//! n/cells` instead of `n²`). The inverted file is the one the cosine index
//! ([`crate::index::ClusterIndex`]) and HDBSCAN's approximate graph share. Recall is measured
//! against the exact graph ([`recall`]) and reported by the callers.

mod ivf;
mod kdtree;
mod nndescent;

pub(crate) use ivf::top_k_tiles;
pub use ivf::{ivf_layout, nearest_cells, Entry, FiledRows, InvertedFile, Measure};
pub(crate) use kdtree::{sq_dist, KdTree};
pub(crate) use nndescent::nn_descent;
pub use nndescent::{NnDescent, NnDescentParams};

use crate::embeddings::Embeddings;

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

/// Exact kNN through the kernel.
pub fn exact(data: &Embeddings, k: usize) -> KnnGraph {
    let k = k.min(data.rows());
    let (indices, distances) = crate::kernel::knn(&data.as_f32(), data.dim(), k);
    KnnGraph {
        k,
        indices,
        distances,
    }
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
        crate::kernel::knn_between(&queries.as_f32(), &data.as_f32(), data.dim(), approx.k);
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

    /// `n` rows of `d` around `k` random centres (row `r` around centre `r % k`, uniform noise of
    /// width `spread`), unit length; and the centres.
    fn planted(n: usize, d: usize, k: usize, spread: f32, seed: u64) -> (Embeddings, Vec<f32>) {
        let mut rng = Rng::new(seed, 0);
        let centres: Vec<f32> = (0..k * d).map(|_| rng.next_f64() as f32 - 0.5).collect();
        let v: Vec<f32> = (0..n * d)
            .map(|i| centres[(i / d % k) * d + i % d] + spread * (rng.next_f64() as f32 - 0.5))
            .collect();
        (Embeddings::new(v, d).unwrap(), centres)
    }

    #[test]
    fn ivf_recall_and_determinism() {
        let (n, d) = (3000, 16);
        let (e, centres) = planted(n, d, 20, 0.2, 1);
        let ex = exact(&e, 10);
        // The planted cells: row r was drawn around centre r % 20.
        let labels: Vec<usize> = (0..n).map(|r| r % 20).collect();
        let (cells, probes) = ivf_layout(n, 10, 20, 8).unwrap();
        assert_eq!((cells, probes), (20, 8));
        let labels: Vec<u32> = labels.iter().map(|&c| c as u32).collect();
        let file = InvertedFile::with_cells(&e, centres.clone(), labels, Measure::Euclidean);
        let ap = file.knn_graph(&e, probes, 10);
        let r = recall(&ap, &ex);
        assert!(r > 0.9, "recall {r}");
        assert_eq!(ap, file.knn_graph(&e, probes, 10));
        let all = file.knn_graph(&e, 20, 10);
        assert_eq!(recall(&all, &ex), 1.0, "every cell probed: exact");
        assert_eq!(all.indices, ex.indices);
        assert_eq!(ivf_layout(n, 10, 20, 20), None, "every cell probed: exact");
        assert_eq!(ivf_layout(30, 10, 0, 2), None, "small corpus: exact");
        assert!(
            (0..n).all(|i| ap.indices[i * 10] == i as u32 || ap.distances[i * 10] == 0.0),
            "self first"
        );
        assert_eq!(recall(&ex, &ex), 1.0);
    }

    #[test]
    fn a_file_of_ids_finds_the_pairs_the_full_file_finds() {
        let d = 12;
        let (e, centres) = planted(1200, d, 8, 0.05, 5);
        let mut c = centres;
        for row in c.chunks_exact_mut(d) {
            crate::linalg::normalise(row);
        }
        let full = InvertedFile::file(&e, c.clone(), Measure::InnerProduct);
        let ids = InvertedFile::file_ids(&e, c, Measure::InnerProduct);
        assert_eq!(ids.cells(), full.cells());
        for nprobe in [1, 3, 8] {
            let a = full.pairs_above(0.97, nprobe);
            assert!(!a.is_empty());
            let from = FiledRows {
                data: &e,
                rows: None,
            };
            assert_eq!(ids.pairs_above_in(from, 0.97, nprobe), a);
        }
    }
}
