//! Chunk health: are the chunks fit to embed? A pre-flight check that needs no embedding.
//!
//! - **Tokens**, counted by the embedder's own tokenizer against its `max_seq_length` (256 word
//!   pieces for all-MiniLM-L6-v2, `[CLS]` and `[SEP]` included): text past the limit is cut
//!   silently and its tail is invisible to retrieval.
//! - **Empty and very short** chunks (fewer than `min_tokens` tokens).
//! - **Boilerplate**: lines and long word runs recurring across many chunks ([`boilerplate`]).
//! - **Encoding damage**: U+FFFD, mojibake, control characters ([`text::damage`]).
//! - **Language** of each chunk (whatlang), and the mix: an English model clusters a mixed
//!   corpus by language first.
//!
//! Each finding is checked against a limit a team would keep; a failed check says what to do.
//!
//! ```no_run
//! use embedscope::health::{Health, TokenCounter};
//! use embedscope::io::{load, LoadOptions};
//! let corpus = load("chunks.jsonl".as_ref(), &LoadOptions::default())?;
//! let counter = TokenCounter::from_model_dir(&embedscope::embed::default_model_dir())?;
//! let report = Health::params().run(&corpus, Some(&counter))?;
//! println!("{} of {} chunks truncated", report.tokens.as_ref().unwrap().truncated, report.rows);
//! # Ok::<(), embedscope::Error>(())
//! ```

pub mod boilerplate;
mod display;
pub mod text;
mod tokens;

use serde::Serialize;

use crate::error::{Error, Result};
use crate::io::Corpus;
pub use boilerplate::Recurring;
pub use text::Damage;
pub use tokens::TokenCounter;

/// Entry point: `Health::params()`.
#[derive(Debug, Clone, Copy)]
pub struct Health;

impl Health {
    /// Default parameters.
    pub fn params() -> HealthParams {
        HealthParams {
            min_tokens: 8,
            boilerplate_min_share: 0.01,
            boilerplate_min_chunks: 5,
            sample: 50_000,
            seed: 42,
            limits: HealthLimits::default(),
        }
    }
}

/// Limits of the health checks. Defaults: at most 5% of chunks truncated, 1% empty, 5% very
/// short, 10% of the text boilerplate, 1% of chunks with encoding damage, 10% of chunks in
/// languages other than the main one.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct HealthLimits {
    /// Largest share of chunks longer than the embedder reads.
    pub max_truncated_share: f64,
    /// Largest share of empty or whitespace-only chunks.
    pub max_empty_share: f64,
    /// Largest share of chunks under `min_tokens` (empty ones included).
    pub max_short_share: f64,
    /// Largest share of the corpus' characters inside boilerplate.
    pub max_boilerplate_share: f64,
    /// Largest share of chunks with encoding damage.
    pub max_damaged_share: f64,
    /// Largest share of chunks (of those whose language is known) not in the main language.
    pub max_other_language_share: f64,
}

impl Default for HealthLimits {
    fn default() -> Self {
        HealthLimits {
            max_truncated_share: 0.05,
            max_empty_share: 0.01,
            max_short_share: 0.05,
            max_boilerplate_share: 0.10,
            max_damaged_share: 0.01,
            max_other_language_share: 0.10,
        }
    }
}

/// Chunk-health parameters.
#[derive(Debug, Clone, PartialEq)]
pub struct HealthParams {
    min_tokens: usize,
    boilerplate_min_share: f64,
    boilerplate_min_chunks: usize,
    sample: usize,
    seed: u64,
    limits: HealthLimits,
}

impl HealthParams {
    /// Chunks with fewer tokens (special tokens included; words without a tokenizer) are
    /// "very short". Default 8.
    pub fn min_tokens(mut self, n: usize) -> Self {
        self.min_tokens = n;
        self
    }

    /// A line or run is boilerplate when at least this share of chunks has it (and at least
    /// [`boilerplate_min_chunks`](Self::boilerplate_min_chunks)). Default 0.01.
    pub fn boilerplate_min_share(mut self, s: f64) -> Self {
        self.boilerplate_min_share = s;
        self
    }

    /// Fewest chunks for boilerplate. Default 5.
    pub fn boilerplate_min_chunks(mut self, n: usize) -> Self {
        self.boilerplate_min_chunks = n;
        self
    }

    /// Chunks on which recurring word runs are looked for (then counted in every chunk).
    /// Default 50,000, the audit's sample size.
    pub fn sample(mut self, n: usize) -> Self {
        self.sample = n;
        self
    }

    /// Seed of that sample. Default 42.
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    /// The checks' limits. Default [`HealthLimits::default`].
    pub fn limits(mut self, limits: HealthLimits) -> Self {
        self.limits = limits;
        self
    }

