//! `embedscope health`: the pre-flight check from the command line, its verdict's exit code
//! and its errors.

use crate::common::{fixture, run, run_json, stderr};

#[test]
fn health_counts_tokens_and_passes_the_parity_texts() {
    let v = run_json(&[
        "health",
        fixture("parity/parity-debian400.jsonl").to_str().unwrap(),
        "--json",
    ]);
    assert_eq!(v["rows"], 400);
    assert_eq!(v["tokens"]["limit"], 256);
    assert_eq!(
        v["tokens"]["truncated"], 11,
        "as the Python tokenizer counts"
    );
    assert_eq!(v["pass"], true);
    assert_eq!(v["languages"]["main"], "eng");
    assert_eq!(v["checks"].as_array().unwrap().len(), 6);
    // Another embedder's limit.
    let v = run_json(&[
        "health",
        fixture("parity/parity-debian400.jsonl").to_str().unwrap(),
        "--max-tokens",
        "128",
        "--json",
    ]);
    assert_eq!(v["tokens"]["limit"], 128);
    assert!(v["tokens"]["truncated"].as_u64().unwrap() > 11);
}

#[test]
fn a_failed_check_says_what_to_do_and_gates_with_exit_1() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("chunks.jsonl");
    let mut lines = Vec::new();
    for i in 0..20 {
        let text = if i % 4 == 0 {
            String::new()
        } else {
            format!(
                "Chunk {i} describes a library for parsing files of kind {}.",
                i * 3
            )
        };
        lines.push(serde_json::json!({ "id": format!("c{i}"), "text": text }).to_string());
    }
    std::fs::write(&path, lines.join("\n")).unwrap();
    let p = path.to_str().unwrap();
    let o = run(&["health", p]);
    assert!(o.status.success(), "{}", stderr(&o));
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(out.contains("empty: 5"), "{out}");
    assert!(
        out.contains("FAIL  empty share") && out.contains("drop empty"),
        "{out}"
    );
    assert!(out.contains("verdict: FAIL"), "{out}");
    let o = run(&["health", p, "--fail-on-verdict"]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(stderr(&o).contains("empty share"), "{}", stderr(&o));
    // The chunks share a template of 8 words, which is boilerplate too.
    assert!(out.contains("FAIL  boilerplate share"), "{out}");
    let o = run(&[
        "health",
        p,
        "--max-empty-share",
        "0.5",
        "--max-short-share",
        "0.5",
        "--max-boilerplate-share",
        "1",
        "--fail-on-verdict",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
}

#[test]
fn health_errors_name_what_is_wrong() {
    let sample = fixture("parity/parity-debian400.jsonl");
    let s = sample.to_str().unwrap();
    for (args, want) in [
        (
            vec!["health", s, "--model-dir", "/nonexistent/model"],
            "tokenizer.json",
        ),
        (
            vec!["health", s, "--max-truncated-share", "2"],
            "max_truncated_share",
        ),
        (vec!["health", s, "--min-tokens", "0"], "min_tokens"),
        (vec!["health", s, "--max-tokens", "0"], "--max-tokens"),
        (
            vec![
                "health",
                fixture("parity/parity-debian400.npy").to_str().unwrap(),
            ],
            "no text column",
        ),
    ] {
        let o = run(&args);
        assert_eq!(o.status.code(), Some(2), "{args:?}");
        assert!(stderr(&o).contains(want), "{args:?}: {}", stderr(&o));
    }
    // No tokenizer needed with --no-tokens.
    let o = run(&[
        "health",
        s,
        "--model-dir",
        "/nonexistent/model",
        "--no-tokens",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
}
