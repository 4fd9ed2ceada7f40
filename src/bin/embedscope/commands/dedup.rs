//! `embedscope dedup`: exact and near duplicates, groups, and the deduplicated corpus.

use std::path::PathBuf;

use anyhow::{bail, Context};
use clap::Args;
use embedscope::dedup::{histogram, Dedup, DedupMode, DedupParams, Keep, TextNorm};
use embedscope::io::{write_corpus_rows, write_groups, write_pairs, Format};

use crate::args::{output_format, InputArgs, ModelArgs};
use crate::output::{self, print_json};

#[derive(Args)]
pub struct DedupArgs {
    #[command(flatten)]
    input: InputArgs,
    #[command(flatten)]
    model: ModelArgs,
    /// Cosine similarity at or above which two documents are near duplicates.
    #[arg(long, default_value_t = 0.95)]
    threshold: f64,
    /// Pairs file: .csv or .parquet with columns row_a, row_b, cosine.
    #[arg(long)]
    out: PathBuf,
    /// exact: every pair (the kernel over the upper triangle); clustered: only pairs within and
    /// between neighbouring K-Means cells (SemDeDup-style; recall measured on a sample);
    /// auto: exact up to 100,000 rows.
    #[arg(long, value_enum, default_value_t = DedupMode::Auto)]
    mode: DedupMode,
    /// Cells of the clustered mode (default round(sqrt(n))).
    #[arg(long)]
    nlist: Option<usize>,
    /// Cells each row is compared with in the clustered mode (its own among them).
    #[arg(long, default_value_t = 3)]
    nprobe: usize,
    /// Rows sampled to measure the clustered mode's recall against exact (0: skip).
    #[arg(long, default_value_t = 2000)]
    recall_sample: usize,
    /// Which row of a group stays: first (as the reference workflow), longest (text), or
    /// centroid (nearest the group's mean).
    #[arg(long, value_enum, default_value_t = Keep::First)]
    keep: Keep,
    /// Write the corpus without the removed rows (.parquet, .jsonl, .csv or .npy); exact
    /// duplicates (same normalised text) are removed too.
    #[arg(long)]
    deduplicated: Option<PathBuf>,
    /// Write every grouped row: row, group, kept (.csv or .parquet).
    #[arg(long)]
    groups: Option<PathBuf>,
    /// Exact duplicates keep case (default: compare lowercased).
    #[arg(long)]
    keep_case: bool,
    /// Exact duplicates keep whitespace as it is (default: trimmed, runs collapsed).
    #[arg(long)]
    keep_whitespace: bool,
    /// Exact duplicates ignore punctuation.
    #[arg(long)]
    strip_punctuation: bool,
    /// Seed of the clustered mode's cells and its recall sample.
    #[arg(long, default_value_t = 42)]
    seed: u64,
    /// Print a JSON summary on stdout.
    #[arg(long)]
    json: bool,
}

impl DedupArgs {
    /// The output files' formats and the search's parameters, checked before any loading.
    fn params(&self) -> anyhow::Result<DedupParams> {
        let table = [Format::Csv, Format::Parquet];
        output_format(&self.out, "--out", &table, "written as .csv or .parquet")?;
        if let Some(g) = &self.groups {
            output_format(g, "--groups", &table, "written as .csv or .parquet")?;
        }
        if let Some(d) = &self.deduplicated {
            Format::from_path(d).with_context(|| format!("--deduplicated {}", d.display()))?;
        }
        let params = Dedup::params(self.threshold)
            .mode(self.mode)
            .nlist(self.nlist)
            .nprobe(self.nprobe)
            .recall_sample(self.recall_sample)
            .keep(self.keep)
            .text_norm(TextNorm {
                lowercase: !self.keep_case,
                collapse_whitespace: !self.keep_whitespace,
                strip_punctuation: self.strip_punctuation,
            })
            .seed(self.seed);
        params.check()?;
        Ok(params)
    }
}

pub fn run(args: &DedupArgs) -> anyhow::Result<()> {
    let params = args.params()?;
    let (corpus, data) = args.model.vectors(&args.input)?;
    if args.keep == Keep::Longest && corpus.texts.is_none() {
        bail!(
            "--keep longest: {} has no text column `{}`",
            args.input.shown(),
            args.input.text_column
        );
    }
    let found = params.run(&data, corpus.texts.as_deref())?;
    write_pairs(&args.out, &found.pairs)?;
    if let Some(path) = &args.groups {
        write_groups(path, &found.removal_groups, &found.keepers)?;
    }
    if let Some(path) = &args.deduplicated {
        let label = args.input.label_column.as_deref().unwrap_or("label");
        write_corpus_rows(path, &corpus, Some(&data), label, &found.kept)?;
    }
    let n = found.rows;
    let mode = if found.clustered() {
        "clustered"
    } else {
        "exact"
    };
    if args.json {
        let redundant = |g: &[Vec<usize>]| g.iter().map(|x| x.len() - 1).sum::<usize>();
        let near = &found.near_groups;
        return print_json(&output::Dedup {
            threshold: found.threshold,
            mode,
            rows: n,
            pairs: found.pairs.len(),
            groups: near.len(),
            rows_in_groups: near.iter().map(Vec::len).sum(),
            largest_group: near.iter().map(Vec::len).max().unwrap_or(0),
            removable: redundant(near),
            exact_groups: found.exact_groups.as_ref().map(Vec::len),
            exact_removable: found.exact_groups.as_deref().map(redundant),
            keep: found.keep,
            kept_rows: found.kept.len(),
            removed_rows: n - found.kept.len(),
            clustered: found.nlist.map(|nlist| output::DedupClustered {
                nlist,
                nprobe: found.nprobe,
                recall_sample: found.recall,
                recall_seconds: found.recall_seconds,
            }),
            nearest_cosine_histogram: found.nearest.as_ref().map(|nearest| {
                let (bin_left_edges, counts) = histogram(nearest, 0.5, 1.0, 25);
                output::CosineHistogram {
                    bin_left_edges,
                    counts,
                    below_half: nearest.iter().filter(|&&c| c < 0.5).count(),
                }
            }),
            seconds: found.seconds,
            out: &args.out,
            deduplicated: args.deduplicated.as_deref(),
        });
    }
    eprintln!(
        "{} near-duplicate pairs (cosine >= {}, {mode}) in {} groups; {} of {n} rows kept -> {}",
        found.pairs.len(),
        found.threshold,
        found.near_groups.len(),
        found.kept.len(),
        args.out.display()
    );
    if let Some(r) = found.recall {
        eprintln!(
            "recall against exact on {} sampled rows: {} of {} pairs{}",
            r.rows,
            r.found,
            r.exact_pairs,
            r.recall.map_or(String::new(), |x| format!(" ({x:.4})"))
        );
    }
    Ok(())
}
