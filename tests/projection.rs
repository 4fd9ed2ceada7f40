//! UMAP and PCA as a user drives them, library and CLI: quality against umap-learn's numbers
//! on the sample corpus, determinism (also across thread counts), `transform`, bad input.

mod common;

use common::{repo, run, run_json};

use embedscope::io::{load, npy::read_npy, LoadOptions};
use embedscope::project::{trustworthiness, trustworthiness_sample, Pca, Umap, UmapInit};
use embedscope::Embeddings;

fn sample() -> Embeddings {
    let path = repo("samples/debian-2k.parquet");
    load(&path, &LoadOptions::default())
        .unwrap()
        .vectors
        .unwrap()
}

/// Three tight groups of 60 points in 16 dimensions.
fn blobs() -> Embeddings {
    let mut rng = embedscope::rng::Rng::new(5, 0);
    let mut x = Vec::new();
    for g in 0..3 {
        for _ in 0..60 {
            for t in 0..16 {
                let centre = if t == g { 4.0 } else { 0.0 };
                x.push(centre + (rng.next_f64() as f32 - 0.5));
            }
        }
    }
    Embeddings::new(x, 16).unwrap()
}

#[test]
fn umap_on_the_sample_is_as_trustworthy_as_umap_learn() {
    let data = sample();
    let model = Umap::params().fit(&data).unwrap();
    assert_eq!(model.embedding().len(), data.rows() * 2);
    assert!(model.embedding().iter().all(|v| v.is_finite()));
    assert_eq!(model.n_epochs(), 500);
    let t = trustworthiness(&data, model.embedding(), 2, 10).unwrap();
    // umap-learn 0.5 (UMAP(metric="cosine", random_state=42)) scores 0.8942 on these vectors
    // with scikit-learn's trustworthiness(n_neighbors=10) (../shared/peers, debian-2k).
    assert!(t > 0.8942 - 0.01, "trustworthiness {t}");
    // PCA is the fast, less faithful alternative.
    let pca = Pca::params(2).fit(&data).unwrap();
    let tp = trustworthiness(&data, &pca.transform(&data).unwrap(), 2, 10).unwrap();
    assert!(tp < t, "PCA {tp} vs UMAP {t}");
}

#[test]
fn umap_separates_groups_and_is_deterministic_across_thread_counts() {
    let data = blobs();
    let fit = |threads: usize| {
        rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap()
            .install(|| Umap::params().n_neighbors(10).seed(3).fit(&data).unwrap())
    };
    let (one, two) = (fit(1), fit(2));
    assert_eq!(one.embedding(), two.embedding());
    assert_eq!(one.init_used(), UmapInit::Spectral);
    // Every point is nearer its own group's centre than any other group's.
    let y = one.embedding();
    let centre = |g: usize| -> [f32; 2] {
        let (mut cx, mut cy) = (0.0, 0.0);
        for i in g * 60..(g + 1) * 60 {
            cx += y[2 * i] / 60.0;
            cy += y[2 * i + 1] / 60.0;
        }
        [cx, cy]
    };
    let cs = [centre(0), centre(1), centre(2)];
    for i in 0..180 {
        let d = |c: [f32; 2]| (y[2 * i] - c[0]).powi(2) + (y[2 * i + 1] - c[1]).powi(2);
        let own = d(cs[i / 60]);
        assert!(cs.iter().all(|&c| d(c) >= own), "row {i}");
    }
    // Another seed moves the points, the same seed does not.
    let other = Umap::params().n_neighbors(10).seed(4).fit(&data).unwrap();
    assert_ne!(one.embedding(), other.embedding());
}

