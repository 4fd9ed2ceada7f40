//! `embedscope optimal-k`: K-Means for each k in a range, scored.

use std::time::Instant;

use clap::Args;
use embedscope::cluster::KSweep;

use super::bertopic_reduction;
use crate::args::{InputArgs, ModelArgs, SweepArgs};
use crate::output::{self, print_json};
use crate::progress::Bars;

#[derive(Args)]
pub struct OptimalKArgs {
    #[command(flatten)]
    input: InputArgs,
    #[command(flatten)]
    model: ModelArgs,
    #[command(flatten)]
    sweep: SweepArgs,
    /// Rows above which the silhouette uses a seeded sample of this size.
    #[arg(long, default_value_t = 10_000)]
    silhouette_sample: usize,
    /// Sweep on a UMAP reduction to this many dimensions (cosine, 15 neighbours, min_dist 0)
    /// instead of the raw vectors, where silhouettes of text embeddings mean more.
    #[arg(long)]
    umap_dims: Option<usize>,
    /// Seed of every stochastic step.
    #[arg(long, default_value_t = 42)]
    seed: u64,
    /// Print the result as JSON on stdout.
    #[arg(long)]
    json: bool,
}

pub fn run(args: &OptimalKArgs) -> anyhow::Result<()> {
    let params = KSweep::params()
        .k_min(args.sweep.k_min)
        .k_max(args.sweep.k_max)
        .n_init(args.sweep.n_init)
        .silhouette_sample(args.silhouette_sample)
        .seed(args.seed);
    params.check()?;
    let reduce = args.umap_dims.map(|d| bertopic_reduction(d, args.seed));
    if let Some(r) = &reduce {
        r.check()?;
    }
    let (_, data) = args.model.vectors(&args.input)?;
    let bars = Bars::default();
    let data = match &reduce {
        Some(r) => r.fit_with_progress(&data, &bars)?.points()?,
        None => data,
    };
    let started = Instant::now();
    let sweep = params.fit_with_progress(&data, &bars)?;
    let seconds = started.elapsed().as_secs_f64();
    if args.json {
        return print_json(&output::OptimalK {
            per_k: &sweep.per_k,
            chosen_k: sweep.chosen_k,
            elbow_k: sweep.elbow_k,
            silhouette_rows: sweep.silhouette_rows,
            weak_structure: sweep.weak_structure(),
            chosen_at_edge: sweep.chosen_at_edge(),
            umap_dims: args.umap_dims,
            seconds,
        });
    }
    println!(
        "{:>4} {:>10} {:>14} {:>18} {:>15}",
        "k", "silhouette", "inertia", "calinski_harabasz", "davies_bouldin"
    );
    for s in &sweep.per_k {
        let mark = if s.k == sweep.chosen_k {
            " <- silhouette"
        } else if s.k == sweep.elbow_k {
            " <- elbow"
        } else {
            ""
        };
        println!(
            "{:>4} {:>10.5} {:>14.3} {:>18.3} {:>15.4}{mark}",
            s.k, s.silhouette, s.inertia, s.calinski_harabasz, s.davies_bouldin
        );
    }
    println!(
        "chosen k = {} (silhouette), elbow k = {}",
        sweep.chosen_k, sweep.elbow_k
    );
    Ok(())
}
