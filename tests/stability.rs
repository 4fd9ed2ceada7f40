//! Topic stability: a corpus with real clusters scores ~1 and a structureless one scores low
//! with its clusters flagged; HDBSCAN over subsamples; the audit's section; bad input.

use embedscope::cluster::{Hdbscan, KMeans, Metric};
use embedscope::display::Rich;
use embedscope::rng::Rng;
use embedscope::stability::{RunKind, Stability};
use embedscope::{Audit, Corpus, Embeddings};

/// A standard normal draw.
fn normal(rng: &mut Rng) -> f32 {
    let u1 = rng.next_f64().max(f64::MIN_POSITIVE);
    let u2 = rng.next_f64();
    ((-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos()) as f32
}

fn unit(mut v: Vec<f32>) -> Vec<f32> {
    let n = v.iter().map(|x| x * x).sum::<f32>().sqrt();
    v.iter_mut().for_each(|x| *x /= n);
    v
}

/// `k` tight groups of `per` unit vectors in `dim` dimensions, around random directions.
fn blobs(k: usize, per: usize, dim: usize, spread: f32, seed: u64) -> (Embeddings, Vec<usize>) {
    let mut rng = Rng::new(seed, 1);
    let centres: Vec<Vec<f32>> = (0..k)
        .map(|_| unit((0..dim).map(|_| normal(&mut rng)).collect()))
        .collect();
    let mut data = Vec::new();
    let mut truth = Vec::new();
    for i in 0..k * per {
        let c = i % k;
        let v: Vec<f32> = centres[c]
            .iter()
            .map(|&x| x + spread * normal(&mut rng))
            .collect();
        data.extend(unit(v));
        truth.push(c);
    }
    (Embeddings::new(data, dim).unwrap(), truth)
}

/// `n` points uniform on the unit sphere in `dim` dimensions: no clusters at all.
fn sphere(n: usize, dim: usize, seed: u64) -> Embeddings {
    let mut rng = Rng::new(seed, 2);
    let mut data = Vec::new();
    for _ in 0..n {
        data.extend(unit((0..dim).map(|_| normal(&mut rng)).collect()));
    }
    Embeddings::new(data, dim).unwrap()
}

#[test]
fn well_separated_blobs_are_stable_and_the_vote_is_unanimous() {
    let (data, _) = blobs(5, 120, 32, 0.05, 7);
    let r = Stability::params().runs(4).run(&data, 5).unwrap();
    assert_eq!(r.k, 5);
    assert_eq!(r.rows, 600);
    assert!(r.min_seed_ari > 0.999, "{}", r.min_seed_ari);
    assert!(r.min_bootstrap_ari > 0.999, "{}", r.min_bootstrap_ari);
    for c in &r.clusters {
        assert!(c.stability > 0.999, "{c:?}");
        assert!(!c.unstable && c.dissolved == 0, "{c:?}");
    }
    assert_eq!(r.unstable_clusters, 0);
    assert_eq!(r.unstable_rows_share, 0.0);
    // Every resample's sweep over 2..=10 picks the five blobs.
    assert_eq!(r.k_resamples, 4);
    assert_eq!(r.k_votes.len(), 1, "{:?}", r.k_votes);
    assert_eq!((r.k_votes[0].k, r.k_votes[0].wins), (5, 4));
    assert_eq!(r.k_share(5), 1.0);
    assert_eq!(r.k_vote_text(), "K = 5 in 4 of 4 resamples");
    // Four seeds and four resamples, each with its own seed.
    assert_eq!(r.run_details.len(), 8);
    let seeds: std::collections::BTreeSet<u64> = r.run_details.iter().map(|d| d.seed).collect();
    assert_eq!(seeds.len(), 8);
    let boots: Vec<_> = r
        .run_details
        .iter()
        .filter(|d| d.kind == RunKind::Bootstrap)
        .collect();
    assert_eq!(boots.len(), 4);
    // A bootstrap draws about 1 - 1/e of the rows.
    for b in boots {
        assert!((330..430).contains(&b.rows), "{b:?}");
        assert!(b.chosen_k == Some(5));
    }
}

#[test]
fn a_structureless_corpus_scores_low_with_its_clusters_flagged() {
    let data = sphere(600, 16, 3);
    let r = Stability::params().runs(5).run(&data, 6).unwrap();
    let mean: f64 = r.clusters.iter().map(|c| c.stability).sum::<f64>() / 6.0;
    assert!(mean < 0.6, "mean stability {mean}: {:?}", r.clusters);
    assert!(r.unstable_clusters >= 3, "{:?}", r.clusters);
    assert!(r.unstable_rows_share >= 0.4, "{}", r.unstable_rows_share);
    assert!(r.mean_bootstrap_ari < 0.5, "{}", r.mean_bootstrap_ari);
    for c in r.clusters.iter().filter(|c| c.unstable) {
        assert!(c.stability < 0.6 && c.dissolved > 0, "{c:?}");
    }
    // No k wins every resample.
    assert!(
        r.k_votes[0].wins < 5 || r.k_votes[0].k != 6,
        "{:?}",
        r.k_votes
    );
}

#[test]
fn the_same_seed_gives_the_same_report() {
    let data = sphere(300, 8, 5);
    let a = Stability::params().runs(2).seed(9).run(&data, 4).unwrap();
    let b = Stability::params().runs(2).seed(9).run(&data, 4).unwrap();
    assert_eq!(
        (a.clusters, a.k_votes, a.run_details),
        (b.clusters, b.k_votes, b.run_details)
    );
    let c = Stability::params().runs(2).seed(10).run(&data, 4).unwrap();
    assert_ne!(a.mean_seed_ari, c.mean_seed_ari);
}

#[test]
fn a_given_clustering_is_checked_as_it_is() {
    // The blobs' true labels, renumbered: the check compares partitions, not names.
    let (data, truth) = blobs(4, 60, 16, 0.05, 11);
    let renamed: Vec<usize> = truth.iter().map(|&c| 3 - c).collect();
    let r = Stability::params()
        .runs(2)
        .k_range(2, 6)
        .run_against(&data, &renamed, &embedscope::progress::Silent)
        .unwrap();
    assert_eq!(r.k, 4);
    assert!(r
        .clusters
        .iter()
        .all(|c| c.stability > 0.999 && c.size == 60));
    // A K outside the vote's range is still checked (fitted apart from the sweep).
    let r = Stability::params()
        .runs(2)
        .k_range(2, 3)
        .run_against(&data, &renamed, &embedscope::progress::Silent)
        .unwrap();
    assert!(r.clusters.iter().all(|c| c.stability > 0.999));
    assert!(r.k_votes.iter().all(|v| v.k <= 3));
    // A clustering that cuts a blob in two is unstable where it cuts.
    let cut: Vec<usize> = truth
        .iter()
        .enumerate()
        .map(|(i, &c)| if c == 0 && i % 8 < 4 { 4 } else { c })
        .collect();
    let r = Stability::params()
        .runs(3)
        .k_range(2, 6)
        .run_against(&data, &cut, &embedscope::progress::Silent)
        .unwrap();
    assert!(
        r.clusters[4].stability < 0.9 || r.clusters[0].stability < 0.9,
        "{:?}",
        r.clusters
    );
}

#[test]
fn hdbscan_over_subsamples_counts_the_blobs_each_time() {
    // Five tight blobs in 5-D (HDBSCAN's low-dimensional route).
    let (data, _) = blobs(5, 200, 5, 0.02, 13);
    let params = Hdbscan::params()
        .min_cluster_size(10)
        .metric(Metric::Euclidean);
    let h = Stability::params()
        .runs(3)
        .hdbscan(&data, &params, &embedscope::progress::Silent)
        .unwrap();
    assert_eq!(h.runs.len(), 3);
    assert!(h.runs.iter().all(|r| r.rows == 800));
    assert_eq!((h.clusters.min, h.clusters.max), (5.0, 5.0), "{h:?}");
    assert!(h.noise_share.max < 0.1, "{h:?}");
    assert!(h.noise_share.min <= h.noise_share.mean && h.noise_share.mean <= h.noise_share.max);
}

#[test]
fn bad_input_is_refused_with_the_parameter_named() {
    let data = sphere(30, 4, 1);
    let err = |e: embedscope::Error| e.to_string();
    // One cluster cannot be unstable; a K with too few rows per cluster cannot be resampled.
    assert!(err(Stability::params().run(&data, 1).unwrap_err()).contains("`k` = 1"));
    let e = err(Stability::params().run(&data, 11).unwrap_err());
    assert!(e.contains("`k` = 11") && e.contains("30 rows"), "{e}");
    let e = err(Stability::params()
        .run_against(&data, &[0, 1], &embedscope::progress::Silent)
        .unwrap_err());
    assert!(e.contains("reference") && e.contains("30 rows"), "{e}");
    let e = err(Stability::params().runs(0).run(&data, 2).unwrap_err());
    assert!(e.contains("`runs` = 0"), "{e}");
    // A subsample too small for HDBSCAN.
    let tiny = sphere(3, 4, 1);
    let e = err(Stability::params()
        .subsample(0.5)
        .hdbscan(&tiny, &Hdbscan::params(), &embedscope::progress::Silent)
        .unwrap_err());
    assert!(e.contains("subsample"), "{e}");
}

#[test]
fn the_report_shows_in_a_notebook_and_as_a_table() {
    let data = sphere(300, 8, 4);
    let r = Stability::params().runs(2).run(&data, 4).unwrap();
    let html = r.to_html();
    assert!(html.contains("Topic stability") && html.contains("ARI between seeds"));
    assert!(html.contains("how many clusters"));
    let df = r.to_frame().unwrap();
    assert_eq!(df.height(), 4);
    let names: Vec<String> = df
        .get_column_names()
        .iter()
        .map(|c| c.to_string())
        .collect();
    assert_eq!(
        names,
        [
            "cluster",
            "size",
            "stability",
            "seed_jaccard",
            "bootstrap_jaccard",
            "dissolved",
            "unstable"
        ]
    );
    assert!(r.evcxr_text().contains("EVCXR_BEGIN_CONTENT text/html"));
}

#[test]
fn the_audit_checks_stability_against_its_own_clustering() {
    let (data, _) = blobs(3, 40, 16, 0.05, 21);
    let texts: Vec<String> = (0..120).map(|i| format!("document number {i}")).collect();
    let mut corpus = Corpus::from_texts(texts);
    corpus.vectors = Some(data);
    let audit = Audit::builder()
        .k_range(2, 5)
        .n_init(3)
        .map(false)
        .duplicates(false)
        .retrieval(false)
        .run(&corpus)
        .unwrap();
    assert_eq!(audit.optimal_k.chosen_k, 3);
    let s = audit.stability.as_ref().expect("a stability section");
    assert_eq!(s.k, 3);
    assert!(s.clusters.iter().all(|c| c.stability > 0.999));
    assert_eq!(s.k_votes[0].k, 3);
    // Its refits use the audit's seed and range; HDBSCAN ran on the noise section's points.
    assert_eq!(s.k_range, (2, 5));
    assert!(s.hdbscan.is_some());
    assert!(audit.params.sections.contains(&"stability".to_string()));
    assert!(audit.timings.iter().any(|t| t.stage == "stability"));
    assert!(audit.notes.iter().all(|n| !n.contains("unstable")));
    // Off.
    let off = Audit::builder()
        .k_range(2, 5)
        .n_init(3)
        .map(false)
        .duplicates(false)
        .noise(false)
        .retrieval(false)
        .stability(None)
        .run(&corpus)
        .unwrap();
    assert!(off.stability.is_none());
    assert!(!off.params.sections.contains(&"stability".to_string()));
    // A bad parameter is refused before any stage runs.
    let e = Audit::builder()
        .stability(Some(Stability::params().unstable_below(2.0)))
        .run(&corpus)
        .unwrap_err();
    assert!(e.to_string().contains("unstable_below"), "{e}");
}

#[test]
fn the_audit_notes_unstable_clusters() {
    let data = sphere(400, 16, 8);
    let texts: Vec<String> = (0..400).map(|i| format!("document number {i}")).collect();
    let mut corpus = Corpus::from_texts(texts);
    corpus.vectors = Some(data);
    let audit = Audit::builder()
        .k_range(6, 6)
        .n_init(3)
        .map(false)
        .duplicates(false)
        .noise(false)
        .retrieval(false)
        .run(&corpus)
        .unwrap();
    let s = audit.stability.as_ref().unwrap();
    assert!(s.unstable_clusters > 0, "{:?}", s.clusters);
    assert!(
        audit.notes.iter().any(|n| n.contains("are unstable")),
        "{:?}",
        audit.notes
    );
    // K-Means is K-Means: the reference is the audit's own clustering of the swept rows.
    let again = KMeans::params(6)
        .n_init(3)
        .seed(42)
        .fit(corpus.vectors.as_ref().unwrap())
        .unwrap();
    assert_eq!(again.labels(), audit.labels.as_slice());
}
