//! Duplicates from the command line: planted near copies found exactly, exact text groups,
//! bad input.

mod common;

use common::{repo, run, run_json};

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
    let j = run_json(&[
        "dedup",
        jsonl.to_str().unwrap(),
        "--threshold",
        "0.99",
        "--out",
        out.to_str().unwrap(),
        "--json",
    ]);
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
        repo("tests/fixtures/inputs/empty.jsonl").to_str().unwrap(),
        "--out",
        dir.path().join("y.csv").to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn keep_policies_write_the_deduplicated_corpus_and_groups() {
    let dir = tempfile::tempdir().unwrap();
    // Group {0, 1, 2} (near copies, row 2 the longest text, row 1 in the middle of the three
    // directions), row 3 alone, rows 4 and 5 equal texts with different vectors.
    let jsonl = dir.path().join("c.jsonl");
    std::fs::write(
        &jsonl,
        r#"{"id": "a", "text": "short", "embedding": [1.0, 0.00, 0.0]}
{"id": "b", "text": "middle one", "embedding": [1.0, 0.05, 0.0]}
{"id": "c", "text": "the longest text", "embedding": [1.0, 0.10, 0.0]}
{"id": "d", "text": "alone", "embedding": [0.0, 0.0, 1.0]}
{"id": "e", "text": "Same Words", "embedding": [0.0, 1.0, 0.0]}
{"id": "f", "text": "same words", "embedding": [0.0, 0.7, 0.7]}
"#,
    )
    .unwrap();
    let kept_ids = |keep: &str, ext: &str| -> (serde_json::Value, Vec<String>) {
        let out = dir.path().join(format!("dedup-{keep}.{ext}"));
        let groups = dir.path().join(format!("groups-{keep}.csv"));
        let j = run_json(&[
            "dedup",
            jsonl.to_str().unwrap(),
            "--out",
            dir.path().join("p.csv").to_str().unwrap(),
            "--keep",
            keep,
            "--deduplicated",
            out.to_str().unwrap(),
            "--groups",
            groups.to_str().unwrap(),
            "--json",
        ]);
        let g = std::fs::read_to_string(&groups).unwrap();
        assert!(g.starts_with("row,group,kept\n0,0,"), "{g}");
        let ids = match ext {
            "jsonl" => std::fs::read_to_string(&out)
                .unwrap()
                .lines()
                .map(|l| {
                    let v: serde_json::Value = serde_json::from_str(l).unwrap();
                    assert!(v["embedding"].as_array().unwrap().len() == 3 && v["text"].is_string());
                    v["id"].as_str().unwrap().to_string()
                })
                .collect(),
            _ => std::fs::read_to_string(&out)
                .unwrap()
                .lines()
                .skip(1)
                .map(|l| l.split(',').next().unwrap().to_string())
                .collect(),
        };
        (j, ids)
    };
    let (j, ids) = kept_ids("first", "jsonl");
    assert_eq!(ids, ["a", "d", "e"]);
    assert_eq!(
        (j["kept_rows"].as_u64(), j["removed_rows"].as_u64()),
        (Some(3), Some(3))
    );
    assert_eq!(
        (j["groups"].as_u64(), j["exact_groups"].as_u64()),
        (Some(1), Some(1))
    );
    assert_eq!(kept_ids("longest", "csv").1, ["c", "d", "e"]);
    assert_eq!(kept_ids("centroid", "csv").1, ["b", "d", "e"]);
    // The deduplicated corpus reads back, vectors included.
    let pq = dir.path().join("kept.parquet");
    let o = run(&[
        "dedup",
        jsonl.to_str().unwrap(),
        "--out",
        dir.path().join("p.csv").to_str().unwrap(),
        "--deduplicated",
        pq.to_str().unwrap(),
    ]);
    assert!(o.status.success());
    let corpus = embedscope::io::load(&pq, &Default::default()).unwrap();
    assert_eq!(corpus.ids, ["a", "d", "e"]);
    assert_eq!(corpus.vectors.unwrap().rows(), 3);
    // --keep longest without texts is an error before anything is written.
    let o = run(&[
        "dedup",
        repo("tests/fixtures/parity/seed6.npy").to_str().unwrap(),
        "--out",
        dir.path().join("q.csv").to_str().unwrap(),
        "--keep",
        "longest",
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(!dir.path().join("q.csv").exists());
}

#[test]
fn clustered_mode_reports_its_recall_against_exact() {
    let dir = tempfile::tempdir().unwrap();
    let sample = repo("samples/debian-2k.parquet");
    let mut found = Vec::new();
    for mode in ["exact", "clustered"] {
        let j = run_json(&[
            "dedup",
            sample.to_str().unwrap(),
            "--threshold",
            "0.9",
            "--mode",
            mode,
            "--recall-sample",
            "2000",
            "--out",
            dir.path().join(format!("{mode}.csv")).to_str().unwrap(),
            "--json",
        ]);
        assert_eq!(j["mode"], mode);
        found.push(j);
    }
    let (exact, clustered) = (&found[0], &found[1]);
    let r = &clustered["clustered"]["recall_sample"];
    // The sample is the whole corpus here, so the measured recall is the true one.
    assert_eq!(r["exact_pairs"], exact["pairs"]);
    assert_eq!(r["found"], clustered["pairs"]);
    assert!(r["recall"].as_f64().unwrap() >= 0.9, "{r}");
    assert!(clustered["nearest_cosine_histogram"].is_null());
    let exact_rows = std::fs::read_to_string(dir.path().join("exact.csv")).unwrap();
    for line in std::fs::read_to_string(dir.path().join("clustered.csv"))
        .unwrap()
        .lines()
        .skip(1)
    {
        let key: Vec<&str> = line.split(',').take(2).collect();
        assert!(exact_rows
            .lines()
            .any(|l| l.split(',').take(2).eq(key.iter().copied())));
    }
}
