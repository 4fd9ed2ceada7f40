//! `embedscope label`: name the clusters of an assignments file.

use std::path::PathBuf;

use anyhow::bail;
use clap::Args;
use embedscope::io::read_assignments;
use embedscope::label::llm::{llm_labels, LlmLabel};
use embedscope::label::mmr::mmr;
use embedscope::label::summary::{summarise_clusters_with, topic_inputs};
use embedscope::label::{keywords, short_label, KeywordParams};
use embedscope::Corpus;

use crate::args::{InputArgs, LlmArgs, ModelArgs};
use crate::output::{self, print_json};

#[derive(Args)]
pub struct LabelArgs {
    #[command(flatten)]
    input: InputArgs,
    /// Assignments (.csv or .parquet with columns row, cluster; -1 = noise), one per input row,
    /// as `embedscope cluster` writes them.
    #[arg(long)]
    assignments: PathBuf,
    /// Keywords per cluster.
    #[arg(long, default_value_t = 10)]
    top_n: usize,
    /// Longest n-gram among the keywords (1 = words only).
    #[arg(long, default_value_t = 2)]
    max_ngram: usize,
    /// Re-rank the keywords for diversity with maximal marginal relevance (BERTopic's
    /// MaximalMarginalRelevance; 0..1, BERTopic's default 0.1), embedding the top 30 candidates
    /// with the local model.
    #[arg(long)]
    mmr: Option<f64>,
    #[command(flatten)]
    model: ModelArgs,
    #[command(flatten)]
    llm: LlmArgs,
    /// Print the result as JSON on stdout.
    #[arg(long)]
    json: bool,
}

pub fn run(args: &LabelArgs) -> anyhow::Result<()> {
    let params = KeywordParams::default()
        .top_n(args.top_n)
        .max_ngram(args.max_ngram);
    params.check()?;
    if let Some(diversity) = args.mmr {
        if !(0.0..=1.0).contains(&diversity) {
            bail!("--mmr {diversity}: the diversity must be in [0, 1]");
        }
    }
    let llm = args.llm.params()?;
    let assignments = read_assignments(&args.assignments)?;
    let corpus = args.input.load()?;
    let texts = args.input.texts(&corpus, "to take keywords from")?;
    if assignments.len() != corpus.len() {
        bail!(
            "{}: {} assignments for the {} rows of {}",
            args.assignments.display(),
            assignments.len(),
            corpus.len(),
            args.input.shown()
        );
    }
    let k = assignments.iter().flatten().max().map_or(0, |&m| m + 1);
    let words = match args.mmr {
        None => keywords(texts, &assignments, k, &params)?,
        Some(diversity) => {
            let candidates = keywords(texts, &assignments, k, &params.clone().top_n(30))?;
            let model = args.model.model()?;
            candidates
                .iter()
                .map(|c| mmr(c, model.as_ref(), args.top_n, diversity))
                .collect::<Result<Vec<_>, _>>()?
        }
    };
    let mut sizes = vec![0usize; k];
    for c in assignments.iter().flatten() {
        sizes[*c] += 1;
    }
    // Examples and neighbouring clusters need vectors: from the file when it has them.
    let summaries = corpus.vectors.as_ref().map(|v| {
        let rows: Vec<usize> = (0..corpus.len())
            .filter(|&i| assignments[i].is_some())
            .collect();
        let mut sub = Corpus::from_texts(rows.iter().map(|&i| texts[i].clone()));
        sub.ids = rows.iter().map(|&i| corpus.ids[i].clone()).collect();
        let sub_labels: Vec<usize> = rows.iter().filter_map(|&i| assignments[i]).collect();
        summarise_clusters_with(&sub, &v.select(&rows), &sub_labels, k, &words)
    });
    let mut labels: Vec<String> = words.iter().map(|w| short_label(w, 3)).collect();
    let mut outcomes: Vec<LlmLabel> = Vec::new();
    if let Some(p) = &llm {
        outcomes = llm_labels(&topic_inputs(&words, summaries.as_deref()), &labels, p)?;
        for (l, o) in labels.iter_mut().zip(&outcomes) {
            l.clone_from(&o.label);
        }
    }
    if args.json {
        return print_json(&output::Label {
            n_clusters: k,
            noise: assignments.iter().filter(|a| a.is_none()).count(),
            clusters: (0..k)
                .map(|c| output::LabelCluster {
                    id: c,
                    size: sizes[c],
                    label: &labels[c],
                    keywords: &words[c],
                    llm: outcomes.get(c).map(|o| output::LlmLabel {
                        label_source: o.source,
                        label_reason: o.reason.as_deref(),
                    }),
                    summary: summaries.as_ref().map(|s| output::LabelSummary {
                        cohesion: s[c].cohesion,
                        examples: &s[c].examples,
                        neighbours: &s[c].neighbours,
                    }),
                })
                .collect(),
        });
    }
    for (c, w) in words.iter().enumerate() {
        let terms: Vec<&str> = w.iter().map(|k| k.term.as_str()).collect();
        println!(
            "{c:>4} {:>7}  {}  [{}]",
            sizes[c],
            short_label(w, 3),
            terms.join("; ")
        );
    }
    Ok(())
}
