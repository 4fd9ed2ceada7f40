"""``audit()`` and ``load()``: any corpus a Python user holds (a path or store URL, a pandas or
polars DataFrame, a pyarrow Table, a dict of columns, a numpy matrix) into the core's corpus,
and the audit's result with its renderings and tables."""

import io
import json
import os

import numpy as np

from . import _native
from ._progress import resolve as _resolve_progress


def load(data, *, text_column="text", id_column=None, vector_column=None, label_column=None,
         table=None, sql=None, order_by=None, batch_rows=10_000, name=None):
    """The corpus ``data`` holds, with the command line's column rules and messages.

    ``data``: a path (``.jsonl``, ``.csv``, ``.parquet``, ``.npy``, a folder of shards), a store
    URL (``postgres://`` with ``table`` or ``sql``, ``chroma://``), a pandas or polars
    DataFrame, a pyarrow Table, a dict of columns, a 2-D numpy array of vectors, or a
    :class:`Corpus` (returned as it is). Columns: ``text_column`` (default ``text``),
    ``vector_column`` (default ``embedding`` or ``vector`` when present), ``id_column`` (default
    ``id`` when present), ``label_column``. ``name`` names an in-memory frame in messages.
    """
    if isinstance(data, _native.Corpus):
        return data
    columns = dict(text_column=text_column, id_column=id_column,
                   vector_column=vector_column, label_column=label_column)
    if isinstance(data, (str, os.PathLike)):
        return _native.Corpus.load(os.fspath(data), table=table, sql=sql, order_by=order_by,
                                   batch_rows=batch_rows, **columns)
    if isinstance(data, np.ndarray):
        return _native.Corpus.from_columns(source=name or "<array>", vectors=data)
    return from_arrow(_to_arrow(data), name or f"<{type(data).__name__}>", **columns)


def from_arrow(table, source, *, text_column="text", id_column=None, vector_column=None,
               label_column=None):
    """The corpus of a pyarrow Table (or RecordBatch): columns chosen and rows checked as a
    file's, errors naming ``source``."""
    text, vector, label, ident = _native.resolve_columns(
        source, list(table.column_names), text_column=text_column, id_column=id_column,
        vector_column=vector_column, label_column=label_column)
    cells = {}
    if text is not None:
        cells["texts"] = _strings(table.column(text))
    if label is not None:
        cells["labels"] = _strings(table.column(label))
    if ident is not None:
        cells["ids"] = _strings(table.column(ident))
    if vector is not None:
        values, offsets, nulls = _vector_cells(table.column(vector), source, vector)
        cells.update(vectors=values, vector_offsets=offsets, vector_nulls=nulls)
    return _native.Corpus.from_columns(source=source, columns=(text, vector, label, ident),
                                       **cells)


def _to_arrow(data):
    """A pyarrow Table from a pandas/polars DataFrame, a pyarrow Table or a dict of columns."""
    import pyarrow as pa

    if isinstance(data, (pa.Table, pa.RecordBatch)):
        return data
    module = type(data).__module__.split(".")[0]
    if module == "polars":
        return data.to_arrow()
    if module == "pandas":
        # Column by column: pyarrow's pandas conversion would turn NaN inside a vector into a
        # null, hiding the value the row check should name.
        columns = {}
        for name in data.columns:
            col = data[name]
            if col.dtype == object and len(col) and isinstance(col.iloc[0], (np.ndarray, list)):
                columns[str(name)] = pa.array(
                    [None if v is None else np.asarray(v) for v in col], from_pandas=False)
            else:
                columns[str(name)] = pa.Array.from_pandas(col)
        return pa.table(columns)
    if isinstance(data, dict):
        return pa.table({k: _matrix_column(v) if isinstance(v, np.ndarray) and v.ndim == 2 else v
                         for k, v in data.items()})
    raise TypeError(
        "data must be a path, a store URL, a pandas or polars DataFrame, a pyarrow Table, a dict "
        f"of columns, a numpy array or a Corpus; got {type(data).__name__}")


def _matrix_column(matrix):
    """A rows x dim array as a fixed-size-list column (one copy at most, for the dtype)."""
    import pyarrow as pa

    values = np.ascontiguousarray(matrix).reshape(-1)
    return pa.FixedSizeListArray.from_arrays(pa.array(values), matrix.shape[1])


def _strings(column):
    """A column's cells as strings (None for null), whatever their type."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if not (pa.types.is_string(column.type) or pa.types.is_large_string(column.type)):
        column = pc.cast(column, pa.string())
    return column.to_pylist()


def _vector_cells(column, source, name):
    """A list column's values back to back (float32), Arrow offsets and null flags."""
    import pyarrow as pa
    import pyarrow.compute as pc

    column = column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column
    kind = column.type
    if not (pa.types.is_list(kind) or pa.types.is_large_list(kind)
            or pa.types.is_fixed_size_list(kind)):
        raise _native.EmbedscopeError(
            f"{source}: column `{name}` holds {kind}, not vectors (lists of numbers)")
    if not (pa.types.is_floating(kind.value_type) or pa.types.is_integer(kind.value_type)):
        raise _native.EmbedscopeError(
            f"{source}: column `{name}` holds lists of {kind.value_type}, not numbers")
    lengths = pc.list_value_length(column).fill_null(0).to_numpy(zero_copy_only=False)
    offsets = np.zeros(len(column) + 1, dtype=np.int64)
    np.cumsum(lengths, out=offsets[1:])
    nulls = column.is_null().to_numpy(zero_copy_only=False)
    values = pc.list_flatten(column)
    if values.null_count:
        first = int(np.flatnonzero(values.is_null().to_numpy(zero_copy_only=False))[0])
        row = int(np.searchsorted(offsets, first, side="right") - 1)
        raise _native.EmbedscopeError(
            f"{source}: row {row}: column `{name}`, element {first - offsets[row]}: null")
    values = values.to_numpy(zero_copy_only=False)
    if values.dtype.kind != "f":
        values = values.astype(np.float32)
    return values, offsets.tolist(), nulls.tolist() if nulls.any() else None


