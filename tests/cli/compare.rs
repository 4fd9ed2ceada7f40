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
        "--json",
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
    // the int8 fast path. Rows pair up by position (neither file has ids).
    let dir = tempfile::tempdir().unwrap();
    let b = dir.path().join("int8.parquet");
    let o = run(&[
        "embed",
        fixture("parity/parity-debian400.jsonl").to_str().unwrap(),
        "--embedder",
        "local-int8",
        "--no-cache",
        "--out",
        b.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let v = run_json(&[
        "compare",
        fixture("parity/parity-debian400.npy").to_str().unwrap(),
        b.to_str().unwrap(),
        "--k-max",
        "6",
        "--json",
    ]);
    assert_eq!(v["overlap"]["both"], 400);
    let kept = v["neighbours"]["mean_overlap"].as_f64().unwrap();
    assert!(
        kept > 0.9 && kept < 1.0,
        "int8 keeps {kept} of the neighbours"
    );
    assert!(v["neighbours"]["histogram"][10].as_u64().unwrap() < 400);
}
