//! Lloyd's iteration with Hamerly's bounds (Hamerly 2010, "Making k-means even faster"), one
//! lower bound per group of centroids (Ding et al. 2015, "Yinyang K-means").
//!
//! Per row: `upper` ≥ distance to its centroid, and per group of centroids `lower[g]` ≤ the
//! distance to every centroid of the group but its own. After centroids move by `p`,
//! `upper += p[own]` and `lower[g] -= max p over g`. A row is skipped when
//! `upper ≤ max(min_g lower[g], s[own])` (`s` = half the distance from a centroid to its nearest
//! other). One group is Hamerly's bound; one group per centroid is Elkan's per-centroid bounds,
//! which in 384 dimensions skip far more rows, because one centroid moving far no longer lowers
//! every row's bound. One per centroid while they fit in [`LOWER_BOUND_BYTES`], else one.
//! Rows that fail are gathered and re-assigned in one blocked product through the kernel, which
//! gives all their distances, so their bounds become exact again.
//! Bounds carry a small safety margin for rounding, so decisions match Lloyd's.

use super::lloyd::{finish, normalise_rows, update_centers};
use super::{Run, RunConfig};
use crate::kernel::{for_each_tile, nearest, nearest_two};
use crate::linalg::{row_sq_norms, sq_dist};

/// Rows re-assigned per blocked product: memory stays O(chunk) whatever the corpus size.
const CHUNK: usize = 8192;

/// Memory for the lower bounds of one run (rows x centroids f32): one bound per centroid up to
/// this, one per row (Hamerly's) above it.
const LOWER_BOUND_BYTES: usize = 256 << 20;

/// How many groups of centroids carry a lower bound each, for `n` rows and `k` centroids: one
/// per centroid when they fit in [`LOWER_BOUND_BYTES`], else one. (Groups in between, Yinyang's
/// middle road, work and are tested, but with groups of consecutive centroids they saved no
/// time on an index's 999 cells at 1M rows and cost 270 MB; Yinyang groups centroids by a
/// K-Means of the centroids, which this does not do.)
fn group_count(n: usize, k: usize) -> usize {
    if n.saturating_mul(k).saturating_mul(4) <= LOWER_BOUND_BYTES {
        k.max(1)
    } else {
        1
    }
}

/// A row's nearest centroid, its distance and, per group, the distance to the group's nearest
/// centroid other than that one.
struct Fresh {
    index: usize,
    dist: f32,
}

/// Every row of `x` against every centroid: nearest centroid and distance per row, and the
/// group lower bounds written into `lower` (rows x groups, so `lower` says how many groups).
fn assign_exact(
    x: &[f32],
    x_sq: &[f32],
    centers: &[f32],
    c_sq: &[f32],
    d: usize,
    group_of: &[usize],
    lower: &mut [f32],
) -> Vec<Fresh> {
    let k = c_sq.len();
    let groups = lower.len() / x_sq.len().max(1);
    if groups == 1 {
        // Hamerly's one bound: the kernel's nearest and runner-up, in one pass.
        let first = nearest_two(x, x_sq, centers, c_sq, d);
        for (low, f) in lower.iter_mut().zip(&first) {
            *low = f.second_sq_dist.sqrt();
        }
        return first
            .iter()
            .map(|f| Fresh {
                index: f.index,
                dist: f.sq_dist.sqrt(),
            })
            .collect();
    }
    let parts = for_each_tile(x, centers, d, |start, rows, dots| {
        let mut out = Vec::with_capacity(rows);
        let mut low = vec![f32::INFINITY; rows * groups];
        let mut dist = vec![0.0f32; k];
        for r in 0..rows {
            let dots = &dots[r * k..(r + 1) * k];
            let low = &mut low[r * groups..(r + 1) * groups];
            let (mut best, mut best_d) = (0, f32::INFINITY);
            for (j, (v, &dot)) in dist.iter_mut().zip(dots).enumerate() {
                *v = (x_sq[start + r] + c_sq[j] - 2.0 * dot).max(0.0);
                if *v < best_d {
                    best = j;
                    best_d = *v;
                }
            }
            if groups == k {
                low.iter_mut().zip(&dist).for_each(|(l, v)| *l = v.sqrt());
                low[best] = f32::INFINITY;
            } else {
                low.fill(f32::INFINITY);
                for (j, &v) in dist.iter().enumerate() {
                    if j != best {
                        let g = &mut low[group_of[j]];
                        *g = g.min(v);
                    }
                }
                low.iter_mut().for_each(|v| *v = v.sqrt());
            }
            out.push(Fresh {
                index: best,
                dist: best_d.sqrt(),
            });
        }
        (out, low)
    });
    let mut fresh = Vec::with_capacity(x_sq.len());
    let mut at = 0;
    for (out, low) in parts {
        lower[at..at + low.len()].copy_from_slice(&low);
        at += low.len();
        fresh.extend(out);
    }
    fresh
}

