//! Spectral initialisation of the UMAP layout (umap-learn `spectral_layout`): the eigenvectors
//! of the normalised graph Laplacian `L = I - D^-1/2 W D^-1/2` with the smallest non-zero
//! eigenvalues, i.e. the largest eigenvalues of `M = D^-1/2 W D^-1/2` after the trivial one
//! (eigenvector `D^1/2·1`).
//!
//! umap-learn calls ARPACK (`eigsh`, tolerance 1e-4). Here a thick-restart Lanczos
//! (Krylov–Schur for a symmetric operator) with full reorthogonalisation and the trivial
//! eigenvector deflated; a disconnected graph is laid out per component, components placed by
//! the principal axes of their centroids (umap-learn uses a spectral embedding of the
//! centroids). When the solver does not converge the caller falls back to PCA, as the
//! umap-learn docs recommend.

use faer::{Mat, Side};
use rayon::prelude::*;

use super::fuzzy::Csr;
use crate::rng::Rng;

/// Residual tolerance on each wanted Ritz pair (ARPACK's default in umap-learn: 1e-4).
const TOL: f64 = 1e-4;
/// Krylov basis size and restarts.
const BASIS: usize = 48;
const MAX_RESTARTS: usize = 300;

/// Connected components of a symmetric graph: `(count, component of each vertex)`, numbered
/// by first vertex.
pub(crate) fn components(g: &Csr) -> (usize, Vec<usize>) {
    let mut parent: Vec<usize> = (0..g.n).collect();
    for i in 0..g.n {
        for &j in g.row(i).0 {
            let (a, b) = (
                crate::union_find::find_root(&mut parent, i),
                crate::union_find::find_root(&mut parent, j as usize),
            );
            if a != b {
                parent[a.max(b)] = a.min(b);
            }
        }
    }
    let mut id = vec![usize::MAX; g.n];
    let mut labels = vec![0usize; g.n];
    let mut count = 0;
    for (i, label) in labels.iter_mut().enumerate() {
        let r = crate::union_find::find_root(&mut parent, i);
        if id[r] == usize::MAX {
            id[r] = count;
            count += 1;
        }
        *label = id[r];
    }
    (count, labels)
}

/// The `dim` leading non-trivial eigenvectors of `D^-1/2 W D^-1/2` of a connected graph,
/// `n x dim` row-major, or `None` when the solver did not converge.
pub(crate) fn spectral_connected(g: &Csr, dim: usize, seed: u64) -> Option<Vec<f64>> {
    let n = g.n;
    if n <= dim + 1 {
        return None;
    }
    let deg: Vec<f64> = (0..n)
        .map(|i| g.row(i).1.iter().map(|&w| w as f64).sum::<f64>())
        .collect();
    if deg.iter().any(|&d| d <= 0.0) {
        return None;
    }
    let inv_sqrt: Vec<f64> = deg.iter().map(|d| 1.0 / d.sqrt()).collect();
    let mut trivial: Vec<f64> = deg.iter().map(|d| d.sqrt()).collect();
    normalise(&mut trivial);
    let apply = |x: &[f64], y: &mut [f64]| {
        y.par_iter_mut().enumerate().for_each(|(i, yi)| {
            let (cols, w) = g.row(i);
            let mut s = 0.0;
            for (&j, &wij) in cols.iter().zip(w) {
                s += wij as f64 * inv_sqrt[j as usize] * x[j as usize];
            }
            *yi = s * inv_sqrt[i];
        });
    };
    let m = BASIS.min(n - 1).max(dim + 2);
    let keep = (m / 2).max(dim + 1).min(m - 1);
    let (values, vectors) = thick_restart_lanczos(n, dim, m, keep, &apply, &trivial, seed)?;
    let _ = values;
    let mut out = vec![0.0f64; n * dim];
    for (c, v) in vectors.iter().enumerate() {
        // A fixed sign: the largest-magnitude entry positive.
        let big = v
            .iter()
            .copied()
            .fold(0.0f64, |m, x| if x.abs() > m.abs() { x } else { m });
        let s = if big < 0.0 { -1.0 } else { 1.0 };
        for i in 0..n {
            out[i * dim + c] = s * v[i];
        }
    }
    Some(out)
}

