//! The command line as a user drives it: outputs, `--json`, exit code 2 and no partial file on
//! bad input.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

fn sample() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("samples/debian-2k.parquet")
}

fn run(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_embedscope"))
        .args(args)
        .output()
        .expect("the binary runs")
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn audit_of_the_sample_writes_report_and_json() {
    let dir = tempfile::tempdir().unwrap();
    let html = dir.path().join("r/sample.html");
    let json = dir.path().join("audit.json");
    let o = run(&[
        "audit",
        sample().to_str().unwrap(),
        "--out",
        html.to_str().unwrap(),
        "--json",
        json.to_str().unwrap(),
        "--k-max",
        "6",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let page = std::fs::read_to_string(&html).unwrap();
    assert!(page.contains("How many clusters") && page.contains("plotly.js v3.0.1"));
    // Outside the inlined plotly.js (whose map traces know tile servers, unused here), nothing
    // may point at the network: corpus texts with URLs are escaped text, not attributes.
    let start = page
        .find("<script>/**\n* plotly.js")
        .expect("plotly.js inlined");
    let end = start + page[start..].find("</script>").unwrap();
    let rest = format!("{}{}", &page[..start], &page[end..]);
    for attr in [
        "src=\"http",
        "href=\"http",
        "src='http",
        "href='http",
        "@import",
        "url(http",
    ] {
        assert!(
            !rest.contains(attr),
            "the report points at the network: {attr}"
        );
    }
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    assert_eq!(v["corpus"]["rows"], 2000);
    assert_eq!(v["corpus"]["vectors"]["kind"], "file");
    let per_k = v["optimal_k"]["per_k"].as_array().unwrap();
    assert_eq!(per_k.len(), 5, "k = 2..=6");
    let chosen = v["optimal_k"]["chosen_k"].as_u64().unwrap();
    let sizes: u64 = v["clusters"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["size"].as_u64().unwrap())
        .sum();
    assert_eq!(sizes, 2000);
    assert_eq!(v["clusters"].as_array().unwrap().len() as u64, chosen);
    // The cluster tree: every cluster a leaf once, one merge fewer than clusters.
    let mut leaves: Vec<u64> = v["cluster_tree"]["dendrogram"]["leaves"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l.as_u64().unwrap())
        .collect();
    leaves.sort();
    assert_eq!(leaves, (0..chosen).collect::<Vec<u64>>());
    assert_eq!(
        v["cluster_tree"]["linkage"].as_array().unwrap().len() as u64,
        chosen - 1
    );
    assert!(page.contains("id=\"chart-tree\""));
    // The 2-D map: summary in audit.json, every point in the page.
    assert_eq!(v["map"]["method"], "umap");
    assert_eq!(v["map"]["plotted"], 2000);
    assert!(
        v["map"]["trustworthiness"].as_f64().unwrap() > 0.85,
        "{}",
        v["map"]
    );
    assert!(
        v["map"].get("points").is_none(),
        "points stay out of audit.json"
    );
    let map_data = page
        .split("<script type=\"application/json\" id=\"map-data\">")
        .nth(1)
        .and_then(|r| r.split("</script>").next())
        .expect("map data in the page");
    let m: serde_json::Value = serde_json::from_str(map_data).unwrap();
    assert_eq!(m["x"].as_array().unwrap().len(), 2000);
    assert_eq!(m["cluster"].as_array().unwrap().len(), 2000);
    assert!(page.contains("id=\"chart-map\""));
    assert!(v["notes"]
        .as_array()
        .unwrap()
        .iter()
        .any(|n| n.as_str().unwrap().contains("Weak cluster structure")));
}

#[test]
fn same_input_same_bytes_without_timings() {
    let dir = tempfile::tempdir().unwrap();
    let render = |name: &str| {
        let (out, json) = (
            dir.path().join(format!("{name}.html")),
            dir.path().join(format!("{name}.json")),
        );
        let o = run(&[
            "audit",
            fixture("seed6.jsonl").to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
            "--json",
            json.to_str().unwrap(),
            "--k-max",
            "3",
            "--no-cache",
            "--no-timings",
        ]);
        assert!(o.status.success(), "{}", stderr(&o));
        (
            std::fs::read(out).unwrap(),
            std::fs::read_to_string(json).unwrap(),
        )
    };
    let (a, b) = (render("a"), render("b"));
    assert!(a.0 == b.0, "two runs gave different reports");
    // The outputs name themselves; everything else is equal.
    assert_eq!(a.1.replace("a.html", "x"), b.1.replace("b.html", "x"));
    let page = String::from_utf8(a.0).unwrap();
    assert!(!page.contains("<section id=\"timings\">"));
    assert!(a.1.contains("\"timings\": []"));
}

#[test]
fn embed_writes_npy_and_parquet_and_uses_the_cache() {
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("cache");
    let npy = dir.path().join("v.npy");
    let args = |out: &Path| {
        vec![
            "embed".to_string(),
            fixture("seed6.jsonl").display().to_string(),
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
    for (x, y) in back.as_slice().iter().zip(&m.data) {
        assert!((x - y).abs() < 1e-6, "parquet and npy outputs differ");
    }
}

#[test]
fn bad_input_exits_2_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out.html");
    let cases: Vec<(Vec<String>, &str)> = vec![
        (
            vec!["audit".into(), "missing.jsonl".into()],
            "missing.jsonl: no such file",
        ),
        (
            vec!["audit".into(), fixture("nan.csv").display().to_string()],
            "line 3",
        ),
        (
            vec![
                "audit".into(),
                fixture("bad-line.jsonl").display().to_string(),
            ],
            "line 2: not a JSON object",
        ),
        (
            vec![
                "audit".into(),
                fixture("tiny.csv").display().to_string(),
                "--k-min".into(),
                "1".into(),
            ],
            "`k_min` = 1",
        ),
        (
            vec![
                "audit".into(),
                fixture("tiny.csv").display().to_string(),
                "--k-max".into(),
                "1".into(),
            ],
            "`k_max` = 1",
        ),
        (
            vec!["audit".into(), fixture("tiny.csv").display().to_string()],
            "needs at least k_min + 1 rows",
        ),
        (
            vec![
                "audit".into(),
                fixture("tiny.jsonl").display().to_string(),
                "--model-dir".into(),
                "/nonexistent".into(),
            ],
            "install-model.sh",
        ),
        (
            vec![
                "embed".into(),
                fixture("tiny.jsonl").display().to_string(),
                "--out".into(),
                "x.txt".into(),
            ],
            "must end in .npy or .parquet",
        ),
        (
            vec![
                "audit".into(),
                fixture("tiny.csv").display().to_string(),
                "--k".into(),
                "x".into(),
            ],
            "unexpected argument",
        ),
    ];
    for (mut args, want) in cases {
        if args[0] == "audit" {
            args.extend(["--out".into(), out.display().to_string()]);
        }
        let o = run(&args.iter().map(String::as_str).collect::<Vec<_>>());
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", stderr(&o));
        assert!(
            stderr(&o).contains(want),
            "{args:?}: stderr lacks {want:?}: {}",
            stderr(&o)
        );
        assert!(!stderr(&o).contains("panicked"), "{}", stderr(&o));
        assert!(!out.exists(), "{args:?} left an output file");
    }
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        0,
        "temporary files left behind"
    );
}

#[test]
fn cluster_and_optimal_k_follow_the_contract() {
    let dir = tempfile::tempdir().unwrap();
    let input = sample();
    let csv = dir.path().join("a.csv");
    let o = run(&[
        "cluster",
        input.to_str().unwrap(),
        "--algorithm",
        "kmeans",
        "--k",
        "8",
        "--out",
        csv.to_str().unwrap(),
        "--json",
        "--label-column",
        "section",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    for key in ["algorithm", "n_clusters", "noise", "inertia", "seconds"] {
        assert!(v.get(key).is_some(), "cluster --json lacks {key}");
    }
    assert_eq!(
        (v["n_clusters"].as_u64(), v["noise"].as_u64()),
        (Some(8), Some(0))
    );
    assert!(v["labels"]["v_measure"].as_f64().unwrap() > 0.2);
    let text = std::fs::read_to_string(&csv).unwrap();
    assert!(text.starts_with("row,cluster\n0,"));
    assert_eq!(text.lines().count(), 2001);

    let o = run(&[
        "cluster",
        input.to_str().unwrap(),
        "--k",
        "8",
        "--spherical",
        "--out",
        csv.to_str().unwrap(),
        "--json",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["n_clusters"].as_u64(), Some(8));

    let pq = dir.path().join("h.parquet");
    let o = run(&[
        "cluster",
        input.to_str().unwrap(),
        "--algorithm",
        "hdbscan",
        "--min-cluster-size",
        "5",
        "--min-samples",
        "3",
        "--out",
        pq.to_str().unwrap(),
        "--json",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let noise = v["noise"].as_u64().unwrap();
    assert!(
        noise > 1000,
        "raw MiniLM vectors leave most rows as noise: {noise}"
    );
    let labels = embedscope::io::read_assignments(&pq).unwrap();
    assert_eq!(labels.iter().filter(|l| l.is_none()).count() as u64, noise);

    // fast_hdbscan's route: NN-descent graph of the row and max(3 x 3, 15) neighbours; the
    // CLI gives the library's answer for the same parameters.
    let o = run(&[
        "cluster",
        input.to_str().unwrap(),
        "--algorithm",
        "hdbscan",
        "--min-cluster-size",
        "5",
        "--min-samples",
        "3",
        "--knn-nndescent",
        "--out",
        pq.to_str().unwrap(),
        "--json",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let from_cli = embedscope::io::read_assignments(&pq).unwrap();
    let data = embedscope::io::load(&input, &embedscope::io::LoadOptions::default())
        .unwrap()
        .vectors
        .unwrap();
    let lib = embedscope::cluster::Hdbscan::params()
        .min_cluster_size(5)
        .min_samples(3)
        .knn_graph(16)
        .nn_descent(true)
        .fit(&data)
        .unwrap();
    assert_eq!(from_cli, lib.labels());

    let o = run(&[
        "cluster",
        input.to_str().unwrap(),
        "--algorithm",
        "agglomerative",
        "--linkage",
        "average",
        "--metric",
        "cosine",
        "--k",
        "12",
        "--out",
        csv.to_str().unwrap(),
        "--json",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["n_clusters"].as_u64(), Some(12));

    let o = run(&[
        "optimal-k",
        input.to_str().unwrap(),
        "--k-min",
        "2",
        "--k-max",
        "4",
        "--n-init",
        "2",
        "--json",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let per_k = v["per_k"].as_array().unwrap();
    assert_eq!(per_k.len(), 3);
    for key in [
        "k",
        "inertia",
        "silhouette",
        "calinski_harabasz",
        "davies_bouldin",
    ] {
        assert!(per_k[0].get(key).is_some(), "per_k lacks {key}");
    }
    assert!((2..=4).contains(&v["chosen_k"].as_u64().unwrap()));
    assert_eq!(v["weak_structure"], true);
}

#[test]
fn cluster_bad_parameters_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("a.csv");
    let tiny = fixture("tiny.csv");
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (vec!["--k", "5"], "more than the 2 rows"),
        (vec!["--k", "0"], "`k` = 0"),
        (vec![], "--k is required"),
        (
            vec!["--algorithm", "hdbscan", "--min-cluster-size", "1"],
            "`min_cluster_size` = 1",
        ),
        (
            vec!["--algorithm", "hdbscan", "--min-cluster-size", "3"],
            "more than the 2 rows",
        ),
        (
            vec![
                "--algorithm",
                "agglomerative",
                "--metric",
                "cosine",
                "--k",
                "2",
            ],
            "ward linkage needs the Euclidean metric",
        ),
    ];
    for (extra, want) in cases {
        let mut args = vec![
            "cluster",
            tiny.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
        ];
        args.extend(extra.iter().copied());
        let o = run(&args);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", stderr(&o));
        assert!(stderr(&o).contains(want), "{args:?}: {}", stderr(&o));
        assert!(!out.exists(), "{args:?} wrote an output");
    }
    let o = run(&[
        "cluster",
        tiny.to_str().unwrap(),
        "--k",
        "2",
        "--out",
        "x.txt",
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains(".csv or .parquet"), "{}", stderr(&o));
}

#[test]
fn minibatch_streams_a_parquet_file() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("s.parquet");
    let o = run(&[
        "cluster",
        sample().to_str().unwrap(),
        "--algorithm",
        "minibatch-kmeans",
        "--stream",
        "--k",
        "10",
        "--batch-size",
        "256",
        "--out",
        out.to_str().unwrap(),
        "--json",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(
        (
            v["n_clusters"].as_u64(),
            v["rows"].as_u64(),
            v["stream"].as_bool()
        ),
        (Some(10), Some(2000), Some(true))
    );
    let full = embedscope::cluster::KMeans::params(10)
        .fit(
            embedscope::io::load(&sample(), &Default::default())
                .unwrap()
                .vectors
                .as_ref()
                .unwrap(),
        )
        .unwrap();
    assert!(
        v["inertia"].as_f64().unwrap() <= full.inertia() * 1.03,
        "{} vs {}",
        v["inertia"],
        full.inertia()
    );
    assert_eq!(embedscope::io::read_assignments(&out).unwrap().len(), 2000);
    let o = run(&[
        "cluster",
        fixture("tiny.jsonl").to_str().unwrap(),
        "--algorithm",
        "minibatch-kmeans",
        "--stream",
        "--k",
        "2",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("--stream reads Parquet files"),
        "{}",
        stderr(&o)
    );
}
