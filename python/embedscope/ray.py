"""The audit on Ray: corpora that outgrow one machine, split into map and reduce steps that Ray
Data runs over a dataset of Parquet shards (or a Lance dataset through Ray's reader), the Rust
core doing the work inside each task.

    import ray, embedscope.ray
    ray.init(address="auto")                       # or ray.init() for this machine
    result = embedscope.ray.audit("s3-or-local/shards/", sample=50_000)
    result.write_json("audit.json"); result.write_html("report.html")

The stages:

1. **A seeded sample on the driver.** Each row's key is a hash of its id and the seed; the
   sample is the rows with the smallest keys, whatever the partitioning. The single-process
   audit runs on it: the K sweep, the map, topic labels, HDBSCAN noise, health, stability.
2. **Every row assigned** (``map_batches``) to the nearest centroid of the sample's K-Means at
   the chosen K (what the single-process audit does for rows outside its sample), with
   per-cluster sums reduced into mean directions and each row's cosine to its cluster's.
3. **IVF cells** trained on the sample (``ClusterIndex``); every row filed under its nearest
   cell and its ``dedup_nprobe`` nearest.
4. **Exact duplicates** by a group-by on the normalised text's hash (confirmed on the text);
   **near duplicates** by shuffling each row to the cells it probes and comparing, in one task
   per cell, the rows probing it with the rows filed in it: the core's clustered search, pair
   for pair.
5. **Retrieval**: sampled queries searched against every batch (exact, and within each
   query's first nprobe cells), the top k merged: recall@k at each nprobe.

Rows are matched across tasks by id, so the dataset needs an id column (``id`` or
``id_column``) and a vector column (``embedding``/``vector`` or ``vector_column``).
"""

import json
import math
import os
import time

import numpy as np

from . import _native
from ._audit import Audit, _vector_cells, from_arrow

__all__ = ["audit", "RayAudit"]


def _ray():
    try:
        import ray
        import ray.data  # noqa: F401
    except ImportError as e:  # pragma: no cover - ray is an optional dependency
        raise ImportError("the audit on Ray needs Ray Data: pip install 'ray[data]'") from e
    return ray


def _dataset(data):
    """A Ray Dataset and the name messages use."""
    ray = _ray()
    if isinstance(data, ray.data.Dataset):
        return data, "<Dataset>"
    if isinstance(data, (str, os.PathLike)):
        path = os.fspath(data)
        if path.rstrip("/").endswith(".lance"):
            return ray.data.read_lance(path), path
        return ray.data.read_parquet(path), path
    if isinstance(data, (list, tuple)) and data and all(isinstance(p, (str, os.PathLike)) for p in data):
        paths = [os.fspath(p) for p in data]
        return ray.data.read_parquet(paths), paths[0] if len(paths) == 1 else f"{paths[0]} (+{len(paths) - 1})"
    raise TypeError(f"data must be a Ray Dataset, a path or a list of Parquet paths; got {type(data).__name__}")


class _Columns:
    """The columns the audit reads, resolved by the file rules."""

    def __init__(self, source, names, *, text_column, id_column, vector_column, label_column):
        self.source = source
        self.text, self.vector, self.label, self.id = _native.resolve_columns(
            source, list(names), text_column=text_column, id_column=id_column,
            vector_column=vector_column, label_column=label_column)
        if self.vector is None:
            raise _native.EmbedscopeError(
                f"{source}: no vector column (embedding or vector; name one with vector_column): "
                "the audit on Ray reads vectors; embed the texts first")
        if self.id is None:
            raise _native.EmbedscopeError(
                f"{source}: no id column (id; name one with id_column): the audit on Ray matches "
                "rows across tasks by id")

    def ids(self, batch):
        import pyarrow as pa
        import pyarrow.compute as pc

        col = batch.column(self.id)
        if col.null_count:
            row = int(np.flatnonzero(col.is_null().to_numpy(zero_copy_only=False))[0])
            raise _native.EmbedscopeError(f"{self.source}: a row of this batch ({row}): column `{self.id}` is null")
        if not (pa.types.is_string(col.type) or pa.types.is_large_string(col.type)):
            col = pc.cast(col, pa.string())
        return col.to_pylist()

    def matrix(self, batch, ids):
        """The batch's vectors as a rows x dim float32 matrix (rows checked as a file's)."""
        values, offsets, nulls = _vector_cells(batch.column(self.vector), self.source, self.vector)
        lengths = np.diff(offsets)
        if nulls is not None or (len(lengths) and (lengths != lengths[0]).any()):
            bad = next(i for i in range(len(lengths))
                       if (nulls is not None and nulls[i]) or lengths[i] != lengths[0])
            what = "is missing or null" if nulls is not None and nulls[bad] else \
                f"has {lengths[bad]} values, expected {lengths[0]}"
            raise _native.EmbedscopeError(f"{self.source}: id {ids[bad]!r}: column `{self.vector}` {what}")
        dim = int(lengths[0]) if len(lengths) else 0
        return np.ascontiguousarray(values, dtype=np.float32).reshape(len(ids), dim)


