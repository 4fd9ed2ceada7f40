//! The sample audit opened in a real browser (headless Chromium, Debian's `chromium`, which
//! `scripts/test.sh` installs): every chart draws, the console stays clean with the network
//! cut off, and a document carrying script does nothing. Saves a screenshot
//! (`EMBEDSCOPE_UPDATE_SCREENSHOT=1` also refreshes the README's, reports/screenshots/sample.png
//! and stability.png).

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{hostile_corpus, repo, sample_head, sample_snapshots};
use embedscope::compare::Compare;
use embedscope::report::{write_compare_html, write_html, ReportOptions};
use embedscope::Audit;

fn chromium() -> PathBuf {
    if let Some(p) = std::env::var_os("EMBEDSCOPE_CHROMIUM") {
        return p.into();
    }
    for name in ["chromium", "chromium-browser", "google-chrome"] {
        if let Some(dir) = std::env::var_os("PATH")
            .iter()
            .flat_map(std::env::split_paths)
            .find(|d| d.join(name).is_file())
        {
            return dir.join(name);
        }
    }
    panic!(
        "no headless Chromium found: scripts/test.sh installs Debian's `chromium` \
         (apt-get install chromium), or set EMBEDSCOPE_CHROMIUM"
    );
}

/// Runs Chromium headless on `page` with `args`, at most two minutes; (stdout, stderr).
fn headless(page: &Path, args: &[&str]) -> (String, String) {
    let dir = tempfile::tempdir().unwrap();
    let mut child = Command::new(chromium())
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--use-gl=swiftshader",
            "--enable-unsafe-swiftshader",
            "--hide-scrollbars",
            "--no-first-run",
            "--enable-logging=stderr",
            "--v=0",
            // Any network request fails, and the failure reaches the console.
            "--host-resolver-rules=MAP * ~NOTFOUND",
            "--virtual-time-budget=20000",
        ])
        .arg(format!("--user-data-dir={}", dir.path().display()))
        .args(args)
        .arg(format!("file://{}", page.display()))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("chromium starts");
    let (mut out, mut err) = (child.stdout.take().unwrap(), child.stderr.take().unwrap());
    let o = std::thread::spawn(move || {
        let mut s = String::new();
        std::io::Read::read_to_string(&mut out, &mut s).ok();
        s
    });
    let e = std::thread::spawn(move || {
        let mut s = String::new();
        std::io::Read::read_to_string(&mut err, &mut s).ok();
        s
    });
    let started = Instant::now();
    loop {
        if child.try_wait().unwrap().is_some() {
            break;
        }
        if started.elapsed() > Duration::from_secs(120) {
            child.kill().ok();
            panic!("chromium did not finish in 120 s");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    (o.join().unwrap(), e.join().unwrap())
}

#[test]
fn the_sample_report_draws_in_chromium_and_corpus_script_never_runs() {
    let corpus = hostile_corpus(sample_head(2000));
    // With the model's tokenizer, so the chunk-health section draws its length histogram.
    let counter =
        embedscope::health::TokenCounter::from_model_dir(&embedscope::embed::default_model_dir())
            .unwrap_or_else(|e| panic!("{e}"));
    // Queries: 40 of the documents themselves, and the hostile strings as questions from
    // nowhere (coverage gaps, so their texts are on the page).
    let v = corpus.vectors.as_ref().unwrap();
    let mut qtexts: Vec<String> = (0..40).map(|i| format!("question {i}")).collect();
    let mut qdata: Vec<f32> = (0..40).flat_map(|i| v.row(i * 37).to_vec()).collect();
    for (i, h) in common::HOSTILE.iter().enumerate() {
        qtexts.push(h.to_string());
        qdata.extend((0..v.dim()).map(|d| if d % 7 == i { 1.0 } else { -0.05 }));
    }
    let mut queries = embedscope::Corpus::from_texts(qtexts);
    queries.vectors = Some(embedscope::Embeddings::new(qdata, v.dim()).unwrap());
    let audit = Audit::builder()
        .token_counter(&counter)
        .queries(&queries, embedscope::queries::Queries::params())
        .run(&corpus)
        .unwrap()
        .without_timings();
    assert!(audit.queries.as_ref().unwrap().coverage.gaps >= 4);
    let dir = tempfile::tempdir().unwrap();
    let page = dir.path().join("sample.html");
    write_html(&page, &audit, &ReportOptions::default()).unwrap();
    let html = std::fs::read_to_string(&page).unwrap();
    let charts = chart_ids(&html);
    assert!(charts.len() >= 12, "{charts:?}");
    assert!(charts.contains(&"chart-tokens"), "{charts:?}");
    assert!(html.contains("<section id=\"health\">"));
    for id in ["chart-stability", "chart-kvotes"] {
        assert!(charts.contains(&id), "{charts:?}");
    }
    assert!(html.contains("<section id=\"stability\">"));
    for id in ["chart-query-cover", "chart-demand", "chart-query-recall"] {
        assert!(charts.contains(&id), "{charts:?}");
    }
    assert!(html.contains("<section id=\"queries\">"));

    let (dom, log) = headless(&page, &["--dump-dom"]);
    checked_root(&dom, &charts);
    // Each chart's element holds plotly's SVG (and the map its WebGL canvas).
    for id in &charts {
        let at = dom.find(&format!("id=\"{id}\"")).unwrap();
        let rest = &dom[at..];
        let end = rest[1..]
            .find("class=\"chart")
            .map_or(rest.len(), |e| e + 1);
        assert!(rest[..end].contains("main-svg"), "{id} drew nothing");
        if *id == "chart-map" {
            assert!(rest[..end].contains("<canvas"), "the map has no canvas");
        }
    }
    // The hostile texts are on the page as text.
    assert!(dom.contains("&lt;script&gt;document.documentElement.setAttribute("));
    assert_clean_console(&log);

    // The screenshot the README shows: the sample corpus as it ships.
    let mut clean = sample_head(2000);
    clean.source = "samples/debian-2k.parquet".into();
    let audit = Audit::builder()
        .token_counter(&counter)
        .run(&clean)
        .unwrap()
        .without_timings();
    let page = dir.path().join("clean.html");
    write_html(&page, &audit, &ReportOptions::default()).unwrap();
    let shots = Path::new(env!("CARGO_TARGET_TMPDIR")).join("screenshots");
    std::fs::create_dir_all(&shots).unwrap();
    let shot = shots.join("sample.png");
    screenshot(&page, "1300,1250", &shot);
    // The stability section alone under the page's header (headless Chromium cannot scroll
    // to it): the README's second picture.
    let stability_only = dir.path().join("stability.html");
    std::fs::write(
        &stability_only,
        std::fs::read_to_string(&page).unwrap().replacen(
            "</head>",
            "<style>main > section:not(#stability) { display: none; }</style></head>",
            1,
        ),
    )
    .unwrap();
    let shot2 = shots.join("stability.png");
    screenshot(&stability_only, "1300,720", &shot2);
    // The map explored, for the README: a search typed, and the side panel open on the first
    // document that has a near duplicate.
    let explored = dir.path().join("explored.html");
    std::fs::write(
        &explored,
        std::fs::read_to_string(&page)
            .unwrap()
            .replacen(
                "</head>",
                "<style>main > section:not(#map) { display: none; }</style></head>",
                1,
            )
            .replacen("</body>", PANEL_SHOT, 1),
    )
    .unwrap();
    let shot4 = shots.join("panel.png");
    screenshot(&explored, "1400,1000", &shot4);

    // The queries section alone, for the README: the sample asked, as in the notebook, the
    // short descriptions of 60 of its documents and three questions about what Debian does
    // not package, embedded by the model.
    let mut asked: Vec<String> = clean
        .texts
        .as_ref()
        .unwrap()
        .iter()
        .step_by(33)
        .take(60)
        .map(|t| t.split(". ").next().unwrap_or("").to_string())
        .collect();
    asked.extend(
        [
            "file my income tax return online",
            "a recipe for fresh pasta with eggs",
            "book cheap flights to Lisbon",
        ]
        .map(String::from),
    );
    let model = embedscope::embed::LocalModel::load(&embedscope::embed::default_model_dir())
        .unwrap_or_else(|e| panic!("{e}"));
    let mut questions = embedscope::Corpus::from_texts(asked.clone());
    questions.source = "questions.jsonl".into();
    questions.vectors = Some(
        embedscope::embed::embed_texts(&model, &asked, None, &embedscope::progress::Silent)
            .unwrap()
            .0,
    );
    let audit = Audit::builder()
        .stability(None)
        .health(None)
        .queries(&questions, embedscope::queries::Queries::params())
        .run(&clean)
        .unwrap()
        .without_timings();
    let q = audit.queries.as_ref().unwrap();
    assert!(
        q.coverage.gap_topics[0]
            .examples
            .iter()
            .any(|e| e.query.contains("pasta")),
        "{:?}",
        q.coverage.gap_topics
    );
    let queries_only = dir.path().join("queries.html");
    write_html(&queries_only, &audit, &ReportOptions::default()).unwrap();
    std::fs::write(
        &queries_only,
        std::fs::read_to_string(&queries_only).unwrap().replacen(
            "</head>",
            "<style>main > section:not(#queries) { display: none; }</style></head>",
            1,
        ),
    )
    .unwrap();
    let shot3 = shots.join("queries.png");
    screenshot(&queries_only, "1300,1500", &shot3);
    if std::env::var_os("EMBEDSCOPE_UPDATE_SCREENSHOT").is_some() {
        std::fs::copy(&shot, repo("reports/screenshots/sample.png")).unwrap();
        std::fs::copy(&shot2, repo("reports/screenshots/stability.png")).unwrap();
        std::fs::copy(&shot3, repo("reports/screenshots/queries.png")).unwrap();
        std::fs::copy(&shot4, repo("reports/screenshots/panel.png")).unwrap();
    }
}

/// Types "python" into the search box and opens the panel of the first plotted document that
/// has a near duplicate, once the map is ready.
const PANEL_SHOT: &str = r##"<script>
(function () {
  var t = setInterval(function () {
    if (document.documentElement.getAttribute("data-explore") !== "ready") { return; }
    clearInterval(t);
    var box = document.getElementById("search");
    box.value = "python"; box.dispatchEvent(new Event("input"));
    setTimeout(function () {
      var d = window.embedscope.data, i = d.group.findIndex(function (g) { return g >= 0; });
      window.embedscope.openPoint(i);
    }, 400);
  }, 50);
})();
</script></body>"##;

/// Takes a screenshot of `page` at `size` ("W,H") into `shot` and checks it is a real picture.
fn screenshot(page: &Path, size: &str, shot: &Path) {
    let _ = std::fs::remove_file(shot);
    headless(
        page,
        &[
            &format!("--window-size={size}"),
            &format!("--screenshot={}", shot.display()),
        ],
    );
    let png =
        std::fs::read(shot).unwrap_or_else(|e| panic!("no screenshot {}: {e}", shot.display()));
    assert!(
        png.starts_with(b"\x89PNG") && png.len() > 50_000,
        "{}: {} bytes",
        shot.display(),
        png.len()
    );
}

/// Chromium's log shows no console message from the page (swiftshader's WebGL performance
/// chatter aside).
fn assert_clean_console(log: &str) {
    let console: Vec<&str> = log
        .lines()
        .filter(|l| l.contains(":CONSOLE"))
        .filter(|l| !l.contains("GL Driver Message"))
        .collect();
    assert!(console.is_empty(), "console messages: {console:#?}");
}

/// The `<html>` tag of a dumped page, checked: no script error, no corpus script ran, every
/// one of `charts` finished drawing.
fn checked_root<'d>(dom: &'d str, charts: &[&str]) -> &'d str {
    let root = &dom[dom.find("<html").expect("an html element")..];
    let root = &root[..root.find('>').unwrap()];
    assert!(!root.contains("data-errors"), "script errors: {root}");
    assert!(
        !root.contains("data-pwned"),
        "a corpus document ran script: {root}"
    );
    assert!(
        root.contains(&format!("data-charts=\"{}\"", charts.len())),
        "not every chart finished drawing: {root}"
    );
    root
}

