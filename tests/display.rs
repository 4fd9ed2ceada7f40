//! Every result type shows itself in a notebook: HTML (tables, inline SVG charts), a plotly
//! figure where it has a chart, a polars frame where it is tabular; corpus strings escaped.

use embedscope::display::{Rich, Scatter};
use embedscope::Embeddings;

fn data() -> Embeddings {
    Embeddings::new(
        vec![
            1.0, 0.0, 0.9, 0.1, 0.0, 1.0, 0.1, 0.9, -1.0, 0.1, -0.9, 0.0, 1.0, 0.001,
        ],
        2,
    )
    .unwrap()
}

#[test]
fn every_result_renders_html_and_frames() {
    let d = data();
    assert!(d.to_html().contains("dimensions: <b>2</b>"));
    let km = embedscope::cluster::KMeans::params(3)
        .n_init(2)
        .fit(&d)
        .unwrap();
    assert!(km.to_html().contains("<table"));
    assert_eq!(km.to_frame().unwrap().shape(), (7, 2));
    let sweep = embedscope::cluster::KSweep::params()
        .k_min(2)
        .k_max(4)
        .fit(&d)
        .unwrap();
    let h = sweep.to_html();
    assert_eq!(h.matches("<svg").count(), 2);
    assert!(h.contains("◀"));
    assert_eq!(sweep.to_frame().unwrap().shape(), (3, 5));
    assert_eq!(
        sweep.to_plotly().unwrap()["data"][0]["x"]
            .as_array()
            .unwrap()
            .len(),
        3
    );
    let scan = embedscope::dedup::scan(&d, 0.99).unwrap();
    let np = scan.pairs.len();
    assert!(np >= 2 && scan.to_html().contains(&format!("pairs: <b>{np}</b>")));
    assert_eq!(scan.to_frame().unwrap().shape(), (np, 3));
    let hd = embedscope::cluster::Hdbscan::params()
        .min_cluster_size(2)
        .fit(&d)
        .unwrap();
    assert!(hd.to_html().contains("HDBSCAN"));
    assert_eq!(hd.to_frame().unwrap().shape(), (7, 4));
    let index = embedscope::retrieve::ClusterIndex::params()
        .nlist(2)
        .build(&d)
        .unwrap();
    assert!(index.to_html().contains("cells: <b>2</b>"));
    let pca = embedscope::project::Pca::params(2).fit(&d).unwrap();
    assert!(pca.to_html().contains("explained variance"));
    let ag = embedscope::cluster::Agglomerative::params(2)
        .fit(&d)
        .unwrap();
    assert_eq!(ag.to_frame().unwrap().shape(), (7, 2));
}

#[test]
fn topics_and_scatter_escape_corpus_strings() {
    let texts = [
        "<b>rust</b> compiler",
        "rust cargo",
        "python <script>",
        "python numpy",
    ]
    .map(String::from);
    let t = embedscope::label::topics(
        &texts,
        &[Some(0), Some(0), Some(1), Some(1)],
        2,
        &Default::default(),
    )
    .unwrap();
    let h = t.to_html();
    assert!(h.contains("rust") && !h.contains("<script>"));
    assert_eq!(t.to_frame().unwrap().width(), 4);
    let s = Scatter {
        title: "<i>map</i>".into(),
        points: vec![[0.0, 0.0], [1.0, 1.0]],
        groups: vec![0, 1],
        names: vec!["a".into(), "<b>".into()],
        hover: vec!["x".into(), "</script>".into()],
    };
    let h = s.to_html();
    assert!(!h.contains("<i>map") && !h.contains("<b>") && h.contains("&lt;b&gt;"));
    assert_eq!(
        s.to_plotly().unwrap()["data"][1]["text"][0],
        "&lt;/script&gt;"
    );
}