    /// Validates the parameters.
    pub fn check(&self) -> Result<()> {
        if self.min_tokens == 0 {
            return Err(Error::param("min_tokens", 0, "must be at least 1"));
        }
        if !(self.boilerplate_min_share > 0.0 && self.boilerplate_min_share <= 1.0) {
            return Err(Error::param(
                "boilerplate_min_share",
                self.boilerplate_min_share,
                "must be in (0, 1]",
            ));
        }
        if self.boilerplate_min_chunks < 2 {
            return Err(Error::param(
                "boilerplate_min_chunks",
                self.boilerplate_min_chunks,
                "must be at least 2",
            ));
        }
        if self.sample < 100 {
            return Err(Error::param("sample", self.sample, "must be at least 100"));
        }
        let l = &self.limits;
        for (name, v) in [
            ("max_truncated_share", l.max_truncated_share),
            ("max_empty_share", l.max_empty_share),
            ("max_short_share", l.max_short_share),
            ("max_boilerplate_share", l.max_boilerplate_share),
            ("max_damaged_share", l.max_damaged_share),
            ("max_other_language_share", l.max_other_language_share),
        ] {
            if !(0.0..=1.0).contains(&v) {
                return Err(Error::param(name, v, "must be in [0, 1]"));
            }
        }
        Ok(())
    }

    /// Checks the corpus' texts; tokens are counted when a counter is given.
    pub fn run(&self, corpus: &Corpus, counter: Option<&TokenCounter>) -> Result<HealthReport> {
        self.check()?;
        let Some(texts) = corpus.texts.as_deref() else {
            return Err(Error::Malformed {
                path: corpus.source.clone(),
                location: "texts".into(),
                message: "chunk health needs texts: the input has no text column (name it with --text-column)".into(),
            });
        };
        let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
        self.run_texts(&refs, &corpus.ids, counter)
    }

    /// [`run`](Self::run) on texts and their ids.
    pub fn run_texts(
        &self,
        texts: &[&str],
        ids: &[String],
        counter: Option<&TokenCounter>,
    ) -> Result<HealthReport> {
        self.check()?;
        let n = texts.len();
        let clock = std::time::Instant::now();
        let example = |row: usize, value: f64, note: Option<String>| Example {
            row,
            id: ids.get(row).cloned().unwrap_or_else(|| row.to_string()),
            text: excerpt(texts[row], 300),
            value,
            note,
        };
        // Tokens.
        let counts = match counter {
            Some(c) => Some(c.count(texts)?),
            None => None,
        };
        let tokens = match (&counts, counter) {
            (Some(k), Some(c)) => Some(token_summary(k, c, &example)),
            _ => None,
        };
        // Empty and short.
        let length = |row: usize| match &counts {
            Some(k) => k[row],
            None => texts[row].split_whitespace().count(),
        };
        let empty: Vec<usize> = (0..n).filter(|&r| texts[r].is_empty()).collect();
        let blank: Vec<usize> = (0..n)
            .filter(|&r| !texts[r].is_empty() && texts[r].trim().is_empty())
            .collect();
        let short: Vec<usize> = (0..n)
            .filter(|&r| !texts[r].trim().is_empty() && length(r) < self.min_tokens)
            .collect();
        let short_summary = ShortSummary {
            min_tokens: self.min_tokens,
            unit: if counts.is_some() { "tokens" } else { "words" }.into(),
            empty: empty.len(),
            whitespace_only: blank.len(),
            short: short.len(),
            empty_share: (empty.len() + blank.len()) as f64 / n.max(1) as f64,
            short_share: (empty.len() + blank.len() + short.len()) as f64 / n.max(1) as f64,
            examples: empty
                .iter()
                .chain(&blank)
                .chain(&short)
                .take(10)
                .map(|&r| example(r, length(r) as f64, None))
                .collect(),
        };
        // Boilerplate.
        let min_chunks = ((self.boilerplate_min_share * n as f64).ceil() as usize)
            .max(self.boilerplate_min_chunks);
        let sample = (n > self.sample).then(|| {
            let mut rows = crate::rng::Rng::new(self.seed, 0x6b1e).sample(n, self.sample);
            rows.sort_unstable();
            rows
        });
        let found = boilerplate::find(texts, min_chunks, sample.as_deref());
        let total_chars: usize = texts
            .iter()
            .map(|t| t.chars().filter(|c| !c.is_whitespace()).count())
            .sum();
        let in_boilerplate: usize = found.chars_per_row.iter().sum();
        let boilerplate = BoilerplateSummary {
            min_chunks,
            sampled_rows: sample.as_ref().map(Vec::len),
            chunks_with: found.chars_per_row.iter().filter(|&&c| c > 0).count(),
            text_share: in_boilerplate as f64 / total_chars.max(1) as f64,
            found: found.items.len(),
            items: found.items.iter().take(20).cloned().collect(),
        };
        // Encoding and language, per row.
        use rayon::prelude::*;
        let per_row: Vec<(Damage, Option<text::Language>)> = texts
            .par_iter()
            .with_min_len(64)
            .map(|t| (text::damage(t), text::language(t)))
            .collect();
        let damaged: Vec<usize> = (0..n).filter(|&r| per_row[r].0.any()).collect();
        let count_of = |f: fn(&Damage) -> usize| per_row.iter().filter(|d| f(&d.0) > 0).count();
        let encoding = EncodingSummary {
            replacement_chunks: count_of(|d| d.replacement),
            mojibake_chunks: count_of(|d| d.mojibake),
            control_chunks: count_of(|d| d.control),
            damaged_chunks: damaged.len(),
            share: damaged.len() as f64 / n.max(1) as f64,
            examples: damaged
                .iter()
                .take(10)
                .map(|&r| {
                    let d = per_row[r].0;
                    example(
                        r,
                        (d.replacement + d.mojibake + d.control) as f64,
                        Some(format!(
                            "{} U+FFFD, {} mojibake, {} control",
                            d.replacement, d.mojibake, d.control
                        )),
                    )
                })
                .collect(),
        };
        let languages = language_summary(&per_row, &example);
        let mut report = HealthReport {
            rows: n,
            tokens,
            short: short_summary,
            boilerplate,
            encoding,
            languages,
            checks: Vec::new(),
            pass: true,
            limits: self.limits.clone(),
            seconds: 0.0,
            rows_detail: (0..n)
                .map(|r| RowHealth {
                    tokens: counts.as_ref().map(|k| k[r]),
                    truncated: match (&counts, counter) {
                        (Some(k), Some(c)) => k[r] > c.limit(),
                        _ => false,
                    },
                    boilerplate_chars: found.chars_per_row[r],
                    damage: per_row[r].0,
                    language: per_row[r].1.as_ref().map(|l| l.code),
                })
                .collect(),
            boilerplate_found: found,
        };
        report.checks = checks(&report, &self.limits);
        report.pass = report.checks.iter().all(|c| c.pass != Some(false));
        report.seconds = clock.elapsed().as_secs_f64();
        Ok(report)
    }
}

