//! Boilerplate: lines, and long runs of words, that recur across many chunks (headers,
//! footers, cookie notices, licence lines, "This package contains ..."). They bend clusters
//! towards the template rather than the content (BERTopic #972) and waste retrieval slots.
//!
//! Lines are compared after trimming and collapsing whitespace; a line counts when it has at
//! least [`MIN_LINE_WORDS`] words and is not the whole chunk (whole chunks repeated are exact
//! duplicates, the duplicates section's business). Runs are maximal spans of words covered by
//! word [`NGRAM`]-grams that recur in as many chunks; on a corpus above the sample size the
//! recurring n-grams are found on a seeded sample and then counted in every chunk.

use std::collections::HashMap;

use xxhash_rust::xxh3::xxh3_64;

/// Words in an n-gram for runs.
pub const NGRAM: usize = 8;
/// Fewest words for a line to count as boilerplate.
pub const MIN_LINE_WORDS: usize = 3;

/// One recurring line or run.
#[derive(Debug, Clone, PartialEq, serde::Serialize, schemars::JsonSchema)]
pub struct Recurring {
    /// The text (whitespace collapsed; runs lowercased).
    pub text: String,
    /// `line` or `run`.
    pub kind: String,
    /// Chunks that contain it.
    pub chunks: usize,
    /// `chunks` over all chunks.
    pub share: f64,
    /// Its characters over all the corpus' characters (every occurrence counted).
    pub text_share: f64,
    /// Up to 5 rows that contain it.
    pub rows: Vec<usize>,
}

/// What was found, and what stripping needs.
#[derive(Debug, Clone, Default)]
pub struct Found {
    /// Recurring lines and runs, most widespread first.
    pub items: Vec<Recurring>,
    /// Per row: characters of it inside boilerplate.
    pub chars_per_row: Vec<usize>,
    /// Normalised boilerplate lines.
    lines: Vec<String>,
    /// Hashes of recurring n-grams, with the chunks (of the sample) that have them.
    grams: HashMap<u64, u32>,
}

