//! Lloyd's iteration with Hamerly's bounds (Hamerly 2010, "Making k-means even faster").
//!
//! Per row: `upper` ≥ distance to its centroid, `lower` ≤ distance to every other centroid.
//! After centroids move by `p`, `upper += p[own]`, `lower -= max p[other]`. A row is skipped when
//! `upper ≤ max(lower, s[own])` (`s` = half the distance from a centroid to its nearest other).
//! Rows that fail are gathered and re-assigned in one blocked product through the kernel.
//! Bounds carry a small safety margin for rounding, so decisions match Lloyd's.

use super::lloyd::{finish, normalise_rows, update_centers};
use super::{Run, RunConfig};
use crate::kernel::{nearest, nearest_two};
use crate::linalg::{row_sq_norms, sq_dist};

/// Rows re-assigned per blocked product: memory stays O(chunk) whatever the corpus size.
const CHUNK: usize = 8192;

/// A run's state: each row's label and bounds, and each cluster's running sum and count.
struct Bounds<'a> {
    x: &'a [f32],
    x_sq: &'a [f32],
    d: usize,
    labels: Vec<usize>,
    upper: Vec<f32>,
    lower: Vec<f32>,
    sums: Vec<f64>,
    counts: Vec<usize>,
    candidates: Vec<usize>,
    gathered: Vec<f32>,
}

impl<'a> Bounds<'a> {
    /// Every row at its nearest centre, with exact bounds.
    fn new(x: &'a [f32], x_sq: &'a [f32], d: usize, centers: &[f32]) -> Self {
        let k = centers.len() / d;
        let first = nearest_two(x, x_sq, centers, &row_sq_norms(centers, d), d);
        let mut b = Bounds {
            x,
            x_sq,
            d,
            labels: first.iter().map(|f| f.index).collect(),
            upper: first.iter().map(|f| f.sq_dist.sqrt()).collect(),
            lower: first.iter().map(|f| f.second_sq_dist.sqrt()).collect(),
            sums: vec![0.0f64; k * d],
            counts: vec![0usize; k],
            candidates: Vec::new(),
            gathered: Vec::new(),
        };
        for i in 0..b.labels.len() {
            b.add(i, b.labels[i], 1.0);
        }
        b
    }

    /// Adds (`sign` 1) or removes (-1) row `i` to cluster `c`'s sum and count.
    fn add(&mut self, i: usize, c: usize, sign: f64) {
        let d = self.d;
        for (s, v) in self.sums[c * d..(c + 1) * d]
            .iter_mut()
            .zip(&self.x[i * d..(i + 1) * d])
        {
            *s += sign * f64::from(*v);
        }
        if sign > 0.0 {
            self.counts[c] += 1;
        } else {
            self.counts[c] -= 1;
        }
    }

    /// Moves row `i` to cluster `to`.
    fn relabel(&mut self, i: usize, to: usize) {
        self.add(i, self.labels[i], -1.0);
        self.add(i, to, 1.0);
        self.labels[i] = to;
    }

    /// The assignment step: rows whose bounds cannot rule out a closer centre are re-assigned
    /// through the kernel. Returns how many changed cluster.
    fn assign(&mut self, centers: &[f32], margin: f32) -> usize {
        let (x, d) = (self.x, self.d);
        let k = centers.len() / d;
        let half_gap = half_nearest_gap(centers, k, d);
        self.candidates.clear();
        for i in 0..self.labels.len() {
            let bound = self.lower[i].max(half_gap[self.labels[i]]);
            if self.upper[i] + margin <= bound {
                continue;
            }
            let l = self.labels[i];
            self.upper[i] = sq_dist(&x[i * d..(i + 1) * d], &centers[l * d..(l + 1) * d]).sqrt();
            if self.upper[i] + margin <= bound {
                continue;
            }
            self.candidates.push(i);
        }
        let c_sq = row_sq_norms(centers, d);
        let candidates = std::mem::take(&mut self.candidates);
        let mut moved = 0;
        for part in candidates.chunks(CHUNK) {
            self.gathered.clear();
            for &i in part {
                self.gathered.extend_from_slice(&x[i * d..(i + 1) * d]);
            }
            let g_sq: Vec<f32> = part.iter().map(|&i| self.x_sq[i]).collect();
            let fresh = nearest_two(&self.gathered, &g_sq, centers, &c_sq, d);
            for (&i, f) in part.iter().zip(&fresh) {
                if f.index != self.labels[i] {
                    self.relabel(i, f.index);
                    moved += 1;
                }
                self.upper[i] = f.sq_dist.sqrt();
                self.lower[i] = f.second_sq_dist.sqrt();
            }
        }
        self.candidates = candidates;
        moved
    }

