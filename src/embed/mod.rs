//! Text to vectors: the [`Embedder`] trait, the local sentence-transformers model, and the
//! cached, deduplicating driver [`embed_texts`].

mod bert;
pub mod cache;
mod choice;
mod fastmath;
pub(crate) mod local;
#[cfg(feature = "fastembed")]
mod onnx;
mod openai;
mod qgemm;

use std::time::Instant;

pub use cache::EmbeddingCache;
pub use choice::{EmbedderChoice, EmbedderKind};
pub use local::{
    default_model_dir, home_dir, LocalModel, Pooling, Precision, DEFAULT_MODEL, MODEL_DIR_ENV,
};
#[cfg(feature = "fastembed")]
pub use onnx::{catalog_model, default_onnx_dir, OnnxModel, OnnxParams};
pub use openai::{OpenAiEmbedder, OpenAiParams};

use crate::embeddings::Embeddings;
use crate::error::{Error, Result};
use crate::progress::Progress;

/// Anything that turns texts into vectors.
pub trait Embedder: Send + Sync {
    /// Identifies the model and every setting that changes its vectors; the cache never mixes
    /// two ids.
    fn model_id(&self) -> &str;
    /// Vector dimension.
    fn dim(&self) -> usize;
    /// Raw vectors for `texts` (row-major, `texts.len() x dim`, need not be normalised),
    /// advancing `progress` by `n` as each `n` more texts are done (the caller starts and
    /// finishes the stage).
    fn embed(&self, texts: &[&str], progress: &dyn Progress) -> Result<Vec<f32>>;
}

/// What [`embed_texts`] did.
#[derive(Debug, Clone, PartialEq, serde::Serialize, schemars::JsonSchema)]
pub struct EmbedStats {
    /// The model id.
    pub model: String,
    /// Texts asked for.
    pub texts: usize,
    /// Distinct texts among them.
    pub unique: usize,
    /// Distinct texts found in the cache.
    pub cache_hits: usize,
    /// Distinct texts run through the model.
    pub embedded: usize,
    /// Wall time of the model runs, seconds.
    pub seconds: f64,
}

impl EmbedStats {
    /// Texts run through the model per second (0 when none were).
    pub fn texts_per_second(&self) -> f64 {
        if self.seconds > 0.0 {
            self.embedded as f64 / self.seconds
        } else {
            0.0
        }
    }
}

/// Embeds texts: identical texts are embedded once, cached texts not at all, the rest run
/// through `embedder`; the result is validated and normalised into [`Embeddings`].
///
/// Progress: an "embed" stage whose total is the number of texts the model has to run
/// (known after the cache look-up).
pub fn embed_texts(
    embedder: &dyn Embedder,
    texts: &[String],
    cache: Option<&mut EmbeddingCache>,
    progress: &dyn Progress,
) -> Result<(Embeddings, EmbedStats)> {
    let dim = embedder.dim();
    let keys: Vec<u128> = texts.iter().map(|t| cache::text_key(t)).collect();
    let (unique, todo) = plan(&keys, cache.as_deref());
    let started = Instant::now();
    let todo_texts: Vec<&str> = todo.iter().map(|&i| texts[i].as_str()).collect();
    progress.start("embed", todo_texts.len() as u64);
    let fresh = if todo_texts.is_empty() {
        Vec::new()
    } else {
        embedder.embed(&todo_texts, progress)?
    };
    progress.finish();
    let seconds = started.elapsed().as_secs_f64();
    if fresh.len() != todo.len() * dim {
        return Err(Error::Embedding {
            model: embedder.model_id().to_string(),
            message: format!(
                "returned {} values for {} texts of dimension {dim}",
                fresh.len(),
                todo.len()
            ),
        });
    }
    let mut local: std::collections::HashMap<u128, &[f32]> = std::collections::HashMap::new();
    for (j, &i) in todo.iter().enumerate() {
        local.insert(keys[i], &fresh[j * dim..(j + 1) * dim]);
    }
    let mut data = Vec::with_capacity(texts.len() * dim);
    for key in &keys {
        let v = match local.get(key) {
            Some(v) => *v,
            None => cache
                .as_deref()
                .and_then(|c| c.get(*key))
                .expect("planned: every key is fresh or cached"),
        };
        data.extend_from_slice(v);
    }
    if let Some(c) = cache {
        for (key, v) in &local {
            c.insert(*key, v);
        }
        c.save()?;
    }
    let stats = EmbedStats {
        model: embedder.model_id().to_string(),
        texts: texts.len(),
        unique,
        cache_hits: unique - todo.len(),
        embedded: todo.len(),
        seconds,
    };
    Ok((Embeddings::new(data, dim)?, stats))
}

/// Which texts need the model: returns the number of distinct texts and the index of the first
/// occurrence of each distinct text (by key) that the cache lacks.
fn plan(keys: &[u128], cache: Option<&EmbeddingCache>) -> (usize, Vec<usize>) {
    let mut seen = std::collections::HashSet::with_capacity(keys.len());
    let mut todo = Vec::new();
    for (i, k) in keys.iter().enumerate() {
        if seen.insert(*k) && cache.and_then(|c| c.get(*k)).is_none() {
            todo.push(i);
        }
    }
    (seen.len(), todo)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    /// Counts calls; a text's vector is (len, 1).
    struct Fake(AtomicUsize);
    impl Embedder for Fake {
        fn model_id(&self) -> &str {
            "fake"
        }
        fn dim(&self) -> usize {
            2
        }
        fn embed(&self, texts: &[&str], progress: &dyn Progress) -> Result<Vec<f32>> {
            self.0.fetch_add(texts.len(), Ordering::SeqCst);
            progress.advance(texts.len() as u64);
            Ok(texts.iter().flat_map(|t| [t.len() as f32, 1.0]).collect())
        }
    }

    #[test]
    fn dedups_and_caches() {
        let dir = tempfile::tempdir().unwrap();
        let texts: Vec<String> = ["a", "bb", "a", "ccc"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let fake = Fake(AtomicUsize::new(0));
        let mut cache = EmbeddingCache::open(dir.path(), "fake", 2).unwrap();
        let (e, stats) =
            embed_texts(&fake, &texts, Some(&mut cache), &crate::progress::Silent).unwrap();
        assert_eq!(
            fake.0.load(Ordering::SeqCst),
            3,
            "duplicate text embedded twice"
        );
        assert_eq!((stats.unique, stats.embedded, stats.cache_hits), (3, 3, 0));
        assert_eq!(e.row(0), e.row(2));
        let mut cache = EmbeddingCache::open(dir.path(), "fake", 2).unwrap();
        let (e2, stats) =
            embed_texts(&fake, &texts, Some(&mut cache), &crate::progress::Silent).unwrap();
        assert_eq!(
            fake.0.load(Ordering::SeqCst),
            3,
            "cached texts were re-embedded"
        );
        assert_eq!(stats.cache_hits, 3);
        assert_eq!(e, e2);
    }
}
