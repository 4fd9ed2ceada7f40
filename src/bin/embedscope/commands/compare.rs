//! `embedscope compare A B`: one corpus under two embeddings (two models, or a model and its
//! update), or two snapshots of it: do the documents keep their neighbours, do the clusters
//! survive, which documents and topics came and went?

use std::path::PathBuf;

use clap::Args;
use embedscope::compare::{Compare, Comparison};

use crate::args::{InputArgs, ModelArgs, SweepArgs};
use crate::output::print_json;

#[derive(Args)]
pub struct CompareArgs {
    #[command(flatten)]
    input: InputArgs,
    /// The second corpus (B), read with the same column options; its rows are matched to A's
    /// by id.
    b: PathBuf,
    #[command(flatten)]
    model: ModelArgs,
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
    /// Seed of every stochastic step.
    #[arg(long, default_value_t = 42)]
    seed: u64,
    /// Print the findings as JSON on stdout.
    #[arg(long)]
    json: bool,
}

pub fn run(args: &CompareArgs) -> anyhow::Result<()> {
    let params = Compare::params()
        .neighbours(args.neighbours)
        .queries(args.queries)
        .k_range(args.sweep.k_min, args.sweep.k_max)
        .n_init(args.sweep.n_init)
        .sample(args.sample)
        .topic_match(args.topic_match)
        .seed(args.seed);
    params.check()?;
    let (mut a, va) = args.model.vectors(&args.input)?;
    a.vectors = Some(va);
    let b_input = InputArgs {
        input: args.b.clone(),
        text_column: args.input.text_column.clone(),
        id_column: args.input.id_column.clone(),
        vector_column: args.input.vector_column.clone(),
        label_column: args.input.label_column.clone(),
    };
    let (mut b, vb) = args.model.vectors(&b_input)?;
    b.vectors = Some(vb);
    let c = params.run(&a, &b)?;
    if args.json {
        print_json(&c)?;
    } else {
        print!("{}", summary(&c));
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
    for d in n.changed.iter().take(5) {
        s += &format!(
            "  changed most ({} of {} shared): {} {}\n",
            d.shared, n.k, d.doc.id, d.doc.text
        );
    }
    for note in &c.notes {
        s += &format!("note: {note}\n");
    }
    s
}