/// Collapses runs of whitespace to one space and trims.
pub fn normalise_line(line: &str) -> String {
    line.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn words_lower(text: &str) -> Vec<(usize, usize, String)> {
    // (byte start, byte end, lowercased word)
    let mut out = Vec::new();
    let mut start = None;
    for (i, c) in text.char_indices() {
        if c.is_whitespace() {
            if let Some(s) = start.take() {
                out.push((s, i, text[s..i].to_lowercase()));
            }
        } else if start.is_none() {
            start = Some(i);
        }
    }
    if let Some(s) = start {
        out.push((s, text.len(), text[s..].to_lowercase()));
    }
    out
}

fn gram_hash(words: &[(usize, usize, String)]) -> u64 {
    let mut key = String::new();
    for w in words {
        key.push_str(&w.2);
        key.push('\u{1f}');
    }
    xxh3_64(key.as_bytes())
}

/// Finds lines and runs present in at least `min_chunks` chunks; n-grams are counted on the
/// rows `sample` (all rows when `None`).
pub fn find(texts: &[&str], min_chunks: usize, sample: Option<&[usize]>) -> Found {
    let n = texts.len();
    let total_chars: usize = texts
        .iter()
        .map(|t| t.chars().count())
        .sum::<usize>()
        .max(1);
    // Lines: document frequency over every chunk (one normalised string per distinct line).
    let mut line_df: HashMap<String, (usize, Vec<usize>)> = HashMap::new();
    for (row, t) in texts.iter().enumerate() {
        let whole = normalise_line(t);
        let mut seen: Vec<String> = Vec::new();
        for line in t.lines() {
            let l = normalise_line(line);
            if l.split(' ').count() < MIN_LINE_WORDS || l == whole || seen.contains(&l) {
                continue;
            }
            seen.push(l);
        }
        for l in seen {
            let e = line_df.entry(l).or_insert((0, Vec::new()));
            e.0 += 1;
            if e.1.len() < 5 {
                e.1.push(row);
            }
        }
    }
    let mut lines: Vec<(String, usize, Vec<usize>)> = line_df
        .into_iter()
        .filter(|(_, (df, _))| *df >= min_chunks)
        .map(|(l, (df, rows))| (l, df, rows))
        .collect();
    lines.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    // N-grams: document frequency on the sample, then kept where as widespread.
    let rows: Vec<usize> = sample.map_or_else(|| (0..n).collect(), <[usize]>::to_vec);
    let bar = if rows.len() < n {
        ((min_chunks as f64) * rows.len() as f64 / n as f64)
            .ceil()
            .max(2.0) as usize
    } else {
        min_chunks
    };
    let mut gram_df: HashMap<u64, u32> = HashMap::new();
    for &row in &rows {
        let w = words_lower(texts[row]);
        if w.len() < NGRAM {
            continue;
        }
        let mut hashes: Vec<u64> = w.windows(NGRAM).map(gram_hash).collect();
        hashes.sort_unstable();
        hashes.dedup();
        for h in hashes {
            *gram_df.entry(h).or_insert(0) += 1;
        }
    }
    let grams: HashMap<u64, u32> = gram_df
        .into_iter()
        .filter(|&(_, df)| df as usize >= bar)
        .collect();
    // Runs in every chunk: maximal spans covered by recurring n-grams.
    let line_set: std::collections::HashSet<&str> = lines.iter().map(|l| l.0.as_str()).collect();
    // Per row in parallel, merged in row order (the same result on any number of threads).
    use rayon::prelude::*;
    let per_row: Vec<(usize, Vec<(String, usize)>)> = texts
        .par_iter()
        .with_min_len(64)
        .map(|t| row_runs(t, &line_set, &grams))
        .collect();
    let mut run_df: HashMap<String, (usize, usize, Vec<usize>)> = HashMap::new();
    let mut chars_per_row = vec![0usize; n];
    for (row, (covered, runs)) in per_row.into_iter().enumerate() {
        chars_per_row[row] = covered;
        for (text, chars) in runs {
            let e = run_df.entry(text).or_insert((0, 0, Vec::new()));
            e.0 += 1;
            e.1 += chars;
            if e.2.len() < 5 {
                e.2.push(row);
            }
        }
    }
    let lower_lines: std::collections::HashSet<String> =
        lines.iter().map(|l| l.0.to_lowercase()).collect();
    let item = |kind: &str, text: String, df: usize, chars: usize, rows: Vec<usize>| Recurring {
        share: df as f64 / n as f64,
        text_share: chars as f64 / total_chars as f64,
        kind: kind.into(),
        text,
        chunks: df,
        rows,
    };
    let mut items: Vec<Recurring> = lines
        .into_iter()
        .map(|(text, df, rows)| {
            let chars = text.chars().count() * df;
            item("line", text, df, chars, rows)
        })
        .collect();
    items.extend(
        run_df
            .into_iter()
            .filter(|(text, (df, _, _))| *df >= min_chunks && !lower_lines.contains(text))
            .map(|(text, (df, chars, rows))| item("run", text, df, chars, rows)),
    );
    items.sort_by(|a, b| {
        b.chunks
            .cmp(&a.chunks)
            .then(b.text.len().cmp(&a.text.len()))
            .then(a.text.cmp(&b.text))
    });
    let lines = items
        .iter()
        .filter(|i| i.kind == "line")
        .map(|i| i.text.clone())
        .collect();
    Found {
        items,
        chars_per_row,
        lines,
        grams,
    }
}

/// One chunk: its non-space characters inside boilerplate lines or runs, and its distinct runs
/// (by core text) with their characters.
fn row_runs(
    t: &str,
    line_set: &std::collections::HashSet<&str>,
    grams: &HashMap<u64, u32>,
) -> (usize, Vec<(String, usize)>) {
    let mut covered = vec![false; t.len() + 1];
    for line in t.lines() {
        if line_set.contains(normalise_line(line).as_str()) {
            let start = line.as_ptr() as usize - t.as_ptr() as usize;
            covered[start..start + line.len()].fill(true);
        }
    }
    let mut runs: Vec<(String, usize)> = Vec::new();
    let w = words_lower(t);
    if !grams.is_empty() && w.len() >= NGRAM {
        let mut in_run = vec![false; w.len()];
        let df: Vec<u32> = w
            .windows(NGRAM)
            .map(|win| grams.get(&gram_hash(win)).copied().unwrap_or(0))
            .collect();
        for (i, &d) in df.iter().enumerate() {
            if d > 0 {
                in_run[i..i + NGRAM].fill(true);
            }
        }
        let mut i = 0;
        while i < w.len() {
            if !in_run[i] {
                i += 1;
                continue;
            }
            let s = i;
            while i < w.len() && in_run[i] {
                i += 1;
            }
            if s == 0 && i == w.len() {
                continue; // the whole chunk: an exact duplicate, not boilerplate
            }
            // Runs differ at their edges from chunk to chunk; they are counted by their core,
            // the first stretch of their most widespread n-grams.
            let starts = s..=i - NGRAM;
            let top = df[starts.clone()].iter().copied().max().unwrap_or(0);
            let first = starts.clone().find(|&j| df[j] == top).unwrap_or(s);
            let mut last = first;
            while last < i - NGRAM && df[last + 1] == top {
                last += 1;
            }
            let text = w[first..last + NGRAM]
                .iter()
                .map(|x| x.2.as_str())
                .collect::<Vec<_>>()
                .join(" ");
            let chars = t[w[s].0..w[i - 1].1].chars().count();
            covered[w[s].0..w[i - 1].1].fill(true);
            if !runs.iter().any(|r| r.0 == text) {
                runs.push((text, chars));
            }
        }
    }
    let inside = t
        .char_indices()
        .filter(|&(b, c)| covered[b] && !c.is_whitespace())
        .count();
    (inside, runs)
}

impl Found {
    /// `text` without its boilerplate lines and runs (whitespace inside runs collapsed).
    pub fn strip(&self, text: &str) -> String {
        let kept: Vec<&str> = text
            .lines()
            .filter(|l| !self.lines.iter().any(|b| *b == normalise_line(l)))
            .collect();
        let joined = kept.join("\n");
        if self.grams.is_empty() {
            return joined.trim().to_string();
        }
        let w = words_lower(&joined);
        if w.len() < NGRAM {
            return joined.trim().to_string();
        }
        let mut drop = vec![false; w.len()];
        for (i, win) in w.windows(NGRAM).enumerate() {
            if self.grams.contains_key(&gram_hash(win)) {
                drop[i..i + NGRAM].fill(true);
            }
        }
        let mut out = String::with_capacity(joined.len());
        let mut last = 0;
        for (i, word) in w.iter().enumerate() {
            if drop[i] {
                out.push_str(&joined[last..word.0]);
                last = word.1;
            }
        }
        out.push_str(&joined[last..]);
        normalise_spaces(&out)
    }
}

/// Collapses spaces left by removed runs, keeping line breaks.
fn normalise_spaces(s: &str) -> String {
    s.lines()
        .map(normalise_line)
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_planted_footer_is_found_and_stripped() {
        let footer = "Copyright 2024 Example Corp. All rights reserved.";
        let texts: Vec<String> = (0..100)
            .map(|i| {
                let body = format!(
                    "Document {i} talks about topic {} in words of its own.",
                    i * 7
                );
                if i % 10 < 3 {
                    format!("{body}\n{footer}")
                } else {
                    body
                }
            })
            .collect();
        let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
        let f = find(&refs, 5, None);
        let line = f.items.iter().find(|i| i.kind == "line").unwrap();
        assert_eq!(line.text, footer);
        assert_eq!(line.chunks, 30);
        assert!((line.share - 0.3).abs() < 1e-12);
        assert_eq!(
            f.strip(&texts[0]),
            "Document 0 talks about topic 0 in words of its own."
        );
        assert_eq!(f.strip(&texts[5]), texts[5]);
        assert!(f.chars_per_row[0] > 30 && f.chars_per_row[5] == 0);
    }

    #[test]
    fn a_recurring_sentence_inside_lines_is_a_run() {
        let run = "this package contains the documentation files for the library";
        let texts: Vec<String> = (0..40)
            .map(|i| format!("Library number {i} of kind {}. This package contains the documentation files for the library and more {i}.", i % 3))
            .collect();
        let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
        let f = find(&refs, 10, None);
        let r = f.items.iter().find(|i| i.kind == "run").unwrap();
        assert!(r.text.contains(run), "{}", r.text);
        assert_eq!(r.chunks, 40);
        let stripped = f.strip(&texts[1]);
        assert!(!stripped.to_lowercase().contains(run), "{stripped}");
        assert!(stripped.starts_with("Library number 1"), "{stripped}");
    }

    #[test]
    fn whole_repeated_chunks_are_not_boilerplate() {
        let texts = vec!["No comment at all here, thank you very much for asking"; 50];
        let f = find(&texts, 5, None);
        assert!(f.items.is_empty(), "{:?}", f.items);
    }
}