/// Dot product with 8 independent accumulators (a plain `sum()` is one serial chain of adds;
/// the orthogonalisation runs tens of millions of these).
fn dot(a: &[f64], b: &[f64]) -> f64 {
    let mut acc = [0.0f64; 8];
    let (ca, cb) = (a.chunks_exact(8), b.chunks_exact(8));
    let tail: f64 = ca
        .remainder()
        .iter()
        .zip(cb.remainder())
        .map(|(x, y)| x * y)
        .sum();
    for (x, y) in ca.zip(cb) {
        for l in 0..8 {
            acc[l] += x[l] * y[l];
        }
    }
    acc.iter().sum::<f64>() + tail
}

fn normalise(v: &mut [f64]) -> f64 {
    let norm = dot(v, v).sqrt();
    if norm > 0.0 {
        v.iter_mut().for_each(|x| *x /= norm);
    }
    norm
}

/// Orthogonalises `w` against `v0` and every basis vector by classical Gram–Schmidt done
/// twice ("twice is enough"; the coefficients of one pass are independent, so they are
/// computed in parallel) and returns the summed coefficients.
fn orthogonalise(w: &mut [f64], basis: &[Vec<f64>], v0: &[f64]) -> Vec<f64> {
    let mut h = vec![0.0f64; basis.len()];
    for _ in 0..2 {
        let c0 = dot(w, v0);
        let coeffs: Vec<f64> = basis.par_iter().map(|v| dot(w, v)).collect();
        w.par_chunks_mut(4096).enumerate().for_each(|(c, chunk)| {
            let off = c * 4096;
            for (t, x) in chunk.iter_mut().enumerate() {
                let mut s = c0 * v0[off + t];
                for (cj, v) in coeffs.iter().zip(basis) {
                    s += cj * v[off + t];
                }
                *x -= s;
            }
        });
        for (hj, c) in h.iter_mut().zip(&coeffs) {
            *hj += c;
        }
    }
    h
}

/// The `nev` largest eigenpairs of the symmetric operator `apply` on the complement of `v0`,
/// with a basis of `m` vectors restarted to the `keep` best Ritz vectors.
fn thick_restart_lanczos(
    n: usize,
    nev: usize,
    m: usize,
    keep: usize,
    apply: &dyn Fn(&[f64], &mut [f64]),
    v0: &[f64],
    seed: u64,
) -> Option<(Vec<f64>, Vec<Vec<f64>>)> {
    let mut rng = Rng::new(seed, 0x5bec);
    let mut start: Vec<f64> = (0..n).map(|_| rng.next_f64() - 0.5).collect();
    orthogonalise(&mut start, &[], v0);
    if normalise(&mut start) == 0.0 {
        return None;
    }
    let mut basis: Vec<Vec<f64>> = vec![start];
    // Projected matrix H = Vᵀ A V (symmetric), grown column by column.
    let mut h = Mat::<f64>::zeros(m, m);
    let mut w = vec![0.0f64; n];
    for restart in 0..MAX_RESTARTS {
        let mut beta = 0.0;
        let mut residual = Vec::new();
        let mut j = basis.len() - 1;
        while j < m {
            apply(&basis[j], &mut w);
            let coeffs = orthogonalise(&mut w, &basis, v0);
            for (i, &c) in coeffs.iter().enumerate() {
                h[(i, j)] = c;
                h[(j, i)] = c;
            }
            beta = normalise(&mut w);
            if j + 1 == m || beta < 1e-12 {
                residual = w.clone();
                break;
            }
            basis.push(w.clone());
            j += 1;
        }
        let size = basis.len();
        let hs = h.as_ref().submatrix(0, 0, size, size).to_owned();
        let eig = hs.self_adjoint_eigen(Side::Lower).ok()?;
        let (vals, vecs) = (eig.S(), eig.U());
        // Eigenvalues ascending: the wanted are the last.
        let order: Vec<usize> = (0..size).rev().collect();
        let converged = order[..nev.min(size)]
            .iter()
            .all(|&c| (beta * vecs[(size - 1, c)]).abs() < TOL);
        let ritz = |c: usize| -> Vec<f64> {
            let mut v = vec![0.0f64; n];
            for (t, b) in basis.iter().enumerate() {
                let y = vecs[(t, c)];
                v.iter_mut().zip(b).for_each(|(x, bb)| *x += y * bb);
            }
            v
        };
        if converged || beta < 1e-12 {
            tracing::debug!("lanczos: n = {n}, converged after {restart} restarts");
            if size < nev {
                return None;
            }
            let values = order[..nev].iter().map(|&c| vals[c]).collect();
            let vectors = order[..nev].iter().map(|&c| ritz(c)).collect();
            return Some((values, vectors));
        }
        // Thick restart: the `keep` best Ritz vectors, then the residual direction.
        let kept: Vec<usize> = order[..keep.min(size)].to_vec();
        let new_basis: Vec<Vec<f64>> = kept.iter().map(|&c| ritz(c)).collect();
        h.fill(0.0);
        for (t, &c) in kept.iter().enumerate() {
            h[(t, t)] = vals[c];
            let s = beta * vecs[(size - 1, c)];
            h[(t, kept.len())] = s;
            h[(kept.len(), t)] = s;
        }
        basis = new_basis;
        basis.push(residual);
    }
    None
}

