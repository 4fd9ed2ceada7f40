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
   query's first nprobe cells), the top k + 1 merged, each query left out of its own lists.
6. **The report and ``audit.json``**: the core assembles the whole dataset's audit
   (``Audit::merge``) from the sample's audit and these results (cluster sizes, pairs and
   equal-text groups by id, the queries' lists, rows per cell), after one pass that fetches
   the texts the duplicates section shows.

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


def _reduce_batch(columns, km_centroids, k, queries, query_probes, nprobes, top_k, ivf_centroids, nlist):
    """Map to one row per batch: per-cluster sums and counts, rows per IVF cell, and the
    queries' top k among the batch's rows (exact and per nprobe, with each exact result's
    cluster): what the driver reduces."""
    def run(batch):
        import pyarrow as pa

        _fault_point()
        ids = columns.ids(batch)
        X = columns.matrix(batch, ids)
        labels, _ = _native.assign(X, km_centroids)
        sums = _native.cluster_sums(X, labels.tolist(), k)
        counts = np.bincount(labels, minlength=k)
        cells = _native.probe_cells(X, ivf_centroids, 1)[:, 0]
        cell_counts = np.bincount(cells, minlength=nlist)
        rows = np.arange(len(ids), dtype=np.int64)
        top_rows, top_scores = _native.batch_top_k(queries, query_probes, X, rows.tolist(),
                                                   cells.tolist(), list(nprobes), top_k)
        # Row positions back to ids and clusters (-1 stays a pad).
        valid = top_rows >= 0
        at = np.clip(top_rows, 0, None)
        named = np.where(valid, np.array(ids, dtype=object)[at], None)
        clusters = np.where(valid, labels[at], -1)
        return pa.table({
            "sums": [sums.reshape(-1).tolist()], "counts": [counts.tolist()],
            "cell_counts": [cell_counts.tolist()],
            "top_ids": [named.reshape(-1).tolist()], "top_scores": [top_scores.reshape(-1).tolist()],
            "top_clusters": [clusters.reshape(-1).tolist()],
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
        carried = ["id", "vector"] + (["text_key"] if "text_key" in batch.column_names else [])
        taken = batch.select(carried).take(pa.array(rows))
        return taken.append_column("probe_cell", pa.array(cells)).append_column("home", pa.array(home))
    return run


def _cell_pairs(threshold):
    """Group map: one cell's pairs, probing rows against the rows filed in it, each flagged
    when the two texts are equal (normalised)."""
    def run(group):
        import pyarrow as pa

        n = group.num_rows
        dim = len(group.column("vector")[0]) if n else 0
        X = np.asarray(group.column("vector").combine_chunks().flatten(), dtype=np.float32).reshape(n, dim)
        ids = group.column("id").to_pylist()
        keys = group.column("text_key").to_pylist() if "text_key" in group.column_names else None
        home = np.asarray(group.column("home"))
        empty = pa.table({"id_a": pa.array([], pa.string()), "id_b": pa.array([], pa.string()),
                          "cosine": pa.array([], pa.float32()), "same_text": pa.array([], pa.bool_())})
        if not home.any():
            return empty
        # Ids are strings: pair them through their positions in the group.
        pos = np.arange(n, dtype=np.int64)
        pairs, cos = _native.cell_pairs(X, pos.tolist(), X[home], pos[home].tolist(), threshold)
        if not len(pairs):
            return empty
        a = [ids[i] for i in pairs[:, 0]]
        b = [ids[i] for i in pairs[:, 1]]
        same = [keys is not None and keys[i] == keys[j] for i, j in pairs.tolist()]
        # The same row may probe a cell twice only through its copies; ids decide.
        keep = [x != y for x, y in zip(a, b)]
        lo = [min(x, y) for x, y in zip(a, b)]
        hi = [max(x, y) for x, y in zip(a, b)]
        return pa.table({"id_a": lo, "id_b": hi, "cosine": cos,
                         "same_text": pa.array(same, pa.bool_())}).filter(pa.array(keep))
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
    """What the audit on Ray found: :attr:`audit`, the whole dataset's audit assembled by the
    core from the sample's audit and the workers' results over every row (it renders, and
    writes the report and ``audit.json`` as :func:`embedscope.audit`'s result does), the
    sample's own audit, the pairs and groups, and the workers' per-row table."""

    def __init__(self, summary, audit, sample_audit, pairs, groups, assignments, centroids, cells):
        #: Engine, rows, sampling, cluster sizes, duplicates, retrieval, workers, timings.
        self.summary = summary
        #: The dataset's audit (an :class:`embedscope.Audit`): report, ``audit.json``, verdict.
        self.audit = audit
        #: The single-process audit of the sample.
        self.sample_audit = sample_audit
        #: Near-duplicate pairs at the lowest threshold counted (id_a < id_b, cosine), each
        #: once, sorted.
        self.pairs = pairs
        #: Removal groups at the threshold (near pairs and equal texts joined), each a list of
        #: ids with the kept one first.
        self.groups = groups
        #: The K-Means centroids every row was assigned by (k x dim).
        self.centroids = centroids
        #: The IVF cells' unit centroids (nlist x dim) rows were filed and searched under.
        self.cells = cells
        self._assignments = assignments

    def _repr_html_(self):
        return self.audit._repr_html_()

    @property
    def verdict(self):
        """The verdict over every section (duplicates and retrieval over every row)."""
        return self.audit.verdict

    def to_dict(self):
        """The dataset's audit as ``audit.json`` holds it."""
        return self.audit.to_dict()

    def write_json(self, path, report=None):
        """Writes ``audit.json`` (atomically), naming the report beside it."""
        return self.audit.write_json(path, report)

    def write_html(self, path):
        """Writes the self-contained HTML report (atomically)."""
        return self.audit.write_html(path)

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
                f"duplicate share={s['duplicates']['share']:.3f}, "
                f"verdict={'PASS' if self.audit.passed else 'FAIL'})")


def audit(data, *, text_column="text", id_column=None, vector_column=None, label_column=None,
          sample=50_000, seed=42, k_min=2, k_max=10, n_init=10, nlist=None, dedup_nprobe=3,
          dedup_threshold=0.95, queries=1000, top_k=10, nprobes=(1, 2, 4, 8, 16), batch_size=8192,
          reduce_batch_size=65536, timings=True, progress=None, **sample_options):
    """Audits a dataset on the Ray cluster ``ray.init`` connected to; returns a
    :class:`RayAudit`. ``sample``: rows the single-process stages run on (the driver holds
    them); ``nlist``: IVF cells (default ``round(sqrt(rows))``); ``dedup_nprobe``: cells each
    row is compared in; ``dedup_threshold``: the cosine removal and the verdict use (pairs are
    searched down to 0.90 and counted at 0.90, 0.95, 0.99 as the single-process audit does);
    ``queries``: sampled rows searched against every row; ``nprobes``: the nprobe values
    measured (the verdict's ``nprobe`` is added); ``timings``: False for outputs that are the
    same run to run; ``sample_options``: :func:`embedscope.audit`'s options for the sample
    (``stability_runs``, ``map``, ``noise``, ``health``, the verdict's limits ...)."""
    ray = _ray()
    started = time.monotonic()
    laps = []

    def lap(stage, t0):
        laps.append((stage, round(time.monotonic() - t0, 3)))
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
    options = dict(k_min=k_min, k_max=k_max, n_init=n_init, seed=seed,
                   dedup_threshold=dedup_threshold, timings=timings)
    options.update(sample_options)
    options.update(duplicates=False, retrieval=False)
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
    # The verdict's nprobe is measured too, as the single-process audit does.
    nprobes = sorted({p for p in (*nprobes, sample_options.get("nprobe", 3)) if p <= nlist})
    max_probe = max(nprobes)
    q_probes = ivf.probes(q_vectors, max_probe).tolist()
    lap("IVF cells", t0)

    t0 = time.monotonic()
    # Each query's own row is among the rows searched: one more result, dropped by the merge.
    kk = top_k + 1
    reduced = ds.map_batches(
        _reduce_batch(columns, km_centroids, k, q_vectors, q_probes, nprobes, kk, ivf_centroids, nlist),
        batch_format="pyarrow", batch_size=reduce_batch_size).take_all()
    sums = np.sum([np.asarray(r["sums"]) for r in reduced], axis=0).reshape(k, -1)
    counts = np.sum([np.asarray(r["counts"]) for r in reduced], axis=0)
    cell_sizes = np.sum([np.asarray(r["cell_counts"]) for r in reduced], axis=0)
    directions = sums / np.maximum(np.linalg.norm(sums, axis=1, keepdims=True), np.finfo(np.float64).tiny)
    lists = len(nprobes) + 1

    def gathered(key, dtype):
        return np.concatenate([np.asarray(r[key], dtype=dtype).reshape(lists, len(q_ids), kk)
                               for r in reduced], axis=2)

    query_lists = _query_lists(q_ids, q_probes, gathered("top_ids", object),
                               gathered("top_scores", np.float32), gathered("top_clusters", np.int64),
                               kk, nprobes)
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
    # Pairs down to the lowest threshold the section counts, as the single-process audit.
    searched_at = min(0.90, dedup_threshold)
    near = (rows.map_batches(_explode_batch(dedup_nprobe), batch_format="pyarrow")
            .groupby("probe_cell", num_partitions=partitions)
            .map_groups(_cell_pairs(searched_at), batch_format="pyarrow")
            .to_arrow_refs())
    pair_table = pa.concat_tables(ray.get(near)) if near else None
    pairs = _unique_pairs(pair_table)
    lap("near duplicates", t0)

    t0 = time.monotonic()
    exact = None
    if columns.text is not None:
        exact_refs = (rows.select_columns(["id", "text_key", "norm_text"])
                      .groupby("text_key", num_partitions=partitions)
                      .map_groups(_exact_groups, batch_format="pyarrow")
                      .to_arrow_refs())
        exact = sorted(g for t in ray.get(exact_refs) for g in t.column("ids").to_pylist())
    lap("exact duplicates", t0)

    workers = _workers(ray)
    results = _native.WorkerResults(json.dumps({
        "engine": "ray",
        "source": source,
        "rows": n,
        "sample_rule": "the rows with the smallest xxh3(id, seed): the same rows however the "
                       "data is partitioned",
        "workers": f"{workers.get('nodes', '?')} node(s), {workers.get('cpus', '?')} CPUs",
        "cluster_sizes": counts.tolist(),
        "duplicates": {"searched_at": searched_at, "nlist": nlist, "nprobe": dedup_nprobe,
                       "pairs": [{"id_a": a, "id_b": b, "cosine": c, "same_text": same}
                                 for a, b, c, same in pairs],
                       "exact_groups": exact},
        "retrieval": {"top_k": top_k, "nlist": nlist, "nprobes": nprobes,
                      "cell_sizes": cell_sizes.tolist(), "queries": query_lists},
        "timings": laps if timings else [],
    }))
    t0 = time.monotonic()
    results.set_texts(_texts_of(ray, ds, columns, results.shown_ids(dedup_threshold), batch_size))
    groups = results.groups(dedup_threshold)
    lap("texts shown", t0)
    t0 = time.monotonic()
    merged = Audit(results.merge(sample_audit._native, timings=timings))
    lap("assembled (the core's Audit::merge; hubs among the sample)", t0)
    doc = merged.to_dict()

    summary = {
        "engine": "ray",
        "source": source,
        "rows": n,
        "sampling": {"rows": len(corpus), "seed": seed, "how": "the rows with the smallest "
                     "xxh3(id, seed): the same rows however the data is partitioned",
                     "stages": ["K sweep", "map", "topic labels", "HDBSCAN noise", "health",
                                "stability"]},
        "clusters": {"k": k, "sizes": counts.tolist(),
                     "labels": [c["label"] for c in doc["clusters"]]},
        "duplicates": {"threshold": dedup_threshold, "searched_at": searched_at, "nlist": nlist,
                       "nprobe": dedup_nprobe, "pairs": len(pairs),
                       "exact_text_groups": len(exact or []), "groups": len(groups),
                       "removable": doc["duplicates"]["removable"],
                       "share": doc["duplicates"]["share"]},
        "retrieval": {"queries": len(q_ids), "top_k": top_k, "nlist": nlist,
                      "per_nprobe": doc["retrieval"]["per_nprobe"]},
        "workers": workers,
        "timings": dict(laps),
        "seconds": round(time.monotonic() - started, 3),
    }
    return RayAudit(summary, merged, sample_audit, [(a, b, c) for a, b, c, _ in pairs], groups,
                    assignments, km_centroids, ivf_centroids)


def _by_id(table, id_column):
    """The rows in id order: numeric when every id is an integer, else by the string."""
    ids = [str(i) for i in table.column(id_column).to_pylist()]
    try:
        keys = [int(i) for i in ids]
    except ValueError:
        keys = ids
    order = sorted(range(len(ids)), key=lambda i: (keys[i], i))
    return table.take(order)


def _query_lists(q_ids, q_probes, top_ids, top_scores, top_clusters, kk, nprobes):
    """Each query's lists merged from every batch's top k: its exact top (id, score, cluster)
    and its top ids per nprobe, best first (ties by id)."""
    out = []
    lists = top_ids.shape[0]
    for qi, qid in enumerate(q_ids):
        def best(li):
            cand = [(-float(s), i, int(c)) for i, s, c in
                    zip(top_ids[li, qi], top_scores[li, qi], top_clusters[li, qi]) if i is not None]
            cand.sort(key=lambda t: (t[0], t[1]))
            return cand[:kk]

        out.append({
            "id": qid,
            "probes": [int(c) for c in q_probes[qi]],
            "exact": [{"id": i, "score": -s, "cluster": c} for s, i, c in best(lists - 1)],
            "probed": [[i for _, i, _ in best(li)] for li in range(len(nprobes))],
        })
    return out


def _texts_of(ray, ds, columns, wanted, batch_size):
    """The texts of the ids ``wanted`` (one pass over the id and text columns)."""
    if columns.text is None or not wanted:
        return {}
    wanted = set(wanted)

    def pick(batch):
        import pyarrow as pa

        ids = columns.ids(batch)
        keep = pa.array([i in wanted for i in ids])
        texts = batch.column(columns.text).filter(keep).to_pylist()
        chosen = [i for i, k in zip(ids, keep.to_pylist()) if k]
        return pa.table({"id": pa.array(chosen, pa.string()),
                         "text": pa.array([t or "" for t in texts], pa.string())})

    refs = (ds.select_columns([columns.id, columns.text])
            .map_batches(pick, batch_format="pyarrow", batch_size=batch_size).to_arrow_refs())
    found = {}
    for t in ray.get(refs):
        found.update(zip(t.column("id").to_pylist(), t.column("text").to_pylist()))
    return found


def _unique_pairs(table):
    """Pairs found in several cells, once each, sorted: (id_a, id_b, cosine, same_text)."""
    if table is None or table.num_rows == 0:
        return []
    seen = {}
    for a, b, c, same in zip(table.column("id_a").to_pylist(), table.column("id_b").to_pylist(),
                             table.column("cosine").to_pylist(), table.column("same_text").to_pylist()):
        seen[(a, b)] = (c, same)
    return sorted((a, b, c, same) for (a, b), (c, same) in seen.items())


def _workers(ray):
    try:
        nodes = [n for n in ray.nodes() if n.get("Alive")]
        return {"nodes": len(nodes), "cpus": int(sum(n.get("Resources", {}).get("CPU", 0) for n in nodes))}
    except Exception:  # pragma: no cover - an old Ray without nodes()
        return {}


def main(argv=None):
    """``python -m embedscope.ray INPUT`` (or ``embedscope-ray``, or ``embedscope audit
    --engine ray``): the audit on the Ray cluster at ``--address`` (``auto``: the running one;
    none: a cluster on this machine), the report to ``--out``, ``audit.json`` to ``--json``,
    the workers' tables to ``--tables``. Exit code 2 on bad input, 1 when ``--fail-on-verdict``
    and the verdict fails."""
    import argparse
    import sys

    p = argparse.ArgumentParser(prog="embedscope-ray", description=main.__doc__)
    p.add_argument("input", help="a folder or file of Parquet shards, or a .lance dataset")
    p.add_argument("--address", help="Ray cluster address (default: start one on this machine)")
    p.add_argument("--num-cpus", type=int, help="CPUs of the local cluster (without --address)")
    p.add_argument("--object-store-mib", type=int,
                   help="object store of the local cluster, MiB (without --address; default Ray's, "
                        "30%% of RAM): what the workers' shuffle blocks may fill before Ray spills")
    p.add_argument("--out", "--html", dest="out", help="write the HTML report here")
    p.add_argument("--json", help="write audit.json here")
    p.add_argument("--tables", help="write assignments/ and duplicate_pairs.parquet here")
    p.add_argument("--text-column", default="text")
    p.add_argument("--id-column")
    p.add_argument("--vector-column")
    p.add_argument("--label-column")
    p.add_argument("--sample", type=int, default=50_000)
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--k-min", type=int, default=2)
    p.add_argument("--k-max", type=int, default=10)
    p.add_argument("--n-init", type=int, default=10)
    p.add_argument("--nlist", type=int)
    p.add_argument("--dedup-nprobe", type=int, default=3)
    p.add_argument("--dedup-threshold", type=float, default=0.95)
    p.add_argument("--queries", type=int, default=1000, help="sampled rows searched against every row")
    p.add_argument("--stability-runs", type=int, default=5)
    p.add_argument("--unstable-below", type=float, default=0.6)
    p.add_argument("--no-map", action="store_true")
    p.add_argument("--no-noise", action="store_true")
    p.add_argument("--no-health", action="store_true")
    p.add_argument("--max-duplicate-share", type=float, default=0.10)
    p.add_argument("--max-noise-share", type=float, default=0.50)
    p.add_argument("--min-recall", type=float, default=0.80)
    p.add_argument("--nprobe", type=int, default=3)
    p.add_argument("--no-timings", action="store_true")
    p.add_argument("--fail-on-verdict", action="store_true")
    args = p.parse_args(argv)
    ray = _ray()
    try:
        # A cluster of this machine's own listens on loopback only.
        local = {} if args.address else {"_node_ip_address": "127.0.0.1"}
        import logging

        if args.object_store_mib and not args.address:
            local["object_store_memory"] = args.object_store_mib * 2**20
        ray.init(address=args.address, num_cpus=args.num_cpus, include_dashboard=False,
                 log_to_driver=False, logging_level=logging.WARNING, **local)
        ray.data.DataContext.get_current().enable_progress_bars = False
        # Ray Data reports every dataset's plan at INFO; the summary below is what matters.
        logging.getLogger("ray.data").setLevel(logging.WARNING)
        result = audit(args.input, text_column=args.text_column, id_column=args.id_column,
                       vector_column=args.vector_column, label_column=args.label_column,
                       sample=args.sample, seed=args.seed, k_min=args.k_min, k_max=args.k_max,
                       n_init=args.n_init, nlist=args.nlist, dedup_nprobe=args.dedup_nprobe,
                       dedup_threshold=args.dedup_threshold, queries=args.queries,
                       timings=not args.no_timings, stability_runs=args.stability_runs,
                       unstable_below=args.unstable_below, map=not args.no_map,
                       noise=not args.no_noise, health=not args.no_health,
                       max_duplicate_share=args.max_duplicate_share,
                       max_noise_share=args.max_noise_share, min_recall=args.min_recall,
                       nprobe=args.nprobe)
        if args.out:
            result.write_html(args.out)
        if args.json:
            result.write_json(args.json, args.out)
        if args.tables:
            result.write_tables(args.tables)
    except (_native.EmbedscopeError, FileNotFoundError, TypeError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    finally:
        if ray.is_initialized():
            ray.shutdown()
    verdict = result.verdict
    print(f"{result!r}{' -> ' + args.out if args.out else ''}", file=sys.stderr)
    for note in result.audit.notes:
        print(f"note: {note}", file=sys.stderr)
    print("verdict: " + ("PASS" if verdict["pass"] else f"FAIL ({', '.join(verdict['failed'])})"),
          file=sys.stderr)
    if args.fail_on_verdict and not verdict["pass"]:
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
