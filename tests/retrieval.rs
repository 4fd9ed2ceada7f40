//! Cluster-based retrieval from the command line: search by row and by text, the evaluation
//! against exact search, bad input.

mod common;

use common::{repo, run, run_json};

fn sample() -> String {
    repo("samples/debian-2k.parquet")
        .to_str()
        .unwrap()
        .to_string()
}

#[test]
fn search_by_row_finds_the_row_first_and_reports_what_probing_missed() {
    let j = run_json(&[
        "search",
        &sample(),
        "--row",
        "7",
        "--top-k",
        "5",
        "--nprobe",
        "2",
        "--exact",
        "--json",
    ]);
    assert_eq!(j["nlist"], 45); // round(sqrt(2000))
    let r = &j["results"][0];
    let hits = r["hits"].as_array().unwrap();
    assert_eq!(hits.len(), 5);
    assert_eq!(hits[0]["row"], 7);
    assert!((hits[0]["score"].as_f64().unwrap() - 1.0).abs() < 1e-5);
    assert!(hits[0]["text"].is_string() && hits[0]["cluster"].is_u64());
    let exact = r["exact"].as_array().unwrap();
    assert_eq!(exact[0]["row"], 7);
    let recall = r["recall"].as_f64().unwrap();
    let found = exact
        .iter()
        .filter(|e| hits.iter().any(|h| h["row"] == e["row"]))
        .count();
    assert_eq!(recall, found as f64 / 5.0);
}

#[test]
fn search_by_text_embeds_the_query() {
    let j = run_json(&[
        "search",
        &sample(),
        "--query",
        "Python library for machine learning",
        "--nprobe",
        "45",
        "--json",
    ]);
    let hits = j["results"][0]["hits"].as_array().unwrap();
    assert_eq!(hits.len(), 10);
    let top = hits[0]["text"].as_str().unwrap().to_lowercase();
    assert!(top.contains("python") || top.contains("learning"), "{top}");
    assert!(hits
        .windows(2)
        .all(|w| w[0]["score"].as_f64() >= w[1]["score"].as_f64()));
}

#[test]
fn retrieval_eval_measures_every_nprobe() {
    let dir = tempfile::tempdir().unwrap();
    let per_cluster = dir.path().join("cells.csv");
    let j = run_json(&[
        "retrieval-eval",
        &sample(),
        "--nprobe",
        "1,2,4,43,64",
        "--repeats",
        "1",
        "--per-cluster",
        per_cluster.to_str().unwrap(),
        "--json",
    ]);
    // As the peer harness: a tenth held out (200 queries), nlist = round(sqrt(1800)).
    assert_eq!(
        (
            j["n_queries"].as_u64(),
            j["n_db"].as_u64(),
            j["nlist"].as_u64()
        ),
        (Some(200), Some(1800), Some(42))
    );
    let per = j["per_nprobe"].as_array().unwrap();
    assert_eq!(per.len(), 3);
    assert_eq!(j["skipped_nprobes"], serde_json::json!([43, 64]));
    let recall: Vec<f64> = per
        .iter()
        .map(|p| p["recall_at_10"].as_f64().unwrap())
        .collect();
    assert!(
        recall.windows(2).all(|w| w[0] <= w[1]) && recall[0] > 0.3,
        "{recall:?}"
    );
    assert!(per.iter().all(|p| p["qps"].as_f64().unwrap() > 0.0));
    assert!(j["hubness"]["orphans"].is_u64() && j["hubness"]["skewness"].is_f64());
    let d = &j["dedup"];
    assert!(
        d["before"]["redundant_share"].as_f64().unwrap()
            >= d["after"]["redundant_share"].as_f64().unwrap()
    );
    let cells = std::fs::read_to_string(&per_cluster).unwrap();
    assert!(cells
        .starts_with("cluster,size,truth_hits,recall_nprobe_1,recall_nprobe_2,recall_nprobe_4\n"));
    let total: u64 = cells
        .lines()
        .skip(1)
        .map(|l| l.split(',').nth(2).unwrap().parse::<u64>().unwrap())
        .sum();
    assert_eq!(total, 2000);

    // Probing every cell is exact search.
    let o = run(&[
        "retrieval-eval",
        &sample(),
        "--nprobe",
        "42",
        "--repeats",
        "1",
        "--no-dedup",
        "--no-hubness",
        "--json",
    ]);
    let j: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(j["per_nprobe"][0]["recall_at_10"], 1.0);
    assert!(j["hubness"].is_null() && j["dedup"].is_null());
}

#[test]
fn bad_retrieval_input_is_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    for args in [
        vec!["search", &sample(), "--row", "2000"],
        vec!["search", &sample(), "--row", "1", "--nprobe", "0"],
        vec!["search", &sample(), "--row", "1", "--nprobe", "46"],
        vec!["search", &sample(), "--row", "1", "--nlist", "5000"],
        vec!["retrieval-eval", &sample(), "--nprobe", "0"],
        vec!["retrieval-eval", &sample(), "--dedup-threshold", "1.5"],
        vec![
            "retrieval-eval",
            repo("tests/fixtures/inputs/empty.jsonl").to_str().unwrap(),
        ],
        vec![
            "retrieval-eval",
            repo("tests/fixtures/parity/seed6.npy").to_str().unwrap(),
        ],
    ] {
        let o = run(&args);
        assert_eq!(
            o.status.code(),
            Some(2),
            "{args:?}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        assert!(!String::from_utf8_lossy(&o.stderr).contains("panicked"));
    }
    let csv = dir.path().join("cells.csv");
    let o = run(&[
        "retrieval-eval",
        &sample(),
        "--per-cluster",
        dir.path().join("cells.txt").to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(!csv.exists());
}
