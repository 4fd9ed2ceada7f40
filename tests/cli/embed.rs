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
