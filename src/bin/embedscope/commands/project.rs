//! `embedscope project`: UMAP or PCA coordinates.

use std::path::PathBuf;
use std::time::Instant;

use clap::Args;
use embedscope::cluster::Metric;
use embedscope::io::{write_coordinates, Format};
use embedscope::project::{
    trustworthiness_sample, Pca, PcaParams, Umap, UmapInit, UmapKnn, UmapParams,
};

use crate::args::{output_format, InputArgs, ModelArgs};
use crate::output::{self, print_json};
use crate::progress::Bars;

#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ProjectionArg {
    /// UMAP, as umap-learn.
    Umap,
    /// PCA by randomised SVD, as scikit-learn's PCA(svd_solver="randomized").
    Pca,
}

#[derive(Args)]
pub struct ProjectArgs {
    #[command(flatten)]
    input: InputArgs,
    #[command(flatten)]
    model: ModelArgs,
    /// Projection method.
    #[arg(long, value_enum, default_value = "umap")]
    method: ProjectionArg,
    /// Output dimensions.
    #[arg(long, default_value_t = 2)]
    n_components: usize,
    /// Neighbours per point, the point itself included (UMAP).
    #[arg(long, default_value_t = 15)]
    n_neighbors: usize,
    /// Smallest distance between embedded points (UMAP).
    #[arg(long, default_value_t = 0.1)]
    min_dist: f64,
    /// Scale of the embedded points (UMAP).
    #[arg(long, default_value_t = 1.0)]
    spread: f64,
    /// Input distance (UMAP).
    #[arg(long, value_enum, default_value = "cosine")]
    metric: Metric,
    /// Training epochs (UMAP; default 500 up to 10,000 rows, else 200).
    #[arg(long)]
    n_epochs: Option<usize>,
    /// Initial layout (UMAP).
    #[arg(long, value_enum, default_value = "spectral")]
    init: UmapInit,
    /// How to find the kNN graph (UMAP): auto = exact below 4,096 rows, NN-descent above
    /// (umap-learn's rule).
    #[arg(long, value_enum, default_value = "auto")]
    knn: UmapKnn,
    /// Seed of every stochastic step.
    #[arg(long, default_value_t = 42)]
    seed: u64,
    /// Also measure trustworthiness (k = 10, scikit-learn's definition) on a 5,000-row sample
    /// and report it.
    #[arg(long)]
    trustworthiness: bool,
    /// Coordinates file: .csv (row, x0, x1, ...) or .npy (float32 rows x n_components).
    #[arg(long)]
    out: PathBuf,
    /// Print a JSON summary on stdout.
    #[arg(long)]
    json: bool,
}

/// The method with its checked parameters.
enum Plan {
    Umap(UmapParams),
    Pca(PcaParams),
}

impl ProjectArgs {
    fn plan(&self) -> anyhow::Result<Plan> {
        Ok(match self.method {
            ProjectionArg::Umap => {
                let mut p = Umap::params()
                    .n_components(self.n_components)
                    .n_neighbors(self.n_neighbors)
                    .min_dist(self.min_dist)
                    .spread(self.spread)
                    .metric(self.metric)
                    .init(self.init)
                    .knn(self.knn)
                    .seed(self.seed);
                if let Some(e) = self.n_epochs {
                    p = p.n_epochs(e);
                }
                p.check()?;
                Plan::Umap(p)
            }
            ProjectionArg::Pca => {
                let p = Pca::params(self.n_components).seed(self.seed);
                p.check()?;
                Plan::Pca(p)
            }
        })
    }
}

pub fn run(args: &ProjectArgs) -> anyhow::Result<()> {
    output_format(
        &args.out,
        "--out",
        &[Format::Csv, Format::Npy],
        "the output must end in .csv or .npy",
    )?;
    let plan = args.plan()?;
    let (_, data) = args.model.vectors(&args.input)?;
    let started = Instant::now();
    let dim = args.n_components;
    let (coords, umap, pca) = match &plan {
        Plan::Umap(p) => {
            let model = p.fit_with_progress(&data, &Bars::default())?;
            let info = output::ProjectUmap {
                n_neighbors: args.n_neighbors,
                min_dist: args.min_dist,
                n_epochs: model.n_epochs(),
                init: model.init_used(),
                edges: model.edges(),
                knn_recall: model.knn_recall(),
                timings: model.timings(),
            };
            (model.embedding().to_vec(), Some(info), None)
        }
        Plan::Pca(p) => {
            let model = p.fit(&data)?;
            let coords = model.transform(&data)?;
            (coords, None, Some(model))
        }
    };
    let seconds = started.elapsed().as_secs_f64();
    let trust = args
        .trustworthiness
        .then(|| trustworthiness_sample(&data, &coords, dim, 10, 5000, args.seed))
        .transpose()?;
    write_coordinates(&args.out, &coords, dim)?;
    if args.json {
        return print_json(&output::Project {
            method: match args.method {
                ProjectionArg::Umap => "umap",
                ProjectionArg::Pca => "pca",
            },
            rows: data.rows(),
            n_components: dim,
            umap,
            pca: pca.as_ref().map(|m| output::ProjectPca {
                explained_variance_ratio: m.explained_variance_ratio(),
            }),
            seconds,
            trustworthiness_k10_5k: trust,
            out: args.out.display().to_string(),
        });
    }
    eprintln!(
        "projected {} rows to {dim}-D in {seconds:.1} s -> {}",
        data.rows(),
        args.out.display()
    );
    Ok(())
}
