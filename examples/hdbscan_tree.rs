//! Prints HDBSCAN's minimum spanning tree (`a b weight`, by weight) for a `.npy` matrix, to
//! compare with the `hdbscan` library's `minimum_spanning_tree_` (debugging aid):
//! `cargo run --release --example hdbscan_tree -- FILE.npy MIN_CLUSTER_SIZE MIN_SAMPLES`.
use embedscope::cluster::Hdbscan;
use embedscope::io::{load, LoadOptions};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let corpus = load(args[1].as_ref(), &LoadOptions::default()).expect("input loads");
    let data = corpus.vectors.expect("vectors");
    let mcs: usize = args[2].parse().expect("min_cluster_size");
    let ms: usize = args[3].parse().expect("min_samples");
    let m = Hdbscan::params()
        .min_cluster_size(mcs)
        .min_samples(ms)
        .fit(&data)
        .expect("fit");
    for (a, b, w) in m.minimum_spanning_tree() {
        println!("{a} {b} {w:.12}");
    }
}
