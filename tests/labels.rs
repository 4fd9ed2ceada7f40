//! Cluster keywords (c-TF-IDF) against a scikit-learn/BERTopic reference, and on the seed's six
//! sentences.

mod common;

use common::{repo, run, run_json};

use embedscope::io::{load, LoadOptions};
use embedscope::label::{keywords, KeywordParams};

fn fixture(name: &str) -> serde_json::Value {
    let p = repo("tests/fixtures").join(name);
    serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap()
}

#[test]
fn ctfidf_matches_the_scikit_learn_reference() {
    let path = repo("samples/debian-2k.parquet");
    let texts = load(&path, &LoadOptions::default()).unwrap().texts.unwrap();
    // Labels: K-Means k = 10 on the sample; reference top-10 terms and weights computed with
    // scikit-learn's CountVectorizer(stop_words="english", ngram_range=(1, 2)) and BERTopic's
    // ClassTfidfTransformer formula (tests/fixtures/reference/ctfidf-debian2k-k10.json).
    let reference = fixture("reference/ctfidf-debian2k-k10.json");
    let labels: Vec<Option<usize>> = reference["labels"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| Some(v.as_u64().unwrap() as usize))
        .collect();
    let ours = keywords(&texts, &labels, 10, &KeywordParams::default()).unwrap();
    for (c, want) in reference["top10"].as_array().unwrap().iter().enumerate() {
        let want = want.as_array().unwrap();
        assert_eq!(ours[c].len(), 10);
        for (got, w) in ours[c].iter().zip(want) {
            let (term, weight) = (w[0].as_str().unwrap(), w[1].as_f64().unwrap());
            assert!(
                (got.weight - weight).abs() < 1e-9,
                "cluster {c}: {} {} vs {term} {weight}",
                got.term,
                got.weight
            );
            assert_eq!(got.term, term, "cluster {c}");
        }
    }
}

#[test]
fn seed_sentences_name_the_ai_cluster() {
    let path = repo("tests/fixtures/parity/seed6.jsonl");
    let texts = load(&path, &LoadOptions::default()).unwrap().texts.unwrap();
    // The split K-Means finds on the real vectors: {ML, DL, Python, AI} and {JS, TS}.
    let labels = [Some(0), Some(0), Some(0), Some(1), Some(0), Some(1)];
    let k = keywords(&texts, &labels, 2, &KeywordParams::default()).unwrap();
    let top: Vec<&str> = k[0].iter().take(5).map(|w| w.term.as_str()).collect();
    assert!(
        top.contains(&"ai") || top.contains(&"learning"),
        "AI cluster keywords {top:?}"
    );
    assert_eq!(k[1][0].term, "javascript");
}

#[test]
fn cli_label_names_clusters_and_rejects_mismatched_assignments() {
    let dir = tempfile::tempdir().unwrap();
    let sample = repo("samples/debian-2k.parquet");
    // Assignments from the reference fixture, with the first 100 rows as noise.
    let reference = fixture("reference/ctfidf-debian2k-k10.json");
    let mut csv = String::from("row,cluster\n");
    for (i, l) in reference["labels"].as_array().unwrap().iter().enumerate() {
        let c = if i < 100 { -1 } else { l.as_i64().unwrap() };
        csv.push_str(&format!("{i},{c}\n"));
    }
    let assignments = dir.path().join("a.csv");
    std::fs::write(&assignments, csv).unwrap();
    let j = run_json(&[
        "label",
        sample.to_str().unwrap(),
        "--assignments",
        assignments.to_str().unwrap(),
        "--json",
    ]);
    assert_eq!(j["n_clusters"], 10);
    assert_eq!(j["noise"], 100);
    let clusters = j["clusters"].as_array().unwrap();
    let sizes: u64 = clusters.iter().map(|c| c["size"].as_u64().unwrap()).sum();
    assert_eq!(sizes, 1900);
    for c in clusters {
        assert_eq!(c["keywords"].as_array().unwrap().len(), 10);
        assert!(!c["label"].as_str().unwrap().is_empty());
        // The sample carries vectors: examples and neighbouring clusters come along.
        assert!(!c["examples"].as_array().unwrap().is_empty());
        assert_eq!(c["neighbours"].as_array().unwrap().len(), 3);
    }
    // The cluster K-Means made of Rust crates is named after Rust.
    assert!(clusters
        .iter()
        .any(|c| c["label"].as_str().unwrap().starts_with("rust")));

    // Assignments for another corpus: exit 2, the message names the file and both counts.
    let short = dir.path().join("short.csv");
    std::fs::write(&short, "row,cluster\n0,0\n1,1\n").unwrap();
    let o = run(&[
        "label",
        sample.to_str().unwrap(),
        "--assignments",
        short.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("short.csv") && err.contains("2000"), "{err}");
}

#[test]
fn cli_mmr_reranks_with_the_local_model() {
    // Needs the model (installed by the test command), like tests/model.rs.
    let dir = tempfile::tempdir().unwrap();
    let reference = fixture("reference/ctfidf-debian2k-k10.json");
    let mut csv = String::from("row,cluster\n");
    for (i, l) in reference["labels"].as_array().unwrap().iter().enumerate() {
        csv.push_str(&format!("{i},{}\n", l.as_i64().unwrap()));
    }
    let assignments = dir.path().join("a.csv");
    std::fs::write(&assignments, csv).unwrap();
    let sample = repo("samples/debian-2k.parquet");
    let args = |extra: &[&str]| {
        let mut a = vec![
            "label",
            sample.to_str().unwrap(),
            "--assignments",
            assignments.to_str().unwrap(),
            "--json",
        ];
        a.extend_from_slice(extra);
        a.iter().map(|s| s.to_string()).collect::<Vec<String>>()
    };
    let call = |a: Vec<String>| {
        let refs: Vec<&str> = a.iter().map(String::as_str).collect();
        run(&refs)
    };
    let plain = call(args(&[]));
    let diverse = call(args(&["--mmr", "0.5"]));
    assert!(
        diverse.status.success(),
        "{}",
        String::from_utf8_lossy(&diverse.stderr)
    );
    let p: serde_json::Value = serde_json::from_slice(&plain.stdout).unwrap();
    let d: serde_json::Value = serde_json::from_slice(&diverse.stdout).unwrap();
    let terms = |v: &serde_json::Value, c: usize| -> Vec<String> {
        v["clusters"][c]["keywords"]
            .as_array()
            .unwrap()
            .iter()
            .map(|k| k["term"].as_str().unwrap().to_string())
            .collect()
    };
    let mut changed = 0;
    for c in 0..10 {
        assert_eq!(terms(&d, c).len(), 10);
        if terms(&d, c) != terms(&p, c) {
            changed += 1;
        }
    }
    assert!(
        changed >= 5,
        "MMR changed only {changed} of 10 keyword lists"
    );
    let bad = call(args(&["--mmr", "1.5"]));
    assert_eq!(bad.status.code(), Some(2));
}
