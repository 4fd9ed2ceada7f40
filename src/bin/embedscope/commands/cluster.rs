//! `embedscope cluster`: K-Means, Mini-Batch K-Means (also streamed over Parquet),
//! agglomerative or HDBSCAN, optionally on BERTopic's UMAP reduction.

use std::path::PathBuf;
use std::time::Instant;

use anyhow::bail;
use clap::{Args, ValueEnum};
use embedscope::cluster::{
    label_agreement, Agglomerative, AgglomerativeParams, Hdbscan, HdbscanParams, KMeans,
    KMeansModel, KMeansParams, Linkage, Metric, MiniBatchKMeans, MiniBatchKMeansParams, Selection,
};
use embedscope::io::{vector_batches, write_assignments, Format};
use embedscope::project::UmapParams;

use super::bertopic_reduction;
use crate::args::{output_format, InputArgs, ModelArgs};
use crate::output::{self, print_json};
use crate::progress::Bars;

#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum AlgorithmArg {
    /// K-Means (Lloyd, greedy k-means++, n_init restarts), as scikit-learn's KMeans.
    Kmeans,
    /// Mini-Batch K-Means, as scikit-learn's MiniBatchKMeans.
    MinibatchKmeans,
    /// Agglomerative (hierarchical) clustering, as scikit-learn's AgglomerativeClustering.
    Agglomerative,
    /// HDBSCAN with noise, as the hdbscan library.
    Hdbscan,
}

#[derive(Args)]
pub struct ClusterArgs {
    #[command(flatten)]
    input: InputArgs,
    #[command(flatten)]
    model: ModelArgs,
    /// Clustering algorithm.
    #[arg(long, value_enum, default_value = "kmeans")]
    algorithm: AlgorithmArg,
    /// Number of clusters (K-Means).
    #[arg(long)]
    k: Option<usize>,
    /// K-Means initialisations; the lowest inertia wins.
    #[arg(long, default_value_t = 10)]
    n_init: usize,
    /// K-Means iterations per initialisation at most (Mini-Batch: passes over the data).
    #[arg(long)]
    max_iter: Option<usize>,
    /// K-Means: train each initialisation on a seeded sample of N rows per cluster (FAISS's
    /// max_points_per_centroid, 256 there), then polish the best on every row until it
    /// converges: restarts at a sample's cost. `all`: every run on every row, as scikit-learn.
    /// `auto` (default): 256 when the corpus holds more than four times that (k x 1,024 rows),
    /// else all.
    #[arg(long, value_name = "N|auto|all", default_value = "auto")]
    train_per_cluster: TrainRows,
    /// K-Means with a training sample: iterations of the polish on all rows at most (default:
    /// --max-iter). 0 is FAISS's recipe: the sample's centroids, one exact assignment.
    #[arg(long, value_name = "N")]
    polish_iter: Option<usize>,
    /// Spherical K-Means: unit-length centroids, clusters of directions (K-Means).
    #[arg(long)]
    spherical: bool,
    /// Rows per batch (Mini-Batch K-Means).
    #[arg(long, default_value_t = 1024)]
    batch_size: usize,
    /// Mini-Batch K-Means over a Parquet file read in slices of rows, never whole in memory
    /// (for inputs larger than memory; needs a vector column).
    #[arg(long)]
    stream: bool,
    /// Linkage (agglomerative).
    #[arg(long, value_enum, default_value = "ward")]
    linkage: Linkage,
    /// Distance (agglomerative; ward needs euclidean).
    #[arg(long, value_enum, default_value = "euclidean")]
    metric: Metric,
    /// Cut the tree at this distance instead of at --k clusters (agglomerative).
    #[arg(long)]
    distance_threshold: Option<f64>,
    /// Smallest cluster (HDBSCAN).
    #[arg(long, default_value_t = 5)]
    min_cluster_size: usize,
    /// Neighbours that make a core point, the point itself not counted (HDBSCAN; default:
    /// --min-cluster-size).
    #[arg(long)]
    min_samples: Option<usize>,
    /// Cluster selection (HDBSCAN).
    #[arg(long, value_enum, default_value = "eom")]
    cluster_selection: Selection,
    /// Merge clusters split below this distance (HDBSCAN).
    #[arg(long, default_value_t = 0.0)]
    cluster_selection_epsilon: f64,
    /// Build HDBSCAN's tree on each row's K nearest neighbours (the row itself included)
    /// instead of all pairs, in O(n·K) memory; exact neighbours unless --knn-nndescent or
    /// --knn-probes. Above 50,000 rows the default is --knn-nndescent.
    #[arg(long)]
    knn_graph: Option<usize>,
    /// Find the kNN graph approximately, probing this many K-Means cells per row (HDBSCAN's
    /// kNN-graph route; 0 = exact). Faster, coarser: see BENCHMARKS.md.
    #[arg(long, default_value_t = 0)]
    knn_probes: usize,
    /// Find the kNN graph approximately by NN-descent, as fast_hdbscan does above 30
    /// dimensions (HDBSCAN's kNN-graph route; without --knn-graph, fast_hdbscan's graph:
    /// the row and max(3 x min_samples, 15) neighbours). fast_hdbscan's speed and agreement.
    #[arg(long)]
    knn_nndescent: bool,
    /// Reduce the vectors to this many dimensions with UMAP (cosine, 15 neighbours,
    /// min_dist 0) and cluster the projected points with the euclidean metric: BERTopic's
    /// route (UMAP to 5-D, then HDBSCAN), which calls far fewer documents noise.
    #[arg(long)]
    umap_dims: Option<usize>,
    /// Seed of every stochastic step.
    #[arg(long, default_value_t = 42)]
    seed: u64,
    /// Assignments file: .csv or .parquet with columns row, cluster (-1 = noise).
    #[arg(long)]
    out: PathBuf,
    /// Print a JSON summary on stdout.
    #[arg(long)]
    json: bool,
}

