//! `embedscope audit`: everything, into the HTML report, `audit.json` and Parquet tables.

use std::path::{Path, PathBuf};

use anyhow::bail;
use clap::Args;
use embedscope::audit::{MemoryBudget, MemoryPlan, Sampling, VerdictThresholds};
use embedscope::report::{write_html, ReportOptions};
use embedscope::stability::Stability;
use embedscope::store::WriteBack;
use embedscope::Audit;

use crate::args::{HealthCheckArgs, InputArgs, LlmArgs, ModelArgs, QueryFileArgs, SweepArgs};
use crate::progress::Bars;

#[path = "audit_ray.rs"]
mod ray;

#[derive(Args)]
pub struct AuditArgs {
    #[command(flatten)]
    input: InputArgs,
    #[command(flatten)]
    model: ModelArgs,
    /// HTML report to write (default: reports/<input stem>.html).
    #[arg(long)]
    out: Option<PathBuf>,
    /// Also write the audit summary as JSON to this file.
    #[arg(long)]
    json: Option<PathBuf>,
    #[command(flatten)]
    sweep: SweepArgs,
    /// Seed of every stochastic step.
    #[arg(long, default_value_t = 42)]
    seed: u64,
    /// Run the statistic stages (K sweep, map, noise) on a seeded sample of this many rows
    /// (default: 50,000; every row of a smaller corpus). Per-row stages (cluster assignment,
    /// duplicates, retrieval's index, the tables) always see every row.
    #[arg(long, conflicts_with = "exact")]
    sample: Option<usize>,
    /// Run every stage on every row, however large the corpus.
    #[arg(long)]
    exact: bool,
    /// Memory the audit may use: a size (12G, 512M, bytes), `auto` (nine tenths of the memory
    /// available at the start) or `unlimited`. Within it the statistic stages' sample, the
    /// retrieval index's copy and the duplicate search's training rows shrink to fit; a .npy
    /// corpus whose vectors alone exceed it is refused before it is read.
    #[arg(long, default_value = "auto")]
    max_memory: String,
    /// Embed the texts even when the input carries vectors.
    #[arg(long)]
    reembed: bool,
    #[command(flatten)]
    llm: LlmArgs,
    /// Cosine at or above which documents are near duplicates.
    #[arg(long, default_value_t = 0.95)]
    dedup_threshold: f64,
    /// Skip the duplicates section.
    #[arg(long)]
    no_duplicates: bool,
    /// Skip the noise section (UMAP 5-D + HDBSCAN).
    #[arg(long)]
    no_noise: bool,
    /// Skip the retrieval section (IVF against exact search).
    #[arg(long)]
    no_retrieval: bool,
    /// Skip the 2-D map.
    #[arg(long)]
    no_map: bool,
    /// Skip the chunk-health section (tokens, empty chunks, boilerplate, encoding, languages).
    #[arg(long)]
    no_health: bool,
    #[command(flatten)]
    health: HealthCheckArgs,
    /// Embed the texts without the boilerplate lines and word runs the health check finds
    /// (vectors given in the input are used as they are unless --reembed).
    #[arg(long, conflicts_with = "no_health")]
    strip_boilerplate: bool,
    /// Topic stability: K-Means at the chosen K refitted with this many other seeds and on as
    /// many bootstrap resamples (per-cluster Jaccard, ARI, the vote on K; HDBSCAN over as many
    /// subsamples). 0 skips the section.
    #[arg(long, default_value_t = 5)]
    stability_runs: usize,
    /// Stability below which a cluster is flagged unstable (mean best-match Jaccard).
    #[arg(long, default_value_t = 0.6)]
    unstable_below: f64,
    /// Verdict: largest share of rows removable as duplicates.
    #[arg(long, default_value_t = 0.10)]
    max_duplicate_share: f64,
    /// Verdict: largest share of HDBSCAN noise.
    #[arg(long, default_value_t = 0.50)]
    max_noise_share: f64,
    /// Verdict: smallest recall@10 of cluster-based retrieval at --nprobe.
    #[arg(long, default_value_t = 0.80)]
    min_recall: f64,
    /// Verdict: the nprobe the recall is checked at.
    #[arg(long, default_value_t = 3)]
    nprobe: usize,
    /// Real queries (a query log, an evaluation set): .jsonl, .csv or .parquet with a text
    /// column (embedded with the corpus' model) or a vector column. Adds the queries section:
    /// coverage gaps, demand against supply per cluster, dead and hot documents, recall on them.
    #[arg(long)]
    queries: Option<PathBuf>,
    #[command(flatten)]
    query: QueryFileArgs,
    /// Verdict (with --queries): largest share of queries that are coverage gaps.
    #[arg(long, default_value_t = 0.20)]
    max_gap_share: f64,
    /// Verdict (with --queries): smallest recall@10 of cluster retrieval on the queries at
    /// --nprobe.
    #[arg(long, default_value_t = 0.70)]
    min_query_recall: f64,
    /// Verdict (with --queries): largest share of documents in no query's top 10 (1: not
    /// checked).
    #[arg(long, default_value_t = 1.0)]
    max_dead_share: f64,
    /// Exit with code 1 when the verdict fails (after writing every output), to gate a CI
    /// pipeline.
    #[arg(long)]
    fail_on_verdict: bool,
    /// Write Parquet tables into this folder: assignments.parquet (cluster, label, centroid
    /// cosine, HDBSCAN cluster, outlier score, duplicate group, kept), duplicate_pairs.parquet
    /// and with --queries queries.parquet (one row per query).
    #[arg(long)]
    tables: Option<PathBuf>,
    /// Leave out timings and speeds, so that two runs give byte-identical outputs.
    #[arg(long)]
    no_timings: bool,
    /// Write the per-row findings (the columns of assignments.parquet) back into the input
    /// store: Postgres, a table of their own (--write-back-table) replaced in one transaction;
    /// Chroma, metadata fields `embedscope_<column>`. The user's vectors and texts are never
    /// changed.
    #[arg(long)]
    write_back: bool,
    /// Postgres: the write-back table.
    #[arg(long, default_value = "embedscope_audit", requires = "write_back")]
    write_back_table: String,
    /// Where the audit runs: `local` (this process) or `ray` (a Ray cluster, through the
    /// Python package's `embedscope.ray`: INPUT a folder of Parquet shards or a `.lance`
    /// dataset with an id and a vector column; the statistic stages on a seeded sample of
    /// `--sample` rows, default 50,000, on the driver; assignment, duplicates and retrieval over
    /// every row on the workers). Its Python is `$EMBEDSCOPE_PYTHON`, else the venv
    /// `scripts/python.sh` makes, else `python3`.
    #[arg(long, value_enum, default_value = "local")]
    engine: Engine,
    /// With `--engine ray`: the cluster's address (`auto`: the one running on this machine;
    /// default: start a cluster of this machine's CPUs, on loopback, for this run).
    #[arg(long)]
    address: Option<String>,
}

