//! The `embedscope` command line: a thin layer over the library. Arguments are validated into
//! typed options, each subcommand calls the library, and `main` maps errors to exit code 2.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Mutex;

use anyhow::{bail, Context};
use clap::{Args, Parser, Subcommand};
use embedscope::embed::{
    default_model_dir, embed_texts, home_dir, Embedder, EmbeddingCache, LocalModel,
};
use embedscope::io::{load, npy, write_atomic, Format, LoadOptions};
use embedscope::progress::Progress;
use embedscope::report::{write_html, ReportOptions};
use embedscope::{Audit, Corpus};
use indicatif::{ProgressBar, ProgressStyle};

#[derive(Parser)]
#[command(name = "embedscope", version, about = "Audit a corpus of text embeddings for RAG", long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Embed a corpus' texts with the local sentence-transformers model.
    Embed(EmbedArgs),
    /// Everything: embed (or read vectors), choose K, cluster, and write the HTML report.
    Audit(AuditArgs),
}

#[derive(Args)]
struct InputArgs {
    /// Corpus: .jsonl, .csv or .parquet with a text column (or a vector column), or a .npy matrix.
    input: PathBuf,
    /// Column holding the texts.
    #[arg(long, default_value = "text")]
    text_column: String,
    /// Column holding document ids (default: `id` when present).
    #[arg(long)]
    id_column: Option<String>,
    /// Column holding precomputed vectors (default: `embedding` or `vector` when present).
    #[arg(long)]
    vector_column: Option<String>,
}

impl InputArgs {
    fn load(&self) -> anyhow::Result<Corpus> {
        let options = LoadOptions {
            text_column: self.text_column.clone(),
            id_column: self.id_column.clone(),
            vector_column: self.vector_column.clone(),
            label_column: None,
        };
        Ok(load(&self.input, &options)?)
    }
}

#[derive(Args)]
struct ModelArgs {
    /// sentence-transformers model folder (default: $EMBEDSCOPE_MODEL_DIR, else
    /// ~/.cache/embedscope/models/all-MiniLM-L6-v2).
    #[arg(long)]
    model_dir: Option<PathBuf>,
    /// Embedding cache folder (default: ~/.cache/embedscope/embeddings).
    #[arg(long)]
    cache_dir: Option<PathBuf>,
    /// Do not read or write the embedding cache.
    #[arg(long)]
    no_cache: bool,
}

impl ModelArgs {
    fn model(&self) -> anyhow::Result<LocalModel> {
        let dir = self.model_dir.clone().unwrap_or_else(default_model_dir);
        Ok(LocalModel::load(&dir)?)
    }

    fn cache(&self, model: &LocalModel) -> anyhow::Result<Option<EmbeddingCache>> {
        if self.no_cache {
            return Ok(None);
        }
        let dir = self
            .cache_dir
            .clone()
            .unwrap_or_else(|| home_dir().join("embeddings"));
        Ok(Some(EmbeddingCache::open(
            &dir,
            model.model_id(),
            model.dim(),
        )?))
    }
}

#[derive(Args)]
struct EmbedArgs {
    #[command(flatten)]
    input: InputArgs,
    #[command(flatten)]
    model: ModelArgs,
    /// Output: vectors.npy (float32 matrix) or vectors.parquet (id, embedding).
    #[arg(long)]
    out: PathBuf,
    /// Print a JSON summary on stdout.
    #[arg(long)]
    json: bool,
}

#[derive(Args)]
struct AuditArgs {
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
    /// Smallest K tried.
    #[arg(long, default_value_t = 2)]
    k_min: usize,
    /// Largest K tried.
    #[arg(long, default_value_t = 10)]
    k_max: usize,
    /// K-Means initialisations per K.
    #[arg(long, default_value_t = 10)]
    n_init: usize,
    /// Seed of every stochastic step.
    #[arg(long, default_value_t = 42)]
    seed: u64,
    /// Embed the texts even when the input carries vectors.
    #[arg(long)]
    reembed: bool,
}

/// indicatif bars on stderr (hidden when stderr is not a terminal).
#[derive(Default)]
struct Bars(Mutex<Option<ProgressBar>>);

impl Progress for Bars {
    fn start(&self, stage: &str, total: u64) {
        let bar = ProgressBar::new(total);
        bar.set_style(
            ProgressStyle::with_template("{prefix:>10} [{bar:30}] {pos}/{len} {per_sec} eta {eta}")
                .expect("valid template")
                .progress_chars("=> "),
        );
        bar.set_prefix(stage.to_string());
        *self.0.lock().expect("progress lock") = Some(bar);
    }
    fn advance(&self, n: u64) {
        if let Some(b) = self.0.lock().expect("progress lock").as_ref() {
            b.inc(n);
        }
    }
    fn finish(&self) {
        if let Some(b) = self.0.lock().expect("progress lock").take() {
            b.finish_and_clear();
        }
    }
}

