//! Naming the clusters: c-TF-IDF keywords (offline, deterministic).

pub mod keywords;
pub mod llm;
pub mod mmr;
mod stop_words;

pub use keywords::{keywords, short_label, terms, Keyword, KeywordParams};