/// The layout of a graph with several components: each component's own spectral layout (or
/// random for tiny components and non-converged solves), scaled to half the distance to the
/// nearest other component and centred on that component's place in `meta` (`count x dim`,
/// spread within the unit box).
pub(crate) fn multi_component(
    g: &Csr,
    labels: &[usize],
    count: usize,
    meta: &[f64],
    dim: usize,
    seed: u64,
) -> Vec<f64> {
    let n = g.n;
    let mut out = vec![0.0f64; n * dim];
    let mut members: Vec<Vec<usize>> = vec![Vec::new(); count];
    for (i, &c) in labels.iter().enumerate() {
        members[c].push(i);
    }
    let mut rng = Rng::new(seed, 0xc0c0);
    for (c, rows) in members.iter().enumerate() {
        let centre = &meta[c * dim..(c + 1) * dim];
        let range = (0..count)
            .filter(|&o| o != c)
            .map(|o| {
                (0..dim)
                    .map(|t| (meta[o * dim + t] - centre[t]).powi(2))
                    .sum::<f64>()
                    .sqrt()
            })
            .fold(f64::INFINITY, f64::min)
            / 2.0;
        let range = if range.is_finite() && range > 0.0 {
            range
        } else {
            1.0
        };
        let layout = if rows.len() > 2 * dim + 1 {
            spectral_connected(&subgraph(g, rows), dim, seed)
        } else {
            None
        };
        match layout {
            Some(l) => {
                let big = l.iter().fold(0.0f64, |m, x| m.max(x.abs())).max(1e-300);
                for (r, &i) in rows.iter().enumerate() {
                    for t in 0..dim {
                        out[i * dim + t] = l[r * dim + t] * range / big + centre[t];
                    }
                }
            }
            None => {
                for &i in rows {
                    for t in 0..dim {
                        out[i * dim + t] = (rng.next_f64() * 2.0 - 1.0) * range + centre[t];
                    }
                }
            }
        }
    }
    out
}

