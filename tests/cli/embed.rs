//! `embedscope embed`: vectors written as .npy and Parquet, the cache answering a rerun.

use std::path::Path;

use crate::common::{fixture, run, stderr};

#[test]
fn embed_writes_npy_and_parquet_and_uses_the_cache() {
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("cache");
    let npy = dir.path().join("v.npy");
    let args = |out: &Path| {
        vec![
            "embed".to_string(),
            fixture("parity/seed6.jsonl").display().to_string(),
            "--out".into(),
            out.display().to_string(),
            "--cache-dir".into(),
            cache.display().to_string(),
            "--json".into(),
        ]
    };
    let first = run(&args(&npy).iter().map(String::as_str).collect::<Vec<_>>());
    assert!(first.status.success(), "{}", stderr(&first));
    let v: serde_json::Value = serde_json::from_slice(&first.stdout).unwrap();
    assert_eq!(
        (
            v["rows"].as_u64(),
            v["embedded"].as_u64(),
            v["dim"].as_u64()
        ),
        (Some(6), Some(6), Some(384))
    );
    let m = embedscope::io::npy::read_npy(&npy).unwrap();
    assert_eq!((m.rows, m.cols), (6, 384));

    let pq = dir.path().join("v.parquet");
    let second = run(&args(&pq).iter().map(String::as_str).collect::<Vec<_>>());
    assert!(second.status.success(), "{}", stderr(&second));
    let v: serde_json::Value = serde_json::from_slice(&second.stdout).unwrap();
    assert_eq!(
        (v["cache_hits"].as_u64(), v["embedded"].as_u64()),
        (Some(6), Some(0)),
        "re-run must not re-embed"
    );
    let back = embedscope::io::load(&pq, &Default::default()).unwrap();
    let back = back.vectors.unwrap();
    assert_eq!(back.rows(), 6);
    for (x, y) in back.as_f32().iter().zip(&m.data) {
        assert!((x - y).abs() < 1e-6, "parquet and npy outputs differ");
    }
}

/// `--embedder local-int8`: its own model id and cache entries, vectors near the f32 ones.
#[test]
fn int8_embedder_is_cached_apart_and_close_to_f32() {
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("cache").display().to_string();
    let input = fixture("parity/seed6.jsonl").display().to_string();
    let embed = |embedder: &str, out: &str| {
        let out = dir.path().join(out).display().to_string();
        let o = run(&[
            "embed",
            &input,
            "--out",
            &out,
            "--cache-dir",
            &cache,
            "--json",
            "--embedder",
            embedder,
        ]);
        assert!(o.status.success(), "{}", stderr(&o));
        let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
        (v, embedscope::io::npy::read_npy(Path::new(&out)).unwrap())
    };
    let (exact, a) = embed("local", "f32.npy");
    let (fast, b) = embed("local-int8", "int8.npy");
    let model = fast["model"].as_str().unwrap();
    assert!(model.ends_with("/int8"), "{model}");
    assert_eq!(
        format!("{}/int8", exact["model"].as_str().unwrap()),
        model,
        "same weights and settings, int8 products"
    );
    assert_eq!(
        fast["embedded"].as_u64(),
        Some(6),
        "the f32 cache must not answer"
    );
    for (x, y) in a.data.chunks(384).zip(b.data.chunks(384)) {
        let dot: f32 = x.iter().zip(y).map(|(p, q)| p * q).sum();
        let norm = |v: &[f32]| v.iter().map(|p| p * p).sum::<f32>().sqrt();
        let cos = dot / (norm(x) * norm(y));
        assert!(cos >= 0.999, "cosine {cos}");
    }
}

/// The audit of texts embedded on the fast path says so, in `audit.json` and in the report.
#[test]
fn audit_records_the_int8_path() {
    let dir = tempfile::tempdir().unwrap();
    let html = dir.path().join("r.html");
    let json = dir.path().join("a.json");
    let o = run(&[
        "audit",
        &fixture("parity/parity-debian400.jsonl")
            .display()
            .to_string(),
        "--embedder",
        "local-int8",
        "--no-cache",
        "--out",
        &html.display().to_string(),
        "--json",
        &json.display().to_string(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    let model = v["corpus"]["vectors"]["model"].as_str().unwrap();
    assert!(model.ends_with("/int8"), "{model}");
    let page = std::fs::read_to_string(&html).unwrap();
    assert!(page.contains("the fast path: dense layers in int8"));
}
