//! int8 products for the encoder's fast path (`Precision::Int8`).
//!
//! A dense layer `y = x · Wᵀ + b` runs as
//! - weights `W` (`[n x k]`) quantised once, symmetric, one scale per output column;
//! - each activation row quantised on the fly to u8 with its own scale and zero point, after
//!   clipping at [`CLIP_RMS`] times the row's root mean square; the few entries beyond the clip
//!   (BERT's hidden states have a handful of outlier dimensions) are kept as f32 residuals and
//!   added back exactly, `residual · W[:, j]`, from a transposed f32 copy of `W`;
//! - the u8 x s8 sums in int32 by AVX-512 VNNI (`vpdpbusd`, 64 multiply-adds per instruction,
//!   four times the f32 FMA rate), rescaled to f32 in the kernel's epilogue:
//!   `y[r][c] = sa[r]·sw[c]·(Σ_k qa[r][k]·qw[c][k] − za[r]·Σ_k qw[c][k]) + b[c]`.
//!
//! Measured on the 400 parity texts against sentence-transformers (all-MiniLM-L6-v2), in a numpy
//! model of this scheme before it was written: per-row int8 without the clip, min cosine 0.9985;
//! with it, 0.99944, at ~9 residual entries per row of 384. The int32 sums are exact, so the
//! portable kernel (CPUs without VNNI) gives the same vectors up to f32 rounding.

/// Output columns per kernel panel: four 16-lane registers.
pub(crate) const NR: usize = 64;
/// Rows per kernel call.
const MR: usize = 6;
/// Rows per cache block of the activations.
const ROW_BLOCK: usize = 192;
/// Activations beyond this many times their row's root mean square are clipped and the excess
/// added back in f32. Hidden states (inputs of the attention and intermediate layers): 3, ~4
/// residuals per row of 384.
pub(crate) const CLIP_RMS: f32 = 3.0;
/// The same for GELU outputs (inputs of the output layer), whose tails are long: at 3 there were
/// ~31 residuals per row of 1536 for a gain of 0.00005 in min cosine; at 8, ~1.7.
pub(crate) const CLIP_RMS_GELU: f32 = 8.0;

/// A dense layer's weights, quantised and packed for the kernel.
pub(crate) struct QLinear {
    /// Output columns (a multiple of [`NR`]) and inputs (a multiple of 4).
    pub n: usize,
    pub k: usize,
    /// The activations' clip, in row root mean squares.
    clip: f32,
    /// Panel `p` holds columns `64p..64p+64`; inside it step `t` holds `k = 4t..4t+4` of each of
    /// the 64 columns, 4 bytes per column: 256 bytes per step, one register per 16 columns.
    packed: Vec<i8>,
    /// Per output column: scale, and Σ_k q (exact in f32: |Σ| <= 127·k < 2^24).
    scale: Vec<f32>,
    colsum: Vec<f32>,
    /// `Wᵀ` in f32, `[k x n]`: row `j` is what one unit of input `j` adds to the outputs.
    wt: Vec<f32>,
}

impl QLinear {
    /// Whether a `[n x k]` layer fits the kernel's shape constraints.
    pub fn fits(n: usize, k: usize) -> bool {
        n > 0 && n.is_multiple_of(NR) && k > 0 && k.is_multiple_of(4)
    }