    /// An empty cluster takes the row farthest from its centre, as in Lloyd; the rows moved
    /// lose their bounds. Returns how many moved.
    fn refill_empty(&mut self, centers: &[f32]) -> usize {
        let (x, d) = (self.x, self.d);
        let k = centers.len() / d;
        let dists: Vec<f32> = (0..self.labels.len())
            .map(|i| {
                let l = self.labels[i];
                sq_dist(&x[i * d..(i + 1) * d], &centers[l * d..(l + 1) * d])
            })
            .collect();
        let mut labels = self.labels.clone();
        update_centers(x, d, k, &mut labels, &dists, centers);
        let mut moved = 0;
        for (i, &to) in labels.iter().enumerate() {
            if to != self.labels[i] {
                self.relabel(i, to);
                // Its bounds no longer describe it: force a recomputation.
                self.upper[i] = f32::INFINITY;
                self.lower[i] = 0.0;
                moved += 1;
            }
        }
        moved
    }

    /// The update step: each non-empty cluster's mean (unit length when spherical).
    fn means(&self, centers: &[f32], spherical: bool) -> Vec<f32> {
        let d = self.d;
        let mut new = centers.to_vec();
        for (c, &count) in self.counts.iter().enumerate() {
            if count > 0 {
                let inv = 1.0 / count as f64;
                for t in 0..d {
                    new[c * d + t] = (self.sums[c * d + t] * inv) as f32;
                }
            }
        }
        if spherical {
            normalise_rows(&mut new, d);
        }
        new
    }

    /// Moves the bounds with the centroids' `shifts`.
    fn shift(&mut self, shifts: &[f32]) {
        let (mut top, mut top_c, mut second) = (0.0f32, 0usize, 0.0f32);
        for (c, &p) in shifts.iter().enumerate() {
            if p > top {
                second = top;
                top = p;
                top_c = c;
            } else if p > second {
                second = p;
            }
        }
        for i in 0..self.labels.len() {
            let l = self.labels[i];
            self.upper[i] += shifts[l];
            self.lower[i] -= if l == top_c { second } else { top };
        }
    }
}

/// Lloyd's iteration with Hamerly's bounds (see the module docs): the same decisions as
/// [`super::lloyd::lloyd`], most distances skipped.
pub(super) fn hamerly(
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
    let scale = x_sq.iter().fold(0.0f32, |m, &v| m.max(v)).sqrt().max(1e-30);
    let margin = 1e-5 * scale;
    let mut b = Bounds::new(x, x_sq, d, &centers);
    let mut n_iter = 0;
    let mut converged_strictly = false;
    let mut moved = x_sq.len(); // rows whose label changed in the last assignment
    for it in 0..max_iter {
        n_iter = it + 1;
        if it > 0 {
            moved = b.assign(&centers, margin);
        }
        if b.counts.contains(&0) {
            moved += b.refill_empty(&centers);
        }
        let new = b.means(&centers, spherical);
        let shifts: Vec<f32> = (0..k)
            .map(|c| sq_dist(&centers[c * d..(c + 1) * d], &new[c * d..(c + 1) * d]).sqrt())
            .collect();
        let shift_total: f64 = shifts.iter().map(|&p| f64::from(p).powi(2)).sum();
        centers = new;
        if it > 0 && moved == 0 {
            converged_strictly = true;
            break;
        }
        if shift_total <= tol {
            break;
        }
        b.shift(&shifts);
    }
    let mut labels = b.labels;
    if !converged_strictly {
        labels = nearest(x, x_sq, &centers, &row_sq_norms(&centers, d), d).0;
    }
    finish(x, d, centers, labels, n_iter)
}

/// Half the distance from each centroid to its nearest other centroid.
fn half_nearest_gap(centers: &[f32], k: usize, d: usize) -> Vec<f32> {
    if k < 2 {
        return vec![f32::INFINITY; k];
    }
    let c_sq = row_sq_norms(centers, d);
    let mut gram = vec![0.0f32; k * k];
    crate::linalg::matmul_abt(
        &mut gram,
        centers,
        centers,
        (k, k, d),
        false,
        faer::Par::Seq,
    );
    (0..k)
        .map(|a| {
            let mut best = f32::INFINITY;
            for b in 0..k {
                if a != b {
                    best = best.min((c_sq[a] + c_sq[b] - 2.0 * gram[a * k + b]).max(0.0));
                }
            }
            0.5 * best.sqrt()
        })
        .collect()
}
