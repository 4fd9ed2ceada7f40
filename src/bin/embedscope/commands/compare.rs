//! `embedscope compare A B`: one corpus under two embeddings (two models, or a model and its
//! update), or two snapshots of it: do the documents keep their neighbours, do the clusters
//! survive, which documents and topics came and went, did the corpus move? Each side is
//! audited (unless `--quick`) and the two audits are set side by side in one HTML report,
//! `compare.json` with a verdict, and Parquet tables.

use std::path::{Path, PathBuf};

use clap::Args;
use embedscope::compare::{Compare, CompareThresholds, Comparison};
use embedscope::report::{write_compare_html, ReportOptions};

use super::audit::VerdictFailed;
use crate::args::{EmbedderArg, InputArgs, ModelArgs, SweepArgs};
use crate::output::json_and_summary;
use crate::progress::Bars;

#[derive(Args)]
pub struct CompareArgs {
    #[command(flatten)]
    input: InputArgs,
    /// The second corpus (B), read with the same column options; its rows are matched to A's
    /// by id (the id column, else the row number).
    b: PathBuf,
    #[command(flatten)]
    model: ModelArgs,
    /// Embed B with this embedder instead (its texts, even when B's file has vectors): the
    /// same corpus under two models. The other model options apply to both sides unless
    /// given for B below.
    #[arg(long, value_enum)]
    embedder_b: Option<EmbedderArg>,
    /// B's sentence-transformers model folder (with --embedder-b).
    #[arg(long)]
    model_dir_b: Option<PathBuf>,
    /// B's ONNX file (with --embedder-b fastembed).
    #[arg(long)]
    onnx_b: Option<PathBuf>,
    /// B's API model name (with --embedder-b openai).
    #[arg(long)]
    embedding_model_b: Option<String>,
    /// HTML report to write (default: reports/compare-<A stem>-vs-<B stem>.html).
    #[arg(long)]
    out: Option<PathBuf>,
    /// Write the comparison as JSON to this file (`-`: stdout, the summary then goes to
    /// stderr).
    #[arg(long)]
    json: Option<PathBuf>,
    /// Write Parquet tables into this folder: neighbours.parquet (per query document: id,
    /// shared, jaccard, cluster_a, cluster_b), clusters.parquet, topics.parquet.
    #[arg(long)]
    tables: Option<PathBuf>,
    /// Skip the two audits: no side-by-side numbers (noise, duplicates, recall, hubness) and
    /// no maps; each side is clustered by its own sweep.
    #[arg(long)]
    quick: bool,
    /// Skip the maps in the two audits.
    #[arg(long)]
    no_map: bool,
    /// Neighbours per document compared.
    #[arg(long, default_value_t = 10)]
    neighbours: usize,
    /// Documents whose neighbourhoods are compared (a seeded sample above).
    #[arg(long, default_value_t = 5_000)]
    queries: usize,
    #[command(flatten)]
    sweep: SweepArgs,
    /// Rows in both compared at most (a seeded sample above, the same rows on both sides);
    /// each side's sweep runs on as many of its own rows.
    #[arg(long, default_value_t = 50_000)]
    sample: usize,
    /// Centroid cosine at or above which a topic of A and one of B are the same topic.
    #[arg(long, default_value_t = 0.8)]
    topic_match: f64,
    /// Cosine at or above which documents are near duplicates (in each audit, and a new
    /// document copying an old one).
    #[arg(long, default_value_t = 0.95)]
    dedup_threshold: f64,
    /// Rows of each side in the drift test (MMD).
    #[arg(long, default_value_t = 2_000)]
    drift_rows: usize,
    /// Random relabellings behind the drift test's p-value.
    #[arg(long, default_value_t = 200)]
    permutations: usize,
    /// Verdict: largest drop of cluster-retrieval recall@10 at --nprobe from A to B.
    #[arg(long, default_value_t = 0.05)]
    max_recall_drop: f64,
    /// Verdict: the nprobe the recall is read at.
    #[arg(long, default_value_t = 3)]
    nprobe: usize,
    /// Verdict: largest share of its documents a topic of A may lose in B.
    #[arg(long, default_value_t = 0.5)]
    max_topic_loss: f64,
    /// Verdict: smallest mean share of A's neighbours B keeps.
    #[arg(long, default_value_t = 0.5)]
    min_neighbour_overlap: f64,
    /// Verdict: largest rise of the duplicate share from A to B.
    #[arg(long, default_value_t = 0.05)]
    max_duplicate_rise: f64,
    /// Exit with code 1 when the verdict fails (after writing every output).
    #[arg(long)]
    fail_on_verdict: bool,
    /// Seed of every stochastic step.
    #[arg(long, default_value_t = 42)]
    seed: u64,
    /// Leave out timings, so that two runs give byte-identical outputs.
    #[arg(long)]
    no_timings: bool,
}