    /// Quantises `w` (`[n x k]`, row-major); inputs will be clipped at `clip` root mean squares.
    pub fn new(w: &[f32], n: usize, k: usize, clip: f32) -> QLinear {
        assert!(Self::fits(n, k) && w.len() == n * k);
        let mut q = vec![0i8; n * k];
        let mut scale = vec![0f32; n];
        let mut colsum = vec![0f32; n];
        for c in 0..n {
            let row = &w[c * k..(c + 1) * k];
            let max = row.iter().fold(0f32, |m, v| m.max(v.abs()));
            let s = if max > 0.0 { max / 127.0 } else { 1.0 };
            let mut sum = 0i32;
            for (dst, v) in q[c * k..(c + 1) * k].iter_mut().zip(row) {
                *dst = round_small(v / s).clamp(-127.0, 127.0) as i8;
                sum += i32::from(*dst);
            }
            scale[c] = s;
            colsum[c] = sum as f32;
        }
        let steps = k / 4;
        let mut packed = vec![0i8; n * k];
        for p in 0..n / NR {
            for t in 0..steps {
                let base = (p * steps + t) * NR * 4;
                for cc in 0..NR {
                    let src = (p * NR + cc) * k + 4 * t;
                    packed[base + cc * 4..base + cc * 4 + 4].copy_from_slice(&q[src..src + 4]);
                }
            }
        }
        // Transposed in 32 x 32 blocks (a plain loop strides one side by a whole row).
        let mut wt = vec![0f32; k * n];
        for c0 in (0..n).step_by(32) {
            for j0 in (0..k).step_by(32) {
                for c in c0..(c0 + 32).min(n) {
                    for j in j0..(j0 + 32).min(k) {
                        wt[j * n + c] = w[c * k + j];
                    }
                }
            }
        }
        QLinear {
            n,
            k,
            clip,
            packed,
            scale,
            colsum,
            wt,
        }
    }

    /// `out = x · Wᵀ + bias` for `rows` rows of `x` (`[rows x k]`), through `scratch`.
    pub fn forward(
        &self,
        out: &mut [f32],
        x: &[f32],
        bias: &[f32],
        rows: usize,
        scratch: &mut QuantScratch,
    ) {
        let (n, k) = (self.n, self.k);
        scratch.quantize(&x[..rows * k], k, self.clip);
        let out = &mut out[..rows * n];
        #[cfg(target_arch = "x86_64")]
        {
            if has_vnni() {
                // SAFETY: the CPU has AVX-512 F/BW/VNNI; `gemm_vnni` indexes within the
                // lengths asserted by `scratch.quantize` and `out`'s slice above.
                unsafe { gemm_vnni(out, scratch, rows, self, bias) };
                return;
            }
        }
        gemm_portable(out, scratch, rows, self, bias);
        self.add_residuals(out, scratch);
    }

    /// Adds `residual · W[:, j]` for every clipped entry (the VNNI kernel does it in its
    /// epilogue instead).
    fn add_residuals(&self, out: &mut [f32], scratch: &QuantScratch) {
        let n = self.n;
        for (r, dst) in out.chunks_exact_mut(n).enumerate() {
            for &(j, v) in scratch.row_residuals(r) {
                let w = &self.wt[j as usize * n..(j as usize + 1) * n];
                dst.iter_mut().zip(w).for_each(|(d, w)| *d += v * w);
            }
        }
    }
}

/// `x` rounded to the nearest integer, ties to even, for `|x| < 2^22` (`round_ties_even` is a
/// libm call on the baseline target).
#[inline(always)]
fn round_small(x: f32) -> f32 {
    const SHIFT: f32 = 12_582_912.0; // 1.5 · 2^23
    (x + SHIFT) - SHIFT
}

/// Whether this CPU runs the VNNI kernel.
pub(crate) fn has_vnni() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        std::arch::is_x86_feature_detected!("avx512f")
            && std::arch::is_x86_feature_detected!("avx512bw")
            && std::arch::is_x86_feature_detected!("avx512vnni")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

/// Quantised activations, reused across layers of one forward pass.
#[derive(Default)]
pub(crate) struct QuantScratch {
    q: Vec<u8>,
    scale: Vec<f32>,
    zero: Vec<f32>,
    /// `(column, x − clip(x))` for the clipped entries, row by row; row `r`'s are
    /// `residuals[row_start[r]..row_start[r + 1]]`.
    residuals: Vec<(u32, f32)>,
    row_start: Vec<u32>,
}