/// The ids of the chart elements of a page (class "chart" or "chart map", not "charts").
fn chart_ids(html: &str) -> Vec<&str> {
    html.match_indices("class=\"chart")
        .filter(|(at, m)| matches!(html.as_bytes()[at + m.len()], b'"' | b' '))
        .map(|(at, _)| {
            let id = &html[at..];
            let id = &id[id.find("id=\"").unwrap() + 4..];
            &id[..id.find('"').unwrap()]
        })
        .collect()
}

#[test]
fn the_compare_report_draws_links_its_maps_and_corpus_script_never_runs() {
    // Two snapshots of the sample; B carries the hostile documents.
    let (a, mut b) = sample_snapshots(20);
    b.labels = None;
    let b = hostile_corpus(b);
    // The hostile documents first, so they head the added documents' list.
    let n = b.len();
    let b = b.select(&(n - 4..n).chain(0..n - 4).collect::<Vec<_>>());
    let audit_a = Audit::builder().run(&a).unwrap();
    let audit_b = Audit::builder().run(&b).unwrap();
    let c = Compare::params()
        .run_audited(&a, &b, &audit_a, &audit_b)
        .unwrap()
        .without_timings();
    let dir = tempfile::tempdir().unwrap();
    let page = dir.path().join("compare.html");
    write_compare_html(&page, &c, &ReportOptions::default()).unwrap();
    let html = std::fs::read_to_string(&page).unwrap();
    let charts = chart_ids(&html);
    for id in [
        "chart-recall-ab",
        "chart-sides",
        "chart-map-a",
        "chart-map-b",
        "chart-shared",
        "chart-topics",
    ] {
        assert!(charts.contains(&id), "{charts:?}");
    }
    // A's cluster 0 picked by the link: its points on A's map, its documents on B's.
    let maps = c.maps.as_ref().unwrap();
    let on_a = maps
        .a
        .as_ref()
        .unwrap()
        .cluster
        .iter()
        .filter(|&&k| k == 0)
        .count();
    let on_b = maps
        .b
        .as_ref()
        .unwrap()
        .other
        .iter()
        .filter(|&&k| k == 0)
        .count();
    assert!(on_a > 0 && on_b > 0 && on_b < on_a);
    let linked = dir.path().join("compare.html#pick=a:0");
    let (dom, log) = headless(&linked, &["--dump-dom"]);
    let root = checked_root(&dom, &charts);
    assert!(root.contains("data-picked=\"a:0\""), "{root}");
    assert!(
        dom.contains(&format!("A: {on_a} points, B: {on_b} points")),
        "the pick did not light up both maps"
    );
    for id in &charts {
        let at = dom.find(&format!("id=\"{id}\"")).unwrap();
        let rest = &dom[at..];
        let end = rest[1..]
            .find("class=\"chart")
            .map_or(rest.len(), |e| e + 1);
        assert!(rest[..end].contains("main-svg"), "{id} drew nothing");
    }
    assert!(dom.contains("&lt;script&gt;document.documentElement.setAttribute("));
    assert_clean_console(&log);

    // The README's picture: the two snapshots as they are (no hostile documents), the summary
    // and the two maps with A's cluster 0 lit up.
    let (a, b) = sample_snapshots(20);
    let audit_a = Audit::builder().run(&a).unwrap();
    let audit_b = Audit::builder().run(&b).unwrap();
    let c = Compare::params()
        .run_audited(&a, &b, &audit_a, &audit_b)
        .unwrap()
        .without_timings();
    let clean = dir.path().join("clean.html");
    write_compare_html(&clean, &c, &ReportOptions::default()).unwrap();
    std::fs::write(
        &clean,
        std::fs::read_to_string(&clean).unwrap().replacen(
            "</head>",
            "<style>main > section:not(#summary):not(#maps) { display: none; } .chart.map { height: 480px; }</style></head>",
            1,
        ),
    )
    .unwrap();
    let shots = Path::new(env!("CARGO_TARGET_TMPDIR")).join("screenshots");
    std::fs::create_dir_all(&shots).unwrap();
    let shot = shots.join("compare.png");
    screenshot(&dir.path().join("clean.html#pick=a:0"), "1300,1750", &shot);
    if std::env::var_os("EMBEDSCOPE_UPDATE_SCREENSHOT").is_some() {
        std::fs::copy(&shot, repo("reports/screenshots/compare.png")).unwrap();
    }
}

