//! `embedscope stability`: are the clusters real or an accident of the seed? K-Means at K
//! refitted with other seeds and on bootstrap resamples, per-cluster Jaccard, the vote on K,
//! and (with --hdbscan) HDBSCAN's noise and cluster count over subsamples.

use clap::Args;
use embedscope::cluster::{Hdbscan, KMeans, KSweep, Metric};
use embedscope::rng::Rng;
use embedscope::stability::{Stability, StabilityReport};

use super::bertopic_reduction;
use crate::args::{InputArgs, ModelArgs, SweepArgs};
use crate::output::print_json;
use crate::progress::Bars;

#[derive(Args)]
pub struct StabilityArgs {
    #[command(flatten)]
    input: InputArgs,
    #[command(flatten)]
    model: ModelArgs,
    /// The K to check (default: the one the silhouette sweep over --k-min..--k-max picks, as
    /// the audit does).
    #[arg(long)]
    k: Option<usize>,
    #[command(flatten)]
    sweep: SweepArgs,
    /// Refits with other seeds, and as many bootstrap resamples (and HDBSCAN subsamples).
    #[arg(long, default_value_t = 5)]
    runs: usize,
    /// A cluster whose stability (mean best-match Jaccard) is below this is flagged.
    #[arg(long, default_value_t = 0.6)]
    unstable_below: f64,
    /// Also run HDBSCAN (min_cluster_size 10) on subsamples of BERTopic's 5-D UMAP reduction:
    /// how its noise share and cluster count move.
    #[arg(long)]
    hdbscan: bool,
    /// Check a seeded sample of this many rows (all rows of a smaller corpus), as the audit.
    #[arg(long, default_value_t = 50_000)]
    sample: usize,
    /// Seed of every stochastic step.
    #[arg(long, default_value_t = 42)]
    seed: u64,
    /// Exit with code 1 when a cluster is unstable.
    #[arg(long)]
    fail_on_unstable: bool,
    /// Print the findings as JSON on stdout.
    #[arg(long)]
    json: bool,
}

pub fn run(args: &StabilityArgs) -> anyhow::Result<()> {
    let params = Stability::params()
        .runs(args.runs)
        .k_range(args.sweep.k_min, args.sweep.k_max)
        .n_init(args.sweep.n_init)
        .unstable_below(args.unstable_below)
        .seed(args.seed);
    params.check()?;
    let sweep = KSweep::params()
        .k_min(args.sweep.k_min)
        .k_max(args.sweep.k_max)
        .n_init(args.sweep.n_init)
        .seed(args.seed);
    sweep.check()?;
    if args.sample < 2 {
        anyhow::bail!(
            "invalid parameter `sample` = {}: must be at least 2",
            args.sample
        );
    }
    if let Some(k) = args.k.filter(|&k| k < 2) {
        anyhow::bail!(
            "invalid parameter `k` = {k}: must be at least 2 (one cluster cannot be unstable)"
        );
    }
    let (_, data) = args.model.vectors(&args.input)?;
    let data = if data.rows() > args.sample {
        let mut rows = Rng::new(args.seed, 0x5A3E).sample(data.rows(), args.sample);
        rows.sort_unstable();
        data.select(&rows)
    } else {
        data
    };
    let bars = Bars::default();
    let reference = match args.k {
        Some(k) => {
            if 3 * k > data.rows() {
                anyhow::bail!(
                    "invalid parameter `k` = {k}: needs at least 3 rows per cluster to resample, {} has {} rows",
                    args.input.shown(),
                    data.rows()
                );
            }
            KMeans::params(k)
                .n_init(args.sweep.n_init)
                .seed(args.seed)
                .fit(&data)?
                .labels()
                .to_vec()
        }
        None => sweep
            .population(data.rows())
            .fit_with_progress(&data, &bars)?
            .chosen_model()
            .labels()
            .to_vec(),
    };
    let mut report = params.run_against(&data, &reference, &bars)?;
    if args.hdbscan {
        let points = bertopic_reduction(5, args.seed)
            .n_neighbors(15.min(data.rows() - 1))
            .fit_with_progress(&data, &bars)?
            .points()?;
        let hdbscan = Hdbscan::params()
            .min_cluster_size(10.min(data.rows() / 2).max(2))
            .metric(Metric::Euclidean)
            .seed(args.seed);
        report.hdbscan = Some(params.hdbscan(&points, &hdbscan, &bars)?);
    }
    if args.json {
        print_json(&report)?;
    } else {
        print!("{}", summary(&report));
    }
    if args.fail_on_unstable && report.unstable_clusters > 0 {
        let unstable = report
            .clusters
            .iter()
            .filter(|c| c.unstable)
            .map(|c| format!("cluster {} unstable ({:.3})", c.cluster, c.stability))
            .collect();
        return Err(super::audit::VerdictFailed(unstable).into());
    }
    Ok(())
}

/// The findings in a few lines.
fn summary(r: &StabilityReport) -> String {
    let mut s = format!(
        "K = {} on {} rows, checked in {:.1} s ({} seeds, {} resamples)\n",
        r.k, r.rows, r.seconds, r.runs, r.runs
    );
    s += &format!(
        "ARI between seeds: mean {:.3}, least {:.3}; on resamples: mean {:.3}, least {:.3}\n",
        r.mean_seed_ari, r.min_seed_ari, r.mean_bootstrap_ari, r.min_bootstrap_ari
    );
    s += &format!(
        "how many clusters (silhouette, k = {}..={}): {}\n",
        r.k_range.0,
        r.k_range.1,
        r.k_vote_text()
    );
    s += &format!(
        "unstable clusters (stability < {}): {} of {}, {:.1}% of the rows\n",
        r.unstable_below,
        r.unstable_clusters,
        r.clusters.len(),
        100.0 * r.unstable_rows_share
    );
    s += &format!(
        "{:>7} {:>7} {:>9} {:>7} {:>9}\n",
        "cluster", "size", "stability", "seeds", "resamples"
    );
    for c in &r.clusters {
        s += &format!(
            "{:>7} {:>7} {:>9.3} {:>7.3} {:>9.3}{}\n",
            c.cluster,
            c.size,
            c.stability,
            c.seed_jaccard,
            c.bootstrap_jaccard,
            if c.unstable { "  unstable" } else { "" }
        );
    }
    if let Some(h) = &r.hdbscan {
        s += &format!(
            "HDBSCAN on {} subsamples of {:.0}%: {:.0}-{:.0} clusters (mean {:.1}), noise {:.1}-{:.1}%\n",
            h.runs.len(),
            100.0 * h.subsample,
            h.clusters.min,
            h.clusters.max,
            h.clusters.mean,
            100.0 * h.noise_share.min,
            100.0 * h.noise_share.max
        );
    }
    s
}