FAULT_DIR = "EMBEDSCOPE_RAY_FAULT_DIR"


def _fault_point():
    """A test hook: when ``$EMBEDSCOPE_RAY_FAULT_DIR/armed`` exists and ``fired`` does not,
    the worker running this task creates ``fired`` and kills itself (SIGKILL), as a machine
    lost mid-run would; Ray retries the task. Does nothing otherwise."""
    where = os.environ.get(FAULT_DIR)
    if not where or not os.path.exists(os.path.join(where, "armed")):
        return
    try:
        fd = os.open(os.path.join(where, "fired"), os.O_CREAT | os.O_EXCL | os.O_WRONLY)
    except FileExistsError:
        return
    os.close(fd)
    import signal

    os.kill(os.getpid(), signal.SIGKILL)


def _keys_batch(columns, seed, cut):
    """Map: the rows whose sample key is below ``cut``, with the key."""
    def run(batch):
        import pyarrow as pa

        ids = columns.ids(batch)
        keys = _native.sample_keys(ids, seed)
        keep = keys < np.uint64(cut)
        return batch.filter(pa.array(keep)).append_column("__key", pa.array(keys[keep]))
    return run


def _assign_batch(columns, km_centroids, ivf_centroids, nprobe):
    """Map: each row's cluster and IVF cells (its own and the ``nprobe`` it probes)."""
    def run(batch):
        import pyarrow as pa

        ids = columns.ids(batch)
        X = columns.matrix(batch, ids)
        labels, _ = _native.assign(X, km_centroids)
        probes = _native.probe_cells(X, ivf_centroids, nprobe)
        out = {"id": ids, "cluster": labels, "cell": probes[:, 0],
               "probes": pa.FixedSizeListArray.from_arrays(pa.array(probes.reshape(-1)), nprobe),
               "vector": pa.FixedSizeListArray.from_arrays(pa.array(X.reshape(-1)), X.shape[1])}
        if columns.text is not None:
            keys, norms = _native.text_keys([t or "" for t in batch.column(columns.text).to_pylist()])
            out["text_key"] = keys
            out["norm_text"] = norms
        return pa.table(out)
    return run


def _reduce_batch(columns, km_centroids, k, queries, query_probes, nprobes, top_k, ivf_centroids):
    """Map to one row per batch: per-cluster sums and counts, and the queries' top k among the
    batch's rows (exact and per nprobe): what the driver reduces."""
    def run(batch):
        import pyarrow as pa

        _fault_point()
        ids = columns.ids(batch)
        X = columns.matrix(batch, ids)
        labels, _ = _native.assign(X, km_centroids)
        sums = _native.cluster_sums(X, labels.tolist(), k)
        counts = np.bincount(labels, minlength=k)
        cells = _native.probe_cells(X, ivf_centroids, 1)[:, 0]
        rows = np.arange(len(ids), dtype=np.int64)
        top_ids, top_scores = _native.batch_top_k(queries, query_probes, X, rows.tolist(),
                                                  cells.tolist(), list(nprobes), top_k)
        # Row positions back to ids (-1 stays a pad).
        id_array = np.array(ids, dtype=object)
        named = np.where(top_ids >= 0, id_array[np.clip(top_ids, 0, None)], None)
        return pa.table({
            "sums": [sums.reshape(-1).tolist()], "counts": [counts.tolist()],
            "top_ids": [named.reshape(-1).tolist()], "top_scores": [top_scores.reshape(-1).tolist()],
        })
    return run


def _explode_batch(nprobe):
    """Flat map: each row once per cell it probes, flagged when the cell is its own."""
    def run(batch):
        import pyarrow as pa

        n = batch.num_rows
        probes = np.asarray(batch.column("probes").combine_chunks().flatten()).reshape(n, nprobe)
        rows = np.repeat(np.arange(n), nprobe)
        cells = probes.reshape(-1)
        home = cells == np.repeat(probes[:, 0], nprobe)
        taken = batch.select(["id", "vector"]).take(pa.array(rows))
        return taken.append_column("probe_cell", pa.array(cells)).append_column("home", pa.array(home))
    return run


