//! Half floats kept half (`Embeddings::new_half`, read from `.npy` `<f2` or Parquet half-float
//! lists): every pass over all rows widens a tile or a block at a time, so each stage gives
//! exactly what the same values widened to f32 give: cluster assignment, summaries, the
//! clustered duplicate search, the retrieval index of ids, and the audit as a whole.

mod common;

use embedscope::audit::Sampling;
use embedscope::dedup::{Dedup, DedupMode};
use embedscope::retrieve::{ClusterIndex, RetrievalEval};
use embedscope::{f16, Audit, Corpus, Embeddings};

/// The sample corpus held half, and the same values widened to f32.
fn half_and_wide() -> (Corpus, Corpus) {
    let c = common::sample_head(2000);
    let v = c.vectors.as_ref().unwrap();
    let h: Vec<f16> = v.as_f32().iter().map(|&x| f16::from_f32(x)).collect();
    let half = Embeddings::new_half(h, v.dim()).unwrap();
    let all: Vec<usize> = (0..half.rows()).collect();
    let wide = half.select(&all);
    assert!(half.is_half() && !wide.is_half());
    let mut a = c.clone();
    a.vectors = Some(half);
    let mut b = c;
    b.vectors = Some(wide);
    (a, b)
}

/// A JSON value without what measures time or says how it was held.
fn strip(v: &mut serde_json::Value) {
    match v {
        serde_json::Value::Object(m) => {
            m.retain(|k, _| {
                !(k.contains("seconds")
                    || k.contains("qps")
                    || k == "timings"
                    || k == "float16"
                    || k == "index_copy"
                    || k == "memory")
            });
            m.values_mut().for_each(strip);
        }
        serde_json::Value::Array(a) => a.iter_mut().for_each(strip),
        _ => {}
    }
}

#[test]
fn an_audit_of_half_rows_equals_the_audit_of_their_widened_values() {
    let (half, wide) = half_and_wide();
    let run = |c: &Corpus| {
        Audit::builder()
            .k_range(2, 8)
            .n_init(2)
            .map(false)
            .sampling(Sampling::Rows(600))
            .seed(7)
            .run(c)
            .unwrap()
    };
    let (a, b) = (run(&half), run(&wide));
    assert!(a.corpus.float16 && !b.corpus.float16);
    assert!(a.retrieval.is_some() && a.duplicates.is_some() && a.noise.is_some());
    let (mut ja, mut jb) = (
        serde_json::to_value(&a).unwrap(),
        serde_json::to_value(&b).unwrap(),
    );
    strip(&mut ja);
    strip(&mut jb);
    assert_eq!(
        ja, jb,
        "the audit differs between half rows and their widened values"
    );
}

#[test]
fn the_clustered_duplicate_search_and_the_index_of_ids_read_half_rows_exactly() {
    let (half, wide) = half_and_wide();
    let (h, w) = (half.vectors.unwrap(), wide.vectors.unwrap());
    let dedup = |e: &Embeddings| {
        Dedup::params(0.9)
            .mode(DedupMode::Clustered)
            .nprobe(2)
            .recall_sample(300)
            .run(e, None)
            .unwrap()
    };
    let (dh, dw) = (dedup(&h), dedup(&w));
    assert!(!dw.pairs.is_empty());
    assert_eq!(dh.pairs, dw.pairs);
    assert_eq!(dh.recall, dw.recall);

    // An index of ids over the half rows answers as an index holding a copy of the wide ones.
    let rows: Vec<usize> = (0..h.rows()).filter(|r| r % 10 != 0).collect();
    let queries: Vec<usize> = (0..h.rows()).filter(|r| r % 10 == 0).collect();
    let q = w.select(&queries);
    let params = ClusterIndex::params().nlist(20).seed(3);
    let copy = params.build_rows(&w, &rows).unwrap();
    let ids = params.build_over(&h, &rows).unwrap();
    assert!(copy.holds_rows() && !ids.holds_rows());
    assert_eq!(copy.cells(), ids.cells());
    for nprobe in [1, 4] {
        assert_eq!(
            copy.search_batch(&q, 10, nprobe).unwrap(),
            ids.search_batch(&q, 10, nprobe).unwrap()
        );
    }
    assert_eq!(
        copy.exact_search(&q, 10).unwrap(),
        ids.exact_search(&q, 10).unwrap()
    );
    let skip: Vec<bool> = (0..rows.len()).map(|p| p % 3 == 0).collect();
    assert_eq!(
        copy.exact_search_skipping(&q, 10, &skip).unwrap(),
        ids.exact_search_skipping(&q, 10, &skip).unwrap()
    );
    assert_eq!(
        copy.range_pairs(0.9, 3).unwrap(),
        ids.range_pairs(0.9, 3).unwrap()
    );

    // The retrieval evaluation files ids for half rows and copies f32 ones; same answers.
    let eval = |e: &Embeddings| -> RetrievalEval {
        RetrievalEval::params()
            .nprobes(vec![1, 2, 4])
            .dedup_threshold(Some(0.9))
            .seed(5)
            .fit(e)
            .unwrap()
    };
    let (eh, ew) = (eval(&h), eval(&w));
    assert!(!eh.index_copy && ew.index_copy);
    let (mut jh, mut jw) = (
        serde_json::to_value(&eh).unwrap(),
        serde_json::to_value(&ew).unwrap(),
    );
    strip(&mut jh);
    strip(&mut jw);
    assert_eq!(jh, jw);
}

#[test]
fn half_float_parquet_lists_load_half() {
    use embedscope::io::{load, LoadOptions};
    for name in [
        "debian-500-f16-list.parquet",
        "debian-500-f16-fixed.parquet",
    ] {
        let c = load(
            &common::fixture(&format!("inputs/{name}")),
            &LoadOptions::default(),
        )
        .unwrap_or_else(|e| panic!("{name}: {e}"));
        let v = c.vectors.unwrap();
        assert!(v.is_half(), "{name}");
        assert_eq!((v.rows(), v.dim()), (500, 384), "{name}");
        // The values are those of the float32 sample, to half precision.
        let full = common::sample_head(500).vectors.unwrap();
        for i in [0, 250, 499] {
            let cos: f32 = v
                .row(i)
                .iter()
                .zip(full.row(i).iter())
                .map(|(a, b)| a * b)
                .sum();
            assert!(cos > 0.9999, "{name} row {i}: {cos}");
        }
    }
}