fn embed(args: &EmbedArgs) -> anyhow::Result<()> {
    let out_format = Format::from_path(&args.out)
        .ok()
        .filter(|f| matches!(f, Format::Npy | Format::Parquet));
    let Some(out_format) = out_format else {
        bail!(
            "--out {}: the output must end in .npy or .parquet",
            args.out.display()
        );
    };
    let corpus = args.input.load()?;
    let Some(texts) = corpus.texts.as_ref() else {
        bail!(
            "{}: no text column `{}` to embed",
            args.input.input.display(),
            args.input.text_column
        );
    };
    let model = args.model.model()?;
    let mut cache = args.model.cache(&model)?;
    let bars = Bars::default();
    let keys: Vec<u128> = texts
        .iter()
        .map(|t| embedscope::embed::cache::text_key(t))
        .collect();
    let (_, todo) = embedscope::embed::plan(texts, &keys, cache.as_ref());
    bars.start("embed", todo.len() as u64);
    let (vectors, stats) = embed_texts(&model, texts, cache.as_mut(), &|n| bars.advance(n as u64))?;
    bars.finish();
    match out_format {
        Format::Npy => write_atomic(&args.out, |w| {
            npy::write_npy(w, vectors.as_slice(), vectors.rows(), vectors.dim())
        })?,
        _ => embedscope::io::write_vectors_parquet(&args.out, &corpus.ids, &vectors)?,
    }
    if args.json {
        let summary = serde_json::json!({
            "out": args.out,
            "rows": vectors.rows(),
            "dim": vectors.dim(),
            "model": stats.model,
            "unique": stats.unique,
            "cache_hits": stats.cache_hits,
            "embedded": stats.embedded,
            "seconds": stats.seconds,
            "texts_per_second": stats.texts_per_second(),
        });
        println!("{summary}");
    } else {
        eprintln!(
            "embedded {} texts ({} distinct, {} from cache) in {:.1} s -> {}",
            stats.texts,
            stats.unique,
            stats.cache_hits,
            stats.seconds,
            args.out.display()
        );
    }
    Ok(())
}

fn audit(args: &AuditArgs) -> anyhow::Result<()> {
    let out = match &args.out {
        Some(p) => p.clone(),
        None => {
            let stem = args
                .input
                .input
                .file_stem()
                .map_or_else(|| "audit".into(), |s| s.to_string_lossy().into_owned());
            Path::new("reports").join(format!("{stem}.html"))
        }
    };
    let corpus = args.input.load()?;
    let needs_model = corpus.vectors.is_none() || args.reembed;
    let model = if needs_model {
        Some(args.model.model()?)
    } else {
        None
    };
    let bars = Bars::default();
    let mut builder = Audit::builder()
        .k_range(args.k_min, args.k_max)
        .n_init(args.n_init)
        .seed(args.seed)
        .reembed(args.reembed)
        .progress(&bars);
    if let Some(m) = &model {
        builder = builder.embedder(m);
        if let Some(c) = args.model.cache(m)? {
            builder = builder.cache(c);
        }
    }
    let audit = builder.run(&corpus)?;
    write_html(&out, &audit, &ReportOptions::default())?;
    if let Some(json) = &args.json {
        let mut value = serde_json::to_value(&audit).context("serialising the audit")?;
        value["report"] = serde_json::Value::String(out.display().to_string());
        write_atomic(json, |w| {
            serde_json::to_writer_pretty(&mut *w, &value)?;
            w.write_all(b"\n")
        })?;
    }
    eprintln!(
        "audited {} documents: K = {} (silhouette {:.3}) -> {}",
        audit.corpus.rows,
        audit.optimal_k.chosen_k,
        audit
            .optimal_k
            .per_k
            .iter()
            .find(|s| s.k == audit.optimal_k.chosen_k)
            .map_or(0.0, |s| s.silhouette),
        out.display()
    );
    for note in &audit.notes {
        eprintln!("note: {note}");
    }
    Ok(())
}

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(tracing_subscriber::EnvFilter::from_env("EMBEDSCOPE_LOG"))
        .init();
    let cli = Cli::parse();
    let result = match &cli.command {
        Command::Embed(a) => embed(a),
        Command::Audit(a) => audit(a),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(2)
        }
    }
}
