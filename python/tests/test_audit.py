"""The whole audit from Python: the same bytes as the command line, any frame in, tables out."""
import json

import numpy as np
import pandas as pd
import polars as pl
import pyarrow as pa
import pytest

import embedscope as es
from conftest import SAMPLE


@pytest.fixture(scope="module")
def from_path():
    return es.audit(SAMPLE, timings=False, stability_runs=2)


def test_the_audit_of_a_path_is_the_command_lines_byte_for_byte(from_path, cli, tmp_path):
    code, _, err = cli("audit", SAMPLE, "--no-timings", "--stability-runs", 2,
                       "--out", tmp_path / "cli.html", "--json", tmp_path / "cli.json",
                       "--tables", tmp_path / "tables")
    assert code == 0, err
    from_path.write_json(tmp_path / "py.json", report=tmp_path / "cli.html")
    from_path.write_html(tmp_path / "py.html")
    assert (tmp_path / "py.json").read_bytes() == (tmp_path / "cli.json").read_bytes()
    assert (tmp_path / "py.html").read_bytes() == (tmp_path / "cli.html").read_bytes()
    cli_rows = pl.read_parquet(tmp_path / "tables" / "assignments.parquet")
    assert from_path.to_polars().equals(cli_rows)
    assert from_path.to_pandas().equals(cli_rows.to_pandas())
    assert from_path.tables == ["assignments", "duplicate_pairs"]
    pairs = pl.read_parquet(tmp_path / "tables" / "duplicate_pairs.parquet")
    assert from_path.to_polars("duplicate_pairs").equals(pairs)


def test_every_kind_of_frame_gives_the_same_audit(from_path, sample):
    want = from_path.to_dict()
    frames = {
        "polars": sample,
        "pandas": sample.to_pandas(),
        "arrow": sample.to_arrow(),
        "dict": {"id": sample["id"].to_list(), "text": sample["text"].to_list(),
                 "embedding": sample["embedding"].to_numpy()},
    }
    for kind, frame in frames.items():
        got = es.audit(frame, timings=False, stability_runs=2).to_dict()
        assert got["corpus"]["source"].startswith("<"), kind
        for key in want:
            if key != "corpus":
                assert got[key] == want[key], (kind, key)


def test_the_report_renders_in_a_notebook(from_path):
    html = from_path._repr_html_()
    assert "<table" in html and "K = " in html or "chosen" in html
    assert repr(from_path).startswith("Audit(rows=2000, k=")
    assert isinstance(from_path.verdict["pass"], bool) and from_path.passed == from_path.verdict["pass"]


def test_a_missing_column_is_named_with_the_columns_present(sample, cli, tmp_path):
    with pytest.raises(es.EmbedscopeError) as python:
        es.audit(sample, label_column="category")
    code, _, stderr = cli("audit", SAMPLE, "--label-column", "category", "--out", tmp_path / "x.html")
    assert code == 2
    words = "no column `category` (columns present: id, package, section, text, embedding)"
    assert str(python.value) == f"<DataFrame>: {words}"
    assert words in stderr


def test_bad_rows_of_a_frame_name_row_and_column(sample):
    rows = sample.head(50).with_columns(pl.col("embedding").cast(pl.List(pl.Float32)))
    nan = rows.to_pandas()
    nan.at[7, "embedding"] = np.where(np.arange(384) == 3, np.nan, nan.at[7, "embedding"])
    with pytest.raises(es.EmbedscopeError, match=r"^<DataFrame>: row 7: column `embedding`, element 3: value NaN is not finite$"):
        es.load(nan)
    hole = rows.to_arrow()
    cells = hole.column("embedding").to_pylist()
    cells[5][2] = None
    hole = hole.set_column(3 + 1, "embedding", pa.array(cells, pa.list_(pa.float32())))
    with pytest.raises(es.EmbedscopeError, match=r"^<Table>: row 5: column `embedding`, element 2: null$"):
        es.load(hole)
    ragged = rows.with_columns(pl.when(pl.col("id") == rows["id"][9]).then(pl.col("embedding").list.head(10))
                               .otherwise(pl.col("embedding")).alias("embedding"))
    with pytest.raises(es.EmbedscopeError, match=r"<DataFrame>: row 9: column `embedding` has 10 values, expected 384 like row 0"):
        es.load(ragged)
    null_text = rows.with_columns(pl.when(pl.col("id") == rows["id"][4]).then(None).otherwise(pl.col("text")).alias("text"))
    with pytest.raises(es.EmbedscopeError, match=r"<DataFrame>: row 4: column `text` is missing or null"):
        es.load(null_text)
    with pytest.raises(es.EmbedscopeError, match=r"column `text` holds|not vectors"):
        es.load(rows, vector_column="text")
    with pytest.raises(TypeError, match="data must be a path"):
        es.load(42)


def test_a_numpy_matrix_is_a_corpus_of_vectors(vectors):
    corpus = es.load(vectors[:300])
    assert len(corpus) == 300 and corpus.texts is None
    report = es.audit(vectors[:300], health=False, stability_runs=0, noise=False)
    assert report.to_pandas()["id"].tolist()[:3] == ["0", "1", "2"]


def test_progress_reaches_a_callback_and_a_bar(sample, capsys):
    seen = []
    es.audit(sample.head(400), map=False, noise=False, stability_runs=0,
             progress=lambda s, d, t: seen.append((s, d, t)))
    stages = [s for s, _, _ in seen]
    assert stages and all(isinstance(d, int) for _, d, _ in seen)
    es.audit(sample.head(400), map=False, noise=False, stability_runs=0, progress=True)
    with pytest.raises(TypeError, match="progress must be"):
        es.audit(sample.head(400), progress="yes")


def test_outputs_are_written_whole_or_not_at_all(from_path, tmp_path):
    with pytest.raises(es.EmbedscopeError, match="missing-dir"):
        from_path.write_html(tmp_path / "missing-dir" / "sub" / "\0bad.html")
    paths = from_path.write_tables(tmp_path / "t")
    assert sorted(p.split("/")[-1] for p in map(str, paths)) == ["assignments.parquet", "duplicate_pairs.parquet"]
    assert not list(tmp_path.glob("**/*.tmp*"))
    with pytest.raises(es.EmbedscopeError, match=r"no table \"nope\" in this audit \(tables: assignments, duplicate_pairs\)"):
        from_path.to_pandas("nope")


def test_the_audit_id_and_json_are_plain_data(from_path):
    doc = json.loads(from_path.to_json())
    assert doc["corpus"]["rows"] == 2000 and "verdict" in doc
