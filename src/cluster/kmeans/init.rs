//! Starting centres: greedy k-means++ as scikit-learn's, and the data's mean variance that
//! scales the tolerance.

use crate::linalg::row_sq_norms;
use crate::rng::Rng;

pub(super) fn mean_variance(x: &[f32], d: usize) -> f64 {
    use rayon::prelude::*;
    // Two passes as numpy's `var`, in fixed blocks of rows added in order: the same sum
    // whatever the thread count.
    const BLOCK: usize = 4096;
    let n = (x.len() / d) as f64;
    let mut mean = vec![0.0f64; d];
    let parts: Vec<Vec<f64>> = x
        .par_chunks(BLOCK * d)
        .map(|block| {
            let mut sum = vec![0.0f64; d];
            for row in block.chunks_exact(d) {
                for (m, v) in sum.iter_mut().zip(row) {
                    *m += f64::from(*v);
                }
            }
            sum
        })
        .collect();
    for part in parts {
        mean.iter_mut().zip(part).for_each(|(m, p)| *m += p);
    }
    mean.iter_mut().for_each(|m| *m /= n);
    let parts: Vec<f64> = x
        .par_chunks(BLOCK * d)
        .map(|block| {
            let mut var = 0.0f64;
            for row in block.chunks_exact(d) {
                for (m, v) in mean.iter().zip(row) {
                    var += (f64::from(*v) - m).powi(2);
                }
            }
            var
        })
        .collect();
    parts.iter().sum::<f64>() / n / d as f64
}

/// Greedy k-means++ (Arthur & Vassilvitskii; scikit-learn's variant): each new centre is the
/// best of `2 + ln k` candidates drawn with probability proportional to the squared distance
/// to the nearest centre so far.
pub(crate) fn kmeans_plus_plus(
    x: &[f32],
    x_sq: &[f32],
    d: usize,
    k: usize,
    rng: &mut Rng,
) -> Vec<f32> {
    let n = x_sq.len();
    let trials = 2 + (k as f64).ln() as usize;
    let mut centers = Vec::with_capacity(k * d);
    let first = rng.below(n);
    centers.extend_from_slice(&x[first * d..(first + 1) * d]);
    let first_sq = x_sq[first];
    let mut closest: Vec<f32> =
        crate::kernel::for_each_tile(x, &centers, d, |start, rows, dots| {
            (0..rows)
                .map(|r| (x_sq[start + r] + first_sq - 2.0 * dots[r]).max(0.0))
                .collect::<Vec<f32>>()
        })
        .concat();
    let mut pot: f64 = closest.iter().map(|&v| f64::from(v)).sum();
    let mut cum = Vec::with_capacity(n);
    for _ in 1..k {
        cum.clear();
        let mut acc = 0.0f64;
        for &v in &closest {
            acc += f64::from(v);
            cum.push(acc);
        }
        let candidates: Vec<usize> = (0..trials)
            .map(|_| {
                let target = rng.next_f64() * pot;
                cum.partition_point(|&c| c < target).min(n - 1)
            })
            .collect();
        let cand: Vec<f32> = candidates
            .iter()
            .flat_map(|&c| x[c * d..(c + 1) * d].iter().copied())
            .collect();
        let cand_sq = row_sq_norms(&cand, d);
        let t = candidates.len();
        // Per tile: each candidate's squared distances, and its partial potential (the sum of
        // min(closest, distance)) in f64; partials are added in tile order (deterministic).
        let tiles = crate::kernel::for_each_tile(x, &cand, d, |start, rows, dots| {
            let mut dist = vec![0.0f32; rows * t];
            let mut pots = vec![0.0f64; t];
            for r in 0..rows {
                let cl = closest[start + r];
                for j in 0..t {
                    let v = (x_sq[start + r] + cand_sq[j] - 2.0 * dots[r * t + j]).max(0.0);
                    dist[r * t + j] = v;
                    pots[j] += f64::from(cl.min(v));
                }
            }
            (dist, pots)
        });
        let mut totals = vec![0.0f64; t];
        for (_, pots) in &tiles {
            totals.iter_mut().zip(pots).for_each(|(a, b)| *a += b);
        }
        let (j, p) = totals
            .iter()
            .enumerate()
            .fold(
                (0, f64::INFINITY),
                |best, (j, &p)| if p < best.1 { (j, p) } else { best },
            );
        pot = p;
        for (tile, (dist, _)) in tiles.iter().enumerate() {
            let start = tile * crate::kernel::TILE_ROWS;
            for (r, c) in closest[start..start + dist.len() / t]
                .iter_mut()
                .enumerate()
            {
                *c = c.min(dist[r * t + j]);
            }
        }
        let c = candidates[j];
        centers.extend_from_slice(&x[c * d..(c + 1) * d]);
    }
    centers
}