#[test]
fn transform_places_new_points_near_their_neighbours() {
    let data = blobs();
    let rows: Vec<usize> = (0..180).filter(|i| i % 6 != 0).collect();
    let held: Vec<usize> = (0..180).filter(|i| i % 6 == 0).collect();
    let (train, test) = (data.select(&rows), data.select(&held));
    let model = Umap::params().n_neighbors(10).fit(&train).unwrap();
    let placed = model.transform(&test).unwrap();
    let y = model.embedding();
    for (t, &i) in held.iter().enumerate() {
        let p = [placed[2 * t], placed[2 * t + 1]];
        // The nearest training point in the map belongs to the same group.
        let nearest = (0..rows.len())
            .min_by(|&a, &b| {
                let da = (y[2 * a] - p[0]).powi(2) + (y[2 * a + 1] - p[1]).powi(2);
                let db = (y[2 * b] - p[0]).powi(2) + (y[2 * b + 1] - p[1]).powi(2);
                da.total_cmp(&db)
            })
            .unwrap();
        assert_eq!(rows[nearest] / 60, i / 60, "held-out row {i}");
    }
    assert!(model
        .transform(&Embeddings::new(vec![1.0; 8], 8).unwrap())
        .is_err());
}

#[test]
fn bad_parameters_are_clear_errors() {
    let data = blobs();
    let e = Umap::params()
        .n_neighbors(180)
        .fit(&data)
        .unwrap_err()
        .to_string();
    assert!(e.contains("n_neighbors") && e.contains("180"), "{e}");
    let e = Umap::params()
        .n_neighbors(1)
        .fit(&data)
        .unwrap_err()
        .to_string();
    assert!(e.contains("n_neighbors"), "{e}");
    let e = Umap::params()
        .min_dist(2.0)
        .fit(&data)
        .unwrap_err()
        .to_string();
    assert!(e.contains("min_dist"), "{e}");
    let e = Umap::params()
        .n_components(0)
        .fit(&data)
        .unwrap_err()
        .to_string();
    assert!(e.contains("n_components"), "{e}");
    let e = Pca::params(17).fit(&data).unwrap_err().to_string();
    assert!(e.contains("n_components") && e.contains("17"), "{e}");
    let rule = |r: embedscope::Result<f64>| match r {
        Err(embedscope::Error::InvalidParameter { name, .. }) => name,
        other => panic!("{other:?}"),
    };
    assert_eq!(
        rule(trustworthiness_sample(&data, &[0.0; 3], 2, 10, 100, 1)),
        "embedded"
    );
    assert_eq!(
        rule(trustworthiness(&data, &vec![0.0; 360], 2, 90)),
        "n_neighbors"
    );
}