impl QuantScratch {
    /// Quantises the rows of `x` (`k` columns each).
    fn quantize(&mut self, x: &[f32], k: usize, clip: f32) {
        let rows = x.len() / k;
        // Grown, never shrunk: layers alternate between k = h and k = intermediate, and a
        // shrink-then-grow would zero the bytes again each time.
        if self.q.len() < rows * k {
            self.q.resize(rows * k, 0);
        }
        if self.scale.len() < rows {
            self.scale.resize(rows, 0.0);
            self.zero.resize(rows, 0.0);
        }
        self.residuals.clear();
        self.row_start.clear();
        #[cfg(target_arch = "x86_64")]
        let wide = has_vnni();
        for (r, row) in x.chunks_exact(k).enumerate() {
            self.row_start.push(self.residuals.len() as u32);
            #[cfg(target_arch = "x86_64")]
            {
                if wide {
                    // SAFETY: the CPU has AVX-512 F/BW.
                    unsafe { self.quantize_row_avx512(r, row, clip) };
                    continue;
                }
            }
            self.quantize_row(r, row, clip);
        }
        self.row_start.push(self.residuals.len() as u32);
    }

    fn row_residuals(&self, r: usize) -> &[(u32, f32)] {
        &self.residuals[self.row_start[r] as usize..self.row_start[r + 1] as usize]
    }

    /// A row's scale and zero point from its clipped range (`lo <= 0 <= hi`).
    fn row_range(lo: f32, hi: f32) -> (f32, f32) {
        let s = if hi > lo { (hi - lo) / 255.0 } else { 1.0 };
        (s, round_small(-lo / s))
    }

    /// The clip for a row of `k` values whose squares sum to `ss`.
    fn clip_of(ss: f32, k: usize, clip: f32) -> f32 {
        clip * (ss / k as f32).sqrt()
    }

    fn quantize_row(&mut self, r: usize, row: &[f32], clip: f32) {
        let k = row.len();
        let t = Self::clip_of(row.iter().map(|v| v * v).sum(), k, clip);
        let (mut lo, mut hi) = (0f32, 0f32);
        for &v in row {
            let c = v.clamp(-t, t);
            lo = lo.min(c);
            hi = hi.max(c);
        }
        let (s, z) = Self::row_range(lo, hi);
        let inv = 1.0 / s;
        for (j, (d, &v)) in self.q[r * k..(r + 1) * k].iter_mut().zip(row).enumerate() {
            let c = v.clamp(-t, t);
            *d = (round_small(c * inv) + z).clamp(0.0, 255.0) as u8;
            if v != c {
                self.residuals.push((j as u32, v - c));
            }
        }
        self.scale[r] = s;
        self.zero[r] = z;
    }

    /// [`Self::quantize_row`] in 16-lane steps (`round_ties_even` is a libm call on the
    /// baseline target; `vcvtps2dq` rounds to nearest even by default).
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx512f,avx512bw")]
    fn quantize_row_avx512(&mut self, r: usize, row: &[f32], clip: f32) {
        use std::arch::x86_64::*;
        let k = row.len();
        if !k.is_multiple_of(16) {
            return self.quantize_row(r, row, clip);
        }
        let ptr = row.as_ptr();
        // SAFETY (all loads below): `j + 16 <= k = row.len()`.
        let mut ss = _mm512_setzero_ps();
        for j in (0..k).step_by(16) {
            let v = unsafe { _mm512_loadu_ps(ptr.add(j)) };
            ss = _mm512_fmadd_ps(v, v, ss);
        }
        let t = Self::clip_of(_mm512_reduce_add_ps(ss), k, clip);
        let (tv, ntv) = (_mm512_set1_ps(t), _mm512_set1_ps(-t));
        let (mut lo, mut hi) = (_mm512_setzero_ps(), _mm512_setzero_ps());
        for j in (0..k).step_by(16) {
            let c = _mm512_min_ps(
                _mm512_max_ps(unsafe { _mm512_loadu_ps(ptr.add(j)) }, ntv),
                tv,
            );
            lo = _mm512_min_ps(lo, c);
            hi = _mm512_max_ps(hi, c);
        }
        let (s, z) = Self::row_range(_mm512_reduce_min_ps(lo), _mm512_reduce_max_ps(hi));
        let (inv, zv) = (_mm512_set1_ps(1.0 / s), _mm512_set1_ps(z));
        let (zero, top) = (_mm512_setzero_ps(), _mm512_set1_ps(255.0));
        let dst = self.q[r * k..(r + 1) * k].as_mut_ptr();
        for j in (0..k).step_by(16) {
            let v = unsafe { _mm512_loadu_ps(ptr.add(j)) };
            let c = _mm512_min_ps(_mm512_max_ps(v, ntv), tv);
            // Round first, then add the (integral) zero point: the scalar path's order.
            let qf = _mm512_roundscale_ps::<{ _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC }>(
                _mm512_mul_ps(c, inv),
            );
            let qf = _mm512_min_ps(_mm512_max_ps(_mm512_add_ps(qf, zv), zero), top);
            let q = _mm512_cvtepi32_epi8(_mm512_cvttps_epi32(qf));
            // SAFETY: 16 bytes at j of the row's k.
            unsafe { _mm_storeu_si128(dst.add(j).cast(), q) };
            let mut mask = _mm512_cmp_ps_mask::<_CMP_NEQ_OQ>(v, c);
            while mask != 0 {
                let b = mask.trailing_zeros() as usize;
                self.residuals
                    .push(((j + b) as u32, row[j + b] - row[j + b].clamp(-t, t)));
                mask &= mask - 1;
            }
        }
        self.scale[r] = s;
        self.zero[r] = z;
    }
}