/// One chunk shown as an example.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct Example {
    /// Row in the input.
    pub row: usize,
    /// Its id.
    pub id: String,
    /// Its text, cut at 300 characters.
    pub text: String,
    /// The number that put it here (tokens, damaged characters, ...).
    pub value: f64,
    /// What was found, when a number does not say it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// Token counts against the embedder's limit.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct TokenSummary {
    /// The tokenizer that counted (a model folder's name).
    pub tokenizer: String,
    /// Tokens the embedder reads at most (special tokens included).
    pub limit: usize,
    /// Mean tokens per chunk.
    pub mean: f64,
    /// Median.
    pub median: usize,
    /// 90th percentile.
    pub p90: usize,
    /// 99th percentile.
    pub p99: usize,
    /// Longest.
    pub max: usize,
    /// Chunks longer than `limit`.
    pub truncated: usize,
    /// `truncated` over all chunks.
    pub truncated_share: f64,
    /// Tokens past the limit, summed over chunks: never seen by the embedder.
    pub tokens_lost: usize,
    /// `tokens_lost` over all tokens.
    pub tokens_lost_share: f64,
    /// Histogram of lengths: left edges (bins of `limit / 8` tokens, the last open).
    pub bin_left_edges: Vec<usize>,
    /// Chunks per bin.
    pub counts: Vec<usize>,
    /// The longest chunks.
    pub longest: Vec<Example>,
}

/// Empty and very short chunks.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct ShortSummary {
    /// The limit below which a chunk is very short.
    pub min_tokens: usize,
    /// What `min_tokens` counts: `tokens` (the tokenizer's, special tokens included) or
    /// `words` (no tokenizer).
    pub unit: String,
    /// Empty strings.
    pub empty: usize,
    /// Whitespace only.
    pub whitespace_only: usize,
    /// Non-blank but under `min_tokens`.
    pub short: usize,
    /// Empty or whitespace-only, over all chunks.
    pub empty_share: f64,
    /// Empty, whitespace-only or short, over all chunks.
    pub short_share: f64,
    /// The first of them.
    pub examples: Vec<Example>,
}

