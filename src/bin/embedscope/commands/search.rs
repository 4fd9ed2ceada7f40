//! `embedscope search`: query the corpus through a cluster index (IVF).

use std::time::Instant;

use anyhow::bail;
use clap::Args;
use embedscope::progress::Silent;
use embedscope::retrieve::{ClusterIndex, Hit};
use embedscope::{Corpus, Embeddings};

use crate::args::{IndexArgs, InputArgs, ModelArgs};
use crate::output::{self, print_json};

#[derive(Args)]
pub struct SearchArgs {
    #[command(flatten)]
    input: InputArgs,
    #[command(flatten)]
    model: ModelArgs,
    #[command(flatten)]
    index: IndexArgs,
    /// Query text (embedded with the chosen embedder, the local model by default). Repeat for
    /// several queries.
    #[arg(long, required_unless_present = "row")]
    query: Vec<String>,
    /// Use corpus row N (0-based) as the query instead of a text.
    #[arg(long, conflicts_with = "query")]
    row: Option<usize>,
    /// Results per query.
    #[arg(long, default_value_t = 10)]
    top_k: usize,
    /// Cells probed.
    #[arg(long, default_value_t = 3)]
    nprobe: usize,
    /// Also run exact search and report which exact results probing missed.
    #[arg(long)]
    exact: bool,
    /// Print JSON on stdout.
    #[arg(long)]
    json: bool,
}

impl SearchArgs {
    /// The queries: a corpus row, or the texts embedded with the corpus' model.
    fn queries(&self, data: &Embeddings) -> anyhow::Result<Vec<(String, Vec<f32>)>> {
        if let Some(r) = self.row {
            if r >= data.rows() {
                bail!("--row {r}: the corpus has {} rows", data.rows());
            }
            return Ok(vec![(format!("row {r}"), data.row(r).to_vec())]);
        }
        let (v, model) = self.model.embed(&self.query, &Silent)?;
        if v.dim() != data.dim() {
            bail!(
                "the model {model} makes {}-dimensional vectors, the corpus {} holds {}-dimensional ones",
                v.dim(),
                self.input.shown(),
                data.dim()
            );
        }
        Ok(self
            .query
            .iter()
            .enumerate()
            .map(|(i, q)| (q.clone(), v.row(i).to_vec()))
            .collect())
    }
}

/// One query's hits, and exact search's when asked for.
struct Answer {
    query: String,
    hits: Vec<Hit>,
    exact: Option<Vec<Hit>>,
}

pub fn run(args: &SearchArgs) -> anyhow::Result<()> {
    if args.top_k == 0 || args.nprobe == 0 {
        bail!("--top-k and --nprobe must be at least 1");
    }
    let mut params = ClusterIndex::params().seed(args.index.seed);
    if let Some(nlist) = args.index.nlist {
        params = params.nlist(nlist);
    }
    let (corpus, data) = args.model.vectors(&args.input)?;
    let queries = args.queries(&data)?;
    let started = Instant::now();
    let index = params.build(&data)?;
    let build_seconds = started.elapsed().as_secs_f64();
    if args.nprobe > index.nlist() {
        bail!(
            "--nprobe {}: the index has {} cells",
            args.nprobe,
            index.nlist()
        );
    }
    let mut answers = Vec::new();
    for (query, q) in queries {
        let hits = index.search(&q, args.top_k, args.nprobe)?;
        let exact = if args.exact {
            let qe = Embeddings::new(q, data.dim())?;
            Some(index.exact_search(&qe, args.top_k)?.remove(0))
        } else {
            None
        };
        answers.push(Answer { query, hits, exact });
    }
    if args.json {
        return print_json(&output::Search {
            nlist: index.nlist(),
            nprobe: args.nprobe,
            top_k: args.top_k,
            build_seconds,
            results: answers.iter().map(|a| json_result(&corpus, a)).collect(),
        });
    }
    for a in &answers {
        println!("query: {}", a.query);
        for (rank, h) in a.hits.iter().enumerate() {
            let snippet: String = text(&corpus, h.row)
                .unwrap_or_else(|| corpus.ids[h.row].clone())
                .chars()
                .take(100)
                .collect();
            println!(
                "{:>3}. {:.4}  cell {:<4} row {:<7} {}",
                rank + 1,
                h.score,
                h.cluster,
                h.row,
                snippet.replace('\n', " ")
            );
        }
        if let Some(e) = &a.exact {
            let missed: Vec<usize> = e
                .iter()
                .filter(|x| !a.hits.iter().any(|h| h.row == x.row))
                .map(|x| x.row)
                .collect();
            println!(
                "exact search: {} of {} found by probing; missed rows {:?}",
                e.len() - missed.len(),
                e.len(),
                missed
            );
        }
    }
    Ok(())
}

fn text(corpus: &Corpus, row: usize) -> Option<String> {
    corpus.texts.as_ref().map(|t| t[row].clone())
}

fn json_result(corpus: &Corpus, a: &Answer) -> output::SearchResult {
    let show = |hits: &[Hit]| {
        hits.iter()
            .map(|h| output::HitView {
                row: h.row,
                id: corpus.ids[h.row].clone(),
                score: h.score,
                cluster: h.cluster,
                text: text(corpus, h.row),
            })
            .collect()
    };
    output::SearchResult {
        query: a.query.clone(),
        hits: show(&a.hits),
        exact: a.exact.as_deref().map(show),
        recall: a.exact.as_ref().map(|e| {
            e.iter()
                .filter(|x| a.hits.iter().any(|h| h.row == x.row))
                .count() as f64
                / e.len() as f64
        }),
    }
}