impl CompareArgs {
    fn report_path(&self) -> PathBuf {
        self.out.clone().unwrap_or_else(|| {
            let b = self
                .b
                .file_stem()
                .map_or_else(|| "corpus".into(), |s| s.to_string_lossy().into_owned());
            Path::new("reports").join(format!("compare-{}-vs-{b}.html", self.input.stem()))
        })
    }

    /// B's model options: A's, with the `-b` ones in their place.
    fn model_b(&self) -> Option<ModelArgs> {
        let embedder = self.embedder_b?;
        let mut m = self.model.clone();
        m.embedder = embedder;
        if let Some(d) = &self.model_dir_b {
            m.model_dir = Some(d.clone());
        }
        if let Some(o) = &self.onnx_b {
            m.onnx = Some(o.clone());
        }
        if let Some(e) = &self.embedding_model_b {
            m.embedding_model = e.clone();
        }
        Some(m)
    }
}

pub fn run(args: &CompareArgs) -> anyhow::Result<()> {
    let params = Compare::params()
        .neighbours(args.neighbours)
        .queries(args.queries)
        .k_range(args.sweep.k_min, args.sweep.k_max)
        .n_init(args.sweep.n_init)
        .sample(args.sample)
        .topic_match(args.topic_match)
        .dedup_threshold(args.dedup_threshold)
        .drift_rows(args.drift_rows)
        .permutations(args.permutations)
        .thresholds(CompareThresholds {
            max_recall_drop: args.max_recall_drop,
            nprobe: args.nprobe,
            max_topic_loss: args.max_topic_loss,
            min_neighbour_overlap: args.min_neighbour_overlap,
            max_duplicate_rise: args.max_duplicate_rise,
        })
        .seed(args.seed);
    params.check()?;
    let model_b = args.model_b();
    let (mut a, va) = args.model.vectors(&args.input)?;
    a.vectors = Some(va);
    let b_input = InputArgs {
        input: args.b.clone(),
        text_column: args.input.text_column.clone(),
        id_column: args.input.id_column.clone(),
        vector_column: args.input.vector_column.clone(),
        label_column: args.input.label_column.clone(),
        store: args.input.store.clone(),
    };
    let (mut b, vb) = match &model_b {
        Some(m) => m.vectors_or_embed(&b_input, true)?,
        None => args.model.vectors(&b_input)?,
    };
    b.vectors = Some(vb);
    // Sides that cannot be compared are refused before either is audited.
    let bars = Bars::default();
    let mut c = params.run_with_audits(&a, &b, args.quick, !args.no_map, &bars)?;
    if args.no_timings {
        c = c.without_timings();
    }
    let out = args.report_path();
    write_compare_html(&out, &c, &ReportOptions::default())?;
    if let Some(dir) = &args.tables {
        c.write_tables(dir)?;
    }
    json_and_summary(
        args.json.as_deref(),
        &c,
        |p| c.write_json(p),
        &(summary(&c) + &format!("report: {}\n", out.display())),
    )?;
    if args.fail_on_verdict && !c.verdict.pass {
        return Err(VerdictFailed(c.verdict.failed.clone()).into());
    }
    Ok(())
}