/// `--train-per-cluster`: rows per cluster each K-Means initialisation trains on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum TrainRows {
    Auto,
    All,
    PerCluster(usize),
}

impl std::str::FromStr for TrainRows {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "auto" => Ok(TrainRows::Auto),
            "all" => Ok(TrainRows::All),
            n => match n.parse::<usize>() {
                Ok(0) | Err(_) => Err(format!(
                    "`{n}`: expected auto, all or a number of rows per cluster (at least 1)"
                )),
                Ok(v) => Ok(TrainRows::PerCluster(v)),
            },
        }
    }
}

impl TrainRows {
    /// The library's setting for `rows` rows and `k` clusters.
    fn per_cluster(self, rows: usize, k: usize) -> Option<usize> {
        match self {
            TrainRows::Auto => KMeans::auto_train_per_cluster(rows, k),
            TrainRows::All => None,
            TrainRows::PerCluster(n) => Some(n),
        }
    }
}

/// The algorithm with its checked parameters.
enum Plan {
    KMeans(KMeansParams),
    MiniBatch(MiniBatchKMeansParams),
    Agglomerative(AgglomerativeParams),
    Hdbscan(HdbscanParams),
}

impl ClusterArgs {
    /// The algorithm's parameters, checked, and BERTopic's reduction when asked for: every
    /// rule that does not need the data, before it is loaded.
    fn plan(&self) -> anyhow::Result<(Plan, Option<UmapParams>)> {
        let k = match (self.k, self.algorithm, self.distance_threshold) {
            (Some(k), _, _) => k,
            (None, AlgorithmArg::Hdbscan, _) => 1,
            (None, AlgorithmArg::Agglomerative, Some(_)) => 1,
            (None, AlgorithmArg::Agglomerative, None) => {
                bail!("--k or --distance-threshold is required for --algorithm agglomerative")
            }
            (None, _, _) => bail!("--k is required for --algorithm kmeans and minibatch-kmeans"),
        };
        if self.algorithm != AlgorithmArg::Kmeans
            && (self.train_per_cluster != TrainRows::Auto || self.polish_iter.is_some())
        {
            bail!("--train-per-cluster and --polish-iter are settings of --algorithm kmeans");
        }
        if self.stream && self.algorithm != AlgorithmArg::MinibatchKmeans {
            bail!("--stream works with --algorithm minibatch-kmeans");
        }
        let plan = match self.algorithm {
            AlgorithmArg::Kmeans => Plan::KMeans(
                KMeans::params(k)
                    .n_init(self.n_init)
                    .max_iter(self.max_iter.unwrap_or(300))
                    .spherical(self.spherical)
                    .polish_iter(self.polish_iter)
                    .seed(self.seed),
            ),
            AlgorithmArg::MinibatchKmeans => Plan::MiniBatch(
                MiniBatchKMeans::params(k)
                    .batch_size(self.batch_size)
                    .max_iter(self.max_iter.unwrap_or(100))
                    .seed(self.seed),
            ),
            AlgorithmArg::Agglomerative => {
                let p = Agglomerative::params(k)
                    .linkage(self.linkage)
                    .metric(self.metric);
                Plan::Agglomerative(match self.distance_threshold {
                    Some(t) => p.distance_threshold(t),
                    None => p,
                })
            }
            AlgorithmArg::Hdbscan => Plan::Hdbscan(self.hdbscan()),
        };
        match &plan {
            Plan::KMeans(p) => p.check()?,
            Plan::MiniBatch(p) => p.check()?,
            Plan::Agglomerative(p) => p.check()?,
            Plan::Hdbscan(p) => p.check()?,
        }
        if self.stream {
            if self.umap_dims.is_some() {
                bail!("--umap-dims does not work with --stream");
            }
            return Ok((plan, None));
        }
        let reduce = self.umap_dims.map(|d| bertopic_reduction(d, self.seed));
        if let Some(r) = &reduce {
            r.check()?;
            if self.metric == Metric::Cosine {
                bail!("--umap-dims: the projected points are clustered with --metric euclidean, not cosine");
            }
            if self.spherical {
                bail!("--umap-dims: spherical K-Means needs unit vectors, not projected points");
            }
        }
        Ok((plan, reduce))
    }