/// The same sums without SIMD, for CPUs without VNNI (and to check the kernel against).
fn gemm_portable(out: &mut [f32], a: &QuantScratch, rows: usize, w: &QLinear, bias: &[f32]) {
    let (n, k) = (w.n, w.k);
    let steps = k / 4;
    for r in 0..rows {
        let qa = &a.q[r * k..(r + 1) * k];
        for c in 0..n {
            let (p, cc) = (c / NR, c % NR);
            let mut acc = 0i32;
            for t in 0..steps {
                let base = (p * steps + t) * NR * 4 + cc * 4;
                for b in 0..4 {
                    acc += i32::from(qa[4 * t + b]) * i32::from(w.packed[base + b]);
                }
            }
            let f = acc as f32 - a.zero[r] * w.colsum[c];
            out[r * n + c] = f * (w.scale[c] * a.scale[r]) + bias[c];
        }
    }
}

#[cfg(target_arch = "x86_64")]
struct Tile {
    a: *const u8,
    lda: usize,
    b: *const i8,
    steps: usize,
    out: *mut f32,
    ldo: usize,
    sa: *const f32,
    za: *const f32,
    sw: *const f32,
    cs: *const f32,
    bias: *const f32,
    /// The clipped entries (`res[res_start[r]..res_start[r + 1]]` for the tile's row `r`) and
    /// the panel's columns of `Wᵀ` (row stride `ldo`).
    res: *const (u32, f32),
    res_start: *const u32,
    wt: *const f32,
}

/// Blocks of [`ROW_BLOCK`] rows (their activations stay in L2) times panels of 64 columns
/// (the panel's weights stay in L1), `MR` rows per kernel call.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx512bw,avx512vnni")]
unsafe fn gemm_vnni(out: &mut [f32], a: &QuantScratch, rows: usize, w: &QLinear, bias: &[f32]) {
    let (n, k) = (w.n, w.k);
    assert!(a.q.len() >= rows * k && out.len() >= rows * n && bias.len() >= n);
    assert!(a.scale.len() >= rows && a.zero.len() >= rows && w.packed.len() == n * k);
    assert!(a.row_start.len() > rows && w.wt.len() == n * k);
    let steps = k / 4;
    let mut m0 = 0;
    while m0 < rows {
        let m1 = (m0 + ROW_BLOCK).min(rows);
        for p in 0..n / NR {
            let mut r = m0;
            while r < m1 {
                let take = (m1 - r).min(MR);
                // SAFETY: row r..r+take < rows and panel p < n/NR, within the asserted lengths.
                let tile = unsafe {
                    Tile {
                        a: a.q.as_ptr().add(r * k),
                        lda: k,
                        b: w.packed.as_ptr().add(p * steps * NR * 4),
                        steps,
                        out: out.as_mut_ptr().add(r * n + p * NR),
                        ldo: n,
                        sa: a.scale.as_ptr().add(r),
                        za: a.zero.as_ptr().add(r),
                        sw: w.scale.as_ptr().add(p * NR),
                        cs: w.colsum.as_ptr().add(p * NR),
                        bias: bias.as_ptr().add(p * NR),
                        res: a.residuals.as_ptr(),
                        res_start: a.row_start.as_ptr().add(r),
                        wt: w.wt.as_ptr().add(p * NR),
                    }
                };
                // SAFETY: the tile's pointers cover `take` rows and 64 columns.
                unsafe {
                    match take {
                        6 => kernel::<6>(&tile),
                        5 => kernel::<5>(&tile),
                        4 => kernel::<4>(&tile),
                        3 => kernel::<3>(&tile),
                        2 => kernel::<2>(&tile),
                        _ => kernel::<1>(&tile),
                    }
                }
                r += take;
            }
        }
        m0 = m1;
    }
}

