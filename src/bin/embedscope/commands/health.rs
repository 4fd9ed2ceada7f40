//! `embedscope health`: are the chunks fit to embed? Tokens against the embedder's limit,
//! empty and very short chunks, boilerplate, encoding damage, languages. No embedding.

use std::path::PathBuf;

use clap::Args;
use embedscope::health::HealthReport;

use super::audit::VerdictFailed;
use crate::args::{HealthCheckArgs, InputArgs};
use crate::output::print_json;

#[derive(Args)]
pub struct HealthArgs {
    #[command(flatten)]
    input: InputArgs,
    /// sentence-transformers model folder whose tokenizer counts the tokens (default:
    /// $EMBEDSCOPE_MODEL_DIR, else ~/.cache/embedscope/models/all-MiniLM-L6-v2).
    #[arg(long)]
    model_dir: Option<PathBuf>,
    /// Skip the token counts (no model folder needed).
    #[arg(long)]
    no_tokens: bool,
    #[command(flatten)]
    checks: HealthCheckArgs,
    /// Seed of the sample word runs are looked for on (above 50,000 chunks).
    #[arg(long, default_value_t = 42)]
    seed: u64,
    /// Exit with code 1 when a check fails.
    #[arg(long)]
    fail_on_verdict: bool,
    /// Print the findings as JSON on stdout.
    #[arg(long)]
    json: bool,
}

pub fn run(args: &HealthArgs) -> anyhow::Result<()> {
    let params = args.checks.params(args.seed)?;
    let counter = if args.no_tokens {
        None
    } else {
        Some(embedscope::health::TokenCounter::at(
            args.model_dir.as_deref(),
            args.checks.max_tokens,
        )?)
    };
    let corpus = args.input.load()?;
    let texts = args.input.texts(&corpus, "to check")?;
    let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
    let report = params.run_texts(&refs, &corpus.ids, counter.as_ref())?;
    if args.json {
        print_json(&report)?;
    } else {
        print!("{}", summary(&report));
    }
    if args.fail_on_verdict && !report.pass {
        let failed = report
            .checks
            .iter()
            .filter(|c| c.pass == Some(false))
            .map(|c| c.name.clone())
            .collect();
        return Err(VerdictFailed(failed).into());
    }
    Ok(())
}

/// The findings in a few lines.
fn summary(r: &HealthReport) -> String {
    let mut s = format!("{} chunks checked in {:.1} s\n", r.rows, r.seconds);
    if let Some(t) = &r.tokens {
        s += &format!(
            "tokens ({}): median {}, p90 {}, max {}; {} chunks ({:.1}%) over the {}-token limit, {} tokens ({:.1}%) never embedded\n",
            t.tokenizer, t.median, t.p90, t.max, t.truncated, 100.0 * t.truncated_share, t.limit, t.tokens_lost, 100.0 * t.tokens_lost_share
        );
    }
    s += &format!(
        "empty: {} (+{} whitespace only); under {} {}: {}\n",
        r.short.empty, r.short.whitespace_only, r.short.min_tokens, r.short.unit, r.short.short
    );
    s += &format!(
        "boilerplate: {} lines/runs in {} chunks, {:.1}% of the text\n",
        r.boilerplate.found,
        r.boilerplate.chunks_with,
        100.0 * r.boilerplate.text_share
    );
    for b in r.boilerplate.items.iter().take(5) {
        s += &format!(
            "  {:>6} chunks ({:.1}%) {}: {}\n",
            b.chunks,
            100.0 * b.share,
            b.kind,
            b.text
        );
    }
    s += &format!(
        "encoding damage: {} chunks (U+FFFD {}, mojibake {}, control {})\n",
        r.encoding.damaged_chunks,
        r.encoding.replacement_chunks,
        r.encoding.mojibake_chunks,
        r.encoding.control_chunks
    );
    let langs: Vec<String> = r
        .languages
        .languages
        .iter()
        .take(5)
        .map(|l| format!("{} {} ({:.1}%)", l.name, l.chunks, 100.0 * l.share))
        .collect();
    s += &format!(
        "languages: {}; undetermined {}\n",
        langs.join(", "),
        r.languages.undetermined
    );
    for c in &r.checks {
        let state = match c.pass {
            Some(true) => "pass",
            Some(false) => "FAIL",
            None => "-",
        };
        let value = c
            .value
            .map_or_else(|| "not measured".into(), |v| format!("{v:.4}"));
        s += &format!(
            "{state:>4}  {} = {value} (limit {} {})",
            c.name, c.op, c.limit
        );
        if c.pass == Some(false) {
            s += &format!(": {}", c.advice);
        }
        s += "\n";
    }
    s += &format!("verdict: {}\n", if r.pass { "PASS" } else { "FAIL" });
    s
}
