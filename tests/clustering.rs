//! Clustering against scikit-learn's numbers on the sample corpus, and invariants.

use std::path::Path;

use embedscope::cluster::metrics::{calinski_harabasz, davies_bouldin, silhouette_many};
use embedscope::cluster::{label_agreement, KMeans, KSweepParams};
use embedscope::io::{load, LoadOptions};
use embedscope::Embeddings;
use proptest::prelude::*;

fn sample() -> Embeddings {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("samples/debian-2k.parquet");
    load(&path, &LoadOptions::default())
        .unwrap()
        .vectors
        .unwrap()
}

/// scikit-learn's silhouette_score, calinski_harabasz_score and davies_bouldin_score on the
/// sample's vectors with fixed labelings (k = 10 and 58), computed once with scikit-learn 1.9.1.
fn reference() -> serde_json::Value {
    let path =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/sklearn-scores-debian2k.json");
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

#[test]
fn internal_scores_match_scikit_learn() {
    let data = sample();
    let r = reference();
    let cases: Vec<(Vec<usize>, &serde_json::Value)> = ["10", "58"]
        .iter()
        .map(|k| {
            let labels = r[k]["labels"]
                .as_array()
                .unwrap()
                .iter()
                .map(|v| v.as_u64().unwrap() as usize)
                .collect();
            (labels, &r[k])
        })
        .collect();
    let refs: Vec<&[usize]> = cases.iter().map(|(l, _)| l.as_slice()).collect();
    let sil = silhouette_many(&data, &refs);
    for ((labels, want), s) in cases.iter().zip(sil) {
        let w = want["silhouette"].as_f64().unwrap();
        assert!((s - w).abs() < 1e-4, "silhouette {s} vs scikit-learn {w}");
        let ch = calinski_harabasz(&data, labels);
        let w = want["calinski_harabasz"].as_f64().unwrap();
        assert!((ch - w).abs() < 1e-4 * w, "CH {ch} vs {w}");
        let db = davies_bouldin(&data, labels);
        let w = want["davies_bouldin"].as_f64().unwrap();
        assert!((db - w).abs() < 1e-4 * w, "DB {db} vs {w}");
    }
}

#[test]
fn kmeans_inertia_within_a_thousandth_of_scikit_learn() {
    // scikit-learn 1.9.1 KMeans(n_clusters=58, n_init=10, random_state=42) on the same vectors:
    // inertia 1240.961 (../shared/peers results, debian-2k).
    let m = KMeans::params(58)
        .n_init(10)
        .seed(42)
        .fit(&sample())
        .unwrap();
    assert!(m.inertia() <= 1240.961 * 1.001, "inertia {}", m.inertia());
    assert_eq!(m.sizes().iter().sum::<usize>(), 2000);
    assert!(
        m.sizes().windows(2).all(|w| w[0] >= w[1]),
        "cluster ids ordered by size"
    );
}

#[test]
fn sweep_reports_weak_structure_on_sentence_embeddings() {
    let sweep = KSweepParams::default()
        .k_min(2)
        .k_max(5)
        .n_init(3)
        .fit(&sample(), &|_| {})
        .unwrap();
    assert_eq!(
        sweep.per_k.iter().map(|s| s.k).collect::<Vec<_>>(),
        [2, 3, 4, 5]
    );
    assert!(
        sweep.weak_structure(),
        "silhouettes on raw MiniLM vectors are ~0.02"
    );
    assert!(
        sweep.per_k.windows(2).all(|w| w[0].inertia > w[1].inertia),
        "inertia falls with k"
    );
}

/// `groups` tight, well separated blobs of `per` rows each in 4-d, rows in the given order.
fn blobs(groups: usize, per: usize, order: &[usize]) -> (Embeddings, Vec<usize>) {
    let mut rows = Vec::new();
    for g in 0..groups {
        for j in 0..per {
            let mut v = vec![0.0f32; 4 * groups];
            v[g] = 1.0;
            v[groups + (j % (3 * groups))] = 0.05;
            rows.push((v, g));
        }
    }
    let mut data = Vec::new();
    let mut truth = Vec::new();
    for &i in order {
        data.extend_from_slice(&rows[i].0);
        truth.push(rows[i].1);
    }
    (Embeddings::new(data, 4 * groups).unwrap(), truth)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    #[test]
    fn one_label_per_row_and_permutation_only_renames(groups in 2usize..5, per in 3usize..12, seed in 0u64..1000) {
        let n = groups * per;
        let identity: Vec<usize> = (0..n).collect();
        let mut perm = identity.clone();
        embedscope::rng::Rng::new(seed, 7).sample(n, n).iter().enumerate().for_each(|(i, &j)| perm[i] = j);
        let (a, truth_a) = blobs(groups, per, &identity);
        let (b, truth_b) = blobs(groups, per, &perm);
        let ma = KMeans::params(groups).seed(seed).fit(&a).unwrap();
        let mb = KMeans::params(groups).seed(seed).fit(&b).unwrap();
        prop_assert_eq!(ma.labels().len(), n);
        prop_assert!(ma.labels().iter().all(|&l| l < groups));
        prop_assert!((label_agreement(&truth_a, ma.labels()).ari - 1.0).abs() < 1e-12);
        prop_assert!((label_agreement(&truth_b, mb.labels()).ari - 1.0).abs() < 1e-12);
        let again = KMeans::params(groups).seed(seed).fit(&a).unwrap();
        prop_assert_eq!(ma.labels(), again.labels());
    }

    #[test]
    fn nan_is_rejected(row in 0usize..5, col in 0usize..3) {
        let mut v = vec![1.0f32; 15];
        v[row * 3 + col] = f32::NAN;
        prop_assert!(Embeddings::new(v, 3).is_err());
    }
}

#[test]
fn agglomerative_agrees_with_scikit_learn() {
    use embedscope::cluster::{Agglomerative, Linkage};
    // scikit-learn 1.9.1 AgglomerativeClustering(n_clusters=58, linkage=..., metric="euclidean")
    // on the sample's vectors.
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/sklearn-agglomerative-debian2k-k58.json");
    let want: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let data = sample();
    for (name, linkage, bar) in [
        ("ward", Linkage::Ward, 0.99),
        ("average", Linkage::Average, 0.99),
        ("complete", Linkage::Complete, 0.99),
        ("single", Linkage::Single, 0.99),
    ] {
        let reference: Vec<u64> = want[name]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_u64().unwrap())
            .collect();
        let m = Agglomerative::params(58)
            .linkage(linkage)
            .fit(&data)
            .unwrap();
        assert_eq!(m.n_clusters(), 58);
        let ari = label_agreement(&reference, m.labels()).ari;
        assert!(ari >= bar, "{name}: ARI {ari} against scikit-learn");
    }
}