    fn hdbscan(&self) -> HdbscanParams {
        let mut p = Hdbscan::params()
            .min_cluster_size(self.min_cluster_size)
            .selection(self.cluster_selection)
            .cluster_selection_epsilon(self.cluster_selection_epsilon)
            .metric(self.metric)
            .knn_probes(self.knn_probes)
            .seed(self.seed);
        if let Some(m) = self.min_samples {
            p = p.min_samples(m);
        }
        // Without --knn-graph, points of up to 16 dimensions (--umap-dims) take the exact
        // kd-tree Borůvka route on their own.
        if let Some(k) = self.knn_graph {
            p = p.knn_graph(k);
        }
        if self.knn_nndescent {
            // Without --knn-graph: fast_hdbscan's graph (see `HdbscanParams::nn_descent`).
            p = p.nn_descent(true);
        }
        p
    }

    fn algorithm_name(&self) -> String {
        self.algorithm
            .to_possible_value()
            .map_or_else(String::new, |v| v.get_name().to_string())
    }
}

pub fn run(args: &ClusterArgs) -> anyhow::Result<()> {
    output_format(
        &args.out,
        "--out",
        &[Format::Csv, Format::Parquet],
        "assignments are written as .csv or .parquet",
    )?;
    let (plan, reduce) = args.plan()?;
    if args.stream {
        let Plan::MiniBatch(params) = plan else {
            unreachable!("plan() allows --stream with Mini-Batch K-Means only")
        };
        return stream(args, &params);
    }
    let (corpus, data) = args.model.vectors(&args.input)?;
    let started = Instant::now();
    let (data, umap_seconds) = match &reduce {
        Some(r) => {
            let m = r.fit_with_progress(&data, &Bars::default())?;
            (m.points()?, Some(started.elapsed().as_secs_f64()))
        }
        None => (data, None),
    };
    let some = |labels: &[usize]| labels.iter().map(|&l| Some(l)).collect::<Vec<_>>();
    // Both K-Means kinds give a `KMeansModel`: inertia and iterations as well.
    let kmeans = |m: KMeansModel, train: Option<usize>| {
        let (i, n) = (m.inertia(), m.n_iter());
        (
            some(m.labels()),
            m.sizes().to_vec(),
            Some(i),
            Some(n),
            train,
        )
    };
    let (labels, sizes, inertia, n_iter, train_rows) = match plan {
        Plan::KMeans(p) => {
            let per_cluster = args
                .train_per_cluster
                .per_cluster(data.rows(), p.n_clusters());
            let m = p.train_per_cluster(per_cluster).fit(&data)?;
            let train = m.train_rows();
            kmeans(m, Some(train))
        }
        Plan::MiniBatch(p) => kmeans(p.fit(&data)?, None),
        Plan::Agglomerative(p) => {
            let m = p.fit(&data)?;
            (some(m.labels()), m.sizes().to_vec(), None, None, None)
        }
        Plan::Hdbscan(p) => {
            let m = p.fit(&data)?;
            (m.labels().to_vec(), m.sizes().to_vec(), None, None, None)
        }
    };
    let seconds = started.elapsed().as_secs_f64();
    write_assignments(&args.out, &labels)?;
    let algorithm = args.algorithm_name();
    if args.json {
        print_json(&output::Cluster {
            labels: corpus
                .labels
                .as_ref()
                .map(|reference| label_agreement(reference, &labels)),
            algorithm: &algorithm,
            n_clusters: sizes.len(),
            noise: labels.iter().filter(|l| l.is_none()).count(),
            inertia,
            n_iter,
            train_rows,
            sizes: sizes.clone(),
            seconds,
            umap_dims: args.umap_dims,
            umap_seconds,
            rows: data.rows(),
            out: &args.out,
        })?;
    } else {
        let trained = match train_rows {
            Some(t) if t < data.rows() => format!(
                " (restarts trained on {t} sampled rows, {} polish iterations on all {})",
                n_iter.unwrap_or(0),
                data.rows()
            ),
            _ => String::new(),
        };
        eprintln!(
            "{algorithm}: {} clusters{}{trained}, {:.2} s -> {}",
            sizes.len(),
            inertia.map_or_else(String::new, |i| format!(", inertia {i:.3}")),
            seconds,
            args.out.display()
        );
    }
    Ok(())
}

