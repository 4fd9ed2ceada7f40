//! `embedscope queries INPUT QUERIES`: the sample against queries made from its own documents
//! and from random directions, with judgements; the errors.

use crate::common::{run, run_json, sample, stderr};

/// 40 of the sample's documents as queries (their vectors, their ids as the judgement) and 10
/// random directions, as JSONL.
pub fn write_queries(path: &std::path::Path) {
    let c = embedscope::io::load(&sample(), &Default::default()).unwrap();
    let v = c.vectors.as_ref().unwrap();
    let mut rng = embedscope::rng::Rng::new(5, 0);
    let mut lines: Vec<String> = (0..40)
        .map(|i| {
            let r = i * 50;
            serde_json::json!({
                "id": format!("q{i}"),
                "text": c.texts.as_ref().unwrap()[r],
                "embedding": v.row(r).to_vec(),
                "relevant": c.ids[r],
            })
            .to_string()
        })
        .collect();
    for i in 0..10 {
        let e: Vec<f32> = (0..v.dim()).map(|_| rng.next_f64() as f32 - 0.5).collect();
        lines.push(
            serde_json::json!({ "id": format!("r{i}"), "text": format!("random question {i}"), "embedding": e, "relevant": "" })
                .to_string(),
        );
    }
    std::fs::write(path, lines.join("\n")).unwrap();
}