/// Where `embedscope audit` runs.
#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Engine {
    /// This process.
    Local,
    /// A Ray cluster (`embedscope.ray`).
    Ray,
}

/// The exit code of a run delegated to another process, which has said why itself.
#[derive(Debug)]
pub struct Delegated(pub u8);

impl std::fmt::Display for Delegated {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "exit code {}", self.0)
    }
}

impl std::error::Error for Delegated {}

/// The verdict failed under `--fail-on-verdict` (exit code 1, not 2).
#[derive(Debug)]
pub struct VerdictFailed(pub Vec<String>);

impl std::fmt::Display for VerdictFailed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "verdict: FAIL ({})", self.0.join(", "))
    }
}

impl std::error::Error for VerdictFailed {}

impl AuditArgs {
    /// The report's path: `--out`, else `reports/<input stem>.html`.
    fn report_path(&self) -> PathBuf {
        match &self.out {
            Some(p) => p.clone(),
            None => Path::new("reports").join(format!("{}.html", self.input.stem())),
        }
    }
}

pub fn run(args: &AuditArgs) -> anyhow::Result<()> {
    if args.engine == Engine::Ray {
        return ray::run(args);
    }
    if args.address.is_some() {
        bail!("--address: the cluster of --engine ray (this audit runs locally)");
    }
    let out = args.report_path();
    if args.write_back && !args.input.is_store() {
        bail!(
            "--write-back: {} is a file; findings are written back into a store (postgres://, chroma://); use --tables for files",
            args.input.shown()
        );
    }
    args.input.store.options()?;
    let bars = Bars::default();
    let mut builder = Audit::builder()
        .k_range(args.sweep.k_min, args.sweep.k_max)
        .n_init(args.sweep.n_init)
        .seed(args.seed)
        .sampling(Sampling::from_flags(args.exact, args.sample))
        .reembed(args.reembed)
        .map(!args.no_map)
        .strip_boilerplate(args.strip_boilerplate)
        .health(if args.no_health {
            None
        } else {
            Some(args.health.params(args.seed)?)
        })
        .stability((args.stability_runs > 0).then(|| {
            Stability::params()
                .runs(args.stability_runs)
                .unstable_below(args.unstable_below)
        }))
        .duplicates(!args.no_duplicates)
        .noise(!args.no_noise)
        .retrieval(!args.no_retrieval)
        .dedup_threshold(args.dedup_threshold)
        .thresholds(VerdictThresholds {
            max_duplicate_share: args.max_duplicate_share,
            max_noise_share: args.max_noise_share,
            min_recall: args.min_recall,
            nprobe: args.nprobe,
            max_gap_share: args.max_gap_share,
            min_query_recall: args.min_query_recall,
            max_dead_share: args.max_dead_share,
        })
        .progress(&bars);
    if let Some(p) = args.llm.params()? {
        builder = builder.llm(p);
    }
    let budget = MemoryBudget::from_flag(&args.max_memory)?;
    builder = builder.memory(budget);
    // Every parameter is checked before the corpus is read or a model is loaded.
    builder.check()?;
    if args.input.input.extension().is_some_and(|e| e == "npy") {
        let (rows, dim, half) = embedscope::io::npy::npy_shape(&args.input.input)?;
        let what = args.input.input.display().to_string();
        MemoryPlan::check_corpus(budget.bytes(), &what, rows, dim, half)?;
    }
    // Tokens are counted by the embedder's tokenizer when there is one to hand.
    let counter = if args.no_health {
        None
    } else {
        args.model.token_counter(args.health.max_tokens)
    };
    if let Some(c) = &counter {
        builder = builder.token_counter(c);
    }
    let corpus = args.input.load()?;
    let mut queries = match &args.queries {
        Some(path) => Some(args.query.input(path).load()?),
        None => None,
    };
    let query_params = queries.as_mut().map(|q| args.query.params(q));
    if let Some(p) = &query_params {
        p.check()?;
    }
    let queries_need_model = queries.as_ref().is_some_and(|q| q.vectors.is_none());
    let model = if corpus.vectors.is_none() || args.reembed || queries_need_model {
        Some(args.model.model()?)
    } else {
        None
    };
    if let Some(m) = &model {
        builder = builder.embedder(m.as_ref());
        if let Some(c) = args.model.cache(m.as_ref())? {
            builder = builder.cache(c);
        }
    }
    if let (Some(q), Some(p)) = (&queries, query_params) {
        builder = builder.queries(q, p);
    }
    let mut audit = builder.run(&corpus)?;
    if args.no_timings {
        audit = audit.without_timings();
    }
    write_html(&out, &audit, &ReportOptions::default())?;
    if let Some(dir) = &args.tables {
        audit.write_tables(&corpus, dir)?;
    }
    if let Some(json) = &args.json {
        audit.write_json(json, &out)?;
    }
    print_summary(&audit, &out);
    if args.write_back {
        let frame = audit.assignments_frame(&corpus)?;
        let rows = WriteBack::from_frame(&frame, "id", audit_id(&args.input.shown(), args.seed))?;
        let mut store = args.input.open_store(Some(args.write_back_table.clone()))?;
        let done = store.write_back(&rows)?;
        eprintln!(
            "wrote back {} rows ({}) to {}, audit id {}",
            done.rows,
            done.columns.join(", "),
            done.target,
            rows.audit_id
        );
    }
    if args.fail_on_verdict && !audit.verdict.pass {
        return Err(VerdictFailed(audit.verdict.failed.clone()).into());
    }
    Ok(())
}

/// An id for one audit run: its time and a hash of the input and seed.
fn audit_id(input: &str, seed: u64) -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    let h = xxhash_rust::xxh3::xxh3_64(format!("{input}\n{seed}\n{}", now.as_nanos()).as_bytes());
    format!("{}-{:08x}", now.as_secs(), h as u32)
}

/// The run in a few lines on stderr: K, notes, the verdict.
fn print_summary(audit: &Audit, out: &Path) {
    eprintln!(
        "audited {} documents: K = {} (silhouette {:.3}) -> {}",
        audit.corpus.rows,
        audit.optimal_k.chosen_k,
        audit.optimal_k.chosen_silhouette(),
        out.display()
    );
    for note in &audit.notes {
        eprintln!("note: {note}");
    }
    let v = &audit.verdict;
    eprintln!(
        "verdict: {} ({})",
        if v.pass { "PASS" } else { "FAIL" },
        v.checks
            .iter()
            .filter_map(|c| c.value.map(|x| format!(
                "{} {:.3}, limit {} {}: {}",
                c.name,
                x,
                c.op,
                c.limit,
                if c.pass == Some(true) { "ok" } else { "FAILED" }
            )))
            .collect::<Vec<_>>()
            .join("; ")
    );
}