/// Recurring lines and runs.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct BoilerplateSummary {
    /// Fewest chunks for a line or run to count.
    pub min_chunks: usize,
    /// Rows the word runs were looked for on (absent: every row).
    pub sampled_rows: Option<usize>,
    /// Lines and runs found.
    pub found: usize,
    /// Chunks with any.
    pub chunks_with: usize,
    /// Share of the corpus' non-space characters inside them.
    pub text_share: f64,
    /// The 20 most widespread.
    pub items: Vec<Recurring>,
}

/// Encoding damage.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct EncodingSummary {
    /// Chunks with U+FFFD.
    pub replacement_chunks: usize,
    /// Chunks with mojibake.
    pub mojibake_chunks: usize,
    /// Chunks with control characters.
    pub control_chunks: usize,
    /// Chunks with any of them.
    pub damaged_chunks: usize,
    /// `damaged_chunks` over all chunks.
    pub share: f64,
    /// The first of them.
    pub examples: Vec<Example>,
}

/// One language's chunks.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct LanguageCount {
    /// ISO 639-3 code.
    pub code: String,
    /// English name.
    pub name: String,
    /// Chunks.
    pub chunks: usize,
    /// Over the chunks whose language is known.
    pub share: f64,
}

/// The language mix.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct LanguageSummary {
    /// Languages found, most chunks first.
    pub languages: Vec<LanguageCount>,
    /// Chunks whose language whatlang could not tell reliably (short or mixed text).
    pub undetermined: usize,
    /// The main language's code.
    pub main: Option<String>,
    /// Share of the known chunks in other languages.
    pub other_share: f64,
    /// Chunks in other languages.
    pub examples: Vec<Example>,
}

/// One check against its limit, and what to do when it fails.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct HealthCheck {
    /// What is checked.
    pub name: String,
    /// The measured value (None: not measured, e.g. no tokenizer).
    pub value: Option<f64>,
    /// `<=`.
    pub op: String,
    /// The limit.
    pub limit: f64,
    /// Whether it holds (None: not measured).
    pub pass: Option<bool>,
    /// What to do about it.
    pub advice: String,
}

/// Per row, for tables.
#[derive(Debug, Clone, PartialEq)]
pub struct RowHealth {
    /// Tokens (with a tokenizer).
    pub tokens: Option<usize>,
    /// Longer than the limit.
    pub truncated: bool,
    /// Non-space characters inside boilerplate.
    pub boilerplate_chars: usize,
    /// Encoding damage.
    pub damage: Damage,
    /// Language code, when reliable.
    pub language: Option<&'static str>,
}

/// Everything [`HealthParams::run`] found.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct HealthReport {
    /// Chunks checked.
    pub rows: usize,
    /// Token counts (absent without a tokenizer).
    pub tokens: Option<TokenSummary>,
    /// Empty and very short chunks.
    pub short: ShortSummary,
    /// Boilerplate.
    pub boilerplate: BoilerplateSummary,
    /// Encoding damage.
    pub encoding: EncodingSummary,
    /// Languages.
    pub languages: LanguageSummary,
    /// The checks.
    pub checks: Vec<HealthCheck>,
    /// Every measured check holds.
    pub pass: bool,
    /// The limits used.
    pub limits: HealthLimits,
    /// Wall time.
    pub seconds: f64,
    #[serde(skip)]
    #[schemars(skip)]
    rows_detail: Vec<RowHealth>,
    #[serde(skip)]
    #[schemars(skip)]
    boilerplate_found: boilerplate::Found,
}

impl HealthReport {
    /// Per-row findings, in input order.
    pub fn per_row(&self) -> &[RowHealth] {
        &self.rows_detail
    }

    /// `text` without the boilerplate lines and runs found (what `--strip-boilerplate` embeds).
    pub fn strip_boilerplate(&self, text: &str) -> String {
        self.boilerplate_found.strip(text)
    }
}

fn excerpt(text: &str, chars: usize) -> String {
    match text.char_indices().nth(chars) {
        Some((i, _)) => format!("{}…", &text[..i]),
        None => text.to_string(),
    }
}