#[test]
fn queries_from_the_corpus_and_from_nowhere() {
    let dir = tempfile::tempdir().unwrap();
    let q = dir.path().join("queries.jsonl");
    write_queries(&q);
    let table = dir.path().join("queries.parquet");
    let v = run_json(&[
        "queries",
        sample().to_str().unwrap(),
        q.to_str().unwrap(),
        "--relevant-column",
        "relevant",
        "--k-max",
        "5",
        "--per-query",
        table.to_str().unwrap(),
        "--json",
        "-",
    ]);
    let c = &v["coverage"];
    assert_eq!(c["queries"], 50);
    // The random directions are the gaps; the documents themselves are not.
    assert_eq!(c["gaps"], 10, "{c}");
    assert!(c["threshold"].as_f64().unwrap() > 0.3);
    assert!(v["demand"].as_array().unwrap().len() >= 2);
    // Judged: each document finds itself (or an exact copy at the same cosine) in its top 10.
    let j = &v["judged"];
    assert_eq!(j["queries"], 40);
    assert_eq!(j["missing_ids"], 0);
    assert_eq!(j["exact"]["recall_at_k"], 1.0, "{j}");
    assert_eq!(j["ivf"].as_array().unwrap().len(), 5);
    let f = std::fs::File::open(&table).unwrap();
    use polars::prelude::SerReader;
    let t = polars::prelude::ParquetReader::new(f).finish().unwrap();
    assert_eq!(t.height(), 50);
    // Text on stdout without --json.
    let o = run(&[
        "queries",
        sample().to_str().unwrap(),
        q.to_str().unwrap(),
        "--no-topics",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(
        out.contains("50 queries from") && out.contains("are coverage gaps"),
        "{out}"
    );
    assert!(out.contains("cluster retrieval (nlist"), "{out}");
}

#[test]
fn bad_query_files_exit_2_naming_the_file_and_row() {
    let dir = tempfile::tempdir().unwrap();
    let s = sample();
    let cases: [(&str, &str, &str); 4] = [
        (
            "dim.jsonl",
            r#"{"text": "a", "embedding": [1.0, 0.0, 0.5]}"#,
            "3 dimensions",
        ),
        ("empty.jsonl", "", "empty.jsonl"),
        (
            "nan.jsonl",
            r#"{"text": "a", "embedding": [1.0, NaN]}"#,
            "nan.jsonl",
        ),
        ("nocol.jsonl", r#"{"question": "a"}"#, "`text`"),
    ];
    for (name, body, want) in cases {
        let p = dir.path().join(name);
        std::fs::write(&p, body).unwrap();
        let o = run(&[
            "queries",
            s.to_str().unwrap(),
            p.to_str().unwrap(),
            "--no-topics",
        ]);
        assert_eq!(o.status.code(), Some(2), "{name}: {}", stderr(&o));
        assert!(stderr(&o).contains(want), "{name}: {}", stderr(&o));
    }
}

#[test]
fn the_audit_takes_queries_into_its_report_json_and_verdict() {
    let dir = tempfile::tempdir().unwrap();
    let q = dir.path().join("queries.jsonl");
    write_queries(&q);
    let (html, json) = (dir.path().join("r.html"), dir.path().join("audit.json"));
    let o = run(&[
        "audit",
        sample().to_str().unwrap(),
        "--queries",
        q.to_str().unwrap(),
        "--relevant-column",
        "relevant",
        "--out",
        html.to_str().unwrap(),
        "--json",
        json.to_str().unwrap(),
        "--k-max",
        "5",
        "--stability-runs",
        "0",
        "--no-health",
        "--max-gap-share",
        "0.1",
        "--fail-on-verdict",
        "--tables",
        dir.path().join("tables").to_str().unwrap(),
    ]);
    // 10 of 50 queries are gaps: above the 0.1 limit, so the verdict fails (exit 1), after
    // writing everything.
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(stderr(&o).contains("query gap share"), "{}", stderr(&o));
    let doc: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    let qr = &doc["queries"];
    assert_eq!(qr["coverage"]["gaps"], 10);
    assert_eq!(qr["judged"]["queries"], 40);
    assert!(qr["demand"].as_array().unwrap().len() >= 2);
    let names: Vec<&str> = doc["verdict"]["checks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert!(names.contains(&"query gap share") && names.contains(&"query recall@10 at nprobe 3"));
    assert!(doc["params"]["sections"]
        .as_array()
        .unwrap()
        .iter()
        .any(|s| s == "queries"));
    assert!(dir.path().join("tables/queries.parquet").exists());
    let page = std::fs::read_to_string(&html).unwrap();
    assert!(page.contains("<section id=\"queries\">") && page.contains("id=\"judged-table\""));
    // A query file of another dimension: exit 2 before anything is written.
    let bad = dir.path().join("bad.jsonl");
    std::fs::write(&bad, r#"{"text": "a", "embedding": [1.0, 0.0]}"#).unwrap();
    let fresh = dir.path().join("never.html");
    let o = run(&[
        "audit",
        sample().to_str().unwrap(),
        "--queries",
        bad.to_str().unwrap(),
        "--out",
        fresh.to_str().unwrap(),
        "--k-max",
        "3",
        "--stability-runs",
        "0",
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("bad.jsonl") && stderr(&o).contains("2 dimensions"),
        "{}",
        stderr(&o)
    );
    assert!(!fresh.exists());
}

#[test]
fn with_llm_the_gap_groups_and_topics_take_the_models_labels_and_the_key_stays_hidden() {
    use crate::common::server::{chat_answer, serve};
    const SECRET: &str = "sk-SECRET-queries-77";
    let dir = tempfile::tempdir().unwrap();
    let q = dir.path().join("queries.jsonl");
    write_queries(&q);
    // A chat-completions server on loopback: gap prompts get one answer, cluster prompts
    // another.
    let (base, count) = serve(|_, body| {
        let v: serde_json::Value = serde_json::from_str(body).unwrap();
        let prompt = v["messages"][0]["content"].as_str().unwrap();
        chat_answer(if prompt.starts_with("Users asked") {
            "Random noise"
        } else {
            "Debian things"
        })
    });
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_embedscope"))
        .args([
            "queries",
            sample().to_str().unwrap(),
            q.to_str().unwrap(),
            "--k-max",
            "4",
            "--llm",
            "--llm-base-url",
            &base,
            "--llm-no-cache",
            "--json",
            "-",
        ])
        .env("OPENAI_API_KEY", SECRET)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    let text = String::from_utf8_lossy(&o.stdout).into_owned();
    assert!(!text.contains(SECRET) && !stderr(&o).contains(SECRET));
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    let gaps = v["coverage"]["gap_topics"].as_array().unwrap();
    assert!(!gaps.is_empty());
    for g in gaps {
        assert_eq!(
            (&g["label"], &g["label_source"]),
            (
                &serde_json::json!("Random noise"),
                &serde_json::json!("llm")
            ),
            "{g}"
        );
        assert!(!g["keywords"].as_array().unwrap().is_empty());
    }
    let demand = v["demand"].as_array().unwrap();
    assert!(
        demand.iter().all(|d| d["label"] == "Debian things"),
        "{demand:?}"
    );
    assert_eq!(
        count.load(std::sync::atomic::Ordering::SeqCst),
        gaps.len() + demand.len()
    );
}
