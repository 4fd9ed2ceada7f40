//! The similarity kernel against the machine's own GEMM peak, and the clustering hot paths.
//!
//! `cargo bench --bench kernel`. Throughput is reported in FLOP/s (criterion's "elem/s"):
//! a product of `m x k` by `k x n` counts `2mnk`.

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use embedscope::kernel::{for_each_tile, nearest};
use embedscope::rng::Rng;

fn matrix(rows: usize, d: usize, seed: u64) -> Vec<f32> {
    let mut rng = Rng::new(seed, 0);
    let mut v: Vec<f32> = (0..rows * d).map(|_| rng.next_f64() as f32 - 0.5).collect();
    for r in v.chunks_exact_mut(d) {
        let n = r.iter().map(|x| x * x).sum::<f32>().sqrt();
        r.iter_mut().for_each(|x| *x /= n);
    }
    v
}

fn sq(x: &[f32], d: usize) -> Vec<f32> {
    x.chunks_exact(d)
        .map(|r| r.iter().map(|v| v * v).sum())
        .collect()
}

fn gemm_peak(c: &mut Criterion) {
    // faer's own f32 GEMM on one large product, all threads: the ceiling for the kernel.
    let (m, n, k) = (4096, 4096, 384);
    let a = matrix(m, k, 1);
    let b = matrix(n, k, 2);
    let mut out = vec![0.0f32; m * n];
    let mut g = c.benchmark_group("gemm_peak");
    g.throughput(Throughput::Elements((2 * m * n * k) as u64));
    g.sample_size(10);
    g.bench_function("faer_4096x4096x384", |bench| {
        bench.iter(|| {
            let dst = faer::MatMut::from_row_major_slice_mut(&mut out, m, n);
            let lhs = faer::MatRef::from_row_major_slice(&a, m, k);
            let rhs = faer::MatRef::from_row_major_slice(&b, n, k).transpose();
            faer::linalg::matmul::matmul(
                dst,
                faer::Accum::Replace,
                lhs,
                rhs,
                1.0f32,
                faer::Par::rayon(0),
            );
        })
    });
    g.finish();
}

fn kernel(c: &mut Criterion) {
    let d = 384;
    let mut g = c.benchmark_group("kernel");
    g.sample_size(10);
    // All pairs with a fused row reduction (the silhouette/dedup shape): never n x n in memory.
    let n = 8192;
    let x = matrix(n, d, 3);
    g.throughput(Throughput::Elements((2 * n * n * d) as u64));
    g.bench_function(BenchmarkId::new("all_pairs_rowmax", n), |bench| {
        bench.iter(|| {
            for_each_tile(&x, &x, d, |_, rows, dots| {
                (0..rows)
                    .map(|r| {
                        dots[r * n..(r + 1) * n]
                            .iter()
                            .copied()
                            .fold(f32::MIN, f32::max)
                    })
                    .sum::<f32>()
            })
        })
    });
    // K-Means assignment: 30k rows against 58 centroids, fused argmin.
    let n = 30_000;
    let x = matrix(n, d, 4);
    let cents = matrix(58, d, 5);
    let (xs, cs) = (sq(&x, d), sq(&cents, d));
    g.throughput(Throughput::Elements((2 * n * 58 * d) as u64));
    g.bench_function(BenchmarkId::new("nearest_k58", n), |bench| {
        bench.iter(|| nearest(&x, &xs, &cents, &cs, d))
    });
    g.finish();
}

criterion_group!(benches, gemm_peak, kernel);
criterion_main!(benches);
