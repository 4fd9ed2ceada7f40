"""The stages from Python: scikit-learn's shape, the core's results, parity with the CLI."""
import threading
import time

import numpy as np
import polars as pl
import pytest

import embedscope as es
from conftest import SAMPLE


def test_kmeans_matches_the_command_line(vectors, cli, tmp_path):
    km = es.KMeans(8, random_state=42).fit(vectors)
    code, _, err = cli("cluster", SAMPLE,
                       "--k", 8, "--seed", 42, "--out", tmp_path / "a.parquet")
    assert code == 0, err
    cli_labels = pl.read_parquet(tmp_path / "a.parquet")["cluster"].to_numpy()
    assert np.array_equal(km.labels_, cli_labels)
    assert km.labels_.dtype == np.int64 and km.n_clusters == 8
    assert sorted(km.sizes_, reverse=True) == km.sizes_
    assert np.array_equal(km.predict(vectors), km.labels_)
    assert km.inertia_ > 0 and km.n_iter_ >= 1
    assert np.array_equal(es.KMeans(8, random_state=42).fit_predict(vectors), km.labels_)


def test_parameters_are_checked_before_any_data(blobs):
    with pytest.raises(es.EmbedscopeError, match=r"invalid parameter `k` = 0"):
        es.KMeans(0)
    with pytest.raises(es.EmbedscopeError, match=r"`cluster_selection_method` = \"mean\": expected one of eom, leaf"):
        es.Hdbscan(cluster_selection_method="mean")
    with pytest.raises(es.EmbedscopeError, match="min_dist"):
        es.Umap(min_dist=-1.0)
    with pytest.raises(AttributeError, match="not fitted yet"):
        es.Hdbscan().labels_


def test_ksweep_finds_the_four_groups(blobs):
    sweep = es.KSweep(2, 8).fit(blobs)
    assert sweep.chosen_k_ == 4
    assert [s["k"] for s in sweep.scores_] == list(range(2, 9))
    assert np.bincount(sweep.labels_).tolist() == [100] * 4
    assert "<" in sweep._repr_html_()


def test_umap_then_hdbscan_is_bertopics_route(blobs):
    umap = es.Umap(n_components=5, min_dist=0.0, random_state=3)
    points = umap.fit_transform(blobs)
    assert points.shape == (400, 5) and points.dtype == np.float32
    again = es.Umap(n_components=5, min_dist=0.0, random_state=3).fit_transform(blobs)
    assert np.array_equal(points, again)
    hdb = es.Hdbscan(min_cluster_size=20).fit(points)
    assert hdb.n_clusters_ == 4
    truth = np.repeat(np.arange(4), 100)
    kept = hdb.labels_ >= 0
    assert kept.mean() > 0.9
    # Each found cluster holds one group only.
    for c in range(4):
        assert len(set(truth[hdb.labels_ == c])) == 1
    assert hdb.probabilities_.shape == (400,) and hdb.outlier_scores_.shape == (400,)
    placed = umap.transform(blobs[:10])
    assert placed.shape == (10, 5)


def test_cluster_index_with_every_cell_probed_is_exact(vectors):
    index = es.ClusterIndex(nlist=16).fit(vectors)
    ids, scores = index.search(vectors[:50], k=10, nprobe=16)
    exact_ids, exact_scores = index.exact_search(vectors[:50], k=10)
    assert np.array_equal(ids, exact_ids)
    assert np.allclose(scores, exact_scores)
    assert (ids[:, 0] == np.arange(50)).mean() > 0.9
    assert index.nlist_ == 16 and sum(index.list_sizes_) == len(vectors) == len(index)


def test_duplicates_are_found_and_grouped(vectors, sample):
    X = np.vstack([vectors, vectors[:5]])
    pairs, cos = es.near_duplicates(X, 0.999)
    planted = {(i, 2000 + i) for i in range(5)}
    assert planted <= set(map(tuple, pairs.tolist()))
    assert (cos >= 0.999).all()
    texts = sample["text"].to_list() + sample["text"].to_list()[:5]
    d = es.Dedup(0.999).fit(X, texts)
    assert all(any(set(p) <= set(g) for g in d.groups_) for p in planted)
    assert len(d.kept_) == len(X) - (len(X) - len(d.kept_))
    assert not set(range(2000, 2005)) & set(d.kept_.tolist())


def test_topics_label_clusters_with_ctfidf():
    texts = ["python pandas dataframe", "python numpy array", "pandas numpy python",
             "bread flour yeast", "yeast dough bread", "flour bread oven"]
    topics = es.topics(texts, [0, 0, 0, 1, 1, -1])
    assert [t["size"] for t in topics] == [3, 2]
    assert "python" in topics[0]["label"] and "bread" in topics[1]["label"]
    with pytest.raises(es.EmbedscopeError, match=r"labels\[1\] = -3"):
        es.topics(texts[:2], [0, -3])


def test_long_calls_release_the_gil_and_report_progress(vectors):
    ticks = []
    stop = threading.Event()

    def tick():
        while not stop.is_set():
            ticks.append(time.monotonic())
            time.sleep(0.005)

    seen = []
    t = threading.Thread(target=tick)
    t.start()
    started = time.monotonic()
    es.KSweep(2, 10).fit(vectors, progress=lambda stage, done, total: seen.append((stage, done, total)))
    took = time.monotonic() - started
    stop.set()
    t.join()
    during = [x for x in ticks if started < x < started + took]
    # A thread that needed the GIL kept running while the sweep ran.
    assert len(during) > took / 0.005 * 0.3, (len(during), took)
    stages = {s for s, _, _ in seen}
    assert stages, seen
    assert all(d <= t or t == 0 for _, d, t in seen)


def test_the_local_embedder_matches_the_sample_vectors(sample, vectors):
    texts = sample["text"].to_list()[:8]
    got = es.Embedder(cache=False).embed(texts)
    assert got.shape == (8, 384) and got.dtype == np.float32
    assert (np.sum(got * vectors[:8], axis=1) > 0.9999).all()
    with pytest.raises(es.EmbedscopeError, match="expected local, local-int8, openai or fastembed"):
        es.Embedder("bert")
    with pytest.raises(es.EmbedscopeError, match="/nonexistent/model"):
        es.Embedder(model_dir="/nonexistent/model").embed(["x"])
