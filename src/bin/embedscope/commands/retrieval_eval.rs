//! `embedscope retrieval-eval`: cluster-based retrieval against exact search.

use std::path::PathBuf;

use clap::Args;
use embedscope::io::Format;
use embedscope::retrieve::RetrievalEval;

use crate::args::{output_format, IndexArgs, InputArgs, ModelArgs};
use crate::output::{self, print_json};

#[derive(Args)]
pub struct RetrievalEvalArgs {
    #[command(flatten)]
    input: InputArgs,
    #[command(flatten)]
    model: ModelArgs,
    #[command(flatten)]
    index: IndexArgs,
    /// Cells probed, comma-separated; one measurement each.
    #[arg(long, value_delimiter = ',', default_value = "1,2,4,8,16")]
    nprobe: Vec<usize>,
    /// Held-out query rows (at most a tenth of the corpus).
    #[arg(long, default_value_t = 1000)]
    queries: usize,
    /// Results per query (recall@k).
    #[arg(long, default_value_t = 10)]
    top_k: usize,
    /// Timed repetitions per search (the median counts).
    #[arg(long, default_value_t = 3)]
    repeats: usize,
    /// Cosine for the duplicate-impact measurement.
    #[arg(long, default_value_t = 0.95)]
    dedup_threshold: f64,
    /// Skip the duplicate-impact measurement.
    #[arg(long)]
    no_dedup: bool,
    /// Skip hub/orphan counting.
    #[arg(long)]
    no_hubness: bool,
    /// Write recall per cell (cluster, size, truth_hits, recall_nprobe_P...) as .csv.
    #[arg(long)]
    per_cluster: Option<PathBuf>,
    /// Print JSON on stdout.
    #[arg(long)]
    json: bool,
}

/// Cells listed in `--json` (the worst first; all of them go to `--per-cluster`).
const JSON_CELLS: usize = 20;

pub fn run(args: &RetrievalEvalArgs) -> anyhow::Result<()> {
    if let Some(p) = &args.per_cluster {
        output_format(p, "--per-cluster", &[Format::Csv], "written as .csv")?;
    }
    let params = RetrievalEval::params()
        .nlist(args.index.nlist)
        .nprobes(args.nprobe.clone())
        .queries(args.queries)
        .top_k(args.top_k)
        .repeats(args.repeats)
        .seed(args.index.seed)
        .hubness(!args.no_hubness)
        .dedup_threshold((!args.no_dedup).then_some(args.dedup_threshold));
    params.check()?;
    let (corpus, data) = args.model.vectors(&args.input)?;
    // With --label-column, recall is also reported per label value (say, per section).
    let names: Vec<String> = corpus.labels.as_ref().map_or_else(Vec::new, |l| {
        let mut v = l.clone();
        v.sort();
        v.dedup();
        v
    });
    let labels = corpus.labels.as_ref().map(|l| {
        l.iter()
            .map(|x| names.binary_search(x).expect("a value of the column"))
            .collect::<Vec<usize>>()
    });
    let r = params.labels(labels).fit(&data)?;
    if let Some(path) = &args.per_cluster {
        r.write_per_cluster_csv(path)?;
    }
    if args.json {
        return print_json(&output::RetrievalEval {
            n_db: r.n_db,
            n_queries: r.n_queries,
            nlist: r.nlist,
            top_k: r.top_k,
            list_sizes: r.list_sizes,
            build_seconds: r.build_seconds,
            index_copy: r.index_copy,
            exact_qps: r.exact_qps,
            per_nprobe: r
                .per_nprobe
                .iter()
                .map(|&result| output::ProbeRow {
                    top_k: r.top_k,
                    result,
                })
                .collect(),
            skipped_nprobes: &r.skipped_nprobes,
            per_cluster: &r.per_cluster[..r.per_cluster.len().min(JSON_CELLS)],
            per_label: r
                .per_label
                .iter()
                .map(|recall| output::LabelRecall {
                    recall,
                    label: names.get(recall.cluster).map(String::as_str),
                })
                .collect(),
            hubness: r.hubness.as_ref(),
            dedup: r.dedup.as_ref(),
        });
    }
    print_text(args, &r, &names);
    Ok(())
}

fn print_text(args: &RetrievalEvalArgs, r: &RetrievalEval, names: &[String]) {
    let key = format!("recall_at_{}", r.top_k);
    println!(
        "{} rows indexed in {} cells (sizes {}/{}/{} min/median/max, built in {:.2} s); {} held-out queries, top {}",
        r.n_db, r.nlist, r.list_sizes[0], r.list_sizes[1], r.list_sizes[2], r.build_seconds, r.n_queries, r.top_k
    );
    if !r.index_copy {
        println!("the index holds row ids and reads the corpus (no second copy); its timings include gathering each probed cell's rows");
    }
    println!("exact search: {:.0} queries/s", r.exact_qps);
    println!(
        "{:>7} {:>10} {:>12} {:>9}",
        "nprobe", key, "queries/s", "scanned"
    );
    for p in &r.per_nprobe {
        println!(
            "{:>7} {:>10.4} {:>12.0} {:>8.1}%",
            p.nprobe,
            p.recall,
            p.qps,
            100.0 * p.scanned_fraction
        );
    }
    if !r.skipped_nprobes.is_empty() {
        println!(
            "skipped nprobe {:?} (more than the {} cells)",
            r.skipped_nprobes, r.nlist
        );
    }
    println!("worst cells at nprobe {}:", r.per_nprobe[0].nprobe);
    for c in r.per_cluster.iter().take(5) {
        println!(
            "  cell {:<5} {:>6} rows  {:>5} exact hits  recall {:.3}",
            c.cluster, c.size, c.truth_hits, c.recall[0]
        );
    }
    if !r.per_label.is_empty() {
        println!(
            "worst {} values at nprobe {}:",
            args.input.label_column.as_deref().unwrap_or("label"),
            r.per_nprobe[0].nprobe
        );
        for c in r.per_label.iter().take(5) {
            println!(
                "  {:<20} {:>6} rows  {:>5} exact hits  recall {:.3}",
                names[c.cluster], c.size, c.truth_hits, c.recall[0]
            );
        }
    }
    if let Some(h) = &r.hubness {
        println!(
            "hubness (k={}): skewness {:.2}, largest k-occurrence {}, top 1% of documents take {:.1}% of slots, {} orphans ({:.1}%)",
            h.k, h.skewness, h.max_count, 100.0 * h.top1pct_slot_share, h.orphans, 100.0 * h.orphan_share
        );
    }
    if let Some(d) = &r.dedup {
        println!(
            "near duplicates (cosine >= {}) take {:.1}% of top-{} slots ({} of {} queries); after removing {} rows: {:.1}%",
            d.threshold, 100.0 * d.before.redundant_share, r.top_k, d.before.queries_affected, r.n_queries, d.removed_rows, 100.0 * d.after.redundant_share
        );
    }
}