/// The induced subgraph on `rows` (sorted ascending), renumbered.
fn subgraph(g: &Csr, rows: &[usize]) -> Csr {
    let mut pos = std::collections::HashMap::with_capacity(rows.len());
    for (r, &i) in rows.iter().enumerate() {
        pos.insert(i as u32, r as u32);
    }
    let mut indptr = vec![0usize];
    let (mut indices, mut weights) = (Vec::new(), Vec::new());
    for &i in rows {
        let (cols, w) = g.row(i);
        for (&j, &wij) in cols.iter().zip(w) {
            if let Some(&r) = pos.get(&j) {
                indices.push(r);
                weights.push(wij);
            }
        }
        indptr.push(indices.len());
    }
    Csr {
        n: rows.len(),
        indptr,
        indices,
        weights,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A ring of `n` vertices: the Laplacian eigenvectors are cosines and sines.
    fn ring(n: usize) -> Csr {
        let mut indptr = vec![0];
        let (mut indices, mut weights) = (vec![], vec![]);
        for i in 0..n {
            let mut nb = [(i + n - 1) % n, (i + 1) % n];
            nb.sort();
            for j in nb {
                indices.push(j as u32);
                weights.push(1.0);
            }
            indptr.push(indices.len());
        }
        Csr {
            n,
            indptr,
            indices,
            weights,
        }
    }

    /// A ring plus random chords with random weights: connected, no symmetric degeneracy.
    fn chorded_ring(n: usize, seed: u64) -> Csr {
        let mut rng = Rng::new(seed, 1);
        let mut dense = vec![0.0f32; n * n];
        for i in 0..n {
            let j = (i + 1) % n;
            let w = 0.2 + rng.next_f64() as f32;
            dense[i * n + j] = w;
            dense[j * n + i] = w;
        }
        for _ in 0..n {
            let (i, j) = (rng.below(n), rng.below(n));
            if i != j {
                let w = rng.next_f64() as f32;
                dense[i * n + j] = w;
                dense[j * n + i] = w;
            }
        }
        let mut indptr = vec![0];
        let (mut indices, mut weights) = (vec![], vec![]);
        for i in 0..n {
            for j in 0..n {
                if dense[i * n + j] > 0.0 {
                    indices.push(j as u32);
                    weights.push(dense[i * n + j]);
                }
            }
            indptr.push(indices.len());
        }
        Csr {
            n,
            indptr,
            indices,
            weights,
        }
    }

    #[test]
    fn lanczos_matches_a_dense_eigendecomposition() {
        let n = 150;
        let g = chorded_ring(n, 3);
        let v = spectral_connected(&g, 2, 7).expect("converges");
        let deg: Vec<f64> = (0..n)
            .map(|i| g.row(i).1.iter().map(|&w| w as f64).sum())
            .collect();
        let mut m = Mat::<f64>::zeros(n, n);
        for i in 0..n {
            let (cols, w) = g.row(i);
            for (&j, &wij) in cols.iter().zip(w) {
                m[(i, j as usize)] = wij as f64 / (deg[i] * deg[j as usize]).sqrt();
            }
        }
        let eig = m.self_adjoint_eigen(Side::Lower).unwrap();
        // Ascending: n-1 is the trivial eigenvalue 1; n-2 and n-3 are the wanted ones.
        for (col, e) in [(0usize, n - 2), (1, n - 3)] {
            let x: Vec<f64> = (0..n).map(|i| v[i * 2 + col]).collect();
            let y: Vec<f64> = (0..n).map(|i| eig.U()[(i, e)]).collect();
            let c = dot(&x, &y).abs();
            assert!(
                c > 0.999,
                "column {col}: |cos| with the dense eigenvector {c}"
            );
        }
    }

    #[test]
    fn components_are_found() {
        let g = ring(6);
        // Cut the ring into two arcs {0,1,2} and {3,4,5} by dropping edges 2-3 and 5-0.
        let keep = |i: usize, j: usize| (i < 3) == (j < 3);
        let mut indptr = vec![0];
        let mut indices = vec![];
        for i in 0..6 {
            for &j in g.row(i).0 {
                if keep(i, j as usize) {
                    indices.push(j);
                }
            }
            indptr.push(indices.len());
        }
        let weights = vec![1.0; indices.len()];
        let cut = Csr {
            n: 6,
            indptr,
            indices,
            weights,
        };
        let (count, labels) = components(&cut);
        assert_eq!(count, 2);
        assert_eq!(labels, vec![0, 0, 0, 1, 1, 1]);
    }
}
