//! Which embedder to open, as data: what the command line's `--embedder` flags and the Python
//! package's `embedder=` arguments both describe, opened by one function so that the two give
//! the same vectors for the same choice.

use std::path::PathBuf;

use super::{default_model_dir, Embedder, LocalModel, OpenAiParams, Precision};
use crate::error::{Error, Result};

/// The kinds of embedder.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "cli", derive(clap::ValueEnum))]
pub enum EmbedderKind {
    /// The local sentence-transformers model folder (--model-dir), offline, in f32: the
    /// sentence-transformers vectors (cosine 0.9999999).
    Local,
    /// The same model with its dense layers in int8 (AVX-512 VNNI): about 2x faster, cosine
    /// >= 0.999 to the f32 vectors; cached apart (model id ends in /int8).
    LocalInt8,
    /// An OpenAI-compatible embeddings API (--embedding-base-url, --embedding-model,
    /// OPENAI_API_KEY).
    Openai,
    /// An ONNX model through fastembed and ONNX Runtime (--onnx, --ort-library; tokenizer and
    /// settings from --model-dir).
    Fastembed,
}

impl EmbedderKind {
    /// The kinds by the names the command line and Python use.
    pub const NAMES: [(&'static str, EmbedderKind); 4] = [
        ("local", EmbedderKind::Local),
        ("local-int8", EmbedderKind::LocalInt8),
        ("openai", EmbedderKind::Openai),
        ("fastembed", EmbedderKind::Fastembed),
    ];

    /// The kind named `name` (`local`, `local-int8`, `openai`, `fastembed`).
    pub fn from_name(name: &str) -> Result<EmbedderKind> {
        Self::NAMES
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, k)| *k)
            .ok_or_else(|| {
                Error::param(
                    "embedder",
                    format!("{name:?}"),
                    "expected local, local-int8, openai or fastembed",
                )
            })
    }
}

/// An embedder described, not yet opened: [`open`](Self::open) loads the model or connects.
/// Every field left at its default picks the local all-MiniLM-L6-v2 in f32.
#[derive(Debug, Clone, PartialEq)]
pub struct EmbedderChoice {
    /// Which embedder. Default [`EmbedderKind::Local`].
    pub kind: EmbedderKind,
    /// The sentence-transformers folder (the local model, and the tokenizer of the ONNX one).
    /// Default: [`default_model_dir`].
    pub model_dir: Option<PathBuf>,
    /// The API's base URL (default: `OPENAI_BASE_URL`, else OpenAI's).
    pub base_url: Option<String>,
    /// The API's model. Default `text-embedding-3-small`.
    pub api_model: String,
    /// The API's `dimensions` (text-embedding-3 can shorten its vectors). Default: the model's.
    pub dimensions: Option<usize>,
    /// Texts per API request. Default 128.
    pub batch_size: usize,
    /// API requests in flight. Default 4.
    pub concurrency: usize,
    /// The ONNX file (default: the int8 all-MiniLM-L6-v2 that `scripts/install-onnx.sh`
    /// unpacks).
    pub onnx: Option<PathBuf>,
    /// ONNX Runtime's shared library (default: `ORT_DYLIB_PATH`, else the installed wheel's).
    pub ort_library: Option<PathBuf>,
    /// One of fastembed's catalogue models instead of `onnx`.
    pub fastembed_model: Option<String>,
}

impl Default for EmbedderChoice {
    fn default() -> Self {
        EmbedderChoice {
            kind: EmbedderKind::Local,
            model_dir: None,
            base_url: None,
            api_model: "text-embedding-3-small".into(),
            dimensions: None,
            batch_size: 128,
            concurrency: 4,
            onnx: None,
            ort_library: None,
            fastembed_model: None,
        }
    }
}

impl EmbedderChoice {
    /// The sentence-transformers folder in use: [`model_dir`](Self::model_dir) or the default.
    pub fn model_dir(&self) -> PathBuf {
        self.model_dir.clone().unwrap_or_else(default_model_dir)
    }

    /// Loads the model or connects to the API (its key from `OPENAI_API_KEY`).
    pub fn open(&self) -> Result<Box<dyn Embedder>> {
        match self.kind {
            EmbedderKind::Local => Ok(Box::new(LocalModel::load(&self.model_dir())?)),
            EmbedderKind::LocalInt8 => Ok(Box::new(LocalModel::load_with(
                &self.model_dir(),
                Precision::Int8,
            )?)),
            EmbedderKind::Openai => {
                let mut p = OpenAiParams::from_env()
                    .model(&self.api_model)
                    .dimensions(self.dimensions)
                    .batch_size(self.batch_size)
                    .concurrency(self.concurrency);
                if let Some(url) = &self.base_url {
                    p = p.base_url(url);
                }
                Ok(Box::new(p.connect()?))
            }
            EmbedderKind::Fastembed => self.open_onnx(),
        }
    }

    #[cfg(feature = "fastembed")]
    fn open_onnx(&self) -> Result<Box<dyn Embedder>> {
        if let Some(name) = &self.fastembed_model {
            return Ok(Box::new(super::catalog_model(
                name,
                self.ort_library.as_deref(),
            )?));
        }
        let onnx = self
            .onnx
            .clone()
            .unwrap_or_else(|| super::default_onnx_dir().join("all-MiniLM-L6-v2-int8/model.onnx"));
        let mut p = super::OnnxParams::new(onnx, self.model_dir());
        if let Some(lib) = &self.ort_library {
            p = p.library(lib);
        }
        Ok(Box::new(p.connect()?))
    }

    #[cfg(not(feature = "fastembed"))]
    fn open_onnx(&self) -> Result<Box<dyn Embedder>> {
        Err(Error::param(
            "embedder",
            "fastembed",
            "this build has no ONNX support (the crate's `fastembed` feature is off)",
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_are_found_by_name_and_a_wrong_name_is_named() {
        for (name, kind) in EmbedderKind::NAMES {
            assert_eq!(EmbedderKind::from_name(name).unwrap(), kind);
        }
        let e = EmbedderKind::from_name("bert").unwrap_err().to_string();
        assert!(e.contains("\"bert\"") && e.contains("local-int8"), "{e}");
    }

    #[test]
    fn a_missing_model_folder_is_named() {
        let choice = EmbedderChoice {
            model_dir: Some("/nonexistent/minilm".into()),
            ..EmbedderChoice::default()
        };
        let e = choice.open().err().expect("no model there").to_string();
        assert!(e.contains("/nonexistent/minilm"), "{e}");
    }
}
