"""embedscope: audit a corpus of text embeddings for retrieval-augmented generation.

The Rust core does the work (the same code as the ``embedscope`` command line); this package
passes numpy arrays and data frames in and results out::

    import embedscope as es

    report = es.audit("samples/debian-2k.parquet")      # or a pandas/polars DataFrame
    report                                               # renders in Jupyter / VS Code
    report.to_pandas()                                   # one row per document
    report.write_html("reports/sample.html")

    X = es.Embedder().embed(texts)                       # all-MiniLM-L6-v2, offline
    labels = es.KMeans(8).fit(X).labels_
    points = es.Umap(n_components=5, min_dist=0.0).fit_transform(X)
    topics = es.Hdbscan(min_cluster_size=10).fit(points).labels_

Every error of the core is raised as :class:`EmbedscopeError` (a ``ValueError``) with the
message the command line prints. Long calls release the GIL.
"""

from ._native import (
    ClusterIndex,
    Corpus,
    Dedup,
    Embedder,
    EmbedscopeError,
    Embeddings,
    Hdbscan,
    KMeans,
    KSweep,
    Stability,
    Umap,
    __version__,
    near_duplicates,
    topics,
)
from ._audit import Audit, audit, load
from ._checks import Comparison, HealthReport, QueryReport, compare, health, queries
from ._progress import progress_bar

__all__ = [
    "Audit",
    "Comparison",
    "HealthReport",
    "ClusterIndex",
    "Corpus",
    "Dedup",
    "Embedder",
    "EmbedscopeError",
    "Embeddings",
    "Hdbscan",
    "KMeans",
    "KSweep",
    "QueryReport",
    "Stability",
    "Umap",
    "__version__",
    "audit",
    "compare",
    "health",
    "load",
    "near_duplicates",
    "progress_bar",
    "queries",
    "topics",
]