/// Mini-Batch K-Means over a Parquet vector column, slice by slice: training passes, then one
/// assignment pass. Memory: one slice of rows plus the labels.
fn stream(args: &ClusterArgs, params: &MiniBatchKMeansParams) -> anyhow::Result<()> {
    const SLICE: usize = 65_536;
    let path = &args.input.input;
    if Format::from_path(path)? != Format::Parquet {
        bail!("{}: --stream reads Parquet files", path.display());
    }
    let column = args.input.vector_column.as_deref();
    let batches = || vector_batches(path, column, SLICE);
    let rows = batches()?.rows();
    let started = Instant::now();
    let model = params.fit_stream(batches, rows)?;
    let assigned = model.assign_stream(batches()?)?;
    let seconds = started.elapsed().as_secs_f64();
    let labels: Vec<Option<usize>> = assigned.labels.iter().map(|&l| Some(l)).collect();
    write_assignments(&args.out, &labels)?;
    if args.json {
        print_json(&output::ClusterStream {
            algorithm: "minibatch-kmeans",
            stream: true,
            n_clusters: assigned.sizes.len(),
            noise: 0,
            inertia: assigned.inertia,
            sizes: assigned.sizes,
            seconds,
            rows,
            out: &args.out,
        })?;
    } else {
        eprintln!(
            "minibatch-kmeans (stream): {} clusters, inertia {:.3}, {seconds:.2} s -> {}",
            assigned.sizes.len(),
            assigned.inertia,
            args.out.display()
        );
    }
    Ok(())
}
