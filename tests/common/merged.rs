//! What a cluster's workers would hand [`Audit::merge`], computed here on one machine from the
//! whole corpus: cluster sizes by the sample's centroids, every pair at 0.90 (exact search),
//! equal-text groups, and sampled queries' exact and probed lists.

use std::collections::HashMap;

use embedscope::audit::{
    IdPair, WorkerDuplicates, WorkerHit, WorkerQuery, WorkerResults, WorkerRetrieval,
};
use embedscope::dedup::{exact_duplicates, near_duplicates, TextNorm};
use embedscope::retrieve::ClusterIndex;
use embedscope::{Audit, Corpus};

/// The nprobe values the queries are searched at (the last: every cell).
pub const NPROBES: [usize; 4] = [1, 2, 3, 16];
/// Results per query.
pub const TOP_K: usize = 10;

/// The sample audit: the K sweep and summaries on `rows` of `corpus`, no duplicates or
/// retrieval (what `embedscope.ray` runs on its driver), and the sample's corpus.
pub fn sample_audit(corpus: &Corpus, rows: &[usize]) -> (Audit, Corpus) {
    let mut sample = Corpus::from_texts(
        rows.iter()
            .map(|&r| corpus.texts.as_ref().unwrap()[r].clone()),
    );
    sample.ids = rows.iter().map(|&r| corpus.ids[r].clone()).collect();
    sample.vectors = Some(corpus.vectors.as_ref().unwrap().select(rows));
    sample.source = "sample".into();
    let audit = base()
        .duplicates(false)
        .retrieval(false)
        .run(&sample)
        .unwrap();
    (audit, sample)
}

/// The audit settings both sides use.
pub fn base<'a>() -> embedscope::audit::AuditBuilder<'a> {
    Audit::builder()
        .k_range(2, 6)
        .n_init(2)
        .map(false)
        .noise(false)
        .stability(None)
        .health(None)
}

/// What the workers find over every row of `corpus` for `sample` (its centroids), with
/// `queries` rows searched.
pub fn worker_results(corpus: &Corpus, sample: &Audit, queries: &[usize]) -> WorkerResults {
    let v = corpus.vectors.as_ref().unwrap();
    let texts = corpus.texts.as_ref().unwrap();
    let ids = &corpus.ids;
    let (labels, _) = embedscope::cluster::nearest_centroids(v, &sample.centroids).unwrap();
    let k = sample.clusters.len();
    let mut sizes = vec![0; k];
    for &l in &labels {
        sizes[l] += 1;
    }
    let norm = TextNorm::default();
    let pairs = near_duplicates(v, 0.90)
        .unwrap()
        .iter()
        .map(|p| IdPair {
            id_a: ids[p.row_a].clone(),
            id_b: ids[p.row_b].clone(),
            cosine: p.cosine,
            same_text: norm.apply(&texts[p.row_a]) == norm.apply(&texts[p.row_b]),
        })
        .collect();
    let exact = exact_duplicates(texts, &norm)
        .iter()
        .map(|g| g.iter().map(|&r| ids[r].clone()).collect())
        .collect();
    let texts_by_id: HashMap<String, String> =
        ids.iter().cloned().zip(texts.iter().cloned()).collect();
    let index = ClusterIndex::params().nlist(16).seed(1).build(v).unwrap();
    let q = v.select(queries);
    let exact_lists = index.exact_search(&q, TOP_K + 1).unwrap();
    let probes = index.probes(&q, 16);
    let probed: Vec<Vec<Vec<String>>> = NPROBES
        .iter()
        .map(|&p| {
            index
                .search_batch(&q, TOP_K + 1, p)
                .unwrap()
                .iter()
                .map(|l| l.iter().map(|h| ids[h.row].clone()).collect())
                .collect()
        })
        .collect();
    let queries = queries
        .iter()
        .enumerate()
        .map(|(qi, &row)| WorkerQuery {
            id: ids[row].clone(),
            probes: probes[qi].iter().map(|&c| c as usize).collect(),
            exact: exact_lists[qi]
                .iter()
                .map(|h| WorkerHit {
                    id: ids[h.row].clone(),
                    score: h.score,
                    cluster: labels[h.row],
                })
                .collect(),
            probed: probed.iter().map(|per| per[qi].clone()).collect(),
        })
        .collect();
    let mut results = WorkerResults {
        engine: "ray".into(),
        source: "shards/".into(),
        rows: corpus.len(),
        sample_rule: "the rows with the smallest xxh3(id, seed)".into(),
        workers: "1 node, 2 CPUs".into(),
        cluster_sizes: sizes,
        duplicates: Some(WorkerDuplicates {
            searched_at: 0.90,
            nlist: 16,
            nprobe: 3,
            pairs,
            exact_groups: Some(exact),
            texts: HashMap::new(),
        }),
        retrieval: Some(WorkerRetrieval {
            top_k: TOP_K,
            nlist: 16,
            nprobes: NPROBES.to_vec(),
            cell_sizes: index.list_sizes(),
            queries,
        }),
        timings: vec![("near duplicates".into(), 1.5)],
    };
    // The caller fetches only the texts the section shows.
    let shown = results.shown_ids(sample.params.dedup_threshold);
    let d = results.duplicates.as_mut().unwrap();
    d.texts = shown
        .into_iter()
        .map(|id| (id.clone(), texts_by_id[&id].clone()))
        .collect();
    results
}
