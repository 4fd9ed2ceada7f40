//! Trustworthiness (k = 10, 5,000-row sample) of a projection stored as `.npy`, against the
//! vectors it came from: used by the benchmarks to score umap-learn's output and ours with the
//! same function on the same sample.
//!
//! `cargo run --release --example trustworthiness -- VECTORS.npy COORDS.npy [k] [sample]`

use embedscope::io::npy::read_npy;
use embedscope::project::trustworthiness_sample;
use embedscope::Embeddings;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    if args.len() < 3 {
        return Err("usage: trustworthiness VECTORS.npy COORDS.npy [k] [sample]".into());
    }
    let x = read_npy(args[1].as_ref())?;
    let y = read_npy(args[2].as_ref())?;
    let k = args.get(3).map_or(Ok(10), |s| s.parse())?;
    let sample = args.get(4).map_or(Ok(5000), |s| s.parse())?;
    let data = Embeddings::new(x.data, x.cols)?;
    let t = trustworthiness_sample(&data, &y.data, y.cols, k, sample, 42)?;
    println!("{t:.4}");
    Ok(())
}
