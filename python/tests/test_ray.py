"""The audit on a real local Ray cluster (two worker CPUs on this machine, started and stopped
by the fixture): the same answers as the single-process core, and a worker killed mid-run
changes nothing."""
import logging
import os

import numpy as np
import polars as pl
import pytest

import embedscope as es
from conftest import SAMPLE

ray = pytest.importorskip("ray")
er = pytest.importorskip("embedscope.ray")


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    fault = tmp_path_factory.mktemp("fault")
    # On loopback only: nothing of the test cluster listens on the machine's other addresses.
    ray.init(num_cpus=2, include_dashboard=False, object_store_memory=400 * 2**20,
             _node_ip_address="127.0.0.1",
             log_to_driver=False, logging_level=logging.WARNING,
             runtime_env={"env_vars": {er.FAULT_DIR: str(fault)}})
    ctx = ray.data.DataContext.get_current()
    ctx.enable_progress_bars = False
    logging.getLogger("ray.data").setLevel(logging.WARNING)
    yield fault
    ray.shutdown()


@pytest.fixture(scope="module")
def shards(sample, tmp_path_factory):
    """The sample corpus as four Parquet shards, rows shuffled across them."""
    folder = tmp_path_factory.mktemp("shards")
    order = np.random.default_rng(5).permutation(len(sample))
    shuffled = sample[order.tolist()]
    for i in range(4):
        shuffled[i * 500:(i + 1) * 500].write_parquet(folder / f"part-{i}.parquet")
    return folder


@pytest.fixture(scope="module")
def full(cluster, shards):
    """The Ray audit with the sample holding every row, so the single-process stages see
    what the single-process audit sees."""
    return er.audit(str(shards), sample=2000, queries=300, stability_runs=0, timings=False)


def test_a_missing_column_is_named_as_the_command_line_names_it(cluster, shards, sample, cli, tmp_path):
    with pytest.raises(es.EmbedscopeError) as ray_error:
        er.audit(str(shards), vector_column="vec")
    code, _, stderr = cli("audit", SAMPLE, "--vector-column", "vec", "--out", tmp_path / "x.html")
    words = "no column `vec` (columns present: id, package, section, text, embedding)"
    assert code == 2 and words in stderr
    assert str(ray_error.value) == f"{shards}: {words}"
    no_ids = ray.data.from_arrow(sample.drop("id").to_arrow())
    with pytest.raises(es.EmbedscopeError, match=r"^<Dataset>: no id column"):
        er.audit(no_ids)


def test_every_row_gets_the_assignment_of_the_same_centroids(full, sample, vectors):
    rows = full.assignments().to_pandas().set_index("id").loc[[str(i) for i in sample["id"]]]
    labels, _ = es._native.assign(vectors, full.centroids)
    assert np.array_equal(rows["cluster"].to_numpy(), labels)
    # Cosines to the clusters' mean directions over every row, as the audit computes them.
    unit = vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
    sums = np.zeros((full.centroids.shape[0], unit.shape[1]))
    np.add.at(sums, labels, unit.astype(np.float64))
    directions = sums / np.linalg.norm(sums, axis=1, keepdims=True)
    want = np.einsum("ij,ij->i", unit.astype(np.float64), directions[labels])
    assert np.abs(rows["centroid_cosine"].to_numpy() - want).max() < 1e-5
    assert full.summary["clusters"]["sizes"] == np.bincount(labels).tolist()


def test_the_pairs_are_the_core_clustered_searchs_pair_for_pair(full, sample, vectors):
    ids = [str(i) for i in sample["id"]]
    nprobe = full.summary["duplicates"]["nprobe"]
    index = es.ClusterIndex().fit(vectors, centroids=full.cells)
    # Pairs are searched down to 0.90, the lowest threshold the section counts.
    rows, cos = index.range_pairs(0.90, nprobe)
    core = {tuple(sorted((ids[a], ids[b]))) for a, b in rows.tolist()}
    found = {(a, b) for a, b, _ in full.pairs}
    assert found == core
    got = {(a, b): c for a, b, c in full.pairs}
    for (a, b), c in zip(rows.tolist(), cos):
        assert abs(got[tuple(sorted((ids[a], ids[b])))] - c) < 1e-6


