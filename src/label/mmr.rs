//! Maximal marginal relevance (Carbonell & Goldstein 1998), as BERTopic's
//! `MaximalMarginalRelevance` applies it to topic words: embed the candidate keywords and the
//! topic (the candidates joined into one text), then pick words one at a time by
//! `(1 - diversity)·sim(word, topic) - diversity·max sim(word, picked)`, so near-synonyms
//! ("font", "fonts") do not crowd the list.

use super::keywords::Keyword;
use crate::embed::Embedder;
use crate::error::{Error, Result};

/// Re-ranks `candidates` (best first, as [`super::keywords`] returns them) into `top_n`
/// diverse keywords with `embedder`. `diversity` is in `[0, 1]` (BERTopic's default 0.1; 0
/// keeps the order of similarity to the topic, 1 only avoids similarity to the picked words).
pub fn mmr(
    candidates: &[Keyword],
    embedder: &dyn Embedder,
    top_n: usize,
    diversity: f64,
) -> Result<Vec<Keyword>> {
    if !(0.0..=1.0).contains(&diversity) {
        return Err(Error::param("diversity", diversity, "must be in [0, 1]"));
    }
    if candidates.is_empty() || top_n == 0 {
        return Ok(Vec::new());
    }
    let d = embedder.dim();
    let topic_text = candidates
        .iter()
        .map(|k| k.term.as_str())
        .collect::<Vec<_>>()
        .join(" ");
    let mut texts: Vec<&str> = candidates.iter().map(|k| k.term.as_str()).collect();
    texts.push(&topic_text);
    let mut v = embedder.embed(&texts, &crate::progress::Silent)?;
    for row in v.chunks_mut(d) {
        crate::linalg::normalise(row);
    }
    let n = candidates.len();
    let cos = |a: usize, b: usize| -> f64 {
        v[a * d..(a + 1) * d]
            .iter()
            .zip(&v[b * d..(b + 1) * d])
            .map(|(x, y)| (x * y) as f64)
            .sum()
    };
    let to_topic: Vec<f64> = (0..n).map(|i| cos(i, n)).collect();
    let mut picked: Vec<usize> = Vec::new();
    let mut left: Vec<usize> = (0..n).collect();
    while picked.len() < top_n.min(n) {
        let best = left
            .iter()
            .copied()
            .map(|c| {
                let redundancy = picked.iter().map(|&p| cos(c, p)).fold(f64::MIN, f64::max);
                let redundancy = if picked.is_empty() { 0.0 } else { redundancy };
                ((1.0 - diversity) * to_topic[c] - diversity * redundancy, c)
            })
            // Ties go to the better-ranked candidate.
            .max_by(|a, b| a.0.total_cmp(&b.0).then(b.1.cmp(&a.1)))
            .map(|(_, c)| c)
            .expect("candidates left");
        picked.push(best);
        left.retain(|&c| c != best);
    }
    Ok(picked.into_iter().map(|i| candidates[i].clone()).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Words as fixed vectors: "font" and "fonts" nearly the same direction.
    struct Toy;
    impl Embedder for Toy {
        fn model_id(&self) -> &str {
            "toy"
        }
        fn dim(&self) -> usize {
            3
        }
        fn embed(&self, texts: &[&str], _: &dyn crate::progress::Progress) -> Result<Vec<f32>> {
            Ok(texts
                .iter()
                .flat_map(|t| match *t {
                    "font" => [1.0, 0.0, 0.0],
                    "fonts" => [0.99, 0.1, 0.0],
                    "truetype" => [0.5, 0.8, 0.0],
                    _ => [0.8, 0.5, 0.2],
                })
                .collect())
        }
    }

    #[test]
    fn diversity_pushes_near_duplicates_down() {
        let c: Vec<Keyword> = ["font", "fonts", "truetype"]
            .iter()
            .map(|t| Keyword {
                term: t.to_string(),
                weight: 1.0,
            })
            .collect();
        let plain = mmr(&c, &Toy, 2, 0.0).unwrap();
        let diverse = mmr(&c, &Toy, 2, 0.7).unwrap();
        assert_eq!(plain.len(), 2);
        assert!(diverse.iter().any(|k| k.term == "truetype"), "{diverse:?}");
        assert!(
            !(diverse.iter().any(|k| k.term == "font")
                && diverse.iter().any(|k| k.term == "fonts"))
        );
        assert_eq!(
            crate::error::Error::rule(mmr(&c, &Toy, 2, 1.5)),
            "diversity"
        );
    }
}
