//! `embedscope cluster` and `optimal-k`: the `--json` contract, bad parameters, streaming.

use crate::common::{run, run_json, sample, stderr};
use crate::input;

#[test]
fn cluster_and_optimal_k_follow_the_contract() {
    let dir = tempfile::tempdir().unwrap();
    let input = sample();
    let csv = dir.path().join("a.csv");
    let v = run_json(&[
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

    let v = run_json(&[
        "cluster",
        input.to_str().unwrap(),
        "--k",
        "8",
        "--spherical",
        "--out",
        csv.to_str().unwrap(),
        "--json",
    ]);
    assert_eq!(v["n_clusters"].as_u64(), Some(8));
    assert_eq!(
        v["train_rows"].as_u64(),
        Some(2000),
        "auto: all rows at this size"
    );

    // Restarts on 50 rows per cluster, polished on all 2,000: the library's answer, and
    // nearly the full run's inertia.
    let kmeans = |extra: &[&str]| {
        let mut args = vec![
            "cluster",
            input.to_str().unwrap(),
            "--k",
            "4",
            "--out",
            csv.to_str().unwrap(),
            "--json",
        ];
        args.extend(extra);
        run_json(&args)
    };
    let sampled = kmeans(&["--train-per-cluster", "50"]);
    let all = kmeans(&["--train-per-cluster", "all"]);
    assert_eq!(sampled["train_rows"].as_u64(), Some(200));
    assert_eq!(all["train_rows"].as_u64(), Some(2000));
    let (s, a) = (
        sampled["inertia"].as_f64().unwrap(),
        all["inertia"].as_f64().unwrap(),
    );
    assert!(s <= a * 1.01, "{s} vs {a}");
    let data = embedscope::io::load(&input, &embedscope::io::LoadOptions::default())
        .unwrap()
        .vectors
        .unwrap();
    let lib = embedscope::cluster::KMeans::params(4)
        .train_per_cluster(Some(50))
        .fit(&data)
        .unwrap();
    let _ = kmeans(&["--train-per-cluster", "50"]);
    let from_cli = embedscope::io::read_assignments(&csv).unwrap();
    let lib_labels: Vec<Option<usize>> = lib.labels().iter().map(|&l| Some(l)).collect();
    assert_eq!(from_cli, lib_labels);
    let faiss = kmeans(&["--train-per-cluster", "50", "--polish-iter", "0"]);
    assert_eq!(faiss["n_iter"].as_u64(), Some(0));

    let pq = dir.path().join("h.parquet");
    let v = run_json(&[
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

    let v = run_json(&[
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
    assert_eq!(v["n_clusters"].as_u64(), Some(12));

    let v = run_json(&[
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
    let tiny = input("tiny.csv");
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
        (
            vec![
                "--algorithm",
                "minibatch-kmeans",
                "--k",
                "2",
                "--stream",
                "--umap-dims",
                "5",
            ],
            "--umap-dims does not work with --stream",
        ),
        (
            vec!["--algorithm", "kmeans", "--k", "2", "--stream"],
            "--stream works with --algorithm minibatch-kmeans",
        ),
        (
            vec!["--k", "2", "--train-per-cluster", "0"],
            "expected auto, all or a number of rows per cluster",
        ),
        (
            vec!["--k", "2", "--train-per-cluster", "lots"],
            "expected auto, all or a number of rows per cluster",
        ),
        (
            vec!["--algorithm", "hdbscan", "--train-per-cluster", "10"],
            "settings of --algorithm kmeans",
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
    let v = run_json(&[
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
        input("tiny.jsonl").to_str().unwrap(),
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
