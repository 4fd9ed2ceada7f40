//! Queries against the corpus, with planted answers: questions about a topic the corpus lacks
//! are coverage gaps labelled with that topic's words; a topic nobody asks about is never
//! asked; documents far from every question are dead; judgements give the textbook MRR and
//! nDCG; bad input is refused.

mod common;

use std::time::Duration;

use std::sync::{Arc, Mutex};

use common::server::{chat_answer as answer, serve, status, Reply};
use embedscope::label::llm::{LabelSource, LlmParams};
use embedscope::queries::{Queries, Topics};
use embedscope::rng::Rng;
use embedscope::{Corpus, Embeddings};

fn normal(rng: &mut Rng) -> f32 {
    let u1 = rng.next_f64().max(f64::MIN_POSITIVE);
    let u2 = rng.next_f64();
    ((-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos()) as f32
}

const DIM: usize = 32;
const WORDS: [&str; 4] = [
    "kernel driver",
    "garden flowers",
    "football match",
    "tax return",
];

/// Four topic directions (orthogonal axes, so the topics are far apart).
fn centre(t: usize) -> Vec<f32> {
    (0..DIM).map(|d| if d == t { 1.0 } else { 0.0 }).collect()
}

/// `n` points around topic `t`'s direction, with texts naming the topic.
fn around(t: usize, n: usize, spread: f32, rng: &mut Rng, kind: &str) -> (Vec<f32>, Vec<String>) {
    let c = centre(t);
    let mut v = Vec::new();
    let mut texts = Vec::new();
    for i in 0..n {
        v.extend(c.iter().map(|&x| x + spread * normal(rng)));
        texts.push(format!("{kind} {} number {i}", WORDS[t]));
    }
    (v, texts)
}

fn corpus(parts: Vec<(Vec<f32>, Vec<String>)>, prefix: &str) -> Corpus {
    let mut v = Vec::new();
    let mut texts = Vec::new();
    for (a, b) in parts {
        v.extend(a);
        texts.extend(b);
    }
    let mut c = Corpus::from_texts(texts);
    c.ids = (0..c.len()).map(|i| format!("{prefix}{i}")).collect();
    c.vectors = Some(Embeddings::new(v, DIM).unwrap());
    c.source = format!("{prefix}.jsonl").into();
    c
}

/// The planted corpus, its questions and its topics.
fn planted() -> (Corpus, Corpus, Topics) {
    let mut rng = Rng::new(3, 0);
    // The corpus: topics 0, 1, 2 (100 documents each), and 5 documents pointing away from
    // every topic and question (negative on the four topic axes).
    let far: (Vec<f32>, Vec<String>) = (
        (0..5)
            .flat_map(|i| {
                (0..DIM).map(move |d| match d {
                    0..=3 => -1.0,
                    _ if d == 10 + i => 0.5,
                    _ => 0.0,
                })
            })
            .collect(),
        (0..5).map(|i| format!("orphan page {i}")).collect(),
    );
    let docs = corpus(
        vec![
            around(0, 100, 0.05, &mut rng, "about"),
            around(1, 100, 0.05, &mut rng, "about"),
            around(2, 100, 0.05, &mut rng, "about"),
            far,
        ],
        "d",
    );
    // The queries: 40 about topic 0, 20 about topic 1, none about topic 2, and 30 about topic
    // 3, which the corpus does not hold.
    let asked = corpus(
        vec![
            around(0, 40, 0.05, &mut rng, "how do i fix my"),
            around(1, 20, 0.05, &mut rng, "what about"),
            around(3, 30, 0.05, &mut rng, "help with my"),
        ],
        "q",
    );
    let mut labels: Vec<usize> = (0..300).map(|i| i / 100).collect();
    labels.extend([0; 5]);
    let topics = Topics {
        labels,
        names: WORDS[..3].iter().map(|w| w.to_string()).collect(),
    };
    (docs, asked, topics)
}

#[test]
fn planted_gaps_unasked_topics_and_dead_documents() {
    let (docs, asked, topics) = planted();
    let r = Queries::params()
        .topics(Some(topics))
        .nprobes(vec![1, 4])
        .run(&docs, &asked)
        .unwrap();
    // Coverage: every topic-3 question is a gap, and they form the largest gap group,
    // labelled with its words. The threshold is the corpus' own 5th percentile of
    // nearest-neighbour cosines, so a question like the documents falls below it about as
    // often as a document does: a few of the 60 answerable ones at most.
    let c = &r.coverage;
    assert!(
        c.threshold_quantile == Some(0.05) && c.threshold > 0.5,
        "{c:?}"
    );
    for q in &r.per_query {
        let i: usize = q.id[1..].parse().unwrap();
        if i >= 60 {
            assert!(q.gap && q.best_cosine < 0.5, "{q:?}");
        }
    }
    let answerable_gaps = r.per_query[..60].iter().filter(|q| q.gap).count();
    assert!(
        answerable_gaps <= 6,
        "{answerable_gaps} of 60 answerable questions flagged"
    );
    assert_eq!(c.gaps, 30 + answerable_gaps);
    let top = &c.gap_topics[0];
    assert_eq!(top.size, 30, "{top:?}");
    assert!(top.keywords.iter().any(|k| k.contains("tax")), "{top:?}");
    assert!(top.examples[0].query.contains("tax return"));
    assert!(
        r.notes
            .iter()
            .any(|n| n.contains(&format!("{} of 90 queries", c.gaps))),
        "{:?}",
        r.notes
    );
    // Demand: topic 0 holds a third of the documents and gets 40 + (the gaps' nearest) of 90
    // questions; topic 2 none.
    let never: Vec<usize> = r
        .demand
        .iter()
        .filter(|d| d.queries == 0)
        .map(|d| d.cluster)
        .collect();
    assert_eq!(never, vec![2], "{:?}", r.demand);
    assert!(r
        .notes
        .iter()
        .any(|n| n.contains("nobody asks about: football match")));
    // Dead content: the 5 orphans and all of topic 2 are in no top 10.
    let u = &r.content;
    assert_eq!(u.slots, 900);
    for i in 300..305 {
        assert!(!r
            .per_query
            .iter()
            .any(|q| q.top_ids.contains(&format!("d{i}"))));
    }
    // Topic 2 is reached only by the gap questions' leftovers (their top 10 is whatever lies
    // at cosine about 0): most of it is dead, far more than of the asked-about topic 0.
    let share = |c: usize| {
        u.dead_by_cluster
            .iter()
            .find(|d| d.cluster == c)
            .unwrap()
            .dead_share
    };
    assert!(
        share(2) > 0.75 && share(0) < 0.5 * share(2),
        "{:?}",
        u.dead_by_cluster
    );
    assert!(u.dead_examples.len() == 10 && u.hot[0].slots >= u.hot[9].slots);
    // Retrieval on these queries: recall at each nprobe, up to 1 with every cell probed.
    assert_eq!(r.retrieval.per_nprobe.len(), 2);
    assert!(r
        .retrieval
        .per_nprobe
        .iter()
        .all(|p| (0.0..=1.0).contains(&p.recall)));
    // The table: one row per query.
    assert_eq!(r.to_frame().unwrap().height(), 90);
}

/// A handler that answers `reply(prompt)` and keeps each prompt in `prompts`.
fn recording(
    prompts: &Arc<Mutex<Vec<String>>>,
    reply: impl Fn(&str) -> Reply + Send + Sync + 'static,
) -> impl Fn(usize, &str) -> Reply + Send + Sync + 'static {
    let prompts = prompts.clone();
    move |_, body| {
        let v: serde_json::Value = serde_json::from_str(body).unwrap();
        let prompt = v["messages"][0]["content"].as_str().unwrap().to_string();
        let r = reply(&prompt);
        prompts.lock().unwrap().push(prompt);
        r
    }
}