/// A script appended to a copy of the report that drives it as a reader would: types into the
/// search box, clicks a point on the map (plotly's click event) and a document in a table,
/// ticks a cluster in the cluster table, sorts the table by size, downloads the drop list,
/// changes one decision and downloads it again, opens every hostile document's panel. It
/// writes what it saw as JSON into `<pre id="driver">`.
const DRIVER: &str = r##"<script>
(function () {
  var root = document.documentElement, out = {}, steps = [];
  function later(f) { steps.push(f); }
  function next() { var f = steps.shift(); if (f) { setTimeout(function () { try { f(); } catch (e) { out.error = String(e); } next(); }, 300); } else { finish(); } }
  function finish() { var pre = document.createElement("pre"); pre.id = "driver"; pre.textContent = JSON.stringify(out); document.body.appendChild(pre); }
  function panel() {
    var p = document.getElementById("panel");
    return { hidden: p.hidden, title: p.querySelector("h3").textContent, text: (p.querySelector(".doc-text") || {}).textContent || null,
             neighbours: p.querySelectorAll("ol.examples a.doc").length, facts: p.querySelector("dl") ? p.querySelector("dl").textContent : "",
             members: p.querySelectorAll("ul.members li").length };
  }
  function mapPoints() {
    var gd = document.getElementById("chart-map"), k = 0;
    gd.data.forEach(function (t) { if (t.visible !== "legendonly" && t.name !== "selected" && String(t.name).indexOf("search:") !== 0) { k += t.x.length; } });
    return k;
  }
  var start = setInterval(function () {
    if (root.getAttribute("data-explore") !== "ready") { return; }
    clearInterval(start);
    later(function () { var box = document.getElementById("search"); box.value = "QUERY"; box.dispatchEvent(new Event("input")); });
    later(function () {
      var gd = document.getElementById("chart-map");
      out.search = { matches: Number(root.getAttribute("data-matches")), listed: document.querySelectorAll("#search-results li").length,
                     marks: Array.prototype.map.call(document.querySelectorAll("#search-results mark"), function (m) { return m.textContent; }).slice(0, 3),
                     trace: gd.data[gd.data.length - 1].name };
      gd.emit("plotly_click", { points: [{ customdata: POINT }] });
    });
    later(function () { out.point = panel(); document.querySelector("#duplicates tbody [data-doc]").click(); });
    later(function () {
      out.table_doc = { clicked: document.querySelector("#duplicates tbody [data-doc]").getAttribute("data-doc"), panel: panel() };
      document.querySelector("#cluster-table tr[data-cluster=\"CLUSTER\"] input.pick").click();
    });
    later(function () {
      out.filter = { visible: Number(root.getAttribute("data-visible-points")), drawn: mapPoints(),
                     rows: document.querySelectorAll("#cluster-table tbody tr:not(.filtered)").length,
                     state: document.getElementById("filter-state").textContent };
      document.getElementById("filter-clear").click();
    });
    later(function () {
      out.cleared = { visible: Number(root.getAttribute("data-visible-points")), drawn: mapPoints() };
      var th = document.querySelectorAll("#cluster-table th")[1]; th.click(); th.click();
    });
    later(function () {
      out.sorted = Array.prototype.map.call(document.querySelectorAll("#cluster-table tbody tr"), function (tr) { return Number(tr.children[1].textContent); });
      document.getElementById("download-drops").click();
      out.drops = window.embedscopeLastDownload;
      var box = document.querySelector("#duplicates input[data-drop]:checked");
      out.unticked = box.getAttribute("data-drop");
      box.click();
      document.getElementById("download-drops").click();
      out.drops_after = window.embedscopeLastDownload;
      document.querySelector("#cluster-table ~ button.csv, section#clusters button.csv").click();
      out.table_csv = window.embedscopeLastDownload;
      var select = document.getElementById("colour-by");
      out.colour_modes = Array.prototype.map.call(select.options, function (o) { return o.value; });
      select.value = "noise"; select.dispatchEvent(new Event("change"));
    });
    later(function () {
      var gd = document.getElementById("chart-map");
      out.noise_traces = gd.data.map(function (t) { return t.name; });
      var select = document.getElementById("colour-by");
      select.value = "outlier"; select.dispatchEvent(new Event("change"));
    });
    later(function () {
      var t = document.getElementById("chart-map").data[0];
      out.outlier_trace = { scale: !!t.marker.showscale, points: t.x.length };
      var select = document.getElementById("colour-by");
      select.value = "cluster"; select.dispatchEvent(new Event("change"));
    });
    HOSTILE_STEPS
    next();
  }, 50);
})();
</script>"##;

