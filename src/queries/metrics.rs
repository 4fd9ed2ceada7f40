//! Ranking metrics against judgements: recall@k, MRR@k and nDCG@10 with binary relevance, as
//! the textbooks (Manning, Raghavan and Schütze, ch. 8) and `pytrec_eval` define them.

use std::collections::{HashMap, HashSet};

use serde::Serialize;

/// recall@k, MRR@k and nDCG@10 averaged over the judged queries.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct RankMetrics {
    /// Mean share of each query's relevant documents in its top k.
    pub recall_at_k: f64,
    /// Mean reciprocal rank of the first relevant document in the top k (0 when none).
    pub mrr: f64,
    /// Mean nDCG of the top 10 (binary gains, log2 discount).
    pub ndcg_at_10: f64,
}

/// IVF at one nprobe against the judgements.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct ProbeMetrics {
    /// Cells probed.
    pub nprobe: usize,
    /// Its metrics.
    pub metrics: RankMetrics,
}

/// Retrieval against the judgements.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct Judged {
    /// Queries with at least one relevant id found in the corpus.
    pub queries: usize,
    /// Relevant ids named that the corpus does not hold (left out).
    pub missing_ids: usize,
    /// Exact search.
    pub exact: RankMetrics,
    /// Cluster retrieval at each nprobe.
    pub ivf: Vec<ProbeMetrics>,
}

/// One ranking's recall@k, reciprocal rank and nDCG@10 against the relevant rows.
pub fn rank_metrics(ranked: &[usize], relevant: &HashSet<usize>, k: usize) -> RankMetrics {
    let top = &ranked[..ranked.len().min(k)];
    let hits = top.iter().filter(|r| relevant.contains(r)).count();
    let rr = top
        .iter()
        .position(|r| relevant.contains(r))
        .map_or(0.0, |p| 1.0 / (p + 1) as f64);
    let dcg: f64 = ranked
        .iter()
        .take(10)
        .enumerate()
        .filter(|(_, r)| relevant.contains(r))
        .map(|(i, _)| 1.0 / ((i + 2) as f64).log2())
        .sum();
    let ideal: f64 = (0..relevant.len().min(10))
        .map(|i| 1.0 / ((i + 2) as f64).log2())
        .sum();
    RankMetrics {
        recall_at_k: if relevant.is_empty() {
            0.0
        } else {
            hits as f64 / relevant.len() as f64
        },
        mrr: rr,
        ndcg_at_10: if ideal > 0.0 { dcg / ideal } else { 0.0 },
    }
}

fn mean(all: &[RankMetrics]) -> RankMetrics {
    let n = all.len().max(1) as f64;
    RankMetrics {
        recall_at_k: all.iter().map(|m| m.recall_at_k).sum::<f64>() / n,
        mrr: all.iter().map(|m| m.mrr).sum::<f64>() / n,
        ndcg_at_10: all.iter().map(|m| m.ndcg_at_10).sum::<f64>() / n,
    }
}

/// Exact search (`exact[q]`: ranked rows) and IVF at each nprobe against `relevant[q]` (ids),
/// over the queries with at least one relevant id the corpus holds.
pub fn judge(
    relevant: &[Vec<String>],
    id_row: &HashMap<&str, usize>,
    exact: &[Vec<usize>],
    ivf: &[(usize, Vec<Vec<usize>>)],
    k: usize,
) -> Judged {
    let mut missing = 0;
    let sets: Vec<Option<HashSet<usize>>> = relevant
        .iter()
        .map(|ids| {
            let set: HashSet<usize> = ids
                .iter()
                .filter_map(|id| {
                    let r = id_row.get(id.as_str()).copied();
                    if r.is_none() {
                        missing += 1;
                    }
                    r
                })
                .collect();
            (!set.is_empty()).then_some(set)
        })
        .collect();
    let score = |lists: &[Vec<usize>]| {
        let all: Vec<RankMetrics> = sets
            .iter()
            .zip(lists)
            .filter_map(|(s, l)| s.as_ref().map(|s| rank_metrics(l, s, k)))
            .collect();
        mean(&all)
    };
    Judged {
        queries: sets.iter().filter(|s| s.is_some()).count(),
        missing_ids: missing,
        exact: score(exact),
        ivf: ivf
            .iter()
            .map(|(p, lists)| ProbeMetrics {
                nprobe: *p,
                metrics: score(lists),
            })
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn textbook_values() {
        // Relevant {2, 5}; ranking 1, 2, 3, 5, 4: first hit at rank 2, both in the top 5.
        let rel: HashSet<usize> = [2, 5].into_iter().collect();
        let m = rank_metrics(&[1, 2, 3, 5, 4], &rel, 5);
        assert_eq!(m.recall_at_k, 1.0);
        assert_eq!(m.mrr, 0.5);
        // DCG = 1/log2(3) + 1/log2(5); IDCG = 1 + 1/log2(3).
        let want = (1.0 / 3f64.log2() + 1.0 / 5f64.log2()) / (1.0 + 1.0 / 3f64.log2());
        assert!((m.ndcg_at_10 - want).abs() < 1e-12);
        assert!(
            (m.ndcg_at_10 - 0.650_921_0).abs() < 1e-6,
            "{}",
            m.ndcg_at_10
        );
        // At k = 3 only one of the two is found.
        assert_eq!(rank_metrics(&[1, 2, 3, 5, 4], &rel, 3).recall_at_k, 0.5);
        // Nothing relevant retrieved: all zero.
        let none = rank_metrics(&[7, 8], &rel, 2);
        assert_eq!(
            (none.recall_at_k, none.mrr, none.ndcg_at_10),
            (0.0, 0.0, 0.0)
        );
    }

    #[test]
    fn judge_skips_unknown_ids_and_unjudged_queries() {
        let id_row: HashMap<&str, usize> = [("a", 0), ("b", 1), ("c", 2)].into_iter().collect();
        let relevant = vec![
            vec!["a".to_string(), "zz".into()],
            vec![],
            vec!["c".to_string()],
        ];
        let exact = vec![vec![0, 1], vec![1, 2], vec![1, 2]];
        let j = judge(&relevant, &id_row, &exact, &[(1, exact.clone())], 2);
        assert_eq!((j.queries, j.missing_ids), (2, 1));
        // Query 0: hit at rank 1; query 2: hit at rank 2.
        assert!((j.exact.mrr - 0.75).abs() < 1e-12);
        assert_eq!(j.exact.recall_at_k, 1.0);
        assert_eq!(j.ivf[0].metrics, j.exact);
    }
}