def _cell_pairs(threshold):
    """Group map: one cell's pairs, probing rows against the rows filed in it."""
    def run(group):
        import pyarrow as pa

        n = group.num_rows
        dim = len(group.column("vector")[0]) if n else 0
        X = np.asarray(group.column("vector").combine_chunks().flatten(), dtype=np.float32).reshape(n, dim)
        ids = group.column("id").to_pylist()
        home = np.asarray(group.column("home"))
        empty = pa.table({"id_a": pa.array([], pa.string()), "id_b": pa.array([], pa.string()),
                          "cosine": pa.array([], pa.float32())})
        if not home.any():
            return empty
        # Ids are strings: pair them through their positions in the group.
        pos = np.arange(n, dtype=np.int64)
        pairs, cos = _native.cell_pairs(X, pos.tolist(), X[home], pos[home].tolist(), threshold)
        if not len(pairs):
            return empty
        a = [ids[i] for i in pairs[:, 0]]
        b = [ids[i] for i in pairs[:, 1]]
        # The same row may probe a cell twice only through its copies; ids decide.
        keep = [x != y for x, y in zip(a, b)]
        lo = [min(x, y) for x, y in zip(a, b)]
        hi = [max(x, y) for x, y in zip(a, b)]
        return pa.table({"id_a": lo, "id_b": hi, "cosine": cos}).filter(pa.array(keep))
    return run


def _exact_groups(group):
    """Group map: ids whose normalised texts are equal, one row per group of two or more."""
    import pyarrow as pa

    ids = group.column("id").to_pylist()
    norms = group.column("norm_text").to_pylist()
    by_text = {}
    for i, t in zip(ids, norms):
        by_text.setdefault(t, []).append(i)
    groups = [sorted(g) for g in by_text.values() if len(g) > 1]
    return pa.table({"ids": pa.array(groups, pa.list_(pa.string()))})


class RayAudit:
    """What the audit on Ray found: the sample's audit (``sample_audit``, an
    :class:`embedscope.Audit`) and the figures over every row (``rows``, cluster sizes,
    duplicates, retrieval), stating what was sampled."""

    def __init__(self, summary, sample_audit, pairs, groups, assignments, centroids, cells):
        self.summary = summary
        self.sample_audit = sample_audit
        #: Near-duplicate pairs (id_a < id_b, cosine), each once, sorted.
        self.pairs = pairs
        #: Duplicate groups (near pairs and exact texts joined), each a sorted list of ids.
        self.groups = groups
        #: The K-Means centroids every row was assigned by (k x dim).
        self.centroids = centroids
        #: The IVF cells' unit centroids (nlist x dim) rows were filed and searched under.
        self.cells = cells
        self._assignments = assignments

    def to_dict(self):
        """The merged results as ``audit.json`` holds them."""
        doc = dict(self.summary)
        doc["sample_audit"] = self.sample_audit.to_dict()
        return doc

    def write_json(self, path):
        """Writes the merged results as JSON, atomically."""
        text = json.dumps(self.to_dict(), indent=2, sort_keys=True) + "\n"
        tmp = f"{os.fspath(path)}.tmp{os.getpid()}"
        with open(tmp, "w") as f:
            f.write(text)
        os.replace(tmp, path)
        return path

    def assignments(self):
        """One row per document (id, cluster, cell, centroid_cosine) as a Ray Dataset."""
        return self._assignments

    def write_tables(self, directory):
        """Writes ``assignments/`` (Parquet shards, one row per document, written by the
        workers) and ``duplicate_pairs.parquet`` into ``directory``."""
        import pyarrow as pa
        import pyarrow.parquet as pq

        os.makedirs(directory, exist_ok=True)
        self._assignments.write_parquet(os.path.join(directory, "assignments"))
        pairs = pa.table({"id_a": [p[0] for p in self.pairs], "id_b": [p[1] for p in self.pairs],
                          "cosine": pa.array([p[2] for p in self.pairs], pa.float32())})
        path = os.path.join(directory, "duplicate_pairs.parquet")
        pq.write_table(pairs, f"{path}.tmp{os.getpid()}")
        os.replace(f"{path}.tmp{os.getpid()}", path)
        return directory

    def __repr__(self):
        s = self.summary
        return (f"RayAudit(rows={s['rows']}, sample={s['sampling']['rows']}, k={s['clusters']['k']}, "
                f"duplicate share={s['duplicates']['share']:.3f})")