#[test]
fn cli_project_writes_coordinates_and_rejects_bad_input() {
    let dir = tempfile::tempdir().unwrap();
    let input = repo("tests/fixtures/reference/nested-300x100.npy");
    let npy = dir.path().join("c.npy");
    let j = run_json(&[
        "project",
        input.to_str().unwrap(),
        "--out",
        npy.to_str().unwrap(),
        "--json",
        "--trustworthiness",
        "--knn",
        "nn-descent",
    ]);
    assert_eq!(j["method"], "umap");
    assert!(j["knn_recall"].as_f64().unwrap() > 0.9, "{j}");
    assert_eq!(j["rows"], 300);
    assert!(j["trustworthiness_k10_5k"].as_f64().unwrap() > 0.9, "{j}");
    let m = read_npy(&npy).unwrap();
    assert_eq!((m.rows, m.cols), (300, 2));

    let csv = dir.path().join("c.csv");
    let o = run(&[
        "project",
        input.to_str().unwrap(),
        "--method",
        "pca",
        "--n-components",
        "3",
        "--out",
        csv.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let text = std::fs::read_to_string(&csv).unwrap();
    assert!(text.starts_with("row,x0,x1,x2\n0,"), "{}", &text[..40]);
    assert_eq!(text.lines().count(), 301);

    // n_neighbors >= rows: exit 2, message names the parameter, nothing written.
    let bad = dir.path().join("bad.npy");
    let o = run(&[
        "project",
        input.to_str().unwrap(),
        "--n-neighbors",
        "300",
        "--out",
        bad.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("n_neighbors"));
    assert!(!bad.exists());
    let o = run(&["project", input.to_str().unwrap(), "--out", "x.txt"]);
    assert_eq!(o.status.code(), Some(2));

    // A NaN in the vectors: exit 2, the message names the row and dimension.
    let nan = dir.path().join("nan.npy");
    let mut values = vec![0.5f32; 40 * 4];
    values[7 * 4 + 2] = f32::NAN;
    let mut file = std::fs::File::create(&nan).unwrap();
    embedscope::io::npy::write_npy(&mut file, &values, 40, 4).unwrap();
    drop(file);
    let out = dir.path().join("nan-out.npy");
    let o = run(&[
        "project",
        nan.to_str().unwrap(),
        "--n-neighbors",
        "5",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("row 7") && err.contains("NaN"), "{err}");
    assert!(!out.exists());
}

#[test]
fn bertopic_route_clusters_projected_points() {
    use embedscope::cluster::{Hdbscan, Metric};
    let data = blobs();
    let reduced = Umap::params()
        .n_components(5)
        .min_dist(0.0)
        .n_neighbors(10)
        .fit(&data)
        .unwrap();
    let points = reduced.points().unwrap();
    assert!(!points.is_unit());
    assert_eq!((points.rows(), points.dim()), (180, 5));
    let model = Hdbscan::params()
        .min_cluster_size(10)
        .metric(Metric::Euclidean)
        .fit(&points)
        .unwrap();
    assert_eq!(model.n_clusters(), 3);
    assert!(model.noise() < 18, "noise {}", model.noise());
    // Every cluster is one group.
    for g in 0..3 {
        let labels: std::collections::HashSet<_> = (g * 60..(g + 1) * 60)
            .filter_map(|i| model.labels()[i])
            .collect();
        assert_eq!(labels.len(), 1, "group {g}: {labels:?}");
    }
    // Cosine needs unit vectors: a clear error, not a wrong answer.
    let e = Hdbscan::params()
        .metric(Metric::Cosine)
        .fit(&points)
        .unwrap_err()
        .to_string();
    assert!(e.contains("metric") && e.contains("cosine"), "{e}");
    let e = Umap::params().fit(&points).unwrap_err().to_string();
    assert!(e.contains("metric") && e.contains("cosine"), "{e}");
    // Trustworthiness works on points too (Euclidean ranks).
    let t = trustworthiness(&points, reduced.embedding(), 5, 5).unwrap();
    assert!((t - 1.0).abs() < 1e-9);
}

#[test]
fn cli_umap_dims_reduces_before_clustering() {
    let dir = tempfile::tempdir().unwrap();
    let input = repo("tests/fixtures/reference/nested-300x100.npy");
    let out = dir.path().join("a.csv");
    let j = run_json(&[
        "cluster",
        input.to_str().unwrap(),
        "--algorithm",
        "hdbscan",
        "--min-cluster-size",
        "10",
        "--umap-dims",
        "5",
        "--out",
        out.to_str().unwrap(),
        "--json",
    ]);
    assert_eq!(j["umap_dims"], 5);
    assert!(j["n_clusters"].as_u64().unwrap() >= 2, "{j}");
    assert!(out.exists());
    let o = run(&[
        "cluster",
        input.to_str().unwrap(),
        "--algorithm",
        "hdbscan",
        "--umap-dims",
        "5",
        "--metric",
        "cosine",
        "--out",
        dir.path().join("b.csv").to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("euclidean"));
    let j = run_json(&[
        "optimal-k",
        input.to_str().unwrap(),
        "--umap-dims",
        "5",
        "--k-max",
        "5",
        "--json",
    ]);
    assert_eq!(j["umap_dims"], 5);
    assert_eq!(j["per_k"].as_array().unwrap().len(), 4);
}
