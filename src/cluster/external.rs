//! Agreement of a clustering with reference labels (for example Debian's sections): adjusted
//! Rand index, normalised mutual information, V-measure, homogeneity, completeness, with
//! scikit-learn's definitions (NMI with the arithmetic mean, which equals the V-measure).

use std::collections::{BTreeMap, HashMap};
use std::hash::Hash;

use serde::Serialize;

/// Scores of a predicted labeling against reference labels.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct LabelAgreement {
    /// Adjusted Rand index: 1 for identical partitions, ~0 for chance.
    pub ari: f64,
    /// Normalised mutual information (arithmetic mean of the entropies).
    pub nmi: f64,
    /// V-measure: harmonic mean of homogeneity and completeness.
    pub v_measure: f64,
    /// Each cluster holds members of one reference class only.
    pub homogeneity: f64,
    /// All members of a reference class are in one cluster.
    pub completeness: f64,
}

/// Compares `predicted` with `reference` (same length). Noise (`None`) counts as one more
/// cluster, as scikit-learn does with label -1.
pub fn label_agreement<R: Eq + Hash, P: Eq + Hash>(
    reference: &[R],
    predicted: &[P],
) -> LabelAgreement {
    assert_eq!(
        reference.len(),
        predicted.len(),
        "label_agreement: lengths differ"
    );
    let n = reference.len() as f64;
    let mut ref_ids: HashMap<&R, usize> = HashMap::new();
    let mut pred_ids: HashMap<&P, usize> = HashMap::new();
    // Ordered, so the sums below add in the same order every run (a HashMap's order changes
    // from run to run, and with it the last bits of the scores).
    let mut cells: BTreeMap<(usize, usize), usize> = BTreeMap::new();
    for (r, p) in reference.iter().zip(predicted) {
        let nr = ref_ids.len();
        let r = *ref_ids.entry(r).or_insert(nr);
        let np = pred_ids.len();
        let p = *pred_ids.entry(p).or_insert(np);
        *cells.entry((r, p)).or_insert(0) += 1;
    }
    let mut a = vec![0usize; ref_ids.len()];
    let mut b = vec![0usize; pred_ids.len()];
    for (&(r, p), &c) in &cells {
        a[r] += c;
        b[p] += c;
    }
    let comb2 = |x: usize| (x as f64) * (x as f64 - 1.0) / 2.0;
    let index: f64 = cells.values().map(|&c| comb2(c)).sum();
    let sum_a: f64 = a.iter().map(|&x| comb2(x)).sum();
    let sum_b: f64 = b.iter().map(|&x| comb2(x)).sum();
    let total = comb2(reference.len());
    let expected = if total > 0.0 {
        sum_a * sum_b / total
    } else {
        0.0
    };
    let max_index = 0.5 * (sum_a + sum_b);
    let ari = if (max_index - expected).abs() < f64::EPSILON {
        1.0
    } else {
        (index - expected) / (max_index - expected)
    };
    let entropy = |counts: &[usize]| -> f64 {
        counts
            .iter()
            .filter(|&&c| c > 0)
            .map(|&c| {
                let p = c as f64 / n;
                -p * p.ln()
            })
            .sum()
    };
    let (h_ref, h_pred) = (entropy(&a), entropy(&b));
    let mi: f64 = cells
        .iter()
        .map(|(&(r, p), &c)| {
            let c = c as f64;
            (c / n) * ((c * n) / (a[r] as f64 * b[p] as f64)).ln()
        })
        .sum::<f64>()
        .max(0.0);
    let homogeneity = if h_ref == 0.0 { 1.0 } else { mi / h_ref };
    let completeness = if h_pred == 0.0 { 1.0 } else { mi / h_pred };
    let v_measure = if homogeneity + completeness == 0.0 {
        0.0
    } else {
        2.0 * homogeneity * completeness / (homogeneity + completeness)
    };
    let nmi = if h_ref == 0.0 && h_pred == 0.0 {
        1.0
    } else {
        mi / (0.5 * (h_ref + h_pred)).max(f64::MIN_POSITIVE)
    };
    LabelAgreement {
        ari,
        nmi,
        v_measure,
        homogeneity,
        completeness,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identical_partitions_score_one_whatever_the_names() {
        let s = label_agreement(&["a", "a", "b", "b", "c"], &[2, 2, 0, 0, 1]);
        for v in [s.ari, s.nmi, s.v_measure, s.homogeneity, s.completeness] {
            assert!((v - 1.0).abs() < 1e-12, "{s:?}");
        }
    }

    #[test]
    fn matches_scikit_learn_on_a_small_case() {
        // sklearn.metrics on ([0,0,0,1,1,1], [0,0,1,1,2,2]):
        // adjusted_rand_score 0.24242424, homogeneity 0.66666667, completeness 0.42061983,
        // v_measure 0.51580374, normalized_mutual_info_score 0.51580374.
        let s = label_agreement(&[0, 0, 0, 1, 1, 1], &[0, 0, 1, 1, 2, 2]);
        assert!((s.ari - 0.242_424_24).abs() < 1e-7, "{s:?}");
        assert!((s.homogeneity - 0.666_666_67).abs() < 1e-7);
        assert!((s.completeness - 0.420_619_83).abs() < 1e-7);
        assert!((s.v_measure - 0.515_803_74).abs() < 1e-7);
        assert!((s.nmi - s.v_measure).abs() < 1e-12);
    }

    #[test]
    fn the_same_labels_give_the_same_bits_every_time() {
        // 2,000 rows in 40 x 30 cells: enough terms for a changed summation order to show.
        let reference: Vec<usize> = (0..2000).map(|i| (i * 7919) % 40).collect();
        let predicted: Vec<usize> = (0..2000).map(|i| (i * 104_729 + i / 3) % 30).collect();
        let first = label_agreement(&reference, &predicted);
        for _ in 0..20 {
            let again = label_agreement(&reference, &predicted);
            for (a, b) in [
                (first.ari, again.ari),
                (first.nmi, again.nmi),
                (first.homogeneity, again.homogeneity),
                (first.completeness, again.completeness),
            ] {
                assert_eq!(a.to_bits(), b.to_bits(), "{first:?} vs {again:?}");
            }
        }
    }
}