/// A run's state: each row's label and bounds, and each cluster's running sum and count.
struct Bounds<'a> {
    x: &'a [f32],
    x_sq: &'a [f32],
    d: usize,
    labels: Vec<usize>,
    upper: Vec<f32>,
    /// Rows x groups.
    lower: Vec<f32>,
    groups: usize,
    group_of: Vec<usize>,
    /// Group shifts not yet taken off `lower`.
    pending: Vec<f32>,
    sums: Vec<f64>,
    counts: Vec<usize>,
    candidates: Vec<usize>,
    gathered: Vec<f32>,
}

impl<'a> Bounds<'a> {
    /// Every row at its nearest centre, with exact bounds.
    fn new(x: &'a [f32], x_sq: &'a [f32], d: usize, centers: &[f32], groups: usize) -> Self {
        let (n, k) = (x_sq.len(), centers.len() / d);
        let group_of: Vec<usize> = (0..k).map(|c| c * groups / k).collect();
        let mut lower = vec![0.0f32; n * groups];
        let c_sq = row_sq_norms(centers, d);
        let first = assign_exact(x, x_sq, centers, &c_sq, d, &group_of, &mut lower);
        let mut b = Bounds {
            x,
            x_sq,
            d,
            labels: first.iter().map(|f| f.index).collect(),
            upper: first.iter().map(|f| f.dist).collect(),
            lower,
            groups,
            group_of,
            pending: vec![0.0; groups],
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
        let c_sq = row_sq_norms(centers, d);
        let half_gap = half_nearest_gap(centers, &c_sq, d);
        let g = self.groups;
        let pending = std::mem::replace(&mut self.pending, vec![0.0; g]);
        self.candidates.clear();
        for i in 0..self.labels.len() {
            let mut low = f32::INFINITY;
            for (v, s) in self.lower[i * g..(i + 1) * g].iter_mut().zip(&pending) {
                *v -= s;
                low = low.min(*v);
            }
            let bound = low.max(half_gap[self.labels[i]]);
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
        let candidates = std::mem::take(&mut self.candidates);
        let mut moved = 0;
        if candidates.len() * 20 >= self.labels.len() * 17 {
            // Nearly every row is a candidate (the first iterations): every row in place beats
            // gathering them (a full pass gives every row exact bounds, which is never wrong).
            let mut lower = std::mem::take(&mut self.lower);
            let fresh = assign_exact(x, self.x_sq, centers, &c_sq, d, &self.group_of, &mut lower);
            self.lower = lower;
            for (i, f) in fresh.iter().enumerate() {
                if f.index != self.labels[i] {
                    self.relabel(i, f.index);
                    moved += 1;
                }
                self.upper[i] = f.dist;
            }
        } else {
            for part in candidates.chunks(CHUNK) {
                self.gathered.clear();
                for &i in part {
                    self.gathered.extend_from_slice(&x[i * d..(i + 1) * d]);
                }
                let g_sq: Vec<f32> = part.iter().map(|&i| self.x_sq[i]).collect();
                let mut low = vec![0.0f32; part.len() * g];
                let fresh = assign_exact(
                    &self.gathered,
                    &g_sq,
                    centers,
                    &c_sq,
                    d,
                    &self.group_of,
                    &mut low,
                );
                for ((&i, f), low) in part.iter().zip(&fresh).zip(low.chunks_exact(g)) {
                    if f.index != self.labels[i] {
                        self.relabel(i, f.index);
                        moved += 1;
                    }
                    self.upper[i] = f.dist;
                    self.lower[i * g..(i + 1) * g].copy_from_slice(low);
                }
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
                self.lower[i * self.groups..(i + 1) * self.groups].fill(0.0);
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
    /// The lower bounds take the groups' largest shifts at the next assignment, in the pass
    /// that reads them.
    fn shift(&mut self, shifts: &[f32]) {
        let mut group_shift = vec![0.0f32; self.groups];
        for (c, &p) in shifts.iter().enumerate() {
            let s = &mut group_shift[self.group_of[c]];
            *s = s.max(p);
        }
        for (pending, s) in self.pending.iter_mut().zip(group_shift) {
            *pending += s;
        }
        for i in 0..self.labels.len() {
            self.upper[i] += shifts[self.labels[i]];
        }
    }
}

/// Lloyd's iteration with Hamerly's bounds (see the module docs): the same decisions as
/// [`super::lloyd::lloyd`], most distances skipped.
pub(super) fn hamerly(x: &[f32], x_sq: &[f32], d: usize, centers: Vec<f32>, run: RunConfig) -> Run {
    let groups = group_count(x_sq.len(), centers.len() / d);
    hamerly_grouped(x, x_sq, d, centers, run, groups)
}

/// [`hamerly`] with `groups` lower bounds per row.
fn hamerly_grouped(
    x: &[f32],
    x_sq: &[f32],
    d: usize,
    mut centers: Vec<f32>,
    run: RunConfig,
    groups: usize,
) -> Run {
    let RunConfig {
        max_iter,
        tol,
        spherical,
    } = run;
    let k = centers.len() / d;
    let scale = x_sq.iter().fold(0.0f32, |m, &v| m.max(v)).sqrt().max(1e-30);
    let margin = 1e-5 * scale;
    let mut b = Bounds::new(x, x_sq, d, &centers, groups);
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
fn half_nearest_gap(centers: &[f32], c_sq: &[f32], d: usize) -> Vec<f32> {
    let k = c_sq.len();
    if k < 2 {
        return vec![f32::INFINITY; k];
    }
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

#[cfg(test)]
mod tests {
    use super::super::init::kmeans_plus_plus;
    use super::super::lloyd::lloyd;
    use super::*;
    use crate::rng::Rng;

    #[test]
    fn every_group_count_gives_lloyds_result() {
        // Points around a few directions in 24 dimensions, 11 clusters: one group (Hamerly),
        // a few (Yinyang), one per centroid (Elkan) must all decide as Lloyd does.
        let (n, d, k) = (1200, 24, 11);
        let mut rng = Rng::new(5, 0);
        let centres: Vec<f32> = (0..6 * d).map(|_| rng.next_f64() as f32 - 0.5).collect();
        let x: Vec<f32> = (0..n * d)
            .map(|t| centres[(t / d % 6) * d + t % d] + 0.5 * (rng.next_f64() as f32 - 0.5))
            .collect();
        let x_sq = row_sq_norms(&x, d);
        let init = kmeans_plus_plus(&x, &x_sq, d, k, &mut Rng::new(1, 1));
        let cfg = RunConfig {
            max_iter: 300,
            tol: 0.0,
            spherical: false,
        };
        let reference = lloyd(&x, &x_sq, d, init.clone(), cfg);
        for groups in [1, 3, k] {
            let run = hamerly_grouped(&x, &x_sq, d, init.clone(), cfg, groups);
            assert_eq!(run.labels, reference.labels, "{groups} groups");
            assert_eq!(run.n_iter, reference.n_iter, "{groups} groups");
        }
        assert_eq!(group_count(10_000_000, 58), 1);
        assert_eq!(group_count(30_000, 58), 58);
        assert_eq!(group_count(1_000_000, 58), 58);
    }
}
