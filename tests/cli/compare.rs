//! `embedscope compare A B`: the sample against itself and against a copy with rows removed,
//! JSON and text, and the errors.

use crate::common::{fixture, run, run_json, sample, stderr};

/// The sample's rows whose index is not a multiple of `skip`, as JSONL with ids, texts and
/// vectors.
fn thinned_sample(dir: &std::path::Path, skip: usize) -> std::path::PathBuf {
    let c = embedscope::io::load(&sample(), &Default::default()).unwrap();
    let v = c.vectors.as_ref().unwrap();
    let texts = c.texts.as_ref().unwrap();
    let lines: Vec<String> = (0..c.len())
        .filter(|i| i % skip != 0)
        .map(|i| {
            serde_json::json!({ "id": c.ids[i], "text": texts[i], "embedding": v.row(i).to_vec() })
                .to_string()
        })
        .collect();
    let path = dir.join("thinned.jsonl");
    std::fs::write(&path, lines.join("\n")).unwrap();
    path
}

#[test]
fn the_sample_against_a_thinned_copy_of_itself() {
    let dir = tempfile::tempdir().unwrap();
    let b = thinned_sample(dir.path(), 10);
    let s = sample();
    let v = run_json(&[
        "compare",
        s.to_str().unwrap(),
        b.to_str().unwrap(),
        "--k-max",
        "6",
        "--queries",
        "500",
        "--quick",
        "--out",
        dir.path().join("thinned.html").to_str().unwrap(),
        "--json",
        "-",
    ]);
    assert_eq!(v["overlap"]["both"], 1800);
    assert_eq!(v["overlap"]["a_only"], 200);
    assert_eq!(v["overlap"]["b_only"], 0);
    // The same vectors: every neighbour kept.
    assert_eq!(v["neighbours"]["queries"], 500);
    assert!(
        v["neighbours"]["mean_overlap"].as_f64().unwrap() > 0.999,
        "{}",
        v["neighbours"]
    );
    // Each side is clustered on its own rows: a tenth fewer moves K-Means on this weakly
    // structured corpus (ARI about 0.44), yet every topic is found again by its centroid.
    assert!(v["clusters"]["ari_own_k"].as_f64().unwrap() > 0.3);
    assert_eq!(v["documents"]["removed"], 200);
    assert_eq!(v["documents"]["added"], 0);
    let t = &v["topics"];
    assert_eq!(
        (t["new"].as_u64(), t["gone"].as_u64()),
        (Some(0), Some(0)),
        "{t}"
    );
    let o = run(&[
        "compare",
        s.to_str().unwrap(),
        b.to_str().unwrap(),
        "--k-max",
        "4",
        "--queries",
        "200",
        "--quick",
        "--out",
        dir.path().join("thinned2.html").to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(
        out.contains("1800 ids in both (200 in A only, 0 in B only)"),
        "{out}"
    );
    assert!(
        out.contains("neighbours: B keeps 100.0% of A's 10 nearest"),
        "{out}"
    );
}

#[test]
fn no_shared_ids_or_a_missing_side_exits_2() {
    let dir = tempfile::tempdir().unwrap();
    let b = dir.path().join("other.jsonl");
    let lines: Vec<String> = (0..20)
        .map(|i| {
            serde_json::json!({ "id": format!("x{i}"), "text": "t", "embedding": [1.0, i as f32] })
                .to_string()
        })
        .collect();
    std::fs::write(&b, lines.join("\n")).unwrap();
    let s = sample();
    let o = run(&["compare", s.to_str().unwrap(), b.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("0 ids in both"), "{}", stderr(&o));
    let o = run(&["compare", s.to_str().unwrap(), "/nonexistent/b.parquet"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("/nonexistent/b.parquet"),
        "{}",
        stderr(&o)
    );
    let o = run(&[
        "compare",
        s.to_str().unwrap(),
        s.to_str().unwrap(),
        "--neighbours",
        "0",
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("`neighbours` = 0"), "{}", stderr(&o));
}

#[test]
fn the_int8_model_keeps_most_neighbours_but_not_all() {
    // A: sentence-transformers' own vectors of the 400 parity texts; B: the same texts under
    // the int8 fast path, embedded on the spot by --embedder-b. Rows pair up by position
    // (neither file has ids).
    let dir = tempfile::tempdir().unwrap();
    let v = run_json(&[
        "compare",
        fixture("parity/parity-debian400.npy").to_str().unwrap(),
        fixture("parity/parity-debian400.jsonl").to_str().unwrap(),
        "--embedder-b",
        "local-int8",
        "--no-cache",
        "--k-max",
        "6",
        "--quick",
        "--out",
        dir.path().join("int8.html").to_str().unwrap(),
        "--json",
        "-",
    ]);
    assert_eq!(v["overlap"]["both"], 400);
    let kept = v["neighbours"]["mean_overlap"].as_f64().unwrap();
    assert!(
        kept > 0.9 && kept < 1.0,
        "int8 keeps {kept} of the neighbours"
    );
    assert!(v["neighbours"]["histogram"][10].as_u64().unwrap() < 400);
    // int8 and f32 vectors of one text are within cosine 0.999 of each other: one space.
    assert_eq!(v["space"]["same"], true);
    assert!(v["space"]["paired_cosine"].as_f64().unwrap() > 0.99);
}

/// Rows `rows` of the sample (with their section labels) as JSONL; `rename` gives some rows
/// new ids (copies under new ids).
fn write_rows(path: &std::path::Path, rows: &[usize], rename: &dyn Fn(usize) -> Option<String>) {
    let options = embedscope::io::LoadOptions {
        label_column: Some("section".into()),
        ..Default::default()
    };
    let c = embedscope::io::load(&sample(), &options).unwrap();
    let v = c.vectors.as_ref().unwrap();
    let (texts, labels) = (c.texts.as_ref().unwrap(), c.labels.as_ref().unwrap());
    let lines: Vec<String> = rows
        .iter()
        .enumerate()
        .map(|(k, &i)| {
            let id = rename(k).unwrap_or_else(|| c.ids[i].clone());
            serde_json::json!({ "id": id, "text": texts[i], "section": labels[i], "embedding": v.row(i).to_vec() })
                .to_string()
        })
        .collect();
    std::fs::write(path, lines.join("\n")).unwrap();
}

#[test]
fn two_snapshots_audited_side_by_side_into_a_report_json_and_tables() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (dir.path().join("june.jsonl"), dir.path().join("july.jsonl"));
    write_rows(&a, &(0..1500).collect::<Vec<_>>(), &|_| None);
    // July: the last 1,500 documents and copies of June's first 20 under new ids.
    write_rows(&b, &(500..2000).chain(0..20).collect::<Vec<_>>(), &|k| {
        (k >= 1500).then(|| format!("copy-{}", k - 1500))
    });
    let out = dir.path().join("reports/compare.html");
    let json = dir.path().join("compare.json");
    let tables = dir.path().join("tables");
    let args = |extra: &[&str]| {
        let mut v = vec![
            "compare".to_string(),
            a.to_str().unwrap().into(),
            b.to_str().unwrap().into(),
            "--label-column".into(),
            "section".into(),
            "--out".into(),
            out.to_str().unwrap().into(),
            "--json".into(),
            json.to_str().unwrap().into(),
            "--tables".into(),
            tables.to_str().unwrap().into(),
            "--no-timings".into(),
        ];
        v.extend(extra.iter().map(|s| s.to_string()));
        v
    };
    let a1 = args(&[]);
    let o = run(&a1.iter().map(String::as_str).collect::<Vec<_>>());
    assert!(o.status.success(), "{}", stderr(&o));
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(
        text.contains("1000 ids in both (500 in A only, 520 in B only)"),
        "{text}"
    );
    assert!(text.contains("side by side (A, B, better):"), "{text}");
    assert!(text.contains("V-measure vs labels"), "{text}");
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    assert_eq!(v["documents"]["added"], 520);
    assert_eq!(v["documents"]["removed"], 500);
    assert_eq!(v["seconds"], 0.0);
    assert!(v["cross_duplicates"]["copies"].as_u64().unwrap() >= 20);
    assert!(v["drift"]["p_value"].as_f64().unwrap() <= 1.0);
    let sides = &v["side_by_side"];
    assert_eq!(sides["a"]["rows"], 1500);
    assert!(sides["b"]["v_measure"].as_f64().unwrap() > 0.1);
    assert!(!sides["a"]["recall"].as_array().unwrap().is_empty());
    let html = std::fs::read_to_string(&out).unwrap();
    assert!(html.contains("id=\"chart-map-b\"") && html.contains("Side by side"));
    // The tables: one row per query document, per A-cluster, per topic.
    let rows = |name: &str| {
        let f = std::fs::File::open(tables.join(name)).unwrap();
        use polars::prelude::SerReader;
        polars::prelude::ParquetReader::new(f).finish().unwrap()
    };
    let n = rows("neighbours.parquet");
    assert_eq!(
        n.height() as u64,
        v["neighbours"]["queries"].as_u64().unwrap()
    );
    let names: Vec<String> = n.get_column_names().iter().map(|c| c.to_string()).collect();
    assert_eq!(names, ["id", "shared", "jaccard", "cluster_a", "cluster_b"]);
    assert_eq!(
        rows("clusters.parquet").height() as u64,
        v["clusters"]["k_a"].as_u64().unwrap()
    );
    assert_eq!(
        rows("topics.parquet").height(),
        v["topics"]["topics"].as_array().unwrap().len()
    );
    // Twice: byte-identical outputs.
    let first = (std::fs::read(&out).unwrap(), std::fs::read(&json).unwrap());
    let o = run(&a1.iter().map(String::as_str).collect::<Vec<_>>());
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(first == (std::fs::read(&out).unwrap(), std::fs::read(&json).unwrap()));
    // A verdict held to no lost documents fails with exit 1, after writing everything.
    std::fs::remove_file(&out).unwrap();
    let a2 = args(&["--max-topic-loss", "0", "--fail-on-verdict", "--quick"]);
    let o = run(&a2.iter().map(String::as_str).collect::<Vec<_>>());
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("verdict: FAIL (topic_loss"),
        "{}",
        stderr(&o)
    );
    assert!(out.exists());
    // An empty side: exit 2, nothing written.
    let empty = dir.path().join("empty.jsonl");
    std::fs::write(&empty, "").unwrap();
    let fresh = dir.path().join("never.html");
    let o = run(&[
        "compare",
        a.to_str().unwrap(),
        empty.to_str().unwrap(),
        "--out",
        fresh.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("empty.jsonl"), "{}", stderr(&o));
    assert!(!fresh.exists());
}
