//! The audit report and its machine outputs: rendered HTML (snapshot), escaping of hostile
//! corpus strings, byte-identical reruns, the verdict gating a pipeline, the Parquet tables.

mod common;

use common::{hostile_corpus, repo, run, sample_head};
use embedscope::report::{render_html, ReportOptions};
use embedscope::{Audit, Corpus};

fn audit(corpus: &Corpus) -> Audit {
    Audit::builder()
        .k_range(2, 4)
        .n_init(2)
        .run(corpus)
        .unwrap()
        .without_timings()
}

fn no_plotly() -> ReportOptions {
    ReportOptions {
        inline_plotly: false,
        ..Default::default()
    }
}

#[test]
fn report_snapshot_of_a_small_corpus() {
    let corpus = sample_head(60);
    let a = audit(&corpus);
    // Every section is there.
    for section in [
        "summary",
        "map",
        "optimal-k",
        "clusters",
        "noise",
        "duplicates",
        "retrieval",
    ] {
        assert!(
            render_html(&a, &no_plotly())
                .unwrap()
                .contains(&format!("<section id=\"{section}\">")),
            "{section}"
        );
    }
    assert!(a.noise.is_some() && a.retrieval.is_some() && a.duplicates.is_some());
    let html = render_html(&a, &no_plotly()).unwrap();
    assert!(
        !html.contains("<section id=\"timings\">"),
        "timings left out"
    );
    insta::assert_snapshot!("report_head60", html);
}

#[test]
fn corpus_strings_are_escaped_everywhere() {
    let corpus = hostile_corpus(sample_head(60));
    let a = audit(&corpus);
    let html = render_html(&a, &no_plotly()).unwrap();
    // The template's own elements only: 4 scripts (plotly, two JSON blocks, the charts).
    assert_eq!(
        html.matches("<script").count(),
        4,
        "a corpus string opened a script"
    );
    assert_eq!(html.matches("</script>").count(), 4);
    assert!(!html.contains("<img"));
    assert!(!html.contains("<b>bold</b>"));
    assert!(!html.contains("setAttribute('data-pwned'") || !html.contains("<script>document"));
    // The texts are shown, escaped.
    assert!(html.contains("&lt;script&gt;document.documentElement.setAttribute("));
    assert!(html.contains("&lt;img src=x onerror="));
    // The JSON blocks parse back to the original strings.
    let data = html
        .split("<script type=\"application/json\" id=\"audit-data\">")
        .nth(1)
        .and_then(|r| r.split("</script>").next())
        .unwrap();
    let v: serde_json::Value = serde_json::from_str(data).unwrap();
    assert!(v.to_string().contains("</script><script>document"));
}

#[test]
fn same_input_and_seed_give_the_same_bytes() {
    let corpus = sample_head(80);
    let (a, b) = (audit(&corpus), audit(&corpus));
    assert_eq!(
        serde_json::to_string(&a).unwrap(),
        serde_json::to_string(&b).unwrap()
    );
    assert!(
        render_html(&a, &Default::default()).unwrap()
            == render_html(&b, &Default::default()).unwrap()
    );
}

