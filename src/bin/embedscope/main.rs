//! The `embedscope` command line: a thin layer over the library. `args` holds the argument
//! groups several subcommands share, `commands` one file per subcommand (arguments -> checked
//! parameters before any loading -> library call -> output), `output` the `--json` contract as
//! `Serialize` types; `main` only dispatches and maps errors to exit codes.

mod args;
mod commands;
mod output;
mod progress;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(name = "embedscope", version, about = "Audit a corpus of text embeddings for RAG", long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Embed a corpus' texts with the local sentence-transformers model.
    Embed(commands::embed::EmbedArgs),
    /// Cluster the vectors (embedding the texts first when the input carries none).
    Cluster(commands::cluster::ClusterArgs),
    /// Fit K-Means for each k in a range and score it: silhouette, inertia (elbow),
    /// Calinski-Harabasz, Davies-Bouldin.
    OptimalK(commands::optimal_k::OptimalKArgs),
    /// Find exact duplicates (same normalised text) and near duplicates (cosine >= threshold:
    /// every pair exactly, or within and between neighbouring K-Means cells for large
    /// corpora), group them, and optionally write the deduplicated corpus.
    Dedup(commands::dedup::DedupArgs),
    /// Search the corpus through a cluster index (IVF): probe the cells nearest the query.
    Search(commands::search::SearchArgs),
    /// Measure cluster-based retrieval against exact search on held-out rows: recall@k and
    /// queries/s per nprobe, recall per cell, hubs and orphans, and what duplicates cost.
    RetrievalEval(commands::retrieval_eval::RetrievalEvalArgs),
    /// Project the vectors to a few dimensions: UMAP (2-D maps, 5-D for HDBSCAN) or PCA.
    Project(commands::project::ProjectArgs),
    /// Name the clusters of an assignments file: c-TF-IDF keywords, a short label, and (when
    /// the input carries vectors) the documents nearest each centroid and the nearest clusters.
    Label(commands::label::LabelArgs),
    /// Everything: embed (or read vectors), choose K, cluster, and write the HTML report.
    Audit(Box<commands::audit::AuditArgs>),
    /// Are the chunks fit to embed? Tokens against the embedder's limit, empty and very short
    /// chunks, boilerplate, encoding damage, languages; no embedding needed.
    Health(commands::health::HealthArgs),
    /// Are the topics real or an accident of the seed? K-Means at K refitted with other seeds
    /// and on bootstrap resamples: ARI between runs, per-cluster stability (Jaccard), how
    /// often each K wins the silhouette sweep; HDBSCAN over subsamples with --hdbscan.
    Stability(commands::stability::StabilityArgs),
    /// Compare one corpus under two embeddings (two models, or a model and its update): the
    /// neighbours each document keeps, and how the clusters correspond (ARI, NMI, Hungarian
    /// matching, splits and merges).
    Compare(commands::compare::CompareArgs),
    /// What users ask against what the corpus holds: coverage gaps (grouped and labelled),
    /// demand against supply per topic, documents nobody retrieves, recall on real queries,
    /// and with judgements recall@k, MRR and nDCG@10.
    Queries(Box<commands::queries::QueriesArgs>),
}

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(tracing_subscriber::EnvFilter::from_env("EMBEDSCOPE_LOG"))
        .init();
    // Ctrl-C (or SIGTERM): remove the temporary files of outputs being written, say so, and
    // exit 130. Outputs already written are whole (each was renamed into place); nothing is
    // left half-written.
    let _ = ctrlc::set_handler(|| {
        let removed = embedscope::io::remove_unfinished();
        eprintln!(
            "\ninterrupted: stopped{}; no output is half-written",
            if removed > 0 {
                format!(", {removed} unfinished output(s) removed")
            } else {
                String::new()
            }
        );
        std::process::exit(130);
    });
    let result = match &Cli::parse().command {
        Command::Embed(a) => commands::embed::run(a),
        Command::Cluster(a) => commands::cluster::run(a),
        Command::OptimalK(a) => commands::optimal_k::run(a),
        Command::Dedup(a) => commands::dedup::run(a),
        Command::Search(a) => commands::search::run(a),
        Command::RetrievalEval(a) => commands::retrieval_eval::run(a),
        Command::Project(a) => commands::project::run(a),
        Command::Label(a) => commands::label::run(a),
        Command::Audit(a) => commands::audit::run(a),
        Command::Health(a) => commands::health::run(a),
        Command::Stability(a) => commands::stability::run(a),
        Command::Compare(a) => commands::compare::run(a),
        Command::Queries(a) => commands::queries::run(a),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) if e.downcast_ref::<commands::audit::Delegated>().is_some() => {
            let code = e
                .downcast_ref::<commands::audit::Delegated>()
                .map_or(2, |d| d.0);
            ExitCode::from(code)
        }
        Err(e) if e.downcast_ref::<commands::audit::VerdictFailed>().is_some() => {
            eprintln!("{e}");
            ExitCode::from(1)
        }
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(2)
        }
    }
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    /// Every subcommand's flags are unique (the shared groups, such as the store options
    /// every INPUT takes, must not clash with a command's own), as clap checks in debug builds.
    #[test]
    fn the_command_line_is_well_formed() {
        super::Cli::command().debug_assert();
    }
}
