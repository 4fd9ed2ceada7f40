//! Chunk health with planted problems: token counts against the Python tokenizer's, a
//! boilerplate footer in 30% of the chunks, mojibake and U+FFFD, German and French blocks, an
//! empty chunk; and inputs that must not break it (a 1 MB chunk, only empty strings, binary
//! junk).

mod common;

use embedscope::embed::default_model_dir;
use embedscope::health::{Health, HealthLimits, TokenCounter};

fn counter() -> TokenCounter {
    TokenCounter::from_model_dir(&default_model_dir()).unwrap_or_else(|e| panic!("{e}"))
}

fn parity_texts() -> Vec<String> {
    std::fs::read_to_string(common::fixture("parity/parity-debian400.jsonl"))
        .unwrap()
        .lines()
        .map(|l| {
            serde_json::from_str::<serde_json::Value>(l).unwrap()["text"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect()
}

/// The chunks of the sample with problems planted at known rows.
pub fn planted() -> (Vec<String>, Vec<String>) {
    let mut texts: Vec<String> = common::sample_head(400).texts.unwrap();
    let footer = "Copyright 2024 Example Corp. All rights reserved. Do not redistribute.";
    for (i, t) in texts.iter_mut().enumerate() {
        if i % 10 < 3 {
            t.push('\n');
            t.push_str(footer);
        }
    }
    texts[5] = String::new();
    texts[6] = "  \n\t ".into();
    texts[7] = "Caf\u{c3}\u{a9} cr\u{c3}\u{a8}me, it\u{e2}\u{20ac}\u{2122}s the package\u{e2}\u{20ac}\u{2122}s documentation.".into();
    texts[8] = "A library whose name was lost: \u{fffd}\u{fffd}\u{fffd} (decoder output).".into();
    let langs: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(common::fixture("health/languages.json")).unwrap(),
    )
    .unwrap();
    for (k, code) in ["deu", "fra"].iter().enumerate() {
        for (j, t) in langs[code].as_array().unwrap().iter().enumerate() {
            texts[100 + 10 * k + j] = t.as_str().unwrap().to_string();
        }
    }
    let ids = (0..texts.len()).map(|i| format!("doc-{i}")).collect();
    (texts, ids)
}

#[test]
fn tokens_are_counted_as_the_python_tokenizer_counts() {
    let want: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(common::fixture("parity/token-counts-debian400.json")).unwrap(),
    )
    .unwrap();
    let want: Vec<usize> = want["counts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_u64().unwrap() as usize)
        .collect();
    let texts = parity_texts();
    let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
    let c = counter();
    assert_eq!(c.limit(), 256, "all-MiniLM-L6-v2's max_seq_length");
    assert_eq!(c.count(&refs).unwrap(), want);
    let ids: Vec<String> = (0..texts.len()).map(|i| i.to_string()).collect();
    let r = Health::params().run_texts(&refs, &ids, Some(&c)).unwrap();
    let t = r.tokens.unwrap();
    let over: Vec<usize> = want.iter().copied().filter(|&n| n > 256).collect();
    assert_eq!(t.truncated, over.len());
    assert_eq!(t.tokens_lost, over.iter().map(|n| n - 256).sum::<usize>());
    assert_eq!(t.max, *want.iter().max().unwrap());
    assert_eq!(t.counts.iter().sum::<usize>(), 400);
    assert!(t.longest.iter().all(|e| e.value > 256.0) && !t.longest.is_empty());
}

#[test]
fn planted_problems_are_found() {
    let (texts, ids) = planted();
    let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
    let r = Health::params()
        .run_texts(&refs, &ids, Some(&counter()))
        .unwrap();
    // The footer: 30% of the chunks (less the rows overwritten above).
    let line = r
        .boilerplate
        .items
        .iter()
        .find(|i| i.text.starts_with("Copyright 2024 Example Corp."))
        .expect("the footer is found");
    assert_eq!(line.kind, "line");
    let carriers = (0..texts.len())
        .filter(|&i| texts[i].contains("Copyright 2024 Example Corp."))
        .count();
    assert_eq!(line.chunks, carriers);
    assert!((line.share - 0.3).abs() < 0.02, "{}", line.share);
    assert!(
        r.boilerplate.text_share > 0.03,
        "{}",
        r.boilerplate.text_share
    );
    let stripped = r.strip_boilerplate(&texts[0]);
    assert!(!stripped.contains("Copyright") && texts[0].starts_with(&stripped));
    // Empty and whitespace-only.
    assert_eq!((r.short.empty, r.short.whitespace_only), (1, 1));
    assert!(r.short.examples.iter().any(|e| e.id == "doc-5"));
    // Encoding damage.
    assert_eq!(r.encoding.mojibake_chunks, 1);
    assert_eq!(r.encoding.replacement_chunks, 1);
    assert!(r.per_row()[7].damage.mojibake >= 3);
    assert_eq!(r.per_row()[8].damage.replacement, 3);
    // Languages: the German and French blocks, and English the main one.
    assert_eq!(r.languages.main.as_deref(), Some("eng"));
    for (k, code) in ["deu", "fra"].iter().enumerate() {
        let hits = (0..8)
            .filter(|j| r.per_row()[100 + 10 * k + j].language == Some(*code))
            .count();
        assert!(hits >= 7, "{code}: {hits} of 8");
    }
    let other = r
        .languages
        .languages
        .iter()
        .find(|l| l.code == "deu")
        .unwrap();
    assert!(other.chunks >= 7);
    // The checks hold at the defaults (2 empty of 400 is 0.5%); at a stricter limit the
    // empty share fails and says what to do.
    assert!(r.pass, "{:?}", r.checks);
    let strict = Health::params().limits(HealthLimits {
        max_empty_share: 0.001,
        ..HealthLimits::default()
    });
    let r = strict.run_texts(&refs, &ids, Some(&counter())).unwrap();
    let failed: Vec<&str> = r
        .checks
        .iter()
        .filter(|c| c.pass == Some(false))
        .map(|c| c.name.as_str())
        .collect();
    assert!(failed.contains(&"empty share"), "{failed:?}");
    assert!(!r.pass);
    let json = serde_json::to_value(&r).unwrap();
    assert!(json["checks"][1]["advice"]
        .as_str()
        .unwrap()
        .contains("drop empty"));
}

#[test]
fn hard_inputs_give_findings_not_panics() {
    let c = counter();
    // A chunk of 1 MB.
    let big = "lorem ipsum dolor sit amet ".repeat(40_000);
    let texts = vec![
        big.as_str(),
        "a short one that is fine for the embedder to read",
    ];
    let ids = vec!["big".to_string(), "small".to_string()];
    let r = Health::params().run_texts(&texts, &ids, Some(&c)).unwrap();
    let t = r.tokens.as_ref().unwrap();
    assert_eq!(t.truncated, 1);
    assert!(t.tokens_lost > 100_000 && t.longest[0].id == "big");
    assert!(t.longest[0].text.chars().count() <= 301);
    // Only empty strings.
    let empty = vec![""; 20];
    let ids: Vec<String> = (0..20).map(|i| i.to_string()).collect();
    let r = Health::params().run_texts(&empty, &ids, Some(&c)).unwrap();
    assert_eq!(r.short.empty, 20);
    assert_eq!(r.short.empty_share, 1.0);
    assert!(!r.pass && r.languages.main.is_none());
    // Binary junk read as text.
    let junk: String = (0u8..=255).map(char::from).cycle().take(5_000).collect();
    let texts = vec![junk.as_str(); 3];
    let ids: Vec<String> = (0..3).map(|i| i.to_string()).collect();
    let r = Health::params().run_texts(&texts, &ids, Some(&c)).unwrap();
    assert_eq!(r.encoding.control_chunks, 3);
    assert_eq!(r.encoding.share, 1.0);
    // Without a tokenizer: words instead, no token check.
    let r = Health::params().run_texts(&texts, &ids, None).unwrap();
    assert!(r.tokens.is_none() && r.short.unit == "words");
    assert_eq!(r.checks[0].pass, None);
}

#[test]
fn bad_parameters_are_named() {
    let e = Health::params()
        .min_tokens(0)
        .check()
        .unwrap_err()
        .to_string();
    assert!(e.contains("min_tokens"), "{e}");
    let e = Health::params()
        .boilerplate_min_share(1.5)
        .check()
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("boilerplate_min_share") && e.contains("1.5"),
        "{e}"
    );
}

#[test]
fn the_report_displays_in_a_notebook_and_as_a_frame() {
    use embedscope::display::Rich;
    let (mut texts, ids) = planted();
    texts[9] = "<script>alert('x')</script> and some words to make a chunk".into();
    let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
    let r = Health::params()
        .run_texts(&refs, &ids, Some(&counter()))
        .unwrap();
    let html = r.to_html();
    assert!(
        html.contains("Chunk health") && html.contains("<svg"),
        "{html}"
    );
    assert!(html.contains("Copyright 2024 Example Corp."));
    assert!(!html.contains("<script>"));
    assert!(r.evcxr_text().contains("EVCXR_BEGIN_CONTENT text/html"));
    let f = r.to_frame().unwrap();
    assert_eq!(f.height(), texts.len());
    let names: Vec<String> = f.get_column_names().iter().map(|s| s.to_string()).collect();
    assert_eq!(
        names,
        [
            "row",
            "tokens",
            "truncated",
            "boilerplate_chars",
            "damaged",
            "language"
        ]
    );
}

/// Records what it is asked to embed; vectors from the texts' bytes.
struct Recorder(std::sync::Mutex<Vec<String>>);

impl embedscope::embed::Embedder for Recorder {
    fn model_id(&self) -> &str {
        "recorder"
    }
    fn dim(&self) -> usize {
        8
    }
    fn embed(
        &self,
        texts: &[&str],
        _progress: &dyn embedscope::progress::Progress,
    ) -> embedscope::Result<Vec<f32>> {
        self.0
            .lock()
            .unwrap()
            .extend(texts.iter().map(|t| t.to_string()));
        Ok(texts
            .iter()
            .flat_map(|t| {
                let b = t.as_bytes();
                (0..8).map(move |i| {
                    1.0 + b
                        .iter()
                        .skip(i)
                        .step_by(8)
                        .map(|&x| f32::from(x))
                        .sum::<f32>()
                })
            })
            .collect())
    }
}

#[test]
fn the_audit_can_embed_the_texts_without_their_boilerplate() {
    let (texts, _) = planted();
    let footer = "Copyright 2024 Example Corp.";
    let carriers = texts.iter().filter(|t| t.contains(footer)).count();
    let corpus = embedscope::Corpus::from_texts(texts);
    for strip in [false, true] {
        let rec = Recorder(std::sync::Mutex::new(Vec::new()));
        let audit = embedscope::Audit::builder()
            .k_range(2, 3)
            .n_init(1)
            .map(false)
            .noise(false)
            .retrieval(false)
            .duplicates(false)
            .embedder(&rec)
            .strip_boilerplate(strip)
            .run(&corpus)
            .unwrap();
        let seen = rec.0.lock().unwrap();
        let with_footer = seen.iter().filter(|t| t.contains(footer)).count();
        let h = audit.health.as_ref().unwrap();
        if strip {
            // The audit's vectors are of the stripped texts; the changed chunks' originals
            // are embedded after them, only to show what stripping did to the clusters.
            let first = seen.iter().position(|t| t.contains(footer)).unwrap();
            assert!(seen[..first].len() >= corpus.len() - carriers, "{first}");
            let s = h.stripped.unwrap();
            assert!(
                s.chunks >= carriers && s.characters > carriers * 40,
                "{s:?}"
            );
            // (Equal originals are embedded once.)
            assert!(with_footer > 0 && with_footer <= carriers, "{with_footer}");
            assert!(h.strip_effect.is_some());
        } else {
            assert!(with_footer > 0);
            assert!(h.stripped.is_none() && h.strip_effect.is_none());
        }
    }
    // Stripping needs the health check.
    let e = embedscope::Audit::builder()
        .health(None)
        .strip_boilerplate(true)
        .check()
        .unwrap_err()
        .to_string();
    assert!(e.contains("strip_boilerplate"), "{e}");
}

/// Bag of words hashed into 32 dimensions: documents sharing words point the same way.
struct Words;

impl embedscope::embed::Embedder for Words {
    fn model_id(&self) -> &str {
        "words"
    }
    fn dim(&self) -> usize {
        32
    }
    fn embed(
        &self,
        texts: &[&str],
        _progress: &dyn embedscope::progress::Progress,
    ) -> embedscope::Result<Vec<f32>> {
        Ok(texts
            .iter()
            .flat_map(|t| {
                let mut v = vec![0.01f32; 32];
                for w in t.split_whitespace() {
                    let h = w.bytes().fold(2_166_136_261u32, |h, b| {
                        (h ^ u32::from(b)).wrapping_mul(16_777_619)
                    });
                    v[(h % 32) as usize] += 1.0;
                }
                v
            })
            .collect())
    }
}

#[test]
fn stripping_shows_which_clusters_the_boilerplate_held_together() {
    // Two topics; a long legal footer on every third chunk of both. With the footer, K-Means
    // at K = 2 groups by footer; without it, by topic.
    let footer = "\nThis page is provided by Example Corp under its standard terms of use and privacy policy for all visitors worldwide and may change without notice at any time";
    let rust =
        "rust cargo crate compiler borrow checker lifetimes traits generics macro unsafe async";
    let soup = "soup recipe onion garlic simmer broth pepper salt kitchen carrot leek stock";
    let mut rng = embedscope::rng::Rng::new(1, 0);
    let mut topic = |i: usize| {
        // Five words drawn from the topic's twelve: no word run recurs across many chunks.
        let words: Vec<&str> = if i.is_multiple_of(2) { rust } else { soup }
            .split(' ')
            .collect();
        (0..5)
            .map(|_| words[rng.below(words.len())])
            .collect::<Vec<_>>()
            .join(" ")
    };
    let texts: Vec<String> = (0..120)
        .map(|i| {
            if i % 3 == 0 {
                format!("{}{footer}", topic(i))
            } else {
                topic(i)
            }
        })
        .collect();
    let corpus = embedscope::Corpus::from_texts(texts);
    let audit = embedscope::Audit::builder()
        .k_range(2, 2)
        .n_init(5)
        .map(false)
        .noise(false)
        .retrieval(false)
        .duplicates(false)
        .stability(None)
        .embedder(&Words)
        .strip_boilerplate(true)
        .run(&corpus)
        .unwrap();
    let h = audit.health.as_ref().unwrap();
    assert_eq!(h.stripped.unwrap().chunks, 40);
    let e = h.strip_effect.as_ref().expect("the effect on the clusters");
    assert_eq!((e.k, e.rows), (2, 120));
    // The footer moved the 40 vectors far; the two clusterings disagree.
    assert!(e.mean_cosine_changed < 0.8, "{e:?}");
    assert!(e.ari < 0.5, "{e:?}");
    // The unstripped cluster the footer built: every chunk in it carried the footer, and it
    // has no counterpart once the footer is gone.
    let top = &e.clusters[0];
    assert!(top.boilerplate_share > 0.9, "{e:?}");
    assert!(top.jaccard < 0.6, "{e:?}");
    // The audit's own clusters follow the topics.
    let rust = audit.labels[0];
    assert!((0..120).all(|i| (audit.labels[i] == rust) == (i % 2 == 0)));
    // The report says so.
    let html = embedscope::report::render_html(&audit, &Default::default()).unwrap();
    assert!(
        html.contains("What stripping changed"),
        "no strip effect in the report"
    );
}