class _Result:
    """A native result shown in a notebook (its HTML), with its verdict and its JSON."""

    def __init__(self, native):
        self._native = native

    def _repr_html_(self):
        return self._native._repr_html_()

    def __repr__(self):
        return repr(self._native)

    @property
    def passed(self):
        """Whether every measured check held."""
        return self._native.passed

    def to_json(self):
        """The result's JSON text (what the command line's ``--json`` writes)."""
        return self._native.to_json()

    def to_dict(self):
        """The result as Python data."""
        return json.loads(self._native.to_json())


class Audit(_Result):
    """The result of :func:`audit`: renders itself in Jupyter and VS Code, gives its tables to
    pandas and polars, writes the report, ``audit.json`` and Parquet tables."""

    @property
    def corpus(self):
        """The corpus audited."""
        return self._native.corpus

    @property
    def chosen_k(self):
        """The chosen number of clusters."""
        return self._native.chosen_k

    @property
    def notes(self):
        """What the audit noted (sampling, skipped sections, failures it survived)."""
        return self._native.notes

    @property
    def verdict(self):
        """The verdict: pass, failed checks, each check with its value and limit."""
        return self.to_dict()["verdict"]

    @property
    def tables(self):
        """Names of the tables: assignments, and as the sections ran duplicate_pairs, queries."""
        return self._native.table_names()

    def to_arrow(self, table="assignments"):
        """A table as a pyarrow Table (``assignments``: one row per document)."""
        import pyarrow.parquet as pq

        return pq.read_table(io.BytesIO(self._native.table(table)))

    def to_pandas(self, table="assignments"):
        """A table as a pandas DataFrame (``assignments``: one row per document)."""
        return self.to_arrow(table).to_pandas()

    def to_polars(self, table="assignments"):
        """A table as a polars DataFrame (``assignments``: one row per document)."""
        import polars as pl

        return pl.read_parquet(io.BytesIO(self._native.table(table)))

    def write_html(self, path):
        """Writes the self-contained HTML report (atomically); returns the path."""
        self._native.write_html(os.fspath(path))
        return path

    def write_json(self, path, report=None):
        """Writes ``audit.json``, naming the report beside it."""
        self._native.write_json(os.fspath(path), None if report is None else os.fspath(report))
        return path

    def write_tables(self, directory):
        """Writes the tables as ``<name>.parquet`` into ``directory``; returns the paths."""
        return self._native.write_tables(os.fspath(directory))


def audit(data, *, text_column="text", id_column=None, vector_column=None, label_column=None,
          table=None, sql=None, queries=None, query_text_column="text", query_id_column=None,
          query_vector_column=None, relevant_column=None, embedder=None, progress=None,
          **options):
    """Audits a corpus as ``embedscope audit`` does, with its defaults; returns an
    :class:`Audit`.

    ``data`` and the column arguments: as :func:`load`. ``queries``: real queries (anything
    :func:`load` takes) for the queries section, its columns named by ``query_text_column``,
    ``query_id_column``, ``query_vector_column``, and ``relevant_column`` for judgements (the
    ids relevant to each query, comma-separated or a JSON list: recall@k, MRR and nDCG@10);
    with ``query_top_k`` (10), ``gap_threshold``, ``gap_quantile`` (0.05). ``embedder``: an :class:`Embedder` or a kind
    (``"local"``, ``"local-int8"``, ``"openai"``, ``"fastembed"``); default the local
    all-MiniLM-L6-v2, used when the corpus has no vectors. ``progress``: True for tqdm bars, or
    a callable ``(stage, done, total)``.

    Options (the command line's flags, same defaults): ``k_min`` 2, ``k_max`` 10, ``n_init``
    10, ``seed`` 42, ``sample`` (rows for the statistic stages), ``exact``, ``max_memory``
    ("auto"), ``reembed``, ``map``, ``duplicates``, ``noise``, ``retrieval``, ``health``
    (True), ``max_tokens``, ``strip_boilerplate``, ``stability_runs`` 5, ``unstable_below``
    0.6, ``dedup_threshold`` 0.95, ``max_duplicate_share`` 0.10, ``max_noise_share`` 0.50,
    ``min_recall`` 0.80, ``nprobe`` 3, ``max_gap_share`` 0.20, ``min_query_recall`` 0.70,
    ``max_dead_share`` 1.0, ``timings`` (False gives byte-identical outputs run to run).
    """
    corpus = load(data, text_column=text_column, id_column=id_column,
                  vector_column=vector_column, label_column=label_column, table=table, sql=sql)
    if queries is not None:
        queries = load(queries, text_column=query_text_column, id_column=query_id_column,
                       vector_column=query_vector_column, label_column=relevant_column)
    if isinstance(embedder, str):
        embedder = _native.Embedder(embedder)
    native = _native.run_audit(corpus, embedder=embedder, queries=queries,
                               progress=_resolve_progress(progress), **options)
    return Audit(native)