def test_every_cell_probed_finds_every_pair_and_the_single_process_duplicates(cluster, shards, sample, vectors):
    nlist = 8
    result = er.audit(str(shards), sample=2000, nlist=nlist, dedup_nprobe=nlist, queries=50,
                      stability_runs=0, noise=False, map=False, health=False, timings=False)
    ids = [str(i) for i in sample["id"]]
    exact, _ = es.near_duplicates(vectors, 0.90)
    assert {(a, b) for a, b, _ in result.pairs} == {tuple(sorted((ids[a], ids[b]))) for a, b in exact.tolist()}
    # Every pair found: the assembled section is the single-process audit's, pair views,
    # groups and texts included (rows aside: on Ray documents are known by id).
    single = es.audit(sample.sort("id"), stability_runs=0, noise=False, map=False, health=False,
                      retrieval=False, timings=False).to_dict()["duplicates"]
    mine = result.to_dict()["duplicates"]
    for key in ("per_threshold", "exact_text_groups", "exact_text_removable", "removable", "share",
                "threshold"):
        assert mine[key] == single[key], key
    for view in ("top_pairs", "borderline_pairs"):
        for p in single[view]:
            del p["row_a"], p["row_b"]
        assert mine[view] == single[view], view
    for g in single["largest_groups"]:
        del g["kept"], g["rows"]
    assert mine["largest_groups"] == single["largest_groups"]
    assert result.groups[0][0] == min(result.groups[0], key=int)


def test_k_noise_duplicates_and_recall_agree_with_the_single_process_audit(full, sample):
    # A sample of every row is the corpus in id order: K and noise are the single-process
    # audit's on that corpus exactly.
    single = es.audit(sample.sort("id"), stability_runs=0, timings=False).to_dict()
    mine = full.to_dict()
    assert mine["optimal_k"] == single["optimal_k"]
    assert mine["noise"] == single["noise"]
    assert mine["clusters"] == single["clusters"]
    # Duplicates: equal texts exactly; the cells find what every pair finds, or nearly, and
    # say how nearly (pair recall on the queries' exact lists).
    assert mine["duplicates"]["exact_text_groups"] == single["duplicates"]["exact_text_groups"]
    assert abs(mine["duplicates"]["share"] - single["duplicates"]["share"]) < 0.01
    recall = mine["duplicates"]["recall"]
    assert recall["rows"] == 300 and recall["exact_pairs"] > 0 and recall["recall"] > 0.9
    # Recall of cluster retrieval (queries and cells differ): within 0.1 at each nprobe.
    ray_recall = {r["nprobe"]: r["recall"] for r in mine["retrieval"]["per_nprobe"]}
    single_recall = {r["nprobe"]: r["recall"] for r in single["retrieval"]["per_nprobe"]}
    assert set(single_recall) <= set(ray_recall)
    for p in single_recall:
        assert abs(ray_recall[p] - single_recall[p]) < 0.1, (p, ray_recall[p], single_recall[p])
    assert mine["retrieval"]["nprobe"] == 3
    assert abs(mine["retrieval"]["per_nprobe"][-1]["scanned_fraction"] -
               single["retrieval"]["per_nprobe"][-1]["scanned_fraction"]) < 0.1
    # The verdict checks the same things, and what ran where is stated.
    assert [c["name"] for c in mine["verdict"]["checks"]] == [c["name"] for c in single["verdict"]["checks"]]
    assert mine["corpus"]["rows"] == 2000 and mine["sampling"]["sample_rows"] == 2000
    assert mine["sampling"]["policy"].startswith("ray: statistic stages on a sample of 2000 rows")
    stages = {s["stage"]: s for s in mine["sampling"]["stages"]}
    assert stages["duplicates"]["every_row"] and stages["retrieval"]["every_row"]


def test_the_sample_is_the_same_however_the_data_is_split(cluster, shards, sample):
    one = er.audit(ray.data.from_arrow(sample.to_arrow()), sample=600, queries=50, stability_runs=0,
                   noise=False, map=False, health=False)
    four = er.audit(str(shards), sample=600, queries=50, stability_runs=0, noise=False,
                    map=False, health=False)
    assert one.sample_audit.corpus.ids == four.sample_audit.corpus.ids
    assert np.array_equal(one.centroids, four.centroids)
    assert one.pairs == four.pairs
    assert one.summary["retrieval"] == four.summary["retrieval"]


