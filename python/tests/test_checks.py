"""Chunk health, topic stability and two corpora compared, from Python: the command line's
results."""
import json

import numpy as np
import pytest

import embedscope as es
from conftest import SAMPLE


def without(d, *keys):
    return {k: v for k, v in d.items() if k not in keys}


def test_health_is_the_command_lines(cli, sample):
    code, out, err = cli("health", SAMPLE, "--json")
    assert code == 0, err
    report = es.health(sample)
    assert without(report.to_dict(), "seconds") == without(json.loads(out), "seconds")
    assert report.passed == json.loads(out)["pass"]
    assert "<" in report._repr_html_()
    texts = es.health(["", "a short one", "Machine learning is a subset of artificial intelligence."],
                      tokens=False).to_dict()
    assert texts["rows"] == 3 and texts["short"]["empty"] == 1
    with pytest.raises(es.EmbedscopeError, match="no text column"):
        es.health(np.ones((3, 4), dtype=np.float32))


def test_stability_finds_blobs_stable(blobs):
    s = es.Stability(runs=3).fit(blobs, 4)
    report = s.report_.to_dict()
    assert report["k"] == 4
    assert min(c["stability"] for c in report["clusters"]) > 0.95
    with pytest.raises(es.EmbedscopeError, match="runs"):
        es.Stability(runs=0)


def test_compare_is_the_command_lines(cli, sample, tmp_path):
    june, july = sample[:1500], sample[500:]
    june.write_parquet(tmp_path / "june.parquet")
    july.write_parquet(tmp_path / "july.parquet")
    code, _, err = cli("compare", tmp_path / "june.parquet", tmp_path / "july.parquet", "--no-timings",
                       "--out", tmp_path / "cli.html", "--json", tmp_path / "cli.json")
    assert code == 0, err
    c = es.compare(tmp_path / "june.parquet", tmp_path / "july.parquet", timings=False)
    c.write_json(tmp_path / "py.json")
    c.write_html(tmp_path / "py.html")
    assert json.loads((tmp_path / "py.json").read_text()) == json.loads((tmp_path / "cli.json").read_text())
    assert (tmp_path / "py.html").read_bytes() == (tmp_path / "cli.html").read_bytes()
    # The same from frames: only the sides' names differ.
    paths = es.compare(tmp_path / "june.parquet", tmp_path / "july.parquet", timings=False, quick=True)
    frames = es.compare(june, july, timings=False, quick=True)
    named = paths.to_json()
    for side in ("june", "july"):
        named = named.replace(str(tmp_path / f"{side}.parquet"), "<DataFrame>")
    assert named == frames.to_json()
    with pytest.raises(es.EmbedscopeError):
        es.compare(sample[:10].drop("embedding"), july)


def test_stability_at_k_is_the_command_lines(cli, vectors):
    code, out, err = cli("stability", SAMPLE, "--k", 8, "--runs", 3, "--json")
    assert code == 0, err
    mine = es.Stability(runs=3).fit(vectors, 8).report_.to_dict()
    assert without(mine, "seconds") == without(json.loads(out), "seconds")


@pytest.fixture(scope="module")
def asked(sample, tmp_path_factory):
    """40 of the sample's documents as queries (their ids as the judgement) and 10 random
    directions, unjudged: the command line's test file."""
    rng = np.random.default_rng(5)
    rows = [i * 50 for i in range(40)]
    lines = [{"id": f"q{i}", "text": sample["text"][r], "embedding": sample["embedding"][r].to_list(),
              "relevant": str(sample["id"][r])} for i, r in enumerate(rows)]
    lines += [{"id": f"r{i}", "text": f"random question {i}",
               "embedding": (rng.random(384) - 0.5).tolist(), "relevant": ""} for i in range(10)]
    path = tmp_path_factory.mktemp("queries") / "queries.jsonl"
    path.write_text("\n".join(json.dumps(x) for x in lines))
    return path


def test_queries_are_the_command_lines_judgements_included(cli, sample, asked):
    code, out, err = cli("queries", SAMPLE, asked, "--relevant-column", "relevant", "--k-max", "5",
                         "--json", "-")
    assert code == 0, err
    mine = es.queries(sample, asked, relevant_column="relevant", k_max=5)
    theirs = json.loads(out)
    assert without(mine.to_dict(), "seconds") == without(theirs, "seconds")
    assert mine.to_dict()["judged"]["queries"] == 40 and mine.to_dict()["coverage"]["gaps"] == 10
    assert "<" in mine._repr_html_()
    # A list of strings is embedded (the local model), judged by nothing.
    plain = es.queries(sample, ["how do I compress files", "a text editor"], topics=False).to_dict()
    assert plain["coverage"]["queries"] == 2 and plain.get("judged") is None
    with pytest.raises(es.EmbedscopeError, match="top_k"):
        es.queries(sample, asked, top_k=0)


def test_the_audit_judges_its_queries_as_the_command_line_does(cli, sample, asked, tmp_path):
    out = tmp_path / "a.html"
    code, _, err = cli("audit", SAMPLE, "--queries", asked, "--relevant-column", "relevant",
                       "--stability-runs", "0", "--no-noise", "--no-map", "--no-timings",
                       "--out", out, "--json", tmp_path / "a.json")
    assert code == 0, err
    mine = es.audit(SAMPLE, queries=str(asked), relevant_column="relevant", stability_runs=0,
                    noise=False, map=False, timings=False)
    theirs = json.loads((tmp_path / "a.json").read_text())
    assert mine.to_dict()["queries"] == theirs["queries"]
    assert mine.to_dict()["queries"]["judged"]["queries"] == 40