def audit(data, *, text_column="text", id_column=None, vector_column=None, label_column=None,
          sample=50_000, seed=42, k_min=2, k_max=10, n_init=10, nlist=None, dedup_nprobe=3,
          dedup_threshold=0.95, queries=1000, top_k=10, nprobes=(1, 2, 4, 8, 16), batch_size=8192,
          reduce_batch_size=65536, progress=None, **sample_options):
    """Audits a dataset on the Ray cluster ``ray.init`` connected to; returns a
    :class:`RayAudit`. ``sample``: rows the single-process stages run on (the driver holds
    them); ``nlist``: IVF cells (default ``round(sqrt(rows))``); ``dedup_nprobe``: cells each
    row is compared with; ``queries``: sampled rows searched against every row;
    ``sample_options``: passed to :func:`embedscope.audit` for the sample."""
    ray = _ray()
    started = time.monotonic()
    timings = {}

    def lap(stage, t0):
        timings[stage] = round(time.monotonic() - t0, 3)
        if progress:
            progress(stage, 1, 1)

    ds, source = _dataset(data)
    columns = _Columns(source, ds.schema().names, text_column=text_column, id_column=id_column,
                       vector_column=vector_column, label_column=label_column)
    t0 = time.monotonic()
    n = ds.count()
    nlist = nlist or max(1, round(math.sqrt(n)))
    # The IVF cells train on up to 64 rows each; the statistic stages on `sample` rows: both
    # the rows with the smallest keys (the sample is a prefix of the training rows).
    wanted = min(n, max(sample, 64 * nlist))
    # Oversample the cut a little so that at least `wanted` rows pass it (a binomial's 6 sigma).
    p = min(1.0, (wanted + 6 * math.sqrt(wanted) + 16) / max(n, 1))
    cut = min(2**64 - 1, int(p * 2**64))
    picked = ds.map_batches(_keys_batch(columns, seed, cut), batch_format="pyarrow",
                            batch_size=batch_size).to_arrow_refs()
    import pyarrow as pa

    table = pa.concat_tables(ray.get(picked))
    table = table.sort_by("__key").slice(0, wanted)
    lap("sample", t0)

    t0 = time.monotonic()
    sample_table = table.slice(0, min(sample, table.num_rows))
    # Queries: the sample's first rows by key (a random draw); the sample itself in id order
    # (numerically when every id is an integer, as a store's rows are read), so that a sample
    # of every row is the corpus the single-process audit sees sorted by id.
    query_table = sample_table.slice(0, min(queries, sample_table.num_rows))
    sample_table = _by_id(sample_table.drop_columns(["__key"]), columns.id)
    corpus = from_arrow(sample_table, f"{source} (sample)", text_column=text_column,
                        id_column=columns.id, vector_column=columns.vector, label_column=label_column)
    options = dict(duplicates=False, retrieval=False, k_min=k_min, k_max=k_max, n_init=n_init, seed=seed)
    options.update(sample_options)
    sample_audit = Audit(_native.run_audit(corpus, **options))
    km_centroids = sample_audit._native.centroids
    k = km_centroids.shape[0]
    lap("sample audit", t0)

    t0 = time.monotonic()
    train = from_arrow(table.drop_columns(["__key"]), f"{source} (training rows)",
                       text_column=text_column, id_column=columns.id, vector_column=columns.vector)
    ivf = _native.ClusterIndex(nlist=min(nlist, len(train)), random_state=seed).fit(train.vectors)
    ivf_centroids = ivf.centroids_
    nlist = ivf_centroids.shape[0]
    q_corpus = from_arrow(query_table.drop_columns(["__key"]), f"{source} (queries)",
                          text_column=text_column, id_column=columns.id,
                          vector_column=columns.vector)
    q_vectors = q_corpus.vectors
    q_ids = q_corpus.ids
    max_probe = min(max(nprobes), nlist)
    nprobes = [p for p in nprobes if p <= nlist]
    q_probes = ivf.probes(q_vectors, max_probe).tolist()
    lap("IVF cells", t0)

    t0 = time.monotonic()
    reduced = ds.map_batches(
        _reduce_batch(columns, km_centroids, k, q_vectors, q_probes, nprobes, top_k, ivf_centroids),
        batch_format="pyarrow", batch_size=reduce_batch_size).take_all()
    sums = np.sum([np.asarray(r["sums"]) for r in reduced], axis=0).reshape(k, -1)
    counts = np.sum([np.asarray(r["counts"]) for r in reduced], axis=0)
    directions = sums / np.maximum(np.linalg.norm(sums, axis=1, keepdims=True), np.finfo(np.float64).tiny)
    lists = len(nprobes) + 1
    top_ids = np.concatenate([np.asarray(r["top_ids"], dtype=object).reshape(lists, len(q_ids), top_k)
                              for r in reduced], axis=2)
    top_scores = np.concatenate([np.asarray(r["top_scores"], dtype=np.float32).reshape(lists, len(q_ids), top_k)
                                 for r in reduced], axis=2)
    recall = _recall(top_ids, top_scores, top_k, nprobes)
    lap("assign, sums, retrieval", t0)

    t0 = time.monotonic()
    # Shuffle partitions: a few per CPU (Ray's default of 200 costs seconds on small data).
    partitions = max(1, min(nlist, 4 * max(1, _workers(ray).get("cpus", 1))))
    rows = ds.map_batches(_assign_batch(columns, km_centroids, ivf_centroids, dedup_nprobe),
                          batch_format="pyarrow", batch_size=batch_size)

    def with_cosines(batch):
        import pyarrow as pa

        n_rows = batch.num_rows
        X = np.asarray(batch.column("vector").combine_chunks().flatten(), dtype=np.float32).reshape(n_rows, -1)
        cos = _native.direction_cosines(X, np.asarray(batch.column("cluster")).tolist(), directions)
        return pa.table({"id": batch.column("id"), "cluster": batch.column("cluster"),
                         "cell": batch.column("cell"), "centroid_cosine": cos})

    assignments = rows.map_batches(with_cosines, batch_format="pyarrow")
    near = (rows.map_batches(_explode_batch(dedup_nprobe), batch_format="pyarrow")
            .groupby("probe_cell", num_partitions=partitions)
            .map_groups(_cell_pairs(dedup_threshold), batch_format="pyarrow")
            .to_arrow_refs())
    pair_table = pa.concat_tables(ray.get(near)) if near else None
    pairs = _unique_pairs(pair_table)
    lap("near duplicates", t0)

    t0 = time.monotonic()
    exact = []
    if columns.text is not None:
        exact_refs = (rows.select_columns(["id", "text_key", "norm_text"])
                      .groupby("text_key", num_partitions=partitions)
                      .map_groups(_exact_groups, batch_format="pyarrow")
                      .to_arrow_refs())
        exact = [g for t in ray.get(exact_refs) for g in t.column("ids").to_pylist()]
    groups = _groups(pairs, exact)
    removable = sum(len(g) - 1 for g in groups)
    lap("exact duplicates, groups", t0)

    summary = {
        "engine": "ray",
        "source": source,
        "rows": n,
        "sampling": {"rows": len(corpus), "seed": seed, "how": "the rows with the smallest "
                     "xxh3(id, seed): the same rows however the data is partitioned",
                     "stages": ["K sweep", "map", "topic labels", "HDBSCAN noise", "health",
                                "stability"]},
        "clusters": {"k": k, "sizes": counts.tolist(),
                     "labels": [c["label"] for c in sample_audit.to_dict()["clusters"]]},
        "duplicates": {"threshold": dedup_threshold, "nlist": nlist, "nprobe": dedup_nprobe,
                       "pairs": len(pairs), "exact_text_groups": len(exact), "groups": len(groups),
                       "removable": removable, "share": removable / max(n, 1)},
        "retrieval": {"queries": len(q_ids), "top_k": top_k, "nlist": nlist,
                      "per_nprobe": recall},
        "workers": _workers(ray),
        "timings": timings,
        "seconds": round(time.monotonic() - started, 3),
    }
    return RayAudit(summary, sample_audit, pairs, groups, assignments, km_centroids, ivf_centroids)