/// Extracts the driver's JSON from a dumped page.
/// A JSON array of strings, as `&str`s.
fn strs(v: &serde_json::Value) -> Vec<&str> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|m| m.as_str().unwrap())
        .collect()
}

fn driver_output(dom: &str) -> serde_json::Value {
    let at = dom
        .find("<pre id=\"driver\">")
        .unwrap_or_else(|| panic!("the driver did not finish: {}", &dom[..dom.len().min(400)]));
    let body = &dom[at + "<pre id=\"driver\">".len()..];
    let body = &body[..body.find("</pre>").unwrap()];
    let json = body
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&nbsp;", "\u{a0}")
        .replace("&amp;", "&");
    serde_json::from_str(&json).unwrap_or_else(|e| panic!("{e}: {json}"))
}

#[test]
fn the_report_explores_search_panel_filter_review_and_corpus_script_never_runs() {
    let corpus = hostile_corpus(sample_head(2000));
    let audit = Audit::builder()
        .stability(None)
        .run(&corpus)
        .unwrap()
        .without_timings();
    let map = audit.map.as_ref().unwrap();
    let dups = audit.duplicates.as_ref().unwrap();
    assert_eq!(map.plotted, corpus.len());
    // What the reader should see, computed here from the audit and the corpus.
    let texts = corpus.texts.as_ref().unwrap();
    let query = "python";
    let expected_matches = (0..corpus.len())
        .filter(|&i| {
            format!("{}\n{}", corpus.ids[i], texts[i])
                .to_lowercase()
                .contains(query)
        })
        .count();
    assert!(expected_matches > 5, "{expected_matches}");
    let point = (0..map.plotted)
        .find(|&p| texts[map.rows[p]].chars().count() > 200)
        .unwrap();
    let cluster = audit.clusters[2].id;
    let in_cluster = map
        .rows
        .iter()
        .filter(|&&r| audit.labels[r] == cluster)
        .count();
    let hostile: Vec<usize> = (0..map.plotted)
        .filter(|&p| map.ids[p].starts_with("hostile-"))
        .collect();
    assert_eq!(hostile.len(), common::HOSTILE.len());
    let mut hostile_steps = String::new();
    for (k, h) in common::HOSTILE.iter().enumerate() {
        // Search for each hostile text (its own characters as the query) and open its panel.
        let q = serde_json::to_string(&h[..12]).unwrap();
        hostile_steps.push_str(&format!(
            "later(function () {{ var box = document.getElementById(\"search\"); box.value = {q}; box.dispatchEvent(new Event(\"input\")); }});\n    \
             later(function () {{ out.hostile_{k} = {{ matches: Number(root.getAttribute(\"data-matches\")) }}; window.embedscope.openPoint({p}); }});\n    \
             later(function () {{ out.hostile_{k}.panel = panel(); }});\n    ",
            p = hostile[k]
        ));
    }
    let driver = DRIVER
        .replace("QUERY", query)
        .replace("POINT", &point.to_string())
        .replace("CLUSTER", &cluster.to_string())
        .replace("HOSTILE_STEPS", &hostile_steps);
    let dir = tempfile::tempdir().unwrap();
    let page = dir.path().join("explore.html");
    write_html(&page, &audit, &ReportOptions::default()).unwrap();
    let html = std::fs::read_to_string(&page).unwrap();
    std::fs::write(
        &page,
        html.replacen("</body>", &format!("{driver}</body>"), 1),
    )
    .unwrap();
    let (dom, log) = headless(&page, &["--dump-dom"]);
    let charts = chart_ids(&html);
    let root = checked_root(&dom, &charts);
    assert!(root.contains("data-explore=\"ready\""), "{root}");
    let out = driver_output(&dom);
    assert!(out.get("error").is_none(), "{out:#}");

    // The search: every matching document, listed (the first 50) and marked on the map.
    assert_eq!(out["search"]["matches"], expected_matches, "{out:#}");
    assert_eq!(out["search"]["listed"], expected_matches.min(50));
    assert!(out["search"]["marks"][0]
        .as_str()
        .unwrap()
        .eq_ignore_ascii_case(query));
    assert_eq!(
        out["search"]["trace"],
        format!("search: {expected_matches} matches")
    );
    // The point clicked: its id, whole text, facts and five neighbours.
    let p = &out["point"];
    assert_eq!(p["hidden"], false);
    assert_eq!(p["title"], format!("#{}", map.ids[point]));
    let full: String = texts[map.rows[point]].chars().take(2000).collect();
    assert_eq!(p["text"], full);
    assert_eq!(p["neighbours"], 5);
    let facts = p["facts"].as_str().unwrap();
    assert!(
        facts.contains(&format!("cluster {}", audit.labels[map.rows[point]])),
        "{facts}"
    );
    assert!(
        facts.contains("HDBSCAN") && facts.contains("outlier score"),
        "{facts}"
    );
    // A document clicked in the duplicates table opens its panel with its group.
    let clicked = out["table_doc"]["clicked"].as_str().unwrap();
    assert_eq!(out["table_doc"]["panel"]["title"], format!("#{clicked}"));
    assert!(out["table_doc"]["panel"]["members"].as_u64().unwrap() >= 2);
    // The cluster filter: the map and the cluster table show the picked cluster only.
    assert_eq!(out["filter"]["visible"], in_cluster, "{out:#}");
    assert_eq!(out["filter"]["drawn"], in_cluster);
    assert_eq!(out["filter"]["rows"], 1);
    assert_eq!(out["cleared"]["visible"], map.plotted);
    assert_eq!(out["cleared"]["drawn"], map.plotted);
    // Sorted by size, descending after two clicks.
    let sizes: Vec<u64> = out["sorted"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_u64().unwrap())
        .collect();
    assert!(sizes.windows(2).all(|w| w[0] >= w[1]), "{sizes:?}");
    assert_eq!(sizes.len(), audit.clusters.len());
    // The drop list: the policy's drops, then one fewer after the reviewer's change.
    let rows = |v: &serde_json::Value| -> Vec<Vec<String>> {
        v["text"]
            .as_str()
            .unwrap()
            .lines()
            .map(|l| l.split(',').map(String::from).collect())
            .collect()
    };
    assert_eq!(out["drops"]["name"], "drop-list.csv");
    let before = rows(&out["drops"]);
    assert_eq!(before[0], ["id", "row", "group", "kept_id", "decided_by"]);
    let mut want: Vec<&str> = dups.drops.iter().map(|d| d.id.as_str()).collect();
    let mut got: Vec<&str> = before[1..].iter().map(|r| r[0].as_str()).collect();
    want.sort_unstable();
    got.sort_unstable();
    assert_eq!(got, want);
    for r in &before[1..] {
        let d = dups.drops.iter().find(|d| d.id == r[0]).unwrap();
        assert_eq!(r[1], d.row.unwrap().to_string());
        assert_eq!(r[3], d.kept_id);
    }
    let unticked = out["unticked"].as_str().unwrap();
    let after = rows(&out["drops_after"]);
    assert_eq!(after.len(), before.len() - 1);
    assert!(!after.iter().any(|r| r[0] == unticked));
    // Every table downloads; the cluster table's CSV has its header and one row per cluster.
    let table = rows(&out["table_csv"]);
    assert_eq!(
        table.len(),
        audit.clusters.len() + 1,
        "{:#}",
        out["table_csv"]
    );
    // Colour modes: the sections this audit ran; HDBSCAN noise as categories, the outlier score
    // as one trace on a colour scale.
    let modes = strs(&out["colour_modes"]);
    for m in [
        "cluster",
        "noise",
        "outlier",
        "length",
        "centroid",
        "duplicate",
        "language",
    ] {
        assert!(modes.contains(&m), "{modes:?}");
    }
    let noise = audit.noise.as_ref().unwrap();
    let names = strs(&out["noise_traces"]);
    assert!(
        names.contains(&format!("noise ({})", noise.noise).as_str()),
        "{names:?} (noise {})",
        noise.noise
    );
    assert_eq!(out["outlier_trace"]["scale"], true);
    assert_eq!(out["outlier_trace"]["points"], map.plotted);
    // The hostile documents: found by search, shown as text in the panel, never run.
    for (k, h) in common::HOSTILE.iter().enumerate() {
        let o = &out[format!("hostile_{k}")];
        assert!(o["matches"].as_u64().unwrap() >= 1, "{o:#}");
        assert_eq!(o["panel"]["text"], *h, "{o:#}");
    }
    assert_clean_console(&log);
}

