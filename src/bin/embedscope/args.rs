//! Argument groups several subcommands share (input, model, LLM, K range, index), each turned
//! into the library's types in one place.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context};
use clap::Args;
use embedscope::embed::{embed_texts, home_dir, Embedder, EmbeddingCache};
use embedscope::io::{load, Format, LoadOptions};
use embedscope::label::llm::LlmParams;
use embedscope::progress::Progress;
use embedscope::store::{self, Store, StoreOptions};
use embedscope::{Corpus, Embeddings};

use crate::progress::Bars;

#[derive(Args)]
pub struct InputArgs {
    /// Corpus: .jsonl, .csv or .parquet with a text column (or a vector column), a .npy
    /// matrix, a folder or glob of Parquet shards, or a store: postgres://user@host:port/db
    /// (with --table or --sql) or chroma://host:port/COLLECTION.
    pub input: PathBuf,
    /// Column holding the texts.
    #[arg(long, default_value = "text")]
    pub text_column: String,
    /// Column holding document ids (default: `id` when present).
    #[arg(long)]
    pub id_column: Option<String>,
    /// Column holding precomputed vectors (default: `embedding` or `vector` when present).
    #[arg(long)]
    pub vector_column: Option<String>,
    /// Column holding reference labels (for example `section`): clusterings are scored
    /// against it (ARI, NMI, V-measure, homogeneity, completeness).
    #[arg(long)]
    pub label_column: Option<String>,
    #[command(flatten)]
    pub store: StoreArgs,
}

/// Where in a store the corpus is.
#[derive(Args, Clone)]
pub struct StoreArgs {
    /// Postgres: the table to read (`table` or `schema.table`).
    #[arg(long, help_heading = "Store input")]
    pub table: Option<String>,
    /// Postgres: a SELECT whose rows are the corpus (instead of --table).
    #[arg(long, help_heading = "Store input", conflicts_with = "table")]
    pub sql: Option<String>,
    /// Postgres: have the server sort the rows by this column. Default: a table's rows in
    /// order of their ids (sorted after the read, so an audit repeats whatever the table's
    /// physical order), a query's rows in its own order; `none` keeps them as stored.
    #[arg(long, help_heading = "Store input")]
    pub order_by: Option<String>,
    /// Rows per batch read from a store (and per page of a Chroma read).
    #[arg(long, default_value_t = 10_000, help_heading = "Store input")]
    pub batch_rows: usize,
    /// Chroma tenant.
    #[arg(long, default_value = "default_tenant", help_heading = "Store input")]
    pub chroma_tenant: String,
    /// Chroma database.
    #[arg(long, default_value = "default_database", help_heading = "Store input")]
    pub chroma_database: String,
    /// Seconds to wait for a store to answer a connection.
    #[arg(long, default_value_t = 5.0, help_heading = "Store input")]
    pub connect_timeout: f64,
}

impl Default for StoreArgs {
    /// The flags' own defaults, as clap gives them to a command line without store flags.
    fn default() -> Self {
        use clap::FromArgMatches;
        let m = StoreArgs::augment_args(clap::Command::new("store")).get_matches_from(["store"]);
        StoreArgs::from_arg_matches(&m).expect("the store flags' defaults parse")
    }
}

impl StoreArgs {
    /// The library's store options.
    pub fn options(&self) -> anyhow::Result<StoreOptions> {
        if self.batch_rows == 0 {
            bail!("--batch-rows 0: must be at least 1");
        }
        if !(self.connect_timeout.is_finite() && self.connect_timeout > 0.0) {
            bail!(
                "--connect-timeout {}: must be a positive number of seconds",
                self.connect_timeout
            );
        }
        Ok(StoreOptions {
            table: self.table.clone(),
            query: self.sql.clone(),
            batch_rows: self.batch_rows,
            tenant: self.chroma_tenant.clone(),
            database: self.chroma_database.clone(),
            connect_timeout: std::time::Duration::from_secs_f64(self.connect_timeout),
            write_back_table: None,
            order_by: self.order_by.clone(),
        })
    }
}

