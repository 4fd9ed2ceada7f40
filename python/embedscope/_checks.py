"""Chunk health and two corpora compared, on anything :func:`embedscope.load` takes."""

from . import _native
from ._audit import _Result, load
from ._progress import resolve as _resolve_progress


class HealthReport(_Result):
    """What :func:`health` found; renders in a notebook."""


class QueryReport(_Result):
    """What :func:`queries` found; renders in a notebook."""


class Comparison(_Result):
    """What :func:`compare` found; renders in a notebook, writes the linked-maps report."""

    def write_html(self, path):
        self._native.write_html(str(path))
        return path

    def write_json(self, path):
        self._native.write_json(str(path))
        return path


def health(data, *, text_column="text", id_column=None, embedder=None, **options):
    """Chunk health before embedding, as ``embedscope health``: ``data`` is a list of texts or
    anything :func:`load` takes. ``embedder``: whose tokenizer counts tokens (default the local
    all-MiniLM-L6-v2's); options ``tokens`` (True), ``max_tokens``, ``min_tokens`` (8),
    ``boilerplate_min_share`` (0.01), ``seed`` (42)."""
    if isinstance(data, (list, tuple)) and all(isinstance(t, str) for t in data):
        texts, ids = list(data), None
    else:
        corpus = load(data, text_column=text_column, id_column=id_column)
        if corpus.texts is None:
            raise _native.EmbedscopeError(
                f"{corpus.source}: chunk health needs texts: the input has no text column "
                f"`{text_column}`")
        texts, ids = corpus.texts, corpus.ids
    if isinstance(embedder, str):
        embedder = _native.Embedder(embedder)
    return HealthReport(_native.health(texts, ids=ids, embedder=embedder, **options))


def compare(a, b, *, text_column="text", id_column=None, vector_column=None, progress=None,
            **options):
    """Two corpora compared, as ``embedscope compare A B`` (each side needs vectors; rows are
    matched by id). Options as the command line's: ``quick``, ``map``, ``k_min``, ``k_max``,
    ``n_init``, ``seed``, ``neighbours``, ``queries``, ``sample``, ``dedup_threshold``,
    ``nprobe``, ``timings``."""
    sides = [load(x, text_column=text_column, id_column=id_column, vector_column=vector_column)
             for x in (a, b)]
    return Comparison(_native.compare(*sides, progress=_resolve_progress(progress), **options))


def queries(data, asked, *, text_column="text", id_column=None, vector_column=None,
            query_text_column="text", query_id_column=None, query_vector_column=None,
            relevant_column=None, embedder=None, **options):
    """What users ask against what the corpus holds, as ``embedscope queries INPUT QUERIES``:
    coverage gaps, demand and supply per topic, dead and hot documents, cluster retrieval's
    recall on the queries, and with ``relevant_column`` (the ids relevant to each query) recall@k,
    MRR and nDCG@10. ``data`` and ``asked``: anything :func:`load` takes (a list of strings
    for ``asked`` too); a side without vectors is embedded with ``embedder``. Options as the
    command line's: ``top_k`` (10), ``gap_threshold``, ``gap_quantile`` (0.05), ``nprobe``
    ([1, 2, 4, 8, 16]), ``nlist``, ``k_min``, ``k_max``, ``n_init``, ``topics`` (True),
    ``seed`` (42)."""
    corpus = load(data, text_column=text_column, id_column=id_column, vector_column=vector_column)
    if isinstance(asked, (list, tuple)) and all(isinstance(t, str) for t in asked):
        asked = {"text": list(asked)}
    asked = load(asked, text_column=query_text_column, id_column=query_id_column,
                 vector_column=query_vector_column, label_column=relevant_column)
    if isinstance(embedder, str):
        embedder = _native.Embedder(embedder)
    return QueryReport(_native.queries(corpus, asked, embedder=embedder, **options))
