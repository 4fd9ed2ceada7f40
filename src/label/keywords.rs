//! Keywords per cluster by class-based TF-IDF (BERTopic's c-TF-IDF): the term counts of each
//! cluster's documents, each cluster's row L1-normalised, times
//! `idf = ln(1 + A / f)` where `f` is the term's count over all clusters and `A` the average
//! number of terms per cluster. Terms are scikit-learn `CountVectorizer` tokens (lowercase runs
//! of two or more word characters), English stop words removed, then unigrams and bigrams.
//!
//! One difference from BERTopic, on purpose: BERTopic joins a cluster's documents into one
//! string before counting, which makes bigrams across document boundaries; here each document
//! is counted alone and the counts summed.

use std::collections::HashMap;

use serde::Serialize;

use super::stop_words::STOP_WORDS;
use crate::error::{Error, Result};

/// A keyword and its c-TF-IDF weight.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct Keyword {
    /// The term (a word, or two words separated by a space).
    pub term: String,
    /// Its c-TF-IDF weight in the cluster.
    pub weight: f64,
}

/// Parameters of [`keywords`]; build with [`KeywordParams::default`].
#[derive(Debug, Clone, PartialEq)]
pub struct KeywordParams {
    top_n: usize,
    max_ngram: usize,
    stop_words: bool,
    reduce_frequent_words: bool,
}

impl Default for KeywordParams {
    /// Top 10 keywords (BERTopic's `top_n_words`), unigrams and bigrams, English stop words
    /// removed, no frequent-word damping.
    fn default() -> Self {
        KeywordParams {
            top_n: 10,
            max_ngram: 2,
            stop_words: true,
            reduce_frequent_words: false,
        }
    }
}

impl KeywordParams {
    /// Keywords per cluster (default 10, BERTopic `top_n_words`).
    pub fn top_n(mut self, n: usize) -> Self {
        self.top_n = n;
        self
    }

    /// Longest n-gram: 1 for words only, 2 (default) for words and bigrams
    /// (`CountVectorizer(ngram_range=(1, n))`).
    pub fn max_ngram(mut self, n: usize) -> Self {
        self.max_ngram = n;
        self
    }

    /// Remove English stop words (default true, `CountVectorizer(stop_words="english")`).
    pub fn stop_words(mut self, yes: bool) -> Self {
        self.stop_words = yes;
        self
    }

    /// Square-root the term frequencies (default false, BERTopic's
    /// `ClassTfidfTransformer(reduce_frequent_words=True)`).
    pub fn reduce_frequent_words(mut self, yes: bool) -> Self {
        self.reduce_frequent_words = yes;
        self
    }

    /// Validates the parameters.
    pub fn check(&self) -> Result<()> {
        if self.top_n == 0 {
            return Err(Error::param("top_n", 0, "must be at least 1"));
        }
        if !(1..=3).contains(&self.max_ngram) {
            return Err(Error::param(
                "max_ngram",
                self.max_ngram,
                "must be 1, 2 or 3",
            ));
        }
        Ok(())
    }
}

/// The terms of one document: tokens, stop words removed, then n-grams up to `max_ngram`.
pub fn terms(text: &str, params: &KeywordParams) -> Vec<String> {
    let lower = text.to_lowercase();
    let tokens: Vec<&str> = lower
        .split(|c: char| !(c.is_alphanumeric() || c == '_'))
        .filter(|t| t.chars().count() >= 2)
        .filter(|t| !(params.stop_words && STOP_WORDS.binary_search(t).is_ok()))
        .collect();
    let mut out: Vec<String> = tokens.iter().map(|t| t.to_string()).collect();
    for n in 2..=params.max_ngram {
        for w in tokens.windows(n) {
            out.push(w.join(" "));
        }
    }
    out
}

/// A short label from ranked keywords: the first `n` that share no word with a term already
/// taken (so "haskell" is not followed by "haskell org"), joined by ", ".
///
/// ```
/// use embedscope::label::{short_label, Keyword};
/// let k = ["haskell", "haskell org", "programming", "library"]
///     .map(|t| Keyword { term: t.into(), weight: 1.0 });
/// assert_eq!(short_label(&k, 3), "haskell, programming, library");
/// ```
pub fn short_label(ranked: &[Keyword], n: usize) -> String {
    let mut taken: Vec<&str> = Vec::new();
    let mut words: Vec<&str> = Vec::new();
    for k in ranked {
        if taken.len() == n {
            break;
        }
        if k.term.split(' ').any(|w| words.contains(&w)) {
            continue;
        }
        words.extend(k.term.split(' '));
        taken.push(&k.term);
    }
    taken.join(", ")
}

