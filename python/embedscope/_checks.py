"""Chunk health and two corpora compared, on anything :func:`embedscope.load` takes."""

from . import _native
from ._audit import _Result, load
from ._progress import resolve as _resolve_progress


class HealthReport(_Result):
    """What :func:`health` found; renders in a notebook."""


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