fn llm(base: &str) -> LlmParams {
    LlmParams::default()
        .base_url(base)
        .model("test-model")
        .backoff(Duration::from_millis(10))
}

#[test]
fn gap_groups_take_a_language_models_labels_or_keep_their_keywords() {
    let (docs, asked, topics) = planted();
    // A real HTTP server speaking chat completions: the gap prompt carries the questions.
    let prompts = Arc::new(Mutex::new(Vec::new()));
    let (base, _) = serve(recording(&prompts, |prompt| {
        answer(if prompt.contains("help with my tax return") {
            "Filing taxes"
        } else {
            "Something else"
        })
    }));
    let r = Queries::params()
        .topics(Some(topics.clone()))
        .nprobes(vec![1])
        .llm(Some(llm(&base)))
        .run(&docs, &asked)
        .unwrap();
    let top = &r.coverage.gap_topics[0];
    assert_eq!(top.size, 30);
    assert_eq!(
        (top.label.as_str(), top.label_source, &top.label_reason),
        ("Filing taxes", LabelSource::Llm, &None)
    );
    assert!(top.keywords.iter().any(|k| k.contains("tax")), "{top:?}");
    let prompts = prompts.lock().unwrap();
    assert_eq!(prompts.len(), r.coverage.gap_topics.len());
    assert!(
        prompts
            .iter()
            .all(|p| p.contains("Users asked a document collection")),
        "the gap prompt, not the cluster prompt: {prompts:?}"
    );
    assert!(r.notes.iter().any(|n| n.contains("\"Filing taxes\" (30)")));
    assert!(!r.notes.iter().any(|n| n.starts_with("LLM labels")));
    drop(prompts);

    // A prompt of the user's own wins over the gap prompt.
    let prompts = Arc::new(Mutex::new(Vec::new()));
    let (base, _) = serve(recording(&prompts, |_| answer("Own prompt")));
    Queries::params()
        .nprobes(vec![1])
        .llm(Some(
            llm(&base).template("Name these: {{ documents | join(\"; \") }}"),
        ))
        .run(&docs, &asked)
        .unwrap();
    assert!(prompts.lock().unwrap()[0].starts_with("Name these: "));

    // A server that always fails: every group keeps its keyword label, with the reason, and
    // a note says so; the analysis itself stands.
    let (base, _) = serve(|_, _| status(500));
    let r = Queries::params()
        .topics(Some(topics))
        .nprobes(vec![1])
        .llm(Some(llm(&base).max_retries(1)))
        .run(&docs, &asked)
        .unwrap();
    let top = &r.coverage.gap_topics[0];
    assert_eq!(top.label_source, LabelSource::Keywords);
    assert!(
        top.label.contains("tax") && top.label_reason.is_some(),
        "{top:?}"
    );
    assert!(
        r.notes
            .iter()
            .any(|n| n.starts_with("LLM labels: ") && n.contains("500")),
        "{:?}",
        r.notes
    );
}

