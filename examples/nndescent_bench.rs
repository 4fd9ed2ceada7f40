//! Times NN-descent against the exact kNN graph on a `.npy` matrix and prints recall and
//! seconds per setting (benchmark aid):
//! `cargo run --release --example nndescent_bench -- FILE.npy K [REPEATS] [TREES,LEAF,CANDIDATES ...]`.
use embedscope::io::{load, LoadOptions};
use embedscope::neighbors::{exact, nn_descent, recall, NnDescentParams};
use std::time::Instant;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let corpus = load(args[1].as_ref(), &LoadOptions::default()).expect("input loads");
    let data = corpus.vectors.expect("vectors");
    let k: usize = args[2].parse().expect("k");
    let repeats: usize = args.get(3).map_or(3, |r| r.parse().expect("repeats"));
    let clock = Instant::now();
    let truth = exact(&data, k);
    println!("exact {k}-NN: {:.2} s", clock.elapsed().as_secs_f64());
    let mut settings: Vec<NnDescentParams> = Vec::new();
    for spec in args.iter().skip(4) {
        let f: Vec<usize> = spec
            .split(',')
            .map(|v| v.parse().expect("number"))
            .collect();
        let mut p = NnDescentParams::new(k);
        p.n_trees = Some(f[0]).filter(|&t| t > 0);
        p.leaf_size = Some(f[1]).filter(|&l| l > 0);
        p.max_candidates = f[2];
        settings.push(p);
    }
    if settings.is_empty() {
        let mut p = NnDescentParams::new(k);
        p.max_candidates = k.min(60);
        settings.push(p);
    }
    for p in &settings {
        let mut times = Vec::new();
        let mut graph = None;
        for _ in 0..repeats {
            let clock = Instant::now();
            graph = Some(nn_descent(&data, p));
            times.push(clock.elapsed().as_secs_f64());
        }
        times.sort_by(f64::total_cmp);
        let r = recall(graph.as_ref().expect("a run"), &truth);
        println!(
            "trees {:?} leaf {:?} candidates {}: min {:.3} s median {:.3} s recall {r:.4}",
            p.n_trees,
            p.leaf_size,
            p.max_candidates,
            times[0],
            times[times.len() / 2]
        );
    }
}
