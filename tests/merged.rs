//! An audit assembled from a cluster's results (`Audit::merge`, what `embedscope.ray` calls)
//! counts duplicates as the single-process audit does on the same rows, measures retrieval
//! from the queries' merged lists, and states what ran on the sample.

mod common;

use common::merged::{base, sample_audit, worker_results, NPROBES, TOP_K};
use embedscope::audit::{removal_groups_by_id, GroupView, IdPair, PairView};
use embedscope::report::{render_html, ReportOptions};
use embedscope::Audit;

/// Every id in a list of (dropped, kept) pairs, once, sorted.
fn members<'a>(pairs: Vec<(&'a str, &'a str)>) -> Vec<&'a str> {
    let mut ids: Vec<&str> = pairs.iter().flat_map(|&(a, b)| [a, b]).collect();
    ids.sort_unstable();
    ids.dedup();
    ids
}

fn without_rows(p: &[PairView]) -> Vec<PairView> {
    p.iter()
        .map(|p| PairView {
            row_a: None,
            row_b: None,
            ..p.clone()
        })
        .collect()
}

fn without_group_rows(g: &[GroupView]) -> Vec<GroupView> {
    g.iter()
        .map(|g| GroupView {
            kept: None,
            rows: Vec::new(),
            ..g.clone()
        })
        .collect()
}

#[test]
fn a_merged_audit_is_the_single_process_audit_on_the_per_row_stages() {
    let corpus = common::sample_head(1_200);
    let full = base().retrieval(false).run(&corpus).unwrap();
    // A sample of every second row for the statistic stages; 40 queries.
    let rows: Vec<usize> = (0..corpus.len()).step_by(2).collect();
    let (sample, sample_corpus) = sample_audit(&corpus, &rows);
    let queries: Vec<usize> = (0..corpus.len()).step_by(30).collect();
    let results = worker_results(&corpus, &sample, &queries);
    let merged = Audit::merge(sample.clone(), &sample_corpus, &results).unwrap();

    // Duplicates: the same counts, pairs, groups and texts as the audit of every row.
    let (d, f) = (
        merged.duplicates.as_ref().unwrap(),
        full.duplicates.as_ref().unwrap(),
    );
    assert!(
        f.per_threshold[0].pairs > 0,
        "the sample has near duplicates"
    );
    assert_eq!(d.per_threshold, f.per_threshold);
    assert_eq!(
        (d.removable, d.exact_text_groups, d.exact_text_removable),
        (f.removable, f.exact_text_groups, f.exact_text_removable)
    );
    assert_eq!(d.share, f.share);
    assert_eq!(d.top_pairs, without_rows(&f.top_pairs));
    assert_eq!(d.borderline_pairs, without_rows(&f.borderline_pairs));
    assert_eq!(d.largest_groups, without_group_rows(&f.largest_groups));
    assert!(
        d.top_pairs.iter().all(|p| !p.text_a.is_empty()),
        "texts fetched"
    );
    // Pair recall on the queries: the pairs are the exact ones, so every pair is found.
    let recall = d.recall.as_ref().unwrap();
    assert_eq!(recall.rows, queries.len());
    assert_eq!(recall.found, recall.exact_pairs);

    // Retrieval: every cell probed finds everything and scans every row.
    let r = merged.retrieval.as_ref().unwrap();
    assert_eq!((r.n_queries, r.top_k, r.nlist), (queries.len(), TOP_K, 16));
    let all = r.per_nprobe.last().unwrap();
    assert_eq!((all.nprobe, all.recall), (16, 1.0));
    assert!((all.scanned_fraction - 1.0).abs() < 1e-9);
    assert!(r
        .per_nprobe
        .windows(2)
        .all(|w| w[0].recall <= w[1].recall && w[0].scanned_fraction < w[1].scanned_fraction));
    assert_eq!(r.nprobe, 3);
    assert_eq!(
        r.recall,
        r.per_nprobe[NPROBES.iter().position(|&p| p == 3).unwrap()].recall
    );
    // Hubs and orphans counted among the sample's 600 rows, as the retrieval evaluation counts.
    let hubs = r.hubness.as_ref().unwrap();
    let direct =
        embedscope::retrieve::hubness_sampled(sample_corpus.vectors.as_ref().unwrap(), TOP_K, 42);
    assert_eq!(
        (hubs.rows, hubs.orphans, hubs.skewness),
        (600, direct.orphans, direct.skewness)
    );
    assert_eq!(hubs.hubs[0].id, sample_corpus.ids[direct.hubs[0].row]);
    let truth: usize = r.per_cluster.iter().map(|c| c.truth_hits).sum();
    assert_eq!(
        truth,
        queries.len() * TOP_K,
        "each query's own row left out"
    );

    // Clusters: the sample's, sized over every row.
    assert_eq!(merged.corpus.rows, corpus.len());
    assert_eq!(
        merged.clusters.iter().map(|c| c.size).sum::<usize>(),
        corpus.len()
    );
    assert_eq!(
        merged.clusters.iter().map(|c| &c.label).collect::<Vec<_>>(),
        sample.clusters.iter().map(|c| &c.label).collect::<Vec<_>>()
    );
    // What ran where, and the verdict on every section.
    let s = &merged.sampling;
    assert_eq!((s.rows, s.sample_rows), (1_200, 600));
    assert!(
        s.policy
            .starts_with("ray: statistic stages on a sample of 600 rows"),
        "{}",
        s.policy
    );
    let stage = |name: &str| s.stages.iter().find(|st| st.stage == name).unwrap();
    assert!(!stage("k sweep").every_row && stage("k sweep").rows == 600);
    assert!(stage("duplicates").every_row && stage("retrieval").every_row);
    assert!(stage("cluster assignment").note.contains("on the workers"));
    let checks: Vec<&str> = merged
        .verdict
        .checks
        .iter()
        .map(|c| c.name.as_str())
        .collect();
    let full_checks: Vec<&str> = full
        .verdict
        .checks
        .iter()
        .map(|c| c.name.as_str())
        .collect();
    for name in &full_checks {
        assert!(checks.contains(name), "{name} in {checks:?}");
    }
    assert!(merged
        .timings
        .iter()
        .any(|t| t.stage == "ray: near duplicates"));
    assert!(merged.params.sections.iter().any(|s| s == "duplicates"));

    // The report renders the merged sections.
    let html = render_html(&merged, &ReportOptions::default()).unwrap();
    assert!(html.contains("ray: statistic stages"));
    assert!(html.contains(&format!("#{}", d.largest_groups[0].kept_id)));
    // Its drop list for the review: as many documents as the single-process audit drops, from
    // the same groups (the kept one may differ: Ray keeps the smallest id, the single process
    // the first row), by id (rows are unknown on Ray).
    let m = common::explore_data(&html);
    let drops = m["drops"].as_array().unwrap();
    assert_eq!(drops.len(), d.removable);
    assert!(drops.iter().all(|x| x[1].is_null()));
    let got = members(
        drops
            .iter()
            .map(|x| (x[0].as_str().unwrap(), x[3].as_str().unwrap()))
            .collect(),
    );
    let want = members(
        f.drops
            .iter()
            .map(|x| (x.id.as_str(), x.kept_id.as_str()))
            .collect(),
    );
    assert_eq!(got, want);
}