#[test]
fn the_verdict_gates_a_pipeline_and_the_tables_are_written() {
    let dir = tempfile::tempdir().unwrap();
    let sample = repo("samples/debian-2k.parquet");
    let (html, json, tables) = (
        dir.path().join("r.html"),
        dir.path().join("a.json"),
        dir.path().join("tables"),
    );
    let args = |extra: &[&str]| {
        let mut a = vec![
            "audit",
            sample.to_str().unwrap(),
            "--out",
            html.to_str().unwrap(),
            "--json",
            json.to_str().unwrap(),
            "--k-max",
            "4",
            "--n-init",
            "2",
            "--no-map",
            "--fail-on-verdict",
        ];
        a.extend_from_slice(extra);
        a.into_iter().map(String::from).collect::<Vec<_>>()
    };
    let go = |extra: &[&str]| {
        let a = args(extra);
        run(&a.iter().map(String::as_str).collect::<Vec<_>>())
    };
    // Lenient limits: pass, exit 0.
    let o = go(&["--min-recall", "0.1", "--tables", tables.to_str().unwrap()]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    assert_eq!(v["verdict"]["pass"], true);
    let checks = v["verdict"]["checks"].as_array().unwrap();
    assert_eq!(
        checks.len(),
        9,
        "six chunk-health checks and three of the vectors"
    );
    assert!(checks[0]["name"].as_str().unwrap().starts_with("chunks: "));
    assert!(checks
        .iter()
        .all(|c| c["pass"] == true && c["value"].is_f64()));
    assert!(v["duplicates"]["share"].as_f64().unwrap() > 0.0);
    assert!(v["retrieval"]["per_cluster"].as_array().unwrap().len() == 4);
    // The tables.
    use polars::prelude::{ParquetReader, SerReader};
    let df = ParquetReader::new(std::fs::File::open(tables.join("assignments.parquet")).unwrap())
        .finish()
        .unwrap();
    assert_eq!(df.height(), 2000);
    let names: Vec<String> = df
        .get_column_names()
        .iter()
        .map(|s| s.to_string())
        .collect();
    assert_eq!(
        names,
        [
            "row",
            "id",
            "cluster",
            "label",
            "centroid_cosine",
            "hdbscan_cluster",
            "outlier_score",
            "duplicate_group",
            "kept",
            "tokens",
            "truncated",
            "boilerplate_chars",
            "damaged",
            "language"
        ]
    );
    let truncated = df
        .column("truncated")
        .unwrap()
        .bool()
        .unwrap()
        .sum()
        .unwrap() as u64;
    assert_eq!(
        Some(truncated),
        v["health"]["tokens"]["truncated"].as_u64(),
        "the table's truncated rows are the report's"
    );
    let kept = df.column("kept").unwrap().bool().unwrap().sum().unwrap() as u64;
    let removable = v["duplicates"]["removable"].as_u64().unwrap();
    assert_eq!(kept + removable, 2000);
    assert!(tables.join("duplicate_pairs.parquet").exists());

    // A strict duplicate limit: FAIL, exit 1, outputs still written.
    std::fs::remove_file(&html).unwrap();
    let o = go(&["--max-duplicate-share", "0.001", "--min-recall", "0.1"]);
    assert_eq!(
        o.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(String::from_utf8_lossy(&o.stderr).contains("verdict: FAIL (duplicate share)"));
    assert!(html.exists());
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    assert_eq!(
        v["verdict"]["failed"],
        serde_json::json!(["duplicate share"])
    );
    assert!(v["notes"]
        .as_array()
        .unwrap()
        .iter()
        .any(|n| n.as_str().unwrap().contains("are duplicates")));

    // Bad limits are input errors (exit 2), before any work.
    for bad in [
        ["--max-noise-share", "1.5"],
        ["--dedup-threshold", "0"],
        ["--nprobe", "0"],
    ] {
        let o = go(&bad);
        assert_eq!(o.status.code(), Some(2), "{bad:?}");
    }
}

#[test]
fn the_map_data_carries_points_neighbours_and_the_drop_list_within_its_cap() {
    let corpus = sample_head(300);
    let mut a = audit(&corpus);
    let html = render_html(&a, &no_plotly()).unwrap();
    let m = common::explore_data(&html);
    let map = a.map.as_ref().unwrap();
    assert_eq!(m["id"].as_array().unwrap().len(), map.plotted);
    assert_eq!(m["id"][0], map.ids[0]);
    assert_eq!(m["text"][0], corpus.texts.as_ref().unwrap()[map.rows[0]]);
    // Neighbours: plotted points, nearest first, cosines in [-1, 1].
    for nn in m["nn"].as_array().unwrap() {
        let nn = nn.as_array().unwrap();
        assert!(nn.len() <= 10 && nn.len() % 2 == 0);
        let cos: Vec<f64> = nn
            .iter()
            .skip(1)
            .step_by(2)
            .map(|c| c.as_f64().unwrap())
            .collect();
        assert!(cos.windows(2).all(|w| w[0] >= w[1] - 1e-9), "{cos:?}");
        assert!(nn
            .iter()
            .step_by(2)
            .all(|p| (p.as_u64().unwrap() as usize) < map.plotted));
    }
    let drops = a.duplicates.as_ref().unwrap().drops.len();
    assert_eq!(m["drops"].as_array().unwrap().len(), drops);
    // Too many drops to review in a page: none carried, and the count says so.
    let d = a.duplicates.as_mut().unwrap();
    let extra = embedscope::audit::DropRow {
        row: Some(1),
        id: corpus.ids[1].clone(),
        group: 0,
        kept_id: corpus.ids[0].clone(),
    };
    d.drops = vec![extra; 200_001];
    let m = common::explore_data(&render_html(&a, &no_plotly()).unwrap());
    assert!(m.get("drops").is_none());
    assert_eq!(m["drops_omitted"], 200_001);
}
