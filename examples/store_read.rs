//! Reads a store into a corpus and says how long it took and how much memory the process
//! peaked at: the Postgres read benchmark of BENCHMARKS.md ("Reading a store").
//!
//! ```text
//! PGPASSWORD=... cargo run --release --example store_read -- postgres://user@127.0.0.1:5432/db TABLE [BATCH_ROWS] [ORDER_BY|none]
//! cargo run --release --example store_read -- chroma://127.0.0.1:8000/COLLECTION
//! ```

use std::time::Instant;

use embedscope::io::LoadOptions;
use embedscope::store::{load, open, StoreOptions};

fn peak_mib() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("VmHWM:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        })
        .map_or(0.0, |kb| kb / 1024.0)
}

fn main() -> Result<(), embedscope::Error> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let url = args.first().expect("a store URL");
    let options = StoreOptions {
        table: args
            .get(1)
            .filter(|_| !url.starts_with("chroma://"))
            .cloned(),
        batch_rows: args.get(2).and_then(|b| b.parse().ok()).unwrap_or(10_000),
        order_by: args.get(3).cloned(),
        ..Default::default()
    };
    let started = Instant::now();
    let mut store = open(url, &options)?;
    let corpus = load(store.as_mut(), &LoadOptions::default(), options.batch_rows)?;
    let seconds = started.elapsed().as_secs_f64();
    let v = corpus.vectors.as_ref().expect("vectors");
    println!(
        "{} rows x {} from {} in {seconds:.2} s ({:.0} rows/s), peak {:.0} MiB",
        corpus.len(),
        v.dim(),
        store.location(),
        corpus.len() as f64 / seconds,
        peak_mib()
    );
    Ok(())
}
