//! Duplicates from the command line: planted near copies found exactly, exact text groups,
//! bad input.

mod common;

use common::{repo, run};

#[test]
fn dedup_finds_planted_copies_and_rejects_bad_thresholds() {
    let dir = tempfile::tempdir().unwrap();
    // Five rows: 0 and 3 identical texts (up to case and spaces), 1 and 4 near copies.
    let jsonl = dir.path().join("c.jsonl");
    std::fs::write(
        &jsonl,
        r#"{"text": "Rust crate", "embedding": [1.0, 0.0, 0.0]}
{"text": "Fonts", "embedding": [0.0, 1.0, 0.0]}
{"text": "Qt toolkit", "embedding": [0.0, 0.0, 1.0]}
{"text": "rust   CRATE", "embedding": [1.0, 0.0, 0.0]}
{"text": "Font files", "embedding": [0.0, 1.0, 0.1]}
"#,
    )
    .unwrap();
    let out = dir.path().join("pairs.csv");
    let o = run(&[
        "dedup",
        jsonl.to_str().unwrap(),
        "--threshold",
        "0.99",
        "--out",
        out.to_str().unwrap(),
        "--json",
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let j: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    // cos(row 1, row 4) = 1/sqrt(1.01) = 0.995: in at 0.99.
    assert_eq!(j["pairs"], 2);
    assert_eq!(j["groups"], 2);
    assert_eq!(j["exact_groups"], 1);
    // Nearest-neighbour cosines: rows 0, 3 (1.0) and 1, 4 (0.995) in the top bin, row 2 (0.0)
    // below the histogram's range.
    let h = &j["nearest_cosine_histogram"];
    assert_eq!(h["counts"].as_array().unwrap().last().unwrap(), 4);
    assert_eq!(h["below_0.5"], 1);
    let text = std::fs::read_to_string(&out).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines[0], "row_a,row_b,cosine");
    assert!(
        lines[1].starts_with("0,3,1") && lines[2].starts_with("1,4,0.99"),
        "{text}"
    );

    let parquet = dir.path().join("pairs.parquet");
    let o = run(&[
        "dedup",
        jsonl.to_str().unwrap(),
        "--out",
        parquet.to_str().unwrap(),
    ]);
    assert!(o.status.success() && parquet.exists());

    for bad in ["0", "1.5", "-0.2"] {
        let o = run(&[
            "dedup",
            jsonl.to_str().unwrap(),
            "--threshold",
            bad,
            "--out",
            dir.path().join("x.csv").to_str().unwrap(),
        ]);
        assert_eq!(o.status.code(), Some(2), "threshold {bad}");
        assert!(!dir.path().join("x.csv").exists());
    }
    let o = run(&[
        "dedup",
        repo("tests/fixtures/empty.jsonl").to_str().unwrap(),
        "--out",
        dir.path().join("y.csv").to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2));
}
