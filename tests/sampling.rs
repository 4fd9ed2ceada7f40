//! The audit's sampling policy: a small sample finds the same K as every row on planted blobs,
//! its stated uncertainty covers the full run's value, and the per-row stages still see every
//! row.

use embedscope::audit::Sampling;
use embedscope::cluster::label_agreement;
use embedscope::{Audit, Corpus, Embeddings};

/// `k` well-separated blobs on the unit sphere, `n` rows, row `r` in blob `r % k`.
fn planted(n: usize, k: usize, d: usize, seed: u64) -> Embeddings {
    let mut state = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state >> 11) as f64 / (1u64 << 53) as f64 - 0.5
    };
    let centres: Vec<f64> = (0..k * d).map(|_| next()).collect();
    let mut v = Vec::with_capacity(n * d);
    for r in 0..n {
        let c = r % k;
        v.extend((0..d).map(|j| (centres[c * d + j] + 0.12 * next()) as f32));
    }
    Embeddings::new(v, d).unwrap()
}

fn corpus(n: usize) -> Corpus {
    let mut c = Corpus::from_texts((0..n).map(|i| format!("document {i}")));
    c.vectors = Some(planted(n, 6, 24, 3));
    c
}

fn audit(c: &Corpus, sampling: Sampling) -> Audit {
    Audit::builder()
        .k_range(2, 9)
        .n_init(3)
        .map(false)
        .retrieval(false)
        .duplicates(false)
        .sampling(sampling)
        .run(c)
        .unwrap()
}

#[test]
fn a_small_sample_finds_the_full_runs_k_within_its_stated_error() {
    let c = corpus(6_000);
    let full = audit(&c, Sampling::Exact);
    let small = audit(&c, Sampling::Rows(600));
    assert_eq!(full.optimal_k.chosen_k, 6);
    assert_eq!(small.optimal_k.chosen_k, full.optimal_k.chosen_k);
    // The per-row stages see every row: the same partition of all 6,000.
    assert_eq!(small.labels.len(), 6_000);
    assert!(label_agreement(&small.labels, &full.labels).ari > 0.999);
    let sizes: usize = small.clusters.iter().map(|c| c.size).sum();
    assert_eq!(sizes, 6_000);
    // What each stage ran on, and the silhouette's error covering the full-run value.
    let s = &small.sampling;
    assert_eq!((s.rows, s.sample_rows), (6_000, 600));
    let sweep = s.stages.iter().find(|st| st.stage == "k sweep").unwrap();
    assert_eq!((sweep.rows, sweep.every_row), (600, false));
    let est = sweep.estimate.unwrap();
    let truth = full
        .optimal_k
        .per_k
        .iter()
        .find(|p| p.k == 6)
        .unwrap()
        .silhouette;
    assert!(est.standard_error > 0.0);
    assert!(
        (est.value - truth).abs() <= 3.0 * est.standard_error,
        "sample silhouette {} ± {} vs full {truth}",
        est.value,
        est.standard_error
    );
    let assign = s
        .stages
        .iter()
        .find(|st| st.stage == "cluster assignment")
        .unwrap();
    assert!(assign.every_row && assign.rows == 6_000);
    // The noise section ran on the sample, its share with a standard error.
    let noise = small.noise.as_ref().unwrap();
    assert_eq!(noise.rows, 600);
    assert_eq!(noise.labels.len(), 600);
    assert!(noise.outliers.iter().all(|o| o.row < 6_000));
    // The table has every row; rows outside the noise sample are null there.
    let frame = small.to_frame().unwrap();
    assert_eq!(frame.height(), 6_000);
    assert_eq!(frame.column("hdbscan_cluster").unwrap().null_count(), 5_400);
    // The full run states every row and no error.
    assert_eq!(full.sampling.sample_rows, 6_000);
    assert!(full.sampling.stages.iter().all(|st| st.every_row));
    assert_eq!(full.noise.as_ref().unwrap().noise_share_se, 0.0);
}

#[test]
fn below_the_default_limit_auto_is_exact() {
    let c = corpus(1_200);
    let auto = audit(&c, Sampling::Auto).without_timings();
    let exact = audit(&c, Sampling::Exact).without_timings();
    assert_eq!(auto.labels, exact.labels);
    assert_eq!(auto.sampling.sample_rows, 1_200);
    assert!(Audit::builder()
        .sampling(Sampling::Rows(10))
        .check()
        .is_err());
}
