//! UMAP's layout optimisation (umap-learn `optimize_layout_euclidean`): stochastic gradient
//! descent over the edges of the fuzzy graph, each edge sampled in proportion to its weight,
//! with `negative_sample_rate` random repulsions per attraction and a learning rate falling
//! linearly to 0.
//!
//! umap-learn runs the edges in one sequential loop (or in parallel without determinism).
//! Here every epoch reads the positions of the previous epoch and each vertex updates only its
//! own position from its own edges (the graph holds both directions of every edge, so the pull
//! of `i -> j` that umap-learn also applies to `j` is applied by `j` itself). Each vertex draws
//! its negative samples from its own random stream, so the result is the same for any number of
//! threads.

use rayon::prelude::*;

use super::fuzzy::Csr;
use crate::linalg::sq_dist_seq;
use crate::rng::Rng;

/// Fits `a` and `b` of the low-dimensional similarity `1 / (1 + a·d^(2b))` to the curve that
/// is 1 up to `min_dist` and `exp(-(d - min_dist) / spread)` beyond, on 300 points in
/// `[0, 3·spread]` by least squares (umap-learn's `find_ab_params`, there scipy's
/// `curve_fit`; here Levenberg–Marquardt from the same start `(1, 1)`).
pub fn find_ab_params(spread: f64, min_dist: f64) -> (f64, f64) {
    let xs: Vec<f64> = (0..300).map(|i| 3.0 * spread * i as f64 / 299.0).collect();
    let ys: Vec<f64> = xs
        .iter()
        .map(|&x| {
            if x < min_dist {
                1.0
            } else {
                (-(x - min_dist) / spread).exp()
            }
        })
        .collect();
    let cost = |a: f64, b: f64| -> f64 {
        xs.iter()
            .zip(&ys)
            .map(|(&x, &y)| {
                let r = 1.0 / (1.0 + a * x.powf(2.0 * b)) - y;
                r * r
            })
            .sum()
    };
    let (mut a, mut b) = (1.0f64, 1.0f64);
    let mut lambda = 1e-3;
    let mut c = cost(a, b);
    for _ in 0..500 {
        // Normal equations J'J δ = -J'r for the two parameters.
        let (mut jaa, mut jab, mut jbb, mut ga, mut gb) = (0.0, 0.0, 0.0, 0.0, 0.0);
        for (&x, &y) in xs.iter().zip(&ys) {
            let p = if x > 0.0 { x.powf(2.0 * b) } else { 0.0 };
            let den = 1.0 + a * p;
            let f = 1.0 / den;
            let r = f - y;
            let da = -p / (den * den);
            let db = if x > 0.0 {
                -a * 2.0 * x.ln() * p / (den * den)
            } else {
                0.0
            };
            jaa += da * da;
            jab += da * db;
            jbb += db * db;
            ga += da * r;
            gb += db * r;
        }
        let mut improved = false;
        for _ in 0..20 {
            let (m11, m22) = (jaa * (1.0 + lambda), jbb * (1.0 + lambda));
            let det = m11 * m22 - jab * jab;
            if det.abs() < 1e-300 {
                break;
            }
            let da = -(m22 * ga - jab * gb) / det;
            let db = -(m11 * gb - jab * ga) / det;
            let (na, nb) = (a + da, b + db);
            let nc = cost(na, nb);
            if nc.is_finite() && nc <= c {
                let rel = (c - nc) / c.max(1e-300);
                a = na;
                b = nb;
                c = nc;
                lambda = (lambda / 10.0).max(1e-12);
                improved = rel > 1e-15;
                break;
            }
            lambda *= 10.0;
        }
        if !improved {
            break;
        }
    }
    (a, b)
}

/// The sampling period of every edge in epochs: `max(w) / w` (umap-learn
/// `make_epochs_per_sample`; the heaviest edge is sampled every epoch).
pub(crate) fn epochs_per_sample(weights: &[f32]) -> Vec<f64> {
    let max = weights.iter().copied().fold(0.0f32, f32::max) as f64;
    weights
        .iter()
        .map(|&w| if w > 0.0 { max / w as f64 } else { -1.0 })
        .collect()
}

/// What the optimiser needs besides positions and the graph.
#[derive(Debug, Clone, Copy)]
pub(crate) struct LayoutConfig {
    pub a: f32,
    pub b: f32,
    pub gamma: f32,
    pub initial_alpha: f32,
    pub negative_sample_rate: f64,
    pub n_epochs: usize,
    pub seed: u64,
}

