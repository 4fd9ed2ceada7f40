//! Token counts as the embedder's own tokenizer makes them, against its `max_seq_length`.

use std::path::Path;

use rayon::prelude::*;
use tokenizers::Tokenizer;

use crate::error::{Error, Result};

/// Counts tokens with a sentence-transformers folder's `tokenizer.json`, special tokens
/// included (all-MiniLM-L6-v2 reads at most 256 of them, `[CLS]` and `[SEP]` among them).
/// Loads the tokenizer only: no weights, so it is a pre-flight check that costs seconds.
pub struct TokenCounter {
    tokenizer: Tokenizer,
    limit: usize,
    source: String,
}

impl std::fmt::Debug for TokenCounter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenCounter")
            .field("source", &self.source)
            .field("limit", &self.limit)
            .finish()
    }
}

impl TokenCounter {
    /// The tokenizer of the model folder `dir` and its truncation length (`max_seq_length` of
    /// `sentence_bert_config.json`, at most the model's `max_position_embeddings`).
    pub fn from_model_dir(dir: &Path) -> Result<TokenCounter> {
        let model_err = |message: String| Error::Model {
            dir: dir.to_path_buf(),
            message,
        };
        let path = dir.join("tokenizer.json");
        if !path.is_file() {
            return Err(Error::ModelMissing {
                dir: dir.to_path_buf(),
                missing: "tokenizer.json".into(),
            });
        }
        let mut tokenizer =
            Tokenizer::from_file(&path).map_err(|e| model_err(format!("tokenizer.json: {e}")))?;
        tokenizer
            .with_truncation(None)
            .map_err(|e| model_err(format!("tokenizer.json: {e}")))?;
        tokenizer.with_padding(None);
        let positions = max_positions(dir).unwrap_or(512);
        let limit = crate::embed::local::max_seq_length_of(dir, positions)?;
        let name = dir.file_name().map_or_else(
            || dir.display().to_string(),
            |n| n.to_string_lossy().into_owned(),
        );
        Ok(TokenCounter {
            tokenizer,
            limit,
            source: name,
        })
    }

    /// The counter of the model folder `dir` (default: the embedder's folder), with
    /// `max_tokens` as its limit when given.
    pub fn at(dir: Option<&Path>, max_tokens: Option<usize>) -> Result<TokenCounter> {
        let dir = dir.map_or_else(crate::embed::default_model_dir, Path::to_path_buf);
        let c = TokenCounter::from_model_dir(&dir)?;
        Ok(match max_tokens {
            Some(m) => c.with_limit(m),
            None => c,
        })
    }

    /// The counter for chunks `choice` embeds: its model folder's tokenizer (the local and
    /// ONNX models), `max_tokens` as the limit when given. `None` for an API embedder without
    /// `max_tokens` (its limit is not the folder's) or when the folder has no tokenizer (the
    /// audit then leaves tokens out).
    pub fn for_embedder(
        choice: &crate::embed::EmbedderChoice,
        max_tokens: Option<usize>,
    ) -> Option<TokenCounter> {
        if choice.kind == crate::embed::EmbedderKind::Openai && max_tokens.is_none() {
            return None;
        }
        TokenCounter::at(choice.model_dir.as_deref(), max_tokens).ok()
    }

    /// The same counter with another limit (an API embedder's documented one, `--max-tokens`).
    pub fn with_limit(mut self, limit: usize) -> TokenCounter {
        self.limit = limit;
        self
    }

    /// Tokens the embedder reads at most.
    pub fn limit(&self) -> usize {
        self.limit
    }

    /// Which tokenizer counts (the model folder's name).
    pub fn source(&self) -> &str {
        &self.source
    }

    /// Tokens per text, special tokens included, nothing truncated.
    pub fn count(&self, texts: &[&str]) -> Result<Vec<usize>> {
        texts
            .par_iter()
            .with_min_len(64)
            .enumerate()
            .map(|(row, t)| {
                self.tokenizer
                    .encode(*t, true)
                    .map(|e| e.len())
                    .map_err(|e| Error::Model {
                        dir: self.source.clone().into(),
                        message: format!("row {row}: the tokenizer failed: {e}"),
                    })
            })
            .collect()
    }
}

/// `max_position_embeddings` of the folder's `config.json`, when it says.
fn max_positions(dir: &Path) -> Option<usize> {
    let text = std::fs::read_to_string(dir.join("config.json")).ok()?;
    let v: serde_json::Value = serde_json::from_str(&text).ok()?;
    v.get("max_position_embeddings")?
        .as_u64()
        .map(|n| n as usize)
}