#[test]
fn judgements_give_the_textbook_mrr_and_ndcg() {
    // Three documents on a line of angles; one query nearest d0, then d1, then d2.
    let v = vec![1.0, 0.0, 0.9, 0.44, 0.5, 0.87];
    let mut docs = Corpus::from_texts(["zero", "one", "two"]);
    docs.ids = vec!["d0".into(), "d1".into(), "d2".into()];
    docs.vectors = Some(Embeddings::new(v, 2).unwrap());
    let mut q = Corpus::from_texts(["which"]);
    q.vectors = Some(Embeddings::new(vec![1.0, 0.05], 2).unwrap());
    // Relevant: d1 (rank 2) and d2 (rank 3), and an id the corpus lacks.
    let r = Queries::params()
        .top_k(3)
        .nprobes(vec![1, 4, 8])
        .relevant(Some(vec![vec!["d1".into(), "d2".into(), "gone".into()]]))
        .run(&docs, &q)
        .unwrap();
    assert_eq!(r.per_query[0].top_ids, ["d0", "d1", "d2"]);
    // Two cells for three documents: nprobe 4 and 8 are both every cell, measured once.
    let probes: Vec<usize> = r.retrieval.per_nprobe.iter().map(|p| p.nprobe).collect();
    assert_eq!(probes, [1, 2]);
    let j = r.judged.as_ref().unwrap();
    assert_eq!((j.queries, j.missing_ids), (1, 1));
    assert_eq!(j.exact.mrr, 0.5);
    assert_eq!(j.exact.recall_at_k, 1.0);
    // DCG = 1/log2(3) + 1/log2(4); IDCG = 1 + 1/log2(3).
    let want = (1.0 / 3f64.log2() + 0.5) / (1.0 + 1.0 / 3f64.log2());
    assert!(
        (j.exact.ndcg_at_10 - want).abs() < 1e-12,
        "{}",
        j.exact.ndcg_at_10
    );
}

#[test]
fn bad_queries_are_refused() {
    let mut rng = Rng::new(1, 0);
    let docs = corpus(vec![around(0, 10, 0.05, &mut rng, "a")], "d");
    let mut other = Corpus::from_texts(["x"]);
    other.vectors = Some(Embeddings::new(vec![1.0, 0.0, 0.0], 3).unwrap());
    other.source = "q3.jsonl".into();
    let e = Queries::params()
        .run(&docs, &other)
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("q3.jsonl") && e.contains("3 dimensions") && e.contains("32"),
        "{e}"
    );
    let mut none = other.clone();
    none.vectors = None;
    let e = Queries::params().run(&docs, &none).unwrap_err().to_string();
    assert!(e.contains("no vectors"), "{e}");
    let e = Queries::params()
        .top_k(0)
        .run(&docs, &other)
        .unwrap_err()
        .to_string();
    assert!(e.contains("`top_k`"), "{e}");
    let e = Queries::params()
        .gap_threshold(Some(2.0))
        .run(&docs, &other)
        .unwrap_err()
        .to_string();
    assert!(e.contains("`gap_threshold`"), "{e}");
}