/// The gradient clip of umap-learn's layout.
#[inline]
pub(crate) fn clip(v: f32) -> f32 {
    v.clamp(-4.0, 4.0)
}

/// A vertex in `0..n` from 32 random bits (multiply-shift: no division in the hottest loop).
#[inline]
pub(crate) fn pick(rng: &mut Rng, n: usize) -> usize {
    (((rng.next_u64() >> 32) * n as u64) >> 32) as usize
}

/// The random stream of vertex `i` in `epoch` (negative samples).
pub(crate) fn rng_for(seed: u64, epoch: usize, i: usize) -> Rng {
    Rng::new(seed ^ (epoch as u64).wrapping_mul(0x9e37_79b9), i as u64)
}

/// The learning rate of `epoch`: umap-learn starts at `initial_alpha` and, after epoch `n`,
/// sets `initial_alpha·(1 - n / n_epochs)` for the next one.
pub(crate) fn learning_rate(cfg: &LayoutConfig, epoch: usize) -> f32 {
    cfg.initial_alpha * (1.0 - epoch.saturating_sub(1) as f32 / cfg.n_epochs as f32)
}

/// Whether an edge with sampling period `eps` is sampled at `epoch`, and if so how many
/// negative samples it draws (period `eps_neg`). umap-learn keeps running sums
/// (`epoch_of_next_sample += eps`); these are their closed forms, so no per-edge state is
/// mutated and the edges of a vertex can be processed by whichever block owns it.
#[inline]
fn schedule(epoch: usize, inv_eps: f64, eps: f64, inv_eps_neg: f64) -> Option<usize> {
    if epoch == 0 || eps <= 0.0 {
        return None;
    }
    // Everything here is non-negative, so `as u64` is floor (and inlines; `floor` is a libm
    // call on baseline x86-64). Multiplying by precomputed inverses keeps divisions out of
    // the loop over every edge in every epoch.
    let n = epoch as f64;
    let before = ((n - 1.0) * inv_eps) as u64;
    if (n * inv_eps) as u64 <= before {
        return None;
    }
    // Negative samples drawn so far: floor(t / eps_neg) at the previous sample time t, minus
    // the one umap-learn's first sample does not draw.
    let prev = if before >= 1 {
        let t = before as f64 * eps;
        let t = if t > (t as u64) as f64 {
            (t as u64 + 1) as f64
        } else {
            t
        };
        (t * inv_eps_neg) as u64
    } else {
        1
    };
    Some(((n * inv_eps_neg) as u64).saturating_sub(prev) as usize)
}

/// Most output dimensions the layout handles (positions live in stack arrays).
pub(crate) const MAX_COMPONENTS: usize = 64;

