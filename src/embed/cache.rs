//! On-disk embedding cache keyed by (model, text hash), so re-running an audit does not
//! re-embed. One file per model id; a different model can never read another's vectors.
//!
//! Format: `ESCACHE1`, u32 length + model id bytes, u32 dim, u64 count, then `count` records of
//! a 16-byte xxh3-128 text hash and `dim` little-endian f32 values. The file is rewritten whole
//! through a temporary file and a rename, so a crash never leaves a torn cache.

use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::io::write_atomic;

const MAGIC: &[u8; 8] = b"ESCACHE1";

/// The hash a text is cached under.
pub fn text_key(text: &str) -> u128 {
    xxhash_rust::xxh3::xxh3_128(text.as_bytes())
}

/// Vectors of one model, by text hash.
#[derive(Debug)]
pub struct EmbeddingCache {
    path: PathBuf,
    model_id: String,
    dim: usize,
    index: HashMap<u128, usize>,
    data: Vec<f32>,
    dirty: bool,
}

impl EmbeddingCache {
    /// Opens (or starts) the cache of `model_id` in `dir`. A file that is unreadable, from
    /// another model or of another dimension is ignored (and replaced on save), with a warning.
    pub fn open(dir: &Path, model_id: &str, dim: usize) -> Result<EmbeddingCache> {
        let file = format!(
            "{:032x}.bin",
            xxhash_rust::xxh3::xxh3_128(model_id.as_bytes())
        );
        let path = dir.join(file);
        let mut cache = EmbeddingCache {
            path,
            model_id: model_id.to_string(),
            dim,
            index: HashMap::new(),
            data: Vec::new(),
            dirty: false,
        };
        match std::fs::read(&cache.path) {
            Ok(bytes) => {
                if let Err(why) = cache.parse(&bytes) {
                    tracing::warn!("ignoring embedding cache {}: {why}", cache.path.display());
                    cache.index.clear();
                    cache.data.clear();
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(Error::io(&cache.path, e)),
        }
        Ok(cache)
    }

    fn parse(&mut self, bytes: &[u8]) -> std::result::Result<(), String> {
        let mut at = 0usize;
        let mut take = |n: usize| -> std::result::Result<&[u8], String> {
            let s = bytes.get(at..at + n).ok_or("truncated")?;
            at += n;
            Ok(s)
        };
        if take(8)? != MAGIC {
            return Err("bad magic".into());
        }
        let id_len = u32::from_le_bytes(take(4)?.try_into().expect("4 bytes")) as usize;
        if take(id_len)? != self.model_id.as_bytes() {
            return Err("written by another model".into());
        }
        let dim = u32::from_le_bytes(take(4)?.try_into().expect("4 bytes")) as usize;
        if dim != self.dim {
            return Err(format!("dimension {dim}, expected {}", self.dim));
        }
        let count = u64::from_le_bytes(take(8)?.try_into().expect("8 bytes")) as usize;
        self.data.reserve(count * dim);
        for _ in 0..count {
            let key = u128::from_le_bytes(take(16)?.try_into().expect("16 bytes"));
            let row = take(dim * 4)?;
            self.index.insert(key, self.data.len() / dim);
            self.data.extend(
                row.chunks_exact(4)
                    .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])),
            );
        }
        Ok(())
    }

    /// Where the cache lives.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Number of cached vectors.
    pub fn len(&self) -> usize {
        self.index.len()
    }

    /// Whether the cache holds nothing.
    pub fn is_empty(&self) -> bool {
        self.index.is_empty()
    }

    /// The vector cached for a text hash.
    pub fn get(&self, key: u128) -> Option<&[f32]> {
        self.index
            .get(&key)
            .map(|&r| &self.data[r * self.dim..(r + 1) * self.dim])
    }

    /// Caches a vector (ignored if the key is present or the length is wrong).
    pub fn insert(&mut self, key: u128, vector: &[f32]) {
        if vector.len() != self.dim || self.index.contains_key(&key) {
            return;
        }
        self.index.insert(key, self.data.len() / self.dim);
        self.data.extend_from_slice(vector);
        self.dirty = true;
    }

    /// Writes the cache if anything was added.
    pub fn save(&mut self) -> Result<()> {
        if !self.dirty {
            return Ok(());
        }
        let mut keys: Vec<(u128, usize)> = self.index.iter().map(|(k, v)| (*k, *v)).collect();
        keys.sort_unstable_by_key(|&(_, r)| r);
        let (dim, id, data) = (self.dim, self.model_id.as_bytes(), &self.data);
        write_atomic(&self.path, |w: &mut dyn Write| {
            w.write_all(MAGIC)?;
            w.write_all(&(id.len() as u32).to_le_bytes())?;
            w.write_all(id)?;
            w.write_all(&(dim as u32).to_le_bytes())?;
            w.write_all(&(keys.len() as u64).to_le_bytes())?;
            let mut buf = Vec::with_capacity(16 + dim * 4);
            for (k, r) in &keys {
                buf.clear();
                buf.extend_from_slice(&k.to_le_bytes());
                for x in &data[r * dim..(r + 1) * dim] {
                    buf.extend_from_slice(&x.to_le_bytes());
                }
                w.write_all(&buf)?;
            }
            Ok(())
        })?;
        self.dirty = false;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_model_isolation() {
        let dir = tempfile::tempdir().unwrap();
        let mut c = EmbeddingCache::open(dir.path(), "model-a", 2).unwrap();
        c.insert(text_key("hello"), &[1.0, 2.0]);
        c.insert(text_key("hello"), &[9.0, 9.0]);
        c.save().unwrap();
        let c = EmbeddingCache::open(dir.path(), "model-a", 2).unwrap();
        assert_eq!(c.get(text_key("hello")), Some(&[1.0, 2.0][..]));
        assert_eq!(c.get(text_key("world")), None);
        let other = EmbeddingCache::open(dir.path(), "model-b", 2).unwrap();
        assert!(
            other.is_empty(),
            "another model must not see model-a's vectors"
        );
    }

    #[test]
    fn corrupt_file_is_ignored() {
        let dir = tempfile::tempdir().unwrap();
        let c = EmbeddingCache::open(dir.path(), "m", 2).unwrap();
        std::fs::write(c.path(), b"ESCACHE1garbage").unwrap();
        let c = EmbeddingCache::open(dir.path(), "m", 2).unwrap();
        assert!(c.is_empty());
    }
}
