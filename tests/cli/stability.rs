//! `embedscope stability`: seeds, resamples and the vote on K from the command line, HDBSCAN
//! over subsamples, the exit code of `--fail-on-unstable`, and bad input.

use crate::common::{run, run_json, sample, stderr};

/// `n` points uniform on the unit sphere in `dim` dimensions, as a .npy file.
fn sphere_npy(dir: &std::path::Path, n: usize, dim: usize) -> std::path::PathBuf {
    let mut rng = embedscope::rng::Rng::new(3, 0);
    let mut values = Vec::with_capacity(n * dim);
    for _ in 0..n {
        let v: Vec<f32> = (0..dim).map(|_| rng.next_f64() as f32 - 0.5).collect();
        let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
        values.extend(v.iter().map(|x| x / norm));
    }
    let path = dir.join("sphere.npy");
    let mut file = std::fs::File::create(&path).unwrap();
    embedscope::io::npy::write_npy(&mut file, &values, n, dim).unwrap();
    path
}

#[test]
fn stability_of_the_sample_as_the_audit_sees_it() {
    let s = sample();
    let v = run_json(&[
        "stability",
        s.to_str().unwrap(),
        "--runs",
        "2",
        "--hdbscan",
        "--json",
    ]);
    // The sweep picks K = 10 on the sample, as the audit does.
    assert_eq!(v["k"], 10);
    assert_eq!(v["rows"], 2000);
    assert_eq!(v["clusters"].as_array().unwrap().len(), 10);
    assert_eq!(v["run_details"].as_array().unwrap().len(), 4);
    assert_eq!(v["k_resamples"], 2);
    let ari = v["mean_seed_ari"].as_f64().unwrap();
    assert!(ari > 0.3 && ari <= 1.0, "{ari}");
    let h = &v["hdbscan"];
    assert_eq!(h["runs"].as_array().unwrap().len(), 2);
    assert_eq!(h["runs"][0]["rows"], 1600);
    assert!(h["clusters"]["min"].as_f64().unwrap() >= 5.0, "{h}");
    // The text summary, with a given K.
    let o = run(&["stability", s.to_str().unwrap(), "--k", "4", "--runs", "1"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(out.contains("K = 4 on 2000 rows"), "{out}");
    assert!(
        out.contains("how many clusters (silhouette, k = 2..=10): K = "),
        "{out}"
    );
    assert!(out.contains("cluster    size stability"), "{out}");
}

#[test]
fn unstable_clusters_fail_the_gate_with_exit_1() {
    let dir = tempfile::tempdir().unwrap();
    let p = sphere_npy(dir.path(), 300, 12);
    let p = p.to_str().unwrap();
    let o = run(&["stability", p, "--k", "6", "--runs", "3"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(out.contains("unstable"), "{out}");
    let o = run(&[
        "stability",
        p,
        "--k",
        "6",
        "--runs",
        "3",
        "--fail-on-unstable",
    ]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(stderr(&o).contains("unstable ("), "{}", stderr(&o));
}

#[test]
fn bad_input_exits_2_naming_the_parameter() {
    let dir = tempfile::tempdir().unwrap();
    let p = sphere_npy(dir.path(), 30, 4);
    let p = p.to_str().unwrap();
    for (args, needle) in [
        (vec!["--k", "1"], "`k` = 1"),
        (vec!["--k", "11"], "`k` = 11"),
        (vec!["--runs", "0"], "`runs` = 0"),
        (vec!["--unstable-below", "1.5"], "`unstable_below` = 1.5"),
        (vec!["--k-min", "1"], "`k_min` = 1"),
    ] {
        let mut all = vec!["stability", p];
        all.extend(args.iter().copied());
        let o = run(&all);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", stderr(&o));
        assert!(stderr(&o).contains(needle), "{args:?}: {}", stderr(&o));
    }
    let o = run(&["stability", "/nonexistent/x.npy"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("/nonexistent/x.npy"), "{}", stderr(&o));
}
