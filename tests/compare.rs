//! Compare: one corpus under two embeddings. Known answers: a rotation keeps every neighbour
//! and cluster, shuffled vectors keep next to none, removed rows are counted and left out,
//! different dimensions are fine; bad input is refused.

mod common;

use embedscope::compare::Compare;
use embedscope::rng::Rng;
use embedscope::{Corpus, Embeddings};

fn normal(rng: &mut Rng) -> f32 {
    let u1 = rng.next_f64().max(f64::MIN_POSITIVE);
    let u2 = rng.next_f64();
    ((-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos()) as f32
}

/// `k` groups of `per` points around random directions in `dim` dimensions (row-major).
fn blobs(k: usize, per: usize, dim: usize, spread: f32, seed: u64) -> Vec<f32> {
    let mut rng = Rng::new(seed, 1);
    let centres: Vec<Vec<f32>> = (0..k)
        .map(|_| (0..dim).map(|_| normal(&mut rng)).collect())
        .collect();
    let mut data = Vec::new();
    for i in 0..k * per {
        data.extend(
            centres[i % k]
                .iter()
                .map(|&x| x + spread * normal(&mut rng)),
        );
    }
    data
}

/// A random orthogonal `dim x dim` matrix (Gram-Schmidt on Gaussian columns).
fn rotation(dim: usize, seed: u64) -> Vec<Vec<f64>> {
    let mut rng = Rng::new(seed, 2);
    let mut q: Vec<Vec<f64>> = Vec::new();
    while q.len() < dim {
        let mut v: Vec<f64> = (0..dim).map(|_| f64::from(normal(&mut rng))).collect();
        for u in &q {
            let d: f64 = v.iter().zip(u).map(|(a, b)| a * b).sum();
            v.iter_mut().zip(u).for_each(|(a, b)| *a -= d * b);
        }
        let n = v.iter().map(|x| x * x).sum::<f64>().sqrt();
        if n > 1e-6 {
            q.push(v.into_iter().map(|x| x / n).collect());
        }
    }
    q
}

fn corpus(ids: Vec<String>, data: Vec<f32>, dim: usize) -> Corpus {
    let mut c = Corpus::from_texts(ids.iter().map(|i| format!("document {i}")));
    c.ids = ids;
    c.vectors = Some(Embeddings::new(data, dim).unwrap());
    c
}

fn ids(n: usize) -> Vec<String> {
    (0..n).map(|i| format!("d{i}")).collect()
}

#[test]
fn a_rotation_keeps_every_neighbour_and_every_cluster() {
    let dim = 16;
    let a_data = blobs(4, 100, dim, 0.3, 3);
    let r = rotation(dim, 4);
    let b_data: Vec<f32> = a_data
        .chunks(dim)
        .flat_map(|x| {
            r.iter()
                .map(|row| {
                    row.iter()
                        .zip(x)
                        .map(|(m, &v)| m * f64::from(v))
                        .sum::<f64>() as f32
                })
                .collect::<Vec<f32>>()
        })
        .collect();
    let a = corpus(ids(400), a_data, dim);
    let b = corpus(ids(400), b_data, dim);
    let c = Compare::params().k_range(2, 6).run(&a, &b).unwrap();
    assert_eq!(
        (c.overlap.both, c.overlap.a_only, c.overlap.b_only),
        (400, 0, 0)
    );
    assert_eq!(c.neighbours.queries, 400);
    assert!(
        c.neighbours.mean_overlap > 0.999,
        "{:?}",
        c.neighbours.mean_overlap
    );
    assert!(c.neighbours.mean_jaccard > 0.998);
    assert_eq!(
        c.neighbours.histogram[10],
        c.neighbours.queries - c.neighbours.histogram[..10].iter().sum::<usize>()
    );
    assert_eq!((c.clusters.k_a, c.clusters.k_b), (4, 4));
    assert!(c.clusters.ari_own_k > 0.999, "{}", c.clusters.ari_own_k);
    assert!(c.clusters.ari_common_k.unwrap() > 0.999);
    assert!(c
        .clusters
        .matches
        .iter()
        .all(|m| m.jaccard > 0.999 && m.b.is_some()));
    assert!(c.clusters.splits.is_empty() && c.clusters.merges.is_empty());
    assert!((c.a.silhouette - c.b.silhouette).abs() < 1e-4);
    // Equal dimensions, but a document's two vectors are far apart: two spaces, so nothing
    // that needs one space (topics, drift, copies) is computed.
    assert!(
        !c.space.same && c.space.paired_cosine.unwrap() < 0.9,
        "{:?}",
        c.space
    );
    assert!(c.topics.is_none() && c.drift.is_none() && c.cross_duplicates.is_none());
    assert!(c.notes.iter().any(|n| n.contains("two embedding spaces")));
    assert!(c.verdict.pass, "{:?}", c.verdict);
}

#[test]
fn shuffled_vectors_keep_next_to_no_neighbour() {
    let dim = 16;
    let a_data = blobs(4, 100, dim, 0.3, 5);
    // B gives each document another document's vector.
    let mut order: Vec<usize> = (0..400).collect();
    let mut rng = Rng::new(9, 0);
    for i in (1..400).rev() {
        order.swap(i, rng.below(i + 1));
    }
    let b_data: Vec<f32> = order
        .iter()
        .flat_map(|&j| a_data[j * dim..(j + 1) * dim].to_vec())
        .collect();
    let a = corpus(ids(400), a_data, dim);
    let b = corpus(ids(400), b_data, dim);
    let c = Compare::params().k_range(2, 6).run(&a, &b).unwrap();
    // By chance a neighbour list of 10 among 399 shares about a quarter of one document (and
    // the blobs' sizes raise that a little).
    assert!(
        c.neighbours.mean_overlap < 0.1,
        "{}",
        c.neighbours.mean_overlap
    );
    assert!(
        c.clusters.ari_own_k.abs() < 0.05,
        "{}",
        c.clusters.ari_own_k
    );
    // Fewer than half the neighbours kept: the verdict fails on that check alone.
    assert!(!c.verdict.pass);
    assert_eq!(c.verdict.failed, vec!["neighbour_overlap"]);
    assert!(!c.neighbours.changed.is_empty());
    assert!(c.neighbours.changed[0].shared <= 1);
    assert_eq!(c.neighbours.changed[0].neighbours_a.len(), 5);
}

#[test]
fn rows_in_one_side_only_are_counted_and_left_out() {
    let dim = 8;
    let data = blobs(3, 50, dim, 0.2, 7);
    let a = corpus(ids(150), data.clone(), dim);
    // B: every tenth document removed, and five new ones.
    let keep: Vec<usize> = (0..150).filter(|i| i % 10 != 0).collect();
    let mut b_ids: Vec<String> = keep.iter().map(|i| format!("d{i}")).collect();
    let mut b_data: Vec<f32> = keep
        .iter()
        .flat_map(|&i| data[i * dim..(i + 1) * dim].to_vec())
        .collect();
    for j in 0..5 {
        b_ids.push(format!("new{j}"));
        b_data.extend((0..dim).map(|d| if d == j { 1.0 } else { 0.01 }));
    }
    let b = corpus(b_ids, b_data, dim);
    let c = Compare::params().k_range(2, 5).run(&a, &b).unwrap();
    assert_eq!((c.overlap.a_rows, c.overlap.b_rows), (150, 140));
    assert_eq!(
        (c.overlap.both, c.overlap.a_only, c.overlap.b_only),
        (135, 15, 5)
    );
    assert_eq!(c.neighbours.rows, 135);
    assert!(c.neighbours.mean_overlap > 0.999);
    assert!(
        c.notes
            .iter()
            .any(|n| n.contains("15 rows of A and 5 of B")),
        "{:?}",
        c.notes
    );
}

#[test]
fn two_spaces_of_different_dimension_compare_each_in_its_own() {
    let a_data = blobs(3, 60, 16, 0.2, 11);
    // B: the first 8 coordinates only (another, smaller model's view of the same documents).
    let b_data: Vec<f32> = a_data.chunks(16).flat_map(|r| r[..8].to_vec()).collect();
    let a = corpus(ids(180), a_data, 16);
    let b = corpus(ids(180), b_data, 8);
    let c = Compare::params().k_range(2, 5).run(&a, &b).unwrap();
    assert_eq!((c.a.dim, c.b.dim), (16, 8));
    assert!(c.notes.iter().any(|n| n.contains("16 dimensions and B 8")));
    assert!(c.neighbours.mean_overlap > 0.2 && c.neighbours.mean_overlap < 1.0);
}

#[test]
fn bad_input_is_refused_clearly() {
    let a = corpus(ids(30), blobs(3, 10, 4, 0.1, 1), 4);
    let other: Vec<String> = (0..30).map(|i| format!("x{i}")).collect();
    let b = corpus(other, blobs(3, 10, 4, 0.1, 1), 4);
    let e = Compare::params().run(&a, &b).unwrap_err().to_string();
    assert!(
        e.contains("0 ids in both") && e.contains("id columns"),
        "{e}"
    );
    let mut no_vectors = a.clone();
    no_vectors.vectors = None;
    let e = Compare::params()
        .run(&a, &no_vectors)
        .unwrap_err()
        .to_string();
    assert!(e.contains("no vectors"), "{e}");
    for (p, name) in [
        (Compare::params().neighbours(0), "neighbours"),
        (Compare::params().queries(0), "queries"),
        (Compare::params().k_range(1, 3), "k_min"),
        (Compare::params().sample(2), "sample"),
    ] {
        let e = p.run(&a, &a).unwrap_err().to_string();
        assert!(e.contains(&format!("`{name}`")), "{e}");
    }
}

#[test]
fn the_comparison_shows_in_a_notebook_and_as_a_table() {
    use embedscope::display::Rich;
    let a = corpus(ids(90), blobs(3, 30, 8, 0.2, 2), 8);
    let c = Compare::params().k_range(2, 4).run(&a, &a).unwrap();
    let html = c.to_html();
    assert!(html.contains("Comparison") && html.contains("neighbours kept"));
    let f = c.to_frame().unwrap();
    assert_eq!(f.height(), c.clusters.k_a);
    assert!(c.evcxr_text().contains("EVCXR_BEGIN_CONTENT text/html"));
}

#[test]
fn a_snapshot_with_rows_removed_and_a_new_topic() {
    // A: three topics of 100 documents. B: a tenth of A removed, one document rewritten, and
    // a fourth topic of 60 new documents.
    let dim = 16;
    let data = blobs(4, 100, dim, 0.15, 21);
    let in_a = |i: usize| i % 4 != 3;
    let a_rows: Vec<usize> = (0..400).filter(|&i| in_a(i)).collect();
    let a_ids: Vec<String> = a_rows.iter().map(|i| format!("d{i}")).collect();
    let a_data: Vec<f32> = a_rows
        .iter()
        .flat_map(|&i| data[i * dim..(i + 1) * dim].to_vec())
        .collect();
    let a = corpus(a_ids, a_data, dim);
    let b_rows: Vec<usize> = (0..400)
        .filter(|&i| (in_a(i) && i % 10 != 0) || (!in_a(i) && i < 240))
        .collect();
    let b_ids: Vec<String> = b_rows.iter().map(|i| format!("d{i}")).collect();
    let b_data: Vec<f32> = b_rows
        .iter()
        .flat_map(|&i| data[i * dim..(i + 1) * dim].to_vec())
        .collect();
    let mut b = corpus(b_ids, b_data, dim);
    b.texts.as_mut().unwrap()[0] = "document d1, rewritten".into();
    let c = Compare::params().k_range(2, 6).run(&a, &b).unwrap();
    let d = &c.documents;
    // Removed: the multiples of 10 (none in topic 3): 40; added: topic 3's first 60.
    assert_eq!((d.removed, d.added, d.changed), (40, 60, 1));
    assert_eq!(d.unchanged, 300 - 40 - 1);
    assert_eq!(d.changed_examples[0].after, "document d1, rewritten");
    let t = c.topics.as_ref().expect("one space: topics matched");
    assert_eq!((c.clusters.k_a, c.clusters.k_b), (3, 4));
    assert_eq!((t.matched, t.new, t.gone), (3, 1, 0), "{t:?}");
    let new = t
        .topics
        .iter()
        .find(|x| x.b.is_some() && x.a.is_none())
        .unwrap();
    assert_eq!(new.size_b, 60);
    // The matched topics at their true sizes: each blob's rows in A and in B.
    let mut want: Vec<(usize, usize)> = (0..3)
        .map(|blob| {
            let count = |rows: &[usize]| rows.iter().filter(|&&i| i % 4 == blob).count();
            (count(&a_rows), count(&b_rows))
        })
        .collect();
    let mut got: Vec<(usize, usize)> = t
        .topics
        .iter()
        .filter(|x| x.a.is_some())
        .map(|m| (m.size_a, m.size_b))
        .collect();
    want.sort_unstable();
    got.sort_unstable();
    assert_eq!(got, want);
    assert_eq!(want, vec![(100, 80), (100, 80), (100, 100)]);
    assert!(t.topics.iter().filter_map(|m| m.cosine).all(|c| c > 0.99));
    assert!(
        c.notes.iter().any(|n| n.contains("1 new in B, 0 gone")),
        "{:?}",
        c.notes
    );
    // One space (the unchanged documents keep their vectors).
    assert!(c.space.same && c.space.paired_cosine.unwrap() > 0.9999);
    // The corpus moved (a new topic); the matched topics' own documents did not (they are a
    // subset of the same rows).
    let drift = c.drift.as_ref().unwrap();
    assert!(drift.p_value < 0.01 && drift.mmd2 > 0.0, "{drift:?}");
    assert!(c.notes.iter().any(|n| n.contains("The corpus moved")));
    for m in t.topics.iter().filter(|m| m.a.is_some()) {
        assert!(m.centroid_shift.unwrap() < 0.01);
        assert!(m.drift_p.unwrap() > 0.05, "{m:?}");
    }
    // The new topic's documents copy none of A's (each blob point is its own).
    let x = c.cross_duplicates.as_ref().unwrap();
    assert_eq!((x.added, x.searched, x.copies), (60, 60, 0));
    // Two topics lost a fifth of their documents: within the 0.5 limit.
    let loss = c
        .verdict
        .checks
        .iter()
        .find(|x| x.name == "topic_loss")
        .unwrap();
    assert!((loss.value.unwrap() - 0.2).abs() < 1e-9 && c.verdict.pass);
}

#[test]
fn new_documents_that_copy_old_ones_are_found() {
    let dim = 16;
    let data = blobs(3, 50, dim, 0.2, 31);
    let a = corpus(ids(150), data.clone(), dim);
    // B: all of A, plus 10 copies of A's first rows under new ids (a touch of noise) and 5
    // documents of their own.
    let mut b_ids = ids(150);
    let mut b_data = data.clone();
    for i in 0..10 {
        b_ids.push(format!("copy{i}"));
        b_data.extend(
            data[i * dim..(i + 1) * dim]
                .iter()
                .map(|x| x * 1.001 + 0.0001),
        );
    }
    for j in 0..5 {
        b_ids.push(format!("own{j}"));
        b_data.extend((0..dim).map(|d| if d == j { 1.0 } else { -0.3 }));
    }
    let b = corpus(b_ids, b_data, dim);
    let c = Compare::params().k_range(2, 4).run(&a, &b).unwrap();
    let x = c.cross_duplicates.as_ref().unwrap();
    assert_eq!((x.added, x.copies), (15, 10), "{x:?}");
    assert!((x.share - 10.0 / 15.0).abs() < 1e-12);
    assert!(x
        .examples
        .iter()
        .all(|e| e.new.id.starts_with("copy") && e.cosine >= 0.95));
    let first = &x.examples[0];
    assert_eq!(
        first.old.id,
        format!("d{}", first.new.id.trim_start_matches("copy"))
    );
    assert!(c.notes.iter().any(|n| n.contains("10 of 15 new documents")));
}

#[test]
fn an_empty_side_is_refused() {
    let a = corpus(ids(30), blobs(3, 10, 4, 0.1, 1), 4);
    let mut empty = Corpus::from_texts(Vec::<String>::new());
    empty.source = "empty.jsonl".into();
    empty.vectors = None;
    let e = Compare::params().run(&a, &empty).unwrap_err().to_string();
    assert!(e.contains("empty.jsonl: no rows to compare"), "{e}");
}

#[test]
fn two_audited_snapshots_side_by_side_with_linked_maps() {
    use embedscope::report::{render_compare_html, ReportOptions};
    use embedscope::Audit;
    let (a, b) = common::sample_snapshots(20);
    let audit_a = Audit::builder().run(&a).unwrap();
    let audit_b = Audit::builder().run(&b).unwrap();
    let c = Compare::params()
        .run_audited(&a, &b, &audit_a, &audit_b)
        .unwrap();
    assert_eq!(
        (c.overlap.both, c.overlap.a_only, c.overlap.b_only),
        (1000, 500, 520)
    );
    // The partitions are the audits' own.
    assert_eq!(c.clusters.k_a, audit_a.optimal_k.chosen_k);
    assert_eq!(c.clusters.k_b, audit_b.optimal_k.chosen_k);
    assert_eq!(c.clusters.labels_a.len(), c.clusters.k_a);
    // Side by side: every audit section ran, and the labels give a V-measure on both sides.
    let s = c.side_by_side.as_ref().unwrap();
    assert_eq!((s.a.rows, s.b.rows), (1500, 1520));
    assert_eq!(s.metrics.len(), 7);
    assert!(
        s.metrics.iter().all(|m| m.a.is_some() && m.b.is_some()),
        "{s:?}"
    );
    assert!(s.a.v_measure.unwrap() > 0.1 && s.b.v_measure.unwrap() > 0.1);
    assert_eq!(s.a.recall, audit_a.retrieval.as_ref().unwrap().per_nprobe);
    let dup = s
        .metrics
        .iter()
        .find(|m| m.name == "duplicate share")
        .unwrap();
    // B's 20 copies are among its removable duplicates; the better side has the lower share.
    assert!(dup.b.unwrap() * 1520.0 >= 20.0, "{dup:?}");
    let lower = if dup.b < dup.a { "b" } else { "a" };
    assert_eq!(dup.better.as_deref(), Some(lower), "{dup:?}");
    // The maps, linked by id: A's first 500 documents are not in B, B's copies not in A.
    let maps = c.maps.as_ref().unwrap();
    let (ma, mb) = (maps.a.as_ref().unwrap(), maps.b.as_ref().unwrap());
    assert_eq!((ma.x.len(), mb.x.len()), (1500, 1520));
    assert_eq!(ma.other.iter().filter(|&&o| o < 0).count(), 500);
    assert_eq!(mb.other.iter().filter(|&&o| o < 0).count(), 520);
    // A point in both sides carries the other side's cluster of its document.
    let b_row: std::collections::HashMap<&str, usize> = b
        .ids
        .iter()
        .enumerate()
        .map(|(i, id)| (id.as_str(), i))
        .collect();
    let row = audit_a.map.as_ref().unwrap().rows[1200];
    assert_eq!(
        ma.other[1200],
        audit_b.labels[b_row[a.ids[row].as_str()]] as i64
    );
    // The copies are found as new documents copying old ones (with the sample's own near
    // duplicates between its halves, if any).
    let x = c.cross_duplicates.as_ref().unwrap();
    assert_eq!(x.added, 520);
    assert!(x.copies >= 20, "{x:?}");
    // The verdict reads recall and duplicates from the audits.
    let measured: Vec<&str> = c
        .verdict
        .checks
        .iter()
        .filter(|x| x.value.is_some())
        .map(|x| x.name.as_str())
        .collect();
    assert_eq!(
        measured,
        [
            "neighbour_overlap",
            "recall_drop_at_nprobe_3",
            "topic_loss",
            "duplicate_rise"
        ]
    );
    let html = render_compare_html(&c, &ReportOptions::default()).unwrap();
    for id in [
        "sides",
        "maps",
        "neighbours",
        "clusters",
        "topics",
        "drift",
        "documents",
    ] {
        assert!(html.contains(&format!("<section id=\"{id}\">")), "{id}");
    }
    // An audit of another corpus is refused.
    let e = Compare::params()
        .run_audited(&a, &b, &audit_b, &audit_b)
        .unwrap_err()
        .to_string();
    assert!(e.contains("ran on 1520 rows, the corpus has 1500"), "{e}");
}
