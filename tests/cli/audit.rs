//! `embedscope audit`: the report, `audit.json`, byte-identical reruns.

use crate::common::{fixture, run, sample, stderr};

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
    // plotly.js 3.0.1's partial bundle (assets/plotly-bundle), not the full one.
    assert!(
        page.contains("How many clusters")
            && page.contains("plotly.js (embedscope - minified) v3.0.1")
    );
    // Outside the inlined plotly.js (its links are help texts and XML namespaces; the partial
    // bundle has no map tiles), nothing may point at the network: corpus texts with URLs are
    // escaped text, not attributes.
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
    let m = crate::common::explore_data(&page);
    assert_eq!(m["x"].as_array().unwrap().len(), 2000);
    assert_eq!(m["cluster"].as_array().unwrap().len(), 2000);
    assert_eq!(m["text"].as_array().unwrap().len(), 2000);
    assert_eq!(
        m["nn"][0].as_array().unwrap().len(),
        10,
        "five neighbours, with cosines"
    );
    assert_eq!(
        m["drops"].as_array().unwrap().len() as u64,
        v["duplicates"]["removable"].as_u64().unwrap()
    );
    assert!(page.contains("id=\"chart-map\""));
    // Stability: the section, the charts, and each cluster's score in the table.
    assert!(page.contains("id=\"stability\"") && page.contains("id=\"chart-stability\""));
    assert_eq!(v["stability"]["k"].as_u64().unwrap(), chosen);
    assert_eq!(
        v["stability"]["clusters"].as_array().unwrap().len() as u64,
        chosen
    );
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
            fixture("parity/seed6.jsonl").to_str().unwrap(),
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
fn audit_sample_flag_states_what_each_stage_ran_on() {
    let dir = tempfile::tempdir().unwrap();
    let html = dir.path().join("s.html");
    let json = dir.path().join("audit.json");
    let args = |extra: &[&str]| {
        let mut a = vec![
            "audit",
            sample().to_str().unwrap(),
            "--out",
            html.to_str().unwrap(),
            "--json",
            json.to_str().unwrap(),
            "--k-max",
            "4",
            "--no-retrieval",
            "--no-duplicates",
        ]
        .into_iter()
        .map(String::from)
        .collect::<Vec<_>>();
        a.extend(extra.iter().map(|s| s.to_string()));
        a
    };
    let o = run(&args(&["--sample", "500"])
        .iter()
        .map(String::as_str)
        .collect::<Vec<_>>());
    assert!(o.status.success(), "{}", stderr(&o));
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    assert_eq!(v["sampling"]["sample_rows"], 500);
    assert_eq!(v["sampling"]["rows"], 2000);
    assert_eq!(v["noise"]["rows"], 500);
    // Stability runs on the rows the sweep ran on, against the sweep's clustering.
    assert_eq!(v["stability"]["rows"], 500);
    assert_eq!(v["stability"]["hdbscan"]["runs"][0]["rows"], 400);
    let sizes: u64 = v["clusters"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["size"].as_u64().unwrap())
        .sum();
    assert_eq!(sizes, 2000, "every row is assigned");
    let page = std::fs::read_to_string(&html).unwrap();
    assert!(page.contains("What each stage ran on") && page.contains("500 of 2000 rows"));
    // --stability-runs 0 skips the section.
    let o = run(
        &args(&["--sample", "500", "--stability-runs", "0", "--no-noise"])
            .iter()
            .map(String::as_str)
            .collect::<Vec<_>>(),
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    assert!(v["stability"].is_null());
    assert!(!std::fs::read_to_string(&html)
        .unwrap()
        .contains("id=\"stability\""));
    // A sample too small, or both flags: exit 2, nothing written.
    let bad = dir.path().join("bad.html");
    for extra in [&["--sample", "10"][..], &["--sample", "500", "--exact"][..]] {
        let mut a = args(extra);
        a[3] = bad.to_str().unwrap().to_string();
        let o = run(&a.iter().map(String::as_str).collect::<Vec<_>>());
        assert_eq!(o.status.code(), Some(2), "{extra:?}: {}", stderr(&o));
        assert!(!bad.exists());
    }
}

#[test]
fn ctrl_c_stops_with_130_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let html = dir.path().join("out/sample.html");
    let json = dir.path().join("out/audit.json");
    let child = std::process::Command::new(env!("CARGO_BIN_EXE_embedscope"))
        .args([
            "audit",
            sample().to_str().unwrap(),
            "--out",
            html.to_str().unwrap(),
            "--json",
            json.to_str().unwrap(),
            "--tables",
            dir.path().join("out/tables").to_str().unwrap(),
        ])
        .stderr(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    // Well inside the K sweep (the whole audit takes several seconds).
    std::thread::sleep(std::time::Duration::from_millis(1500));
    let sent = std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(sent.success());
    let o = child.wait_with_output().unwrap();
    assert_eq!(o.status.code(), Some(130), "{}", stderr(&o));
    assert!(stderr(&o).contains("interrupted"), "{}", stderr(&o));
    let left: Vec<_> = walk(dir.path());
    assert!(left.is_empty(), "an interrupted audit left {left:?}");
}

/// Every file below `dir`.
fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}

#[test]
fn max_memory_is_stated_and_a_corpus_over_it_is_refused_before_reading() {
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("audit.json");
    let html = dir.path().join("r.html");
    let o = run(&[
        "audit",
        sample().to_str().unwrap(),
        "--out",
        html.to_str().unwrap(),
        "--json",
        json.to_str().unwrap(),
        "--k-max",
        "4",
        "--no-map",
        "--no-noise",
        "--max-memory",
        "200M",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let doc: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    let m = &doc["sampling"]["memory"];
    assert_eq!(m["budget"], "given");
    assert_eq!(m["budget_bytes"], 200u64 << 20);
    assert_eq!(m["index_copy"], true);
    assert!(m["note"]
        .as_str()
        .unwrap()
        .contains("memory budget 200 MiB"));

    // A .npy whose header promises 2M x 384 float32 rows (3 GB) against a 1G budget: refused
    // from the header, before the (here missing) body is read; nothing written.
    let big = dir.path().join("big.npy");
    let header = "{'descr': '<f4', 'fortran_order': False, 'shape': (2000000, 384), }";
    let mut bytes = b"\x93NUMPY\x01\x00".to_vec();
    let pad = 64 - (10 + header.len() + 1) % 64;
    let h = format!("{header}{}\n", " ".repeat(pad));
    bytes.extend_from_slice(&(h.len() as u16).to_le_bytes());
    bytes.extend_from_slice(h.as_bytes());
    std::fs::write(&big, bytes).unwrap();
    let out = dir.path().join("big.html");
    let o = run(&[
        "audit",
        big.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--max-memory",
        "1G",
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    let e = stderr(&o);
    assert!(
        e.contains("big.npy") && e.contains("2000000 x 384") && e.contains("float16"),
        "{e}"
    );
    assert!(!out.exists());

    let o = run(&["audit", sample().to_str().unwrap(), "--max-memory", "lots"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("max-memory"), "{}", stderr(&o));
}