def test_a_lance_dataset_gives_what_its_parquet_shards_give(cluster, shards, sample, tmp_path):
    import lance

    lance.write_dataset(sample.to_arrow(), str(tmp_path / "corpus.lance"))
    options = dict(sample=600, queries=50, stability_runs=0, noise=False, map=False, health=False,
                   timings=False)
    from_lance = er.audit(str(tmp_path / "corpus.lance"), **options)
    from_parquet = er.audit(str(shards), **options)
    assert from_lance.sample_audit.corpus.ids == from_parquet.sample_audit.corpus.ids
    assert from_lance.pairs == from_parquet.pairs and from_lance.groups == from_parquet.groups
    strip = lambda d: {k: v for k, v in d.items() if k not in ("source", "timings", "seconds")}
    assert strip(from_lance.summary) == strip(from_parquet.summary)
    lance_doc, parquet_doc = from_lance.to_dict(), from_parquet.to_dict()
    for doc in (lance_doc, parquet_doc):
        del doc["corpus"]["source"]
    assert lance_doc == parquet_doc


def test_a_worker_killed_mid_run_is_retried_and_changes_nothing(cluster, shards, full):
    (cluster / "armed").write_text("")
    try:
        again = er.audit(str(shards), sample=2000, queries=300, stability_runs=0, timings=False)
    finally:
        (cluster / "armed").unlink()
    assert (cluster / "fired").exists(), "no worker was killed"
    strip = lambda d: {k: v for k, v in d.items() if k not in ("timings", "seconds")}
    assert strip(again.summary) == strip(full.summary)
    assert again.pairs == full.pairs


def test_tables_are_written_by_the_workers(full, tmp_path):
    full.write_tables(tmp_path / "t")
    rows = pl.read_parquet(tmp_path / "t" / "assignments" / "*.parquet")
    assert rows.height == 2000 and set(rows.columns) == {"id", "cluster", "cell", "centroid_cosine"}
    pairs = pl.read_parquet(tmp_path / "t" / "duplicate_pairs.parquet")
    assert pairs.height == len(full.pairs)
    # The report and audit.json of the whole dataset, as the single-process audit writes them.
    full.write_html(tmp_path / "ray.html")
    full.write_json(tmp_path / "ray.json", tmp_path / "ray.html")
    html = (tmp_path / "ray.html").read_text()
    assert "ray: statistic stages on a sample of 2000 rows" in html and "2000 documents" in html
    doc = __import__("json").loads((tmp_path / "ray.json").read_text())
    assert doc["report"] == str(tmp_path / "ray.html") and doc["duplicates"]["mode"] == "clustered"
    with pytest.raises(es.EmbedscopeError, match="the workers'"):
        full.audit.to_pandas()


def test_the_command_line_names_bad_input_and_exits_2(cluster, shards, tmp_path):
    import subprocess
    import sys

    p = subprocess.run([sys.executable, "-m", "embedscope.ray", str(shards), "--num-cpus", "1",
                        "--object-store-mib", "300", "--vector-column", "vec", "--json", str(tmp_path / "r.json")],
                       capture_output=True, text=True, timeout=300)
    assert p.returncode == 2, p.stderr[-2000:]
    assert f"error: {shards}: no column `vec` (columns present: id, package, section, text, embedding)" in p.stderr
    assert not (tmp_path / "r.json").exists()


def test_embedscope_audit_engine_ray_runs_it_on_the_cluster(cluster, shards, cli, tmp_path, monkeypatch):
    import json
    import sys

    monkeypatch.setenv("EMBEDSCOPE_PYTHON", sys.executable)
    address = ray.get_runtime_context().gcs_address
    out, js = tmp_path / "r.html", tmp_path / "r.json"
    code, _, stderr = cli("audit", shards, "--engine", "ray", "--address", address, "--sample", "600",
                          "--stability-runs", "0", "--no-noise", "--no-map", "--out", out,
                          "--json", js, "--tables", tmp_path / "t", "--no-timings")
    assert code == 0, stderr[-3000:]
    doc = json.loads(js.read_text())
    assert doc["corpus"]["rows"] == 2000 and doc["sampling"]["sample_rows"] == 600
    assert doc["report"] == str(out) and out.exists() and doc["timings"] == []
    assert (tmp_path / "t" / "duplicate_pairs.parquet").exists()
    assert "verdict: " in stderr
    # Flags that do not apply are refused before anything runs.
    code, _, stderr = cli("audit", shards, "--engine", "ray", "--exact")
    assert code == 2 and "--exact does not apply to --engine ray" in stderr
    monkeypatch.setenv("EMBEDSCOPE_PYTHON", "/nonexistent/python")
    code, _, stderr = cli("audit", shards, "--engine", "ray")
    assert code == 2 and "cannot run /nonexistent/python" in stderr