/// The findings in a few lines.
fn summary(c: &Comparison) -> String {
    let n = &c.neighbours;
    let k = &c.clusters;
    let mut s = format!(
        "A: {}\nB: {}\n{} ids in both ({} in A only, {} in B only), compared in {:.1} s\n",
        c.source_a, c.source_b, c.overlap.both, c.overlap.a_only, c.overlap.b_only, c.seconds
    );
    s += &format!(
        "neighbours: B keeps {:.1}% of A's {} nearest (median {:.0}%, Jaccard {:.3}) over {} documents\n",
        100.0 * n.mean_overlap,
        n.k,
        100.0 * n.median_overlap,
        n.mean_jaccard,
        n.queries
    );
    s += &format!(
        "clusters: A K = {} (silhouette {:.4}, {} dims), B K = {} (silhouette {:.4}, {} dims); ARI {:.3}, NMI {:.3} at their own K",
        k.k_a, c.a.silhouette, c.a.dim, k.k_b, c.b.silhouette, c.b.dim, k.ari_own_k, k.nmi_own_k
    );
    if let (Some(ari), Some(nmi)) = (k.ari_common_k, k.nmi_common_k) {
        s += &format!("; ARI {ari:.3}, NMI {nmi:.3} both at K = {}", k.k_a);
    }
    s += "\n";
    for m in &k.matches {
        s += &format!(
            "  A cluster {:>3} ({:>6}) -> B {:>3} ({:>6}), Jaccard {:.3}\n",
            m.a,
            m.a_size,
            m.b.map_or_else(|| "-".into(), |b| b.to_string()),
            m.b_size,
            m.jaccard
        );
    }
    for sp in &k.splits {
        let into: Vec<String> = sp
            .into
            .iter()
            .map(|(b, r)| format!("B {b} ({r})"))
            .collect();
        s += &format!(
            "  A cluster {} splits into {}\n",
            sp.cluster,
            into.join(", ")
        );
    }
    for sp in &k.merges {
        let from: Vec<String> = sp
            .into
            .iter()
            .map(|(a, r)| format!("A {a} ({r})"))
            .collect();
        s += &format!("  B cluster {} merges {}\n", sp.cluster, from.join(", "));
    }
    let d = &c.documents;
    s += &format!(
        "documents: {} added, {} removed, {} changed, {} unchanged\n",
        d.added, d.removed, d.changed, d.unchanged
    );
    if let Some(t) = &c.topics {
        s += &format!(
            "topics (centroid cosine >= {}): {} matched, {} new in B, {} gone from A\n",
            t.threshold, t.matched, t.new, t.gone
        );
        for x in &t.topics {
            s += &format!(
                "  {:<8} A {:>3} {:>6} ({:>5.1}%) {:<32} B {:>3} {:>6} ({:>5.1}%) {}{}\n",
                format!("{:?}", x.status).to_lowercase(),
                x.a.map_or_else(|| "-".into(), |v| v.to_string()),
                x.size_a,
                100.0 * x.share_a,
                x.label_a,
                x.b.map_or_else(|| "-".into(), |v| v.to_string()),
                x.size_b,
                100.0 * x.share_b,
                x.label_b,
                x.cosine
                    .map_or_else(String::new, |c| format!(" (cos {c:.3})"))
            );
        }
    }
    if let Some(d) = &c.drift {
        s += &format!(
            "drift: MMD² {:.5} over {} + {} rows, p = {:.3} ({} permutations)\n",
            d.mmd2, d.rows_a, d.rows_b, d.p_value, d.permutations
        );
    }
    if let Some(x) = c.cross_duplicates.as_ref().filter(|x| x.added > 0) {
        s += &format!(
            "copies: {} of {} new documents copy an old one at cosine >= {}\n",
            x.copies, x.searched, x.threshold
        );
    }
    if let Some(sb) = &c.side_by_side {
        s += "side by side (A, B, better):\n";
        let f = |x: Option<f64>| x.map_or_else(|| "-".into(), |v| format!("{v:.3}"));
        for m in &sb.metrics {
            s += &format!(
                "  {:<28} {:>7} {:>7} {}\n",
                m.name,
                f(m.a),
                f(m.b),
                m.better.as_deref().unwrap_or("-")
            );
        }
    }
    for d in n.changed.iter().take(5) {
        s += &format!(
            "  changed most ({} of {} shared): {} {}\n",
            d.shared, n.k, d.doc.id, d.doc.text
        );
    }
    for note in &c.notes {
        s += &format!("note: {note}\n");
    }
    let v = &c.verdict;
    s += &format!(
        "verdict: {} ({})\n",
        if v.pass { "PASS" } else { "FAIL" },
        v.checks
            .iter()
            .filter_map(|x| x.value.map(|val| format!(
                "{} {:.3}, limit {} {}: {}",
                x.name,
                val,
                x.op,
                x.limit,
                if x.pass == Some(true) { "ok" } else { "FAILED" }
            )))
            .collect::<Vec<_>>()
            .join("; ")
    );
    s
}