fn token_summary(
    counts: &[usize],
    counter: &TokenCounter,
    example: &dyn Fn(usize, f64, Option<String>) -> Example,
) -> TokenSummary {
    let n = counts.len().max(1);
    let limit = counter.limit();
    let mut sorted = counts.to_vec();
    sorted.sort_unstable();
    let at = |q: f64| {
        sorted
            .get(((sorted.len() as f64 - 1.0) * q).round() as usize)
            .copied()
            .unwrap_or(0)
    };
    let total: usize = counts.iter().sum();
    let lost: usize = counts.iter().map(|&c| c.saturating_sub(limit)).sum();
    let truncated = counts.iter().filter(|&&c| c > limit).count();
    let width = (limit / 8).max(1);
    let bins = 10; // 0 .. 1.25 x limit, the last bin open
    let mut hist = vec![0usize; bins];
    for &c in counts {
        hist[(c / width).min(bins - 1)] += 1;
    }
    let mut order: Vec<usize> = (0..counts.len()).collect();
    order.sort_by(|&a, &b| counts[b].cmp(&counts[a]).then(a.cmp(&b)));
    TokenSummary {
        tokenizer: counter.source().to_string(),
        limit,
        mean: total as f64 / n as f64,
        median: at(0.5),
        p90: at(0.9),
        p99: at(0.99),
        max: sorted.last().copied().unwrap_or(0),
        truncated,
        truncated_share: truncated as f64 / n as f64,
        tokens_lost: lost,
        tokens_lost_share: lost as f64 / total.max(1) as f64,
        bin_left_edges: (0..bins).map(|b| b * width).collect(),
        counts: hist,
        longest: order
            .iter()
            .take(5)
            .filter(|&&r| counts[r] > limit)
            .map(|&r| example(r, counts[r] as f64, None))
            .collect(),
    }
}

fn language_summary(
    per_row: &[(Damage, Option<text::Language>)],
    example: &dyn Fn(usize, f64, Option<String>) -> Example,
) -> LanguageSummary {
    let mut counts: Vec<(String, String, usize)> = Vec::new();
    let mut undetermined = 0;
    for (_, l) in per_row {
        match l {
            Some(l) => match counts.iter_mut().find(|c| c.0 == l.code) {
                Some(c) => c.2 += 1,
                None => counts.push((l.code.into(), l.name.into(), 1)),
            },
            None => undetermined += 1,
        }
    }
    counts.sort_by(|a, b| b.2.cmp(&a.2).then(a.0.cmp(&b.0)));
    let known: usize = counts.iter().map(|c| c.2).sum();
    let main = counts.first().map(|c| c.0.clone());
    let other = known - counts.first().map_or(0, |c| c.2);
    let examples = per_row
        .iter()
        .enumerate()
        .filter(|(_, (_, l))| l.as_ref().is_some_and(|l| Some(l.code) != main.as_deref()))
        .take(10)
        .map(|(r, (_, l))| example(r, 0.0, l.as_ref().map(|l| l.name.to_string())))
        .collect();
    LanguageSummary {
        languages: counts
            .into_iter()
            .map(|(code, name, chunks)| LanguageCount {
                share: chunks as f64 / known.max(1) as f64,
                code,
                name,
                chunks,
            })
            .collect(),
        undetermined,
        main,
        other_share: other as f64 / known.max(1) as f64,
        examples,
    }
}

fn checks(r: &HealthReport, l: &HealthLimits) -> Vec<HealthCheck> {
    let check = |name: &str, value: Option<f64>, limit: f64, advice: String| HealthCheck {
        name: name.into(),
        value,
        op: "<=".into(),
        limit,
        pass: value.map(|v| v <= limit),
        advice,
    };
    let limit_tokens = r.tokens.as_ref().map_or(0, |t| t.limit);
    vec![
        check(
            "truncated share",
            r.tokens.as_ref().map(|t| t.truncated_share),
            l.max_truncated_share,
            format!(
                "split chunks longer than {limit_tokens} tokens (e.g. at {} with some overlap), or embed with a model that reads more",
                limit_tokens.saturating_sub(limit_tokens / 8)
            ),
        ),
        check(
            "empty share",
            Some(r.short.empty_share),
            l.max_empty_share,
            "drop empty and whitespace-only chunks before embedding".into(),
        ),
        check(
            "short share",
            Some(r.short.short_share),
            l.max_short_share,
            format!(
                "merge chunks under {} {} with their neighbours, or drop them",
                r.short.min_tokens, r.short.unit
            ),
        ),
        check(
            "boilerplate share",
            Some(r.boilerplate.text_share),
            l.max_boilerplate_share,
            "strip the recurring lines before embedding (--strip-boilerplate)".into(),
        ),
        check(
            "encoding damage share",
            Some(r.encoding.share),
            l.max_damaged_share,
            "re-extract the damaged chunks, reading the source as UTF-8 (mojibake is UTF-8 read as Latin-1)".into(),
        ),
        check(
            "other-language share",
            Some(r.languages.other_share),
            l.max_other_language_share,
            "embed with a multilingual model, or audit each language apart".into(),
        ),
    ]
}
