//! What the query analysis is set against, built the same way by the command line's `queries`
//! and `audit --queries` and by Python: judgements read from a query file's column, and the
//! corpus' topics from a K sweep.

use super::{QueriesParams, Topics};
use crate::cluster::KSweepParams;
use crate::error::{Error, Result};
use crate::io::Corpus;
use crate::label::llm::LlmParams;
use crate::label::{apply_llm_labels, summarise_clusters};
use crate::rng::Rng;

/// The ids in one judgement cell: a JSON list (`["a", 7]`), or comma-separated (`a, 7`); an
/// empty cell: none (the query is not judged).
///
/// ```
/// use embedscope::queries::relevant_ids;
/// assert_eq!(relevant_ids("[\"a\", 7]"), ["a", "7"]);
/// assert_eq!(relevant_ids(" a, 7 ,"), ["a", "7"]);
/// assert!(relevant_ids("").is_empty());
/// ```
pub fn relevant_ids(cell: &str) -> Vec<String> {
    let cell = cell.trim();
    if cell.starts_with('[') {
        if let Ok(v) = serde_json::from_str::<Vec<serde_json::Value>>(cell) {
            return v
                .into_iter()
                .map(|x| match x {
                    serde_json::Value::String(s) => s,
                    other => other.to_string(),
                })
                .collect();
        }
    }
    cell.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(String::from)
        .collect()
}

impl QueriesParams {
    /// Judgements from `queries`' label column (read with the query file's relevant column as
    /// its label column), taken out of it: each cell the ids relevant to its query
    /// ([`relevant_ids`]). Without labels, unchanged.
    pub fn judged_by_labels(self, queries: &mut Corpus) -> Self {
        match queries.labels.take() {
            Some(cells) => self.relevant(Some(cells.iter().map(|c| relevant_ids(c)).collect())),
            None => self,
        }
    }
}

/// Rows the topics' K sweep runs on at most (a seeded sample above, every row assigned).
const TOPIC_SWEEP_ROWS: usize = 50_000;

impl Topics {
    /// The corpus' topics for the query analysis: K-Means at the K the silhouette picks
    /// (`sweep`; on a seeded sample of 50,000 rows above that, every row assigned to the
    /// chosen centroids), each cluster labelled with its c-TF-IDF keywords, or by the LLM
    /// when `llm` is given and the corpus has texts.
    pub fn fit(
        corpus: &Corpus,
        sweep: KSweepParams,
        seed: u64,
        llm: Option<&LlmParams>,
    ) -> Result<Topics> {
        let v = corpus.vectors.as_ref().ok_or_else(|| {
            Error::Unsupported(format!(
                "{}: topics need the corpus' vectors",
                corpus.source.display()
            ))
        })?;
        let params = sweep.seed(seed);
        let (s, labels) = if v.rows() > TOPIC_SWEEP_ROWS {
            let mut rows = Rng::new(seed, 0x0511).sample(v.rows(), TOPIC_SWEEP_ROWS);
            rows.sort_unstable();
            let s = params.population(v.rows()).fit(&v.select(&rows))?;
            let labels = s.chosen_model().predict(v)?;
            (s, labels)
        } else {
            let s = params.fit(v)?;
            let labels = s.chosen_model().labels().to_vec();
            (s, labels)
        };
        let mut clusters = summarise_clusters(corpus, v, &labels, s.chosen_k);
        if let (Some(p), Some(_)) = (llm, &corpus.texts) {
            apply_llm_labels(&mut clusters, p)?;
        }
        let names = clusters.into_iter().map(|c| c.label).collect();
        Ok(Topics { labels, names })
    }
}