/// Optimises `head` (`rows x dim`, row `i` is the vertex of graph row `i`) against `tail`.
///
/// `tail = None` (fit): the graph is over `head` itself; see [`super::blocks`] for how the
/// loop runs in parallel and stays deterministic. `Some(tail)` (transform): the tail is
/// fixed, so every head vertex is independent and runs in parallel.
pub(crate) fn optimize(
    head: &mut [f32],
    tail: Option<&[f32]>,
    dim: usize,
    graph: &Csr,
    cfg: &LayoutConfig,
    on_epoch: &(dyn Fn() + Sync),
) {
    let eps = epochs_per_sample(&graph.weights);
    // Per edge: (1 / period, period, 1 / negative period).
    let sched: Vec<(f64, f64, f64)> = eps
        .iter()
        .map(|&e| (1.0 / e, e, cfg.negative_sample_rate / e))
        .collect();
    let (a, b, gamma) = (cfg.a, cfg.b, cfg.gamma);
    let attract = |d2: f32| -> f32 {
        let pw = d2.powf(b);
        -2.0 * a * b * (pw / d2) / (a * pw + 1.0)
    };
    let repel = |d2: f32| -> f32 { 2.0 * gamma * b / ((0.001 + d2) * (a * d2.powf(b) + 1.0)) };

    if let Some(tail) = tail {
        let n_vertices = tail.len() / dim;
        for epoch in 0..cfg.n_epochs {
            let alpha = learning_rate(cfg, epoch);
            head.par_chunks_mut(dim).enumerate().for_each(|(i, cur)| {
                let mut rng = rng_for(cfg.seed, epoch, i);
                let edges = graph.indptr[i]..graph.indptr[i + 1];
                for (&(ie, ep, ien), &j) in sched[edges.clone()].iter().zip(&graph.indices[edges]) {
                    let Some(n_neg) = schedule(epoch, ie, ep, ien) else {
                        continue;
                    };
                    let j = j as usize;
                    let other = &tail[j * dim..(j + 1) * dim];
                    let d2 = sq_dist_seq(cur, other);
                    if d2 > 0.0 {
                        let c = attract(d2);
                        for t in 0..dim {
                            cur[t] += clip(c * (cur[t] - other[t])) * alpha;
                        }
                    }
                    for _ in 0..n_neg {
                        let k = pick(&mut rng, n_vertices);
                        let other = &tail[k * dim..(k + 1) * dim];
                        let d2 = sq_dist_seq(cur, other);
                        if d2 > 0.0 {
                            let c = repel(d2);
                            for t in 0..dim {
                                cur[t] += clip(c * (cur[t] - other[t])) * alpha;
                            }
                        }
                    }
                }
            });
            on_epoch();
        }
        return;
    }

    super::blocks::optimize_fit(head, dim, graph, cfg, on_epoch);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ab_params_match_umap_learn() {
        // umap-learn: find_ab_params(1.0, 0.1) = (1.5769434603113077, 0.8950608779109733).
        let (a, b) = find_ab_params(1.0, 0.1);
        assert!((a - 1.576_943_460_311_307_7).abs() < 1e-4, "a = {a}");
        assert!((b - 0.895_060_877_910_973_3).abs() < 1e-4, "b = {b}");
        // min_dist 0.5: umap-learn gives (0.5830300199455201, 1.334166992455648).
        let (a, b) = find_ab_params(1.0, 0.5);
        assert!((a - 0.583_030_019_945_520_1).abs() < 1e-3, "a = {a}");
        assert!((b - 1.334_166_992_455_648).abs() < 1e-3, "b = {b}");
    }

    #[test]
    fn schedule_matches_umap_learns_running_sums() {
        // Periods exactly representable, so the running sums have no rounding to disagree on.
        for &eps in &[1.0f64, 1.25, 2.0, 3.75, 17.25] {
            let eps_neg = eps / 4.0;
            let (mut next, mut next_neg) = (eps, eps_neg);
            for epoch in 0..200usize {
                let n = epoch as f64;
                let want = if next <= n {
                    next += eps;
                    let k = ((n - next_neg) / eps_neg) as usize;
                    next_neg += k as f64 * eps_neg;
                    Some(k)
                } else {
                    None
                };
                let got = schedule(epoch, 1.0 / eps, eps, 1.0 / eps_neg);
                assert_eq!(got, want, "eps {eps} epoch {epoch}");
            }
        }
    }

    #[test]
    fn epochs_per_sample_is_max_over_weight() {
        assert_eq!(epochs_per_sample(&[1.0, 0.5, 0.25]), vec![1.0, 2.0, 4.0]);
    }

    #[test]
    fn sampling_periods_learning_rate_and_clip() {
        // The heaviest edge every epoch, one a quarter as heavy every fourth; none for 0.
        assert_eq!(epochs_per_sample(&[1.0, 0.25, 0.0]), [1.0, 4.0, -1.0]);
        let cfg = LayoutConfig {
            a: 1.0,
            b: 1.0,
            gamma: 1.0,
            initial_alpha: 1.0,
            negative_sample_rate: 5.0,
            n_epochs: 200,
            seed: 42,
        };
        // umap-learn: alpha for epoch n is 1 - (n - 1) / n_epochs after the first.
        assert_eq!(learning_rate(&cfg, 0), 1.0);
        assert_eq!(learning_rate(&cfg, 1), 1.0);
        assert!((learning_rate(&cfg, 101) - 0.5).abs() < 1e-6);
        assert_eq!((clip(9.0), clip(-9.0), clip(0.5)), (4.0, -4.0, 0.5));
        // Vertex picks stay in range and the per-vertex streams differ.
        let mut r = rng_for(42, 3, 7);
        assert!((0..1000).all(|_| pick(&mut r, 13) < 13));
        assert_ne!(rng_for(42, 3, 7).next_u64(), rng_for(42, 3, 8).next_u64());
    }
}