#[test]
fn results_that_do_not_fit_the_sample_are_refused() {
    let corpus = common::sample_head(300);
    let rows: Vec<usize> = (0..300).collect();
    let (sample, sample_corpus) = sample_audit(&corpus, &rows);
    let mut results = worker_results(&corpus, &sample, &[0, 1, 2]);
    results.cluster_sizes.push(1);
    let e = Audit::merge(sample.clone(), &sample_corpus, &results)
        .unwrap_err()
        .to_string();
    assert!(e.contains("cluster_sizes") && e.contains("clusters"), "{e}");
    let mut results = worker_results(&corpus, &sample, &[0, 1, 2]);
    results.rows += 1;
    let e = Audit::merge(sample.clone(), &sample_corpus, &results)
        .unwrap_err()
        .to_string();
    assert!(e.contains("the dataset has 301"), "{e}");
    let mut results = worker_results(&corpus, &sample, &[0, 1, 2]);
    results.retrieval.as_mut().unwrap().queries[1].probed.pop();
    let e = Audit::merge(sample.clone(), &sample_corpus, &results)
        .unwrap_err()
        .to_string();
    assert!(e.contains("expected one per nprobe"), "{e}");
    let results = worker_results(&corpus, &sample, &[0, 1, 2]);
    let e = Audit::merge(sample, &common::sample_head(20), &results)
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("sample_corpus") && e.contains("ran on 300"),
        "{e}"
    );
}

#[test]
fn groups_by_id_keep_the_smallest_id_numerically() {
    let pair = |a: &str, b: &str, c: f32| IdPair {
        id_a: a.into(),
        id_b: b.into(),
        cosine: c,
        same_text: false,
    };
    let pairs = [
        pair("10", "9", 0.97),
        pair("9", "100", 0.96),
        pair("7", "8", 0.91),
    ];
    let exact = [vec!["8".to_string(), "70".to_string()]];
    assert_eq!(
        removal_groups_by_id(&pairs, Some(&exact), 0.95),
        vec![
            vec!["8".to_string(), "70".into()],
            vec!["9".into(), "10".into(), "100".into()]
        ]
    );
    // At 0.90 the third pair joins 7 to 8's group; string ids sort as strings.
    assert_eq!(
        removal_groups_by_id(&pairs, Some(&exact), 0.90)[0],
        ["7", "8", "70"]
    );
    let named = [pair("b", "a", 0.99)];
    assert_eq!(removal_groups_by_id(&named, None, 0.95), [["a", "b"]]);
}