/// `R` rows x 64 columns: 4R int32 accumulators, one broadcast of 4 activation bytes per row
/// and four weight registers per step of 4 inputs.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx512bw,avx512vnni")]
#[inline]
unsafe fn kernel<const R: usize>(t: &Tile) {
    use std::arch::x86_64::*;
    let mut acc = [[_mm512_setzero_si512(); 4]; R];
    let mut b = t.b;
    let mut a = t.a;
    for _ in 0..t.steps {
        // SAFETY: `b` walks the panel's `steps` x 256 bytes, `a` the rows' `4·steps` bytes.
        unsafe {
            let b0 = _mm512_loadu_si512(b.cast());
            let b1 = _mm512_loadu_si512(b.add(64).cast());
            let b2 = _mm512_loadu_si512(b.add(128).cast());
            let b3 = _mm512_loadu_si512(b.add(192).cast());
            for (r, acc) in acc.iter_mut().enumerate() {
                let av = _mm512_set1_epi32(a.add(r * t.lda).cast::<i32>().read_unaligned());
                acc[0] = _mm512_dpbusd_epi32(acc[0], av, b0);
                acc[1] = _mm512_dpbusd_epi32(acc[1], av, b1);
                acc[2] = _mm512_dpbusd_epi32(acc[2], av, b2);
                acc[3] = _mm512_dpbusd_epi32(acc[3], av, b3);
            }
            b = b.add(256);
            a = a.add(4);
        }
    }
    for (r, acc) in acc.iter().enumerate() {
        // SAFETY: row `r` of the tile, 64 columns of the panel; residual columns are < k.
        unsafe {
            let sa = _mm512_set1_ps(*t.sa.add(r));
            let za = _mm512_set1_ps(*t.za.add(r));
            let mut y = [_mm512_setzero_ps(); 4];
            for (j, y) in y.iter_mut().enumerate() {
                let f = _mm512_cvtepi32_ps(acc[j]);
                let f = _mm512_fnmadd_ps(za, _mm512_loadu_ps(t.cs.add(16 * j)), f);
                let s = _mm512_mul_ps(_mm512_loadu_ps(t.sw.add(16 * j)), sa);
                *y = _mm512_fmadd_ps(f, s, _mm512_loadu_ps(t.bias.add(16 * j)));
            }
            for e in *t.res_start.add(r)..*t.res_start.add(r + 1) {
                let (col, v) = *t.res.add(e as usize);
                let v = _mm512_set1_ps(v);
                let w = t.wt.add(col as usize * t.ldo);
                for (j, y) in y.iter_mut().enumerate() {
                    *y = _mm512_fmadd_ps(v, _mm512_loadu_ps(w.add(16 * j)), *y);
                }
            }
            for (j, y) in y.iter().enumerate() {
                _mm512_storeu_ps(t.out.add(r * t.ldo + 16 * j), *y);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn layer(n: usize, k: usize, seed: u64) -> (Vec<f32>, Vec<f32>) {
        let mut rng = crate::rng::Rng::new(seed, 0);
        let w: Vec<f32> = (0..n * k)
            .map(|_| crate::rng::gaussian(&mut rng) as f32 * 0.05)
            .collect();
        let b: Vec<f32> = (0..n)
            .map(|_| crate::rng::gaussian(&mut rng) as f32 * 0.1)
            .collect();
        (w, b)
    }

    fn exact(x: &[f32], w: &[f32], b: &[f32], n: usize, k: usize) -> Vec<f32> {
        let rows = x.len() / k;
        let mut out = vec![0f32; rows * n];
        for r in 0..rows {
            for c in 0..n {
                let dot: f64 = (0..k)
                    .map(|j| f64::from(x[r * k + j]) * f64::from(w[c * k + j]))
                    .sum();
                out[r * n + c] = dot as f32 + b[c];
            }
        }
        out
    }

    /// Activations like BERT's: mostly N(0, 1) with two large outlier dimensions.
    fn activations(rows: usize, k: usize, seed: u64) -> Vec<f32> {
        let mut rng = crate::rng::Rng::new(seed, 0);
        (0..rows * k)
            .map(|i| {
                let v = crate::rng::gaussian(&mut rng) as f32;
                if i % k == 7 || i % k == k - 3 {
                    v * 12.0
                } else {
                    v
                }
            })
            .collect()
    }

    #[test]
    fn kernel_equals_portable_sums_and_approximates_f32() {
        let (n, k) = (128, 96);
        let (w, b) = layer(n, k, 1);
        let q = QLinear::new(&w, n, k, CLIP_RMS);
        // 13 rows: two full tiles of 6 and a tail of 1, so every kernel height but 2-5 runs;
        // 200 rows cross a row block.
        for rows in [13, 200] {
            let x = activations(rows, k, 2 + rows as u64);
            let mut fast = vec![0f32; rows * n];
            let mut scratch = QuantScratch::default();
            q.forward(&mut fast, &x, &b, rows, &mut scratch);
            assert!(!scratch.residuals.is_empty(), "outliers were clipped");
            let mut slow = vec![0f32; rows * n];
            scratch.quantize(&x, k, CLIP_RMS);
            gemm_portable(&mut slow, &scratch, rows, &q, &b);
            q.add_residuals(&mut slow, &scratch);
            for (f, s) in fast.iter().zip(&slow) {
                assert!((f - s).abs() <= 1e-4 * s.abs().max(1.0), "{f} vs {s}");
            }
            let want = exact(&x, &w, &b, n, k);
            let (mut err, mut norm) = (0f64, 0f64);
            for (f, e) in fast.iter().zip(&want) {
                err += f64::from(f - e).powi(2);
                norm += f64::from(*e).powi(2);
            }
            let rel = (err / norm).sqrt();
            assert!(rel < 0.02, "relative error {rel}");
        }
    }

    #[test]
    fn clipped_entries_come_back_exactly() {
        // One row: 1.0 everywhere but a spike, which alone would set the int8 step. 64 columns
        // take the 16-lane path, 40 the scalar one.
        for k in [64, 40] {
            let mut x = vec![1.0f32; k];
            x[3] = 100.0;
            let mut s = QuantScratch::default();
            s.quantize(&x, k, CLIP_RMS);
            assert_eq!(s.residuals.len(), 1);
            let (j, v) = s.residuals[0];
            assert_eq!((j, s.row_residuals(0).len()), (3, 1));
            let t = CLIP_RMS * (x.iter().map(|v| v * v).sum::<f32>() / k as f32).sqrt();
            assert!(t < 100.0);
            assert!((v - (100.0 - t)).abs() < 1e-3, "{v} vs {}", 100.0 - t);
            // The clipped value and the ones are then represented with a fine step.
            let deq = |q: u8| (f32::from(q) - s.zero[0]) * s.scale[0];
            assert!((deq(s.q[0]) - 1.0).abs() < s.scale[0]);
            assert!((deq(s.q[3]) - t).abs() < s.scale[0]);
        }
    }
}