#[test]
fn without_a_map_the_duplicate_review_and_the_panel_still_work() {
    let corpus = sample_head(600);
    let mut audit = Audit::builder()
        .stability(None)
        .run(&corpus)
        .unwrap()
        .without_timings();
    audit.map = None;
    let drops = audit.duplicates.as_ref().unwrap().drops.len();
    assert!(drops > 0, "the sample's head has near duplicates");
    let driver = r##"<script>
(function () {
  var root = document.documentElement;
  var t = setInterval(function () {
    if (root.getAttribute("data-explore") !== "ready") { return; }
    clearInterval(t);
    var out = {};
    document.getElementById("download-drops").click();
    out.drops = window.embedscopeLastDownload.text.trim().split("\r\n").length - 1;
    var doc = document.querySelector("#duplicates tbody [data-doc]");
    doc.click();
    out.clicked = doc.getAttribute("data-doc");
    out.title = document.querySelector("#panel h3").textContent;
    out.members = document.querySelectorAll("#panel ul.members li").length;
    var pre = document.createElement("pre"); pre.id = "driver"; pre.textContent = JSON.stringify(out);
    document.body.appendChild(pre);
  }, 50);
})();
</script></body>"##;
    let dir = tempfile::tempdir().unwrap();
    let page = dir.path().join("nomap.html");
    write_html(&page, &audit, &ReportOptions::default()).unwrap();
    let html = std::fs::read_to_string(&page).unwrap();
    assert!(!html.contains("id=\"chart-map\""));
    std::fs::write(&page, html.replacen("</body>", driver, 1)).unwrap();
    let (dom, log) = headless(&page, &["--dump-dom"]);
    checked_root(&dom, &chart_ids(&html));
    let out = driver_output(&dom);
    assert_eq!(out["drops"], drops);
    assert_eq!(
        out["title"],
        format!("#{}", out["clicked"].as_str().unwrap())
    );
    assert!(out["members"].as_u64().unwrap() >= 2, "{out:#}");
    assert_clean_console(&log);
}