impl InputArgs {
    /// Whether the input is a store URL rather than a file.
    pub fn is_store(&self) -> bool {
        store::is_store(&self.input.to_string_lossy())
    }

    /// The input as messages show it: a store's URL without its password.
    pub fn shown(&self) -> String {
        let s = self.input.to_string_lossy();
        if store::is_store(&s) {
            store::redact_url(&s)
        } else {
            self.input.display().to_string()
        }
    }

    /// A short name for output files: the file's stem, a store's table or collection.
    pub fn stem(&self) -> String {
        if self.is_store() {
            let s = self.input.to_string_lossy();
            let last = s
                .split('?')
                .next()
                .and_then(|p| p.rsplit('/').next())
                .unwrap_or("store");
            return match &self.store.table {
                Some(t) => t.replace(['.', '/'], "_"),
                None => last.to_string(),
            };
        }
        self.input
            .file_stem()
            .map_or_else(|| "corpus".into(), |s| s.to_string_lossy().into_owned())
    }

    /// Opens the input's store.
    pub fn open_store(&self, write_back_table: Option<String>) -> anyhow::Result<Box<dyn Store>> {
        let options = StoreOptions {
            write_back_table,
            ..self.store.options()?
        };
        Ok(store::open(&self.input.to_string_lossy(), &options)?)
    }

    /// What to read.
    pub fn load_options(&self) -> LoadOptions {
        LoadOptions {
            text_column: self.text_column.clone(),
            id_column: self.id_column.clone(),
            vector_column: self.vector_column.clone(),
            label_column: self.label_column.clone(),
        }
    }

    /// Loads the corpus, from its file or its store.
    pub fn load(&self) -> anyhow::Result<Corpus> {
        let options = self.load_options();
        if self.is_store() {
            let mut s = self.open_store(None)?;
            return Ok(store::load(s.as_mut(), &options, self.store.batch_rows)?);
        }
        Ok(load(&self.input, &options)?)
    }

    /// The corpus' texts, or an error naming the file and the column `purpose` needs.
    pub fn texts<'c>(&self, corpus: &'c Corpus, purpose: &str) -> anyhow::Result<&'c [String]> {
        match corpus.texts.as_deref() {
            Some(t) => Ok(t),
            None => bail!(
                "{}: no text column `{}` {purpose}",
                self.shown(),
                self.text_column
            ),
        }
    }
}

pub use embedscope::embed::EmbedderKind as EmbedderArg;

#[derive(Args, Clone)]
pub struct ModelArgs {
    /// What embeds texts.
    #[arg(long, value_enum, default_value_t = EmbedderArg::Local)]
    pub embedder: EmbedderArg,
    /// sentence-transformers model folder (default: $EMBEDSCOPE_MODEL_DIR, else
    /// ~/.cache/embedscope/models/all-MiniLM-L6-v2).
    #[arg(long)]
    pub model_dir: Option<PathBuf>,
    /// --embedder openai: API base URL up to /v1 (default: OPENAI_BASE_URL, else OpenAI's).
    #[arg(long)]
    pub embedding_base_url: Option<String>,
    /// --embedder openai: model name.
    #[arg(long, default_value = "text-embedding-3-small")]
    pub embedding_model: String,
    /// --embedder openai: ask for this many dimensions (text-embedding-3-* can shorten).
    #[arg(long)]
    pub embedding_dimensions: Option<usize>,
    /// --embedder openai: inputs per request.
    #[arg(long, default_value_t = 128)]
    pub embedding_batch_size: usize,
    /// --embedder openai: requests in flight at most.
    #[arg(long, default_value_t = 4)]
    pub embedding_concurrency: usize,
    /// --embedder fastembed: the ONNX file (default: the int8 all-MiniLM-L6-v2 that
    /// scripts/install-onnx.sh installs).
    #[arg(long)]
    pub onnx: Option<PathBuf>,
    /// --embedder fastembed: ONNX Runtime's shared library (default: ORT_DYLIB_PATH, else the
    /// one scripts/install-onnx.sh installs).
    #[arg(long)]
    pub ort_library: Option<PathBuf>,
    /// --embedder fastembed: a model of fastembed's catalogue (BGESmallENV15,
    /// MultilingualE5Small, NomicEmbedTextV15, ...), downloaded from the Hugging Face hub on
    /// first use (needs the network) instead of --onnx.
    #[arg(long, conflicts_with = "onnx")]
    pub fastembed_model: Option<String>,
    /// Embedding cache folder (default: ~/.cache/embedscope/embeddings).
    #[arg(long)]
    pub cache_dir: Option<PathBuf>,
    /// Do not read or write the embedding cache.
    #[arg(long)]
    pub no_cache: bool,
}

