//! Lloyd's iteration, the update step it shares with Hamerly's, and the final inertia.

use super::{Run, RunConfig};
use crate::kernel::nearest;
use crate::linalg::{normalise, row_sq_norms, sq_dist_f64};

/// Scales every non-zero row to unit length.
pub(super) fn normalise_rows(m: &mut [f32], d: usize) {
    for row in m.chunks_exact_mut(d) {
        normalise(row);
    }
}

pub(super) fn lloyd(
    x: &[f32],
    x_sq: &[f32],
    d: usize,
    mut centers: Vec<f32>,
    run: RunConfig,
) -> Run {
    let RunConfig {
        max_iter,
        tol,
        spherical,
    } = run;
    let k = centers.len() / d;
    let mut labels_old: Vec<usize> = Vec::new();
    let mut n_iter = 0;
    let mut converged_strictly = false;
    let mut labels = Vec::new();
    for it in 0..max_iter {
        n_iter = it + 1;
        let (l, dists) = nearest(x, x_sq, &centers, &row_sq_norms(&centers, d), d);
        labels = l;
        let mut new = update_centers(x, d, k, &mut labels, &dists, &centers);
        if spherical {
            normalise_rows(&mut new, d);
        }
        let shift: f64 = centers
            .iter()
            .zip(&new)
            .map(|(a, b)| f64::from(a - b).powi(2))
            .sum();
        centers = new;
        if labels == labels_old {
            converged_strictly = true;
            break;
        }
        if shift <= tol {
            break;
        }
        labels_old.clone_from(&labels);
    }
    if !converged_strictly {
        labels = nearest(x, x_sq, &centers, &row_sq_norms(&centers, d), d).0;
    }
    finish(x, d, centers, labels, n_iter)
}

/// The run's result with its exact inertia (direct differences in f64, not the GEMM form).
pub(super) fn finish(
    x: &[f32],
    d: usize,
    centers: Vec<f32>,
    labels: Vec<usize>,
    n_iter: usize,
) -> Run {
    use rayon::prelude::*;
    // Fixed blocks of rows added in order: the same sum whatever the thread count.
    let parts: Vec<f64> = labels
        .par_chunks(4096)
        .enumerate()
        .map(|(b, block)| {
            block
                .iter()
                .enumerate()
                .map(|(r, &l)| {
                    let i = b * 4096 + r;
                    sq_dist_f64(&x[i * d..(i + 1) * d], &centers[l * d..(l + 1) * d])
                })
                .sum::<f64>()
        })
        .collect();
    let inertia = parts.iter().sum();
    Run {
        centroids: centers,
        labels,
        inertia,
        n_iter,
    }
}

/// Means of the assigned rows. An empty cluster takes the row farthest from its centre (as
/// scikit-learn relocates empty clusters), which leaves its old cluster.
pub(super) fn update_centers(
    x: &[f32],
    d: usize,
    k: usize,
    labels: &mut [usize],
    dists: &[f32],
    old: &[f32],
) -> Vec<f32> {
    let mut sums = vec![0.0f64; k * d];
    let mut counts = vec![0usize; k];
    for (i, &l) in labels.iter().enumerate() {
        counts[l] += 1;
        for (s, v) in sums[l * d..(l + 1) * d]
            .iter_mut()
            .zip(&x[i * d..(i + 1) * d])
        {
            *s += f64::from(*v);
        }
    }
    let empty: Vec<usize> = (0..k).filter(|&c| counts[c] == 0).collect();
    if !empty.is_empty() {
        let mut far: Vec<usize> = (0..labels.len()).collect();
        far.sort_by(|&a, &b| dists[b].total_cmp(&dists[a]).then(a.cmp(&b)));
        let mut far = far.into_iter();
        for c in empty {
            // The farthest row whose cluster keeps at least one member.
            let Some(i) = far.by_ref().find(|&i| counts[labels[i]] > 1) else {
                break;
            };
            let from = labels[i];
            for t in 0..d {
                let v = f64::from(x[i * d + t]);
                sums[from * d + t] -= v;
                sums[c * d + t] = v;
            }
            counts[from] -= 1;
            counts[c] = 1;
            labels[i] = c;
        }
    }
    let mut centers = vec![0.0f32; k * d];
    for c in 0..k {
        if counts[c] == 0 {
            centers[c * d..(c + 1) * d].copy_from_slice(&old[c * d..(c + 1) * d]);
            continue;
        }
        let inv = 1.0 / counts[c] as f64;
        for t in 0..d {
            centers[c * d + t] = (sums[c * d + t] * inv) as f32;
        }
    }
    centers
}