def _by_id(table, id_column):
    """The rows in id order: numeric when every id is an integer, else by the string."""
    ids = [str(i) for i in table.column(id_column).to_pylist()]
    try:
        keys = [int(i) for i in ids]
    except ValueError:
        keys = ids
    order = sorted(range(len(ids)), key=lambda i: (keys[i], i))
    return table.take(order)


def _recall(top_ids, top_scores, k, nprobes):
    """Merged top k per list (exact last) and each nprobe's recall against exact."""
    merged = []
    for li in range(top_ids.shape[0]):
        lists = []
        for qi in range(top_ids.shape[1]):
            cand = sorted(((-s, i) for i, s in zip(top_ids[li, qi], top_scores[li, qi]) if i is not None),
                          key=lambda c: (c[0], c[1]))
            lists.append([i for _, i in cand[:k]])
        merged.append(lists)
    exact = merged[-1]
    out = []
    for p, found in zip(nprobes, merged[:-1]):
        hits = sum(len(set(f) & set(e)) for f, e in zip(found, exact))
        total = sum(len(e) for e in exact)
        out.append({"nprobe": p, "recall": hits / max(total, 1)})
    return out


def _unique_pairs(table):
    """Pairs found in several cells, once each, sorted."""
    if table is None or table.num_rows == 0:
        return []
    seen = {}
    for a, b, c in zip(table.column("id_a").to_pylist(), table.column("id_b").to_pylist(),
                       table.column("cosine").to_pylist()):
        seen[(a, b)] = c
    return sorted((a, b, c) for (a, b), c in seen.items())