impl ModelArgs {
    /// The chosen embedder, connected (the API's key from `OPENAI_API_KEY`).
    /// The tokenizer that counts chunks for `--embedder local|local-int8|fastembed` (the model
    /// folder's, see [`token_counter_at`]); `None` for the API embedder without `--max-tokens`,
    /// or when the folder has no tokenizer (the audit then leaves tokens out).
    pub fn token_counter(
        &self,
        max_tokens: Option<usize>,
    ) -> Option<embedscope::health::TokenCounter> {
        embedscope::health::TokenCounter::for_embedder(&self.choice(), max_tokens)
    }

    /// The embedder these flags describe, not yet opened.
    pub fn choice(&self) -> embedscope::embed::EmbedderChoice {
        embedscope::embed::EmbedderChoice {
            kind: self.embedder,
            model_dir: self.model_dir.clone(),
            base_url: self.embedding_base_url.clone(),
            api_model: self.embedding_model.clone(),
            dimensions: self.embedding_dimensions,
            batch_size: self.embedding_batch_size,
            concurrency: self.embedding_concurrency,
            onnx: self.onnx.clone(),
            ort_library: self.ort_library.clone(),
            fastembed_model: self.fastembed_model.clone(),
        }
    }

    pub fn model(&self) -> anyhow::Result<Box<dyn Embedder>> {
        Ok(self.choice().open()?)
    }

