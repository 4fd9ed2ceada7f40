//! `embedscope queries INPUT QUERIES`: what users ask against what the corpus holds. Coverage
//! gaps (queries with nothing close, grouped and labelled), demand against supply per topic,
//! documents nobody retrieves and documents everybody does, recall of cluster retrieval on the
//! real queries, and with judgements recall@k, MRR and nDCG@10.

use std::path::PathBuf;

use clap::Args;
use embedscope::cluster::KSweep;
use embedscope::queries::{QueryReport, Topics};
use embedscope::Corpus;

use crate::args::{InputArgs, LlmArgs, ModelArgs, QueryFileArgs, SweepArgs};
use crate::output::json_and_summary;

#[derive(Args)]
pub struct QueriesArgs {
    #[command(flatten)]
    input: InputArgs,
    /// The queries: .jsonl, .csv or .parquet with a text column (embedded with the corpus'
    /// model, through the same cache) or a vector column.
    queries: PathBuf,
    #[command(flatten)]
    query: QueryFileArgs,
    #[command(flatten)]
    model: ModelArgs,
    /// The nprobes cluster retrieval is measured at.
    #[arg(long, value_delimiter = ',', default_value = "1,2,4,8,16")]
    nprobe: Vec<usize>,
    /// IVF cells (default round(sqrt(documents))).
    #[arg(long)]
    nlist: Option<usize>,
    #[command(flatten)]
    sweep: SweepArgs,
    #[command(flatten)]
    llm: LlmArgs,
    /// Skip the corpus' topics (demand against supply needs them: a K-Means sweep).
    #[arg(long)]
    no_topics: bool,
    /// Seed of every stochastic step.
    #[arg(long, default_value_t = 42)]
    seed: u64,
    /// Write the findings as JSON to this file (`-`: stdout).
    #[arg(long)]
    json: Option<PathBuf>,
    /// Write one row per query (id, text, best_cosine, gap, topic, top_ids) to this Parquet
    /// file. (`--table` names a store's table, as for every INPUT.)
    #[arg(long)]
    per_query: Option<PathBuf>,
}

/// The corpus' topics as the audit finds them: the silhouette sweep on up to 50,000 rows,
/// every row assigned, each cluster named by its c-TF-IDF keywords (or, with `--llm`, by the
/// language model as the audit names them).
pub fn run(args: &QueriesArgs) -> anyhow::Result<()> {
    // Every option is checked before a file is read or a model loaded.
    let llm = args.llm.params()?;
    args.query
        .params(&mut Corpus::from_texts(Vec::<String>::new()))
        .nprobes(args.nprobe.clone())
        .llm(llm.clone())
        .check()?;
    let (mut corpus, v) = args.model.vectors(&args.input)?;
    corpus.vectors = Some(v);
    let (mut queries, qv) = args.model.vectors(&args.query.input(&args.queries))?;
    queries.vectors = Some(qv);
    let mut params = args
        .query
        .params(&mut queries)
        .nprobes(args.nprobe.clone())
        .nlist(args.nlist)
        .seed(args.seed)
        .llm(llm.clone());
    params.check()?;
    if !args.no_topics {
        let sweep = KSweep::params()
            .k_min(args.sweep.k_min)
            .k_max(args.sweep.k_max)
            .n_init(args.sweep.n_init);
        params = params.topics(Some(Topics::fit(&corpus, sweep, args.seed, llm.as_ref())?));
    }
    let report = params.run(&corpus, &queries)?;
    if let Some(t) = &args.per_query {
        report.write_table(t)?;
    }
    json_and_summary(
        args.json.as_deref(),
        &report,
        |p| report.write_json(p),
        &summary(&report),
    )?;
    Ok(())
}

/// The findings in a few lines.
fn summary(r: &QueryReport) -> String {
    let c = &r.coverage;
    let mut s = format!(
        "{} queries from {}: {} ({:.1}%) are coverage gaps (best cosine below {:.3}{}), mean best cosine {:.3}\n",
        c.queries,
        r.source,
        c.gaps,
        100.0 * c.gap_share,
        c.threshold,
        c.threshold_quantile
            .map_or_else(String::new, |q| format!(", the corpus' nearest-neighbour {q} quantile")),
        c.mean_best_cosine
    );
    for g in &c.gap_topics {
        s += &format!("  gap: {} ({} queries)", g.label, g.size);
        if let Some(e) = g.examples.first() {
            s += &format!(", e.g. \"{}\" (best {:.3})", e.query, e.best_cosine);
        }
        s += "\n";
    }
    for d in &r.demand {
        s += &format!(
            "  topic {:>3} {:<40} documents {:>5.1}%  queries {:>5.1}%  ratio {:.2}{}\n",
            d.cluster,
            d.label,
            100.0 * d.doc_share,
            100.0 * d.query_share,
            d.ratio,
            if d.over_asked {
                "  over-asked"
            } else if d.queries == 0 {
                "  never asked"
            } else {
                ""
            }
        );
    }
    let u = &r.content;
    s += &format!(
        "dead: {} of {} documents ({:.1}%; at least {:.1}% with {} top-{} slots)\n",
        u.dead,
        u.documents,
        100.0 * u.dead_share,
        100.0 * u.dead_floor,
        u.slots,
        r.top_k
    );
    for h in u.hot.iter().take(3) {
        s += &format!(
            "  hot: {} slots ({:.1}%): {} {}\n",
            h.slots,
            100.0 * h.slot_share,
            h.doc.id,
            h.doc.text
        );
    }
    s += &format!(
        "cluster retrieval (nlist {}): {}\n",
        r.retrieval.nlist,
        r.retrieval
            .per_nprobe
            .iter()
            .map(|p| format!("nprobe {} recall@{} {:.3}", p.nprobe, r.top_k, p.recall))
            .collect::<Vec<_>>()
            .join(", ")
    );
    if let Some(j) = &r.judged {
        s += &format!(
            "judged ({} queries, {} relevant ids not in the corpus): exact recall@{} {:.3}, MRR {:.3}, nDCG@10 {:.3}\n",
            j.queries, j.missing_ids, r.top_k, j.exact.recall_at_k, j.exact.mrr, j.exact.ndcg_at_10
        );
        for p in &j.ivf {
            s += &format!(
                "  IVF nprobe {}: recall@{} {:.3}, MRR {:.3}, nDCG@10 {:.3}\n",
                p.nprobe, r.top_k, p.metrics.recall_at_k, p.metrics.mrr, p.metrics.ndcg_at_10
            );
        }
    }
    for n in &r.notes {
        s += &format!("note: {n}\n");
    }
    s
}