def _groups(pairs, exact):
    """Near pairs and exact groups joined (union-find over ids), each group sorted."""
    parent = {}

    def find(x):
        parent.setdefault(x, x)
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    def union(a, b):
        ra, rb = find(a), find(b)
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)

    for a, b, _ in pairs:
        union(a, b)
    for g in exact:
        for other in g[1:]:
            union(g[0], other)
    groups = {}
    for x in parent:
        groups.setdefault(find(x), []).append(x)
    return sorted(sorted(g) for g in groups.values() if len(g) > 1)


def _workers(ray):
    try:
        nodes = [n for n in ray.nodes() if n.get("Alive")]
        return {"nodes": len(nodes), "cpus": int(sum(n.get("Resources", {}).get("CPU", 0) for n in nodes))}
    except Exception:  # pragma: no cover - an old Ray without nodes()
        return {}


def main(argv=None):
    """``python -m embedscope.ray INPUT`` (or ``embedscope-ray``): the audit on the Ray cluster
    at ``--address`` (``auto``: the running one; none: a cluster on this machine), its merged
    results to ``--json`` and its tables to ``--tables``. Exit code 2 on bad input."""
    import argparse
    import sys

    p = argparse.ArgumentParser(prog="embedscope-ray", description=main.__doc__)
    p.add_argument("input", help="a folder or file of Parquet shards, or a .lance dataset")
    p.add_argument("--address", help="Ray cluster address (default: start one on this machine)")
    p.add_argument("--num-cpus", type=int, help="CPUs of the local cluster (without --address)")
    p.add_argument("--json", help="write the merged results here")
    p.add_argument("--html", help="write the sample's audit report here")
    p.add_argument("--tables", help="write assignments/ and duplicate_pairs.parquet here")
    p.add_argument("--text-column", default="text")
    p.add_argument("--id-column")
    p.add_argument("--vector-column")
    p.add_argument("--sample", type=int, default=50_000)
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--k-min", type=int, default=2)
    p.add_argument("--k-max", type=int, default=10)
    p.add_argument("--nlist", type=int)
    p.add_argument("--dedup-nprobe", type=int, default=3)
    p.add_argument("--dedup-threshold", type=float, default=0.95)
    p.add_argument("--queries", type=int, default=1000)
    p.add_argument("--stability-runs", type=int, default=5)
    args = p.parse_args(argv)
    ray = _ray()
    try:
        # A cluster of this machine's own listens on loopback only.
        local = {} if args.address else {"_node_ip_address": "127.0.0.1"}
        ray.init(address=args.address, num_cpus=args.num_cpus, include_dashboard=False,
                 log_to_driver=False, **local)
        ray.data.DataContext.get_current().enable_progress_bars = False
        result = audit(args.input, text_column=args.text_column, id_column=args.id_column,
                       vector_column=args.vector_column, sample=args.sample, seed=args.seed,
                       k_min=args.k_min, k_max=args.k_max, nlist=args.nlist,
                       dedup_nprobe=args.dedup_nprobe, dedup_threshold=args.dedup_threshold,
                       queries=args.queries, stability_runs=args.stability_runs)
        if args.json:
            result.write_json(args.json)
        if args.html:
            result.sample_audit.write_html(args.html)
        if args.tables:
            result.write_tables(args.tables)
    except (_native.EmbedscopeError, FileNotFoundError, TypeError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    finally:
        if ray.is_initialized():
            ray.shutdown()
    print(repr(result), file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