    /// The embedding cache for `model`, unless `--no-cache`.
    pub fn cache(&self, model: &dyn Embedder) -> anyhow::Result<Option<EmbeddingCache>> {
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

    /// Embeds `texts` with the chosen model and cache; returns the vectors and the model id.
    pub fn embed(
        &self,
        texts: &[String],
        progress: &dyn Progress,
    ) -> anyhow::Result<(Embeddings, String)> {
        let m = self.model()?;
        let mut cache = self.cache(m.as_ref())?;
        let (v, stats) = embed_texts(m.as_ref(), texts, cache.as_mut(), progress)?;
        Ok((v, stats.model))
    }

    /// The corpus and its vectors: those in the file, or the texts embedded.
    pub fn vectors(&self, input: &InputArgs) -> anyhow::Result<(Corpus, Embeddings)> {
        self.vectors_or_embed(input, false)
    }

    /// [`vectors`](Self::vectors), embedding the texts even when the file has vectors when
    /// `reembed`.
    pub fn vectors_or_embed(
        &self,
        input: &InputArgs,
        reembed: bool,
    ) -> anyhow::Result<(Corpus, Embeddings)> {
        let mut corpus = input.load()?;
        if let Some(v) = corpus.vectors.take() {
            if !reembed {
                return Ok((corpus, v));
            }
        }
        let Some(texts) = corpus.texts.as_ref() else {
            bail!(
                "{}: no {}texts to embed",
                input.shown(),
                if reembed { "" } else { "vectors and no " }
            );
        };
        let (v, _) = self.embed(texts, &Bars::default())?;
        Ok((corpus, v))
    }
}

/// The K range of `optimal-k` and `audit`.
#[derive(Args)]
pub struct SweepArgs {
    /// Smallest K tried.
    #[arg(long, default_value_t = 2)]
    pub k_min: usize,
    /// Largest K tried.
    #[arg(long, default_value_t = 10)]
    pub k_max: usize,
    /// K-Means initialisations per K.
    #[arg(long, default_value_t = 10)]
    pub n_init: usize,
}

/// The cluster index of `search` and `retrieval-eval`.
#[derive(Args)]
pub struct IndexArgs {
    /// Cells of the index (default round(sqrt(n))).
    #[arg(long)]
    pub nlist: Option<usize>,
    /// Seed of the K-Means training and the query sample.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
}

#[derive(Args)]
pub struct LlmArgs {
    /// Name the clusters with a language model over an OpenAI-compatible chat-completions API
    /// (keyword labels stay where it fails, with the reason).
    #[arg(long)]
    pub llm: bool,
    /// API base URL up to /v1 (default: OPENAI_BASE_URL, else OpenAI's).
    #[arg(long)]
    pub llm_base_url: Option<String>,
    /// Model name.
    #[arg(long, default_value = "gpt-4o-mini")]
    pub llm_model: String,
    /// Requests in flight at most.
    #[arg(long, default_value_t = 4)]
    pub llm_concurrency: usize,
    /// HTTP requests allowed in all (default: no limit).
    #[arg(long)]
    pub llm_max_requests: Option<usize>,
    /// Tokens allowed in all, as the server reports them (default: no limit).
    #[arg(long)]
    pub llm_max_tokens: Option<usize>,
    /// Seconds allowed per request.
    #[arg(long, default_value_t = 30.0)]
    pub llm_timeout: f64,
    /// Prompt template file (minijinja, over `keywords` and `documents`; default: the seed's).
    #[arg(long)]
    pub llm_prompt: Option<PathBuf>,
    /// Answer cache folder (default: ~/.cache/embedscope/llm; --llm-no-cache to skip).
    #[arg(long)]
    pub llm_cache_dir: Option<PathBuf>,
    /// Do not read or write the answer cache.
    #[arg(long)]
    pub llm_no_cache: bool,
}

impl LlmArgs {
    /// The LLM parameters, checked, or `None` without `--llm`. The key comes from
    /// OPENAI_API_KEY.
    pub fn params(&self) -> anyhow::Result<Option<LlmParams>> {
        if !self.llm {
            return Ok(None);
        }
        if !(self.llm_timeout.is_finite() && self.llm_timeout > 0.0) {
            bail!(
                "--llm-timeout {}: must be a positive number of seconds",
                self.llm_timeout
            );
        }
        let mut p = LlmParams::from_env()
            .model(self.llm_model.clone())
            .concurrency(self.llm_concurrency)
            .timeout(std::time::Duration::from_secs_f64(self.llm_timeout));
        if let Some(url) = &self.llm_base_url {
            p = p.base_url(url.clone());
        }
        if let Some(n) = self.llm_max_requests {
            p = p.max_requests(n);
        }
        if let Some(n) = self.llm_max_tokens {
            p = p.max_tokens(n);
        }
        if let Some(f) = &self.llm_prompt {
            let t = std::fs::read_to_string(f)
                .with_context(|| format!("--llm-prompt {}", f.display()))?;
            p = p.template(t);
        }
        if !self.llm_no_cache {
            p = p.cache_dir(
                self.llm_cache_dir
                    .clone()
                    .unwrap_or_else(|| home_dir().join("llm")),
            );
        }
        p.check()?;
        Ok(Some(p))
    }
}

/// `path`'s format when it is one of `allowed`; otherwise the error `{flag} {path}: {rule}`.
pub fn output_format(
    path: &Path,
    flag: &str,
    allowed: &[Format],
    rule: &str,
) -> anyhow::Result<Format> {
    match Format::from_path(path) {
        Ok(f) if allowed.contains(&f) => Ok(f),
        _ => bail!("{flag} {}: {rule}", path.display()),
    }
}

/// Chunk-health settings shared by `health` and `audit`.
#[derive(Args)]
pub struct HealthCheckArgs {
    /// Tokens the embedder reads (default: the model folder's max_seq_length, 256 for
    /// all-MiniLM-L6-v2). Set it for another embedder, e.g. 8191 for OpenAI's
    /// text-embedding-3 (counted with the folder's tokenizer: an approximation there).
    #[arg(long)]
    pub max_tokens: Option<usize>,
    /// Chunks with fewer tokens (special tokens included) are very short.
    #[arg(long, default_value_t = 8)]
    pub min_tokens: usize,
    /// A line or word run is boilerplate when at least this share of chunks has it.
    #[arg(long, default_value_t = 0.01)]
    pub boilerplate_min_share: f64,
    /// Check: largest share of chunks longer than the embedder reads.
    #[arg(long, default_value_t = 0.05)]
    pub max_truncated_share: f64,
    /// Check: largest share of empty or whitespace-only chunks.
    #[arg(long, default_value_t = 0.01)]
    pub max_empty_share: f64,
    /// Check: largest share of very short chunks (empty ones included).
    #[arg(long, default_value_t = 0.05)]
    pub max_short_share: f64,
    /// Check: largest share of the text inside boilerplate.
    #[arg(long, default_value_t = 0.10)]
    pub max_boilerplate_share: f64,
    /// Check: largest share of chunks with encoding damage.
    #[arg(long, default_value_t = 0.01)]
    pub max_damaged_share: f64,
    /// Check: largest share of chunks not in the main language.
    #[arg(long, default_value_t = 0.10)]
    pub max_other_language_share: f64,
}

impl HealthCheckArgs {
    /// The checked parameters.
    pub fn params(&self, seed: u64) -> anyhow::Result<embedscope::health::HealthParams> {
        if self.max_tokens == Some(0) {
            anyhow::bail!("--max-tokens 0: the embedder must read at least one token");
        }
        let params = embedscope::health::Health::params()
            .min_tokens(self.min_tokens)
            .boilerplate_min_share(self.boilerplate_min_share)
            .seed(seed)
            .limits(embedscope::health::HealthLimits {
                max_truncated_share: self.max_truncated_share,
                max_empty_share: self.max_empty_share,
                max_short_share: self.max_short_share,
                max_boilerplate_share: self.max_boilerplate_share,
                max_damaged_share: self.max_damaged_share,
                max_other_language_share: self.max_other_language_share,
            });
        params.check()?;
        Ok(params)
    }
}

/// A query file's columns and the query analysis' options (`queries` and `audit --queries`).
#[derive(Args)]
pub struct QueryFileArgs {
    /// The queries' text column.
    #[arg(long, default_value = "text")]
    pub query_text_column: String,
    /// The queries' vector column (default: `embedding` or `vector` when present).
    #[arg(long)]
    pub query_vector_column: Option<String>,
    /// The queries' id column (default: `id` when present, else the row number).
    #[arg(long)]
    pub query_id_column: Option<String>,
    /// Judgements: a column of the ids relevant to each query (comma-separated, or a JSON
    /// list; an empty value: not judged).
    #[arg(long)]
    pub relevant_column: Option<String>,
    /// Documents per query.
    #[arg(long, default_value_t = 10)]
    pub top_k: usize,
    /// Best cosine below which a query is a coverage gap (default: the --gap-quantile of the
    /// corpus' own nearest-neighbour cosines).
    #[arg(long)]
    pub gap_threshold: Option<f64>,
    /// The quantile of the corpus' nearest-neighbour cosines used as the gap threshold.
    #[arg(long, default_value_t = 0.05)]
    pub gap_quantile: f64,
}

impl QueryFileArgs {
    /// The query file at `path` as an input (its columns), the judgements read as labels.
    pub fn input(&self, path: &Path) -> InputArgs {
        InputArgs {
            input: path.to_path_buf(),
            text_column: self.query_text_column.clone(),
            id_column: self.query_id_column.clone(),
            vector_column: self.query_vector_column.clone(),
            label_column: self.relevant_column.clone(),
            store: StoreArgs::default(),
        }
    }

    /// The analysis' parameters, with the judgements taken out of `queries`' labels.
    pub fn params(&self, queries: &mut Corpus) -> embedscope::queries::QueriesParams {
        embedscope::queries::Queries::params()
            .top_k(self.top_k)
            .gap_threshold(self.gap_threshold)
            .gap_quantile(self.gap_quantile)
            .judged_by_labels(queries)
    }
}
