//! linfa-clustering's K-Means as a baseline beside embedscope's, on one `.npy` matrix:
//! `cargo run --release --manifest-path benches/linfa-baseline/Cargo.toml -- DATA.npy K N_INIT`.
//! Prints one JSON line per implementation: seconds and inertia (sum of squared distances; note
//! linfa's own `inertia()` is a mean).

use std::time::Instant;

use linfa::prelude::*;
use linfa_clustering::KMeans as LinfaKMeans;
use ndarray::Array2;
use rand_xoshiro::rand_core::SeedableRng;
use rand_xoshiro::Xoshiro256Plus;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let path = args.get(1).expect("usage: DATA.npy K N_INIT");
    let k: usize = args.get(2).map_or(58, |s| s.parse().expect("K"));
    let n_init: usize = args.get(3).map_or(10, |s| s.parse().expect("N_INIT"));
    let m = embedscope::io::npy::read_npy(path.as_ref()).expect("readable .npy");
    let data = embedscope::Embeddings::new(m.data, m.cols).expect("valid vectors");

    let started = Instant::now();
    let ours = embedscope::cluster::KMeans::params(k).n_init(n_init).seed(42).fit(&data).expect("fit");
    let ours_s = started.elapsed().as_secs_f64();
    println!("{}", serde_json::json!({"impl": "embedscope", "k": k, "n_init": n_init, "seconds": ours_s, "inertia": ours.inertia()}));

    let records = Array2::from_shape_vec((data.rows(), data.dim()), data.as_f32().to_vec()).expect("shape");
    let dataset = DatasetBase::from(records.clone());
    let started = Instant::now();
    let model = LinfaKMeans::params_with_rng(k, Xoshiro256Plus::seed_from_u64(42))
        .n_runs(n_init)
        .tolerance(1e-4)
        .max_n_iterations(300)
        .fit(&dataset)
        .expect("linfa fit");
    let secs = started.elapsed().as_secs_f64();
    let labels = model.predict(&records);
    let cents = model.centroids();
    let inertia: f64 = labels
        .iter()
        .enumerate()
        .map(|(i, &c)| {
            records.row(i).iter().zip(cents.row(c).iter()).map(|(a, b)| f64::from(a - b).powi(2)).sum::<f64>()
        })
        .sum();
    println!("{}", serde_json::json!({"impl": "linfa-clustering 0.8.1", "k": k, "n_init": n_init, "seconds": secs, "inertia": inertia, "ratio_vs_embedscope": secs / ours_s}));
}