/// The top keywords of each of `n_clusters` clusters. `labels[i]` is document `i`'s cluster
/// (`None`: noise, which counts as one more class for the weights, as BERTopic's topic -1).
/// Ties in weight go to the term that sorts first, so the result is deterministic.
///
/// ```
/// use embedscope::label::{keywords, KeywordParams};
/// let texts = ["rust compiler borrow checker", "rust cargo compiler", "python pandas dataframe",
///              "python numpy arrays"].map(String::from);
/// let k = keywords(&texts, &[Some(0), Some(0), Some(1), Some(1)], 2, &KeywordParams::default())?;
/// assert_eq!(k[0][0].term, "compiler");
/// assert_eq!(k[1][0].term, "python");
/// # Ok::<(), embedscope::Error>(())
/// ```
pub fn keywords(
    texts: &[String],
    labels: &[Option<usize>],
    n_clusters: usize,
    params: &KeywordParams,
) -> Result<Vec<Vec<Keyword>>> {
    params.check()?;
    if texts.len() != labels.len() {
        return Err(Error::param(
            "labels",
            labels.len(),
            format!("there are {} texts", texts.len()),
        ));
    }
    if let Some(&bad) = labels.iter().flatten().find(|&&c| c >= n_clusters) {
        return Err(Error::param(
            "labels",
            bad,
            format!("cluster ids must be below {n_clusters}"),
        ));
    }
    // Class n_clusters holds the noise.
    let classes = n_clusters + 1;
    let mut vocab: HashMap<String, usize> = HashMap::new();
    let mut names: Vec<String> = Vec::new();
    let mut counts: Vec<HashMap<usize, f64>> = vec![HashMap::new(); classes];
    for (text, label) in texts.iter().zip(labels) {
        let class = label.unwrap_or(n_clusters);
        for term in terms(text, params) {
            let id = match vocab.get(&term) {
                Some(&id) => id,
                None => {
                    names.push(term.clone());
                    vocab.insert(term, names.len() - 1);
                    names.len() - 1
                }
            };
            *counts[class].entry(id).or_insert(0.0) += 1.0;
        }
    }
    let mut total = vec![0.0f64; names.len()];
    let mut row_sums = vec![0.0f64; classes];
    for (c, row) in counts.iter().enumerate() {
        for (&id, &v) in row {
            total[id] += v;
            row_sums[c] += v;
        }
    }
    // BERTopic averages over the rows of its count matrix: every cluster, plus the noise row
    // when there is noise.
    let rows_used: Vec<f64> = (0..classes)
        .filter(|&c| c < n_clusters || row_sums[c] > 0.0)
        .map(|c| row_sums[c])
        .collect();
    let avg = (rows_used.iter().sum::<f64>() / rows_used.len().max(1) as f64).floor();
    let mut out = Vec::with_capacity(n_clusters);
    for (c, row) in counts.iter().enumerate().take(n_clusters) {
        let mut scored: Vec<(f64, &str)> = row
            .iter()
            .map(|(&id, &v)| {
                let mut tf = v / row_sums[c];
                if params.reduce_frequent_words {
                    tf = tf.sqrt();
                }
                (tf * (avg / total[id] + 1.0).ln(), names[id].as_str())
            })
            .collect();
        scored.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(b.1)));
        out.push(
            scored
                .into_iter()
                .take(params.top_n)
                .map(|(w, t)| Keyword {
                    term: t.to_string(),
                    weight: w,
                })
                .collect(),
        );
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_follow_count_vectorizer() {
        let p = KeywordParams::default();
        assert_eq!(
            terms("The C++ compiler, and GTK+ 3.0's X11 libs!", &p),
            vec![
                "compiler",
                "gtk",
                "x11",
                "libs",
                "compiler gtk",
                "gtk x11",
                "x11 libs"
            ]
        );
        // Stop words go before the bigrams are formed, as in scikit-learn.
        assert_eq!(terms("rust is fast", &p), vec!["rust", "fast", "rust fast"]);
        let words = KeywordParams::default().max_ngram(1).stop_words(false);
        assert_eq!(terms("Rust is fast", &words), vec!["rust", "is", "fast"]);
    }

    #[test]
    fn weights_follow_the_formula() {
        // Two clusters: {a a b}, {b c}. Totals a=2, b=2, c=1; rows 3 and 2; avg = floor(2.5) = 2.
        let texts = ["aa aa bb", "bb cc"].map(String::from);
        let k = keywords(
            &texts,
            &[Some(0), Some(1)],
            2,
            &KeywordParams::default().max_ngram(1),
        )
        .unwrap();
        let w = |c: usize, t: &str| k[c].iter().find(|x| x.term == t).unwrap().weight;
        assert!((w(0, "aa") - (2.0 / 3.0) * (2.0f64 / 2.0 + 1.0).ln()).abs() < 1e-12);
        assert!((w(1, "cc") - 0.5 * (2.0f64 / 1.0 + 1.0).ln()).abs() < 1e-12);
        assert_eq!(k[0][0].term, "aa");
        assert_eq!(k[1][0].term, "cc");
    }

    #[test]
    fn bad_labels_are_errors() {
        let texts = ["a b"].map(String::from);
        let rule = |labels: &[Option<usize>], p: KeywordParams| {
            crate::error::Error::rule(keywords(&texts, labels, 2, &p))
        };
        assert_eq!(rule(&[Some(3)], KeywordParams::default()), "labels");
        assert_eq!(rule(&[], KeywordParams::default()), "labels");
        assert_eq!(rule(&[None], KeywordParams::default().top_n(0)), "top_n");
    }
}
