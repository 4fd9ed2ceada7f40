//! Times NN-descent against the exact kNN graph on a `.npy` matrix and prints recall and
//! seconds per setting (benchmark aid):
//! `cargo run --release --example nndescent_bench -- FILE.npy K [REPEATS] [TREES,LEAF,CANDIDATES ...]`.
use embedscope::io::{load, LoadOptions};
use embedscope::neighbors::{exact, recall, NnDescent, NnDescentParams};
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
        settings.push(
            NnDescent::params(k)
                .n_trees(Some(f[0]).filter(|&t| t > 0))
                .leaf_size(Some(f[1]).filter(|&l| l > 0))
                .max_candidates(f[2]),
        );
    }
    if settings.is_empty() {
        settings.push(NnDescent::params(k).max_candidates(k.min(60)));
    }
    for p in &settings {
        let mut times = Vec::new();
        let mut graph = None;
        for _ in 0..repeats {
            let clock = Instant::now();
            graph = Some(p.fit(&data).expect("valid parameters"));
            times.push(clock.elapsed().as_secs_f64());
        }
        times.sort_by(f64::total_cmp);
        let r = recall(graph.as_ref().expect("a run"), &truth);
        println!(
            "{p:?}: min {:.3} s median {:.3} s recall {r:.4}",
            times[0],
            times[times.len() / 2]
        );
    }
}
