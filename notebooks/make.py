#!/usr/bin/env python3
"""Writes the notebooks' sources (cells without outputs). `scripts/notebooks.py --write`
executes them on the evcxr kernel and stores the outputs. Edit the cells here, not in the
.ipynb files."""
import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent

SETUP = """// First cell: compile settings and the crate (path dependency on this checkout).
// `:opt 2` builds optimised code (the algorithms are slow unoptimised). On the kernel
// "Rust (embedscope)" the build folder outlives the session, so only the first session after a
// change of the crate builds it; the others start in seconds.
:opt 2
:dep embedscope = { path = "..", default-features = false }"""


def md(text):
    return {"cell_type": "markdown", "metadata": {}, "source": text.strip("\n")}


def code(text, html=False):
    meta = {"tags": ["expect-html"]} if html else {}
    return {"cell_type": "code", "metadata": meta, "execution_count": None, "outputs": [],
            "source": text.strip("\n")}


RUST = {
    "kernelspec": {"display_name": "Rust (embedscope)", "language": "rust",
                   "name": "embedscope-rust"},
    "language_info": {"codemirror_mode": "rust", "file_extension": ".rs",
                      "mimetype": "text/rust", "name": "Rust", "pygment_lexer": "rust",
                      "version": ""},
}
# The kernel scripts/notebooks.sh registers for the Python package's venv.
PYTHON = {
    "kernelspec": {"display_name": "Python (embedscope)", "language": "python",
                   "name": "embedscope-python"},
    "language_info": {"name": "python", "file_extension": ".py", "mimetype": "text/x-python"},
}


def notebook(cells, metadata=RUST):
    return {
        "cells": cells,
        "metadata": metadata,
        "nbformat": 4,
        "nbformat_minor": 5,
    }


tutorial = notebook([
    md("""
# The tutorial, in Rust

The reference workflow end to end on its six sentences: embed them with all-MiniLM-L6-v2 (real
weights, offline), K-Means with 2 clusters, the optimal K with both plots, HDBSCAN with noise,
topic labels, duplicates, cluster-based retrieval, the UMAP scatter, and the report.

Run `scripts/audit-sample.sh` once first: it installs the model into
`~/.cache/embedscope/models/`.
"""),
    code(SETUP),
    md("""
## Are the chunks fit to embed?

Before paying for embeddings: tokens against the model's limit (256 word pieces, counted by its
own tokenizer), empty chunks, boilerplate, encoding damage and languages.
"""),
    code("""
use embedscope::embed::default_model_dir;
use embedscope::health::{Health, TokenCounter};
let chunks = [
    "Machine learning is a subset of artificial intelligence",
    "Deep learning uses neural networks with many layers",
    "Python is a popular programming language for data science",
    "JavaScript is used for web development",
    "Neural networks are inspired by the human brain",
    "TypeScript adds static typing to JavaScript",
];
let ids: Vec<String> = (0..chunks.len()).map(|i| i.to_string()).collect();
let counter = TokenCounter::from_model_dir(&default_model_dir()).expect("run scripts/audit-sample.sh to install the model");
let health = Health::params().run_texts(&chunks, &ids, Some(&counter)).unwrap();
health
""", html=True),
    md("## Embed the six sentences"),
    code("""
use embedscope::embed::{embed_texts, LocalModel};
use embedscope::progress::Silent;
// The six sentences of the health cell above.
let texts: Vec<String> = chunks.iter().map(|s| s.to_string()).collect();
let model = LocalModel::load(&default_model_dir()).expect("run scripts/audit-sample.sh to install the model");
let (vectors, _stats) = embed_texts(&model, &texts, None, &Silent).unwrap();
vectors
""", html=True),
    md("## K-Means with 2 clusters"),
    code("""
use embedscope::cluster::KMeans;
let kmeans = KMeans::params(2).n_init(10).seed(42).fit(&vectors).unwrap();
for (text, cluster) in texts.iter().zip(kmeans.labels()) {
    println!("cluster {cluster}: {text}");
}
kmeans
""", html=True),
    md("""
K-Means again with another seed: once the session's first cell has loaded the crate, a cell
like this compiles in a second or two (BENCHMARKS.md, "Notebooks").
"""),
    code("""
let again = KMeans::params(2).n_init(10).seed(7).fit(&vectors).unwrap();
(again.inertia(), kmeans.inertia())
"""),
    md("""
## How many clusters: silhouette and elbow

K-Means for each k, scored by silhouette (higher is better; the chosen K is ringed) and inertia
(the elbow). On six sentences every score is noisy; the sample notebook shows a real corpus.
"""),
    code("""
use embedscope::cluster::KSweep;
let sweep = KSweep::params().k_min(2).k_max(5).fit(&vectors).unwrap();
sweep
""", html=True),
    md("""
## Are the topics stable?

The two clusters above came from one seed. Fit K-Means again with other seeds and on bootstrap
resamples: a cluster's stability is the mean Jaccard of its best match in those runs (below 0.6
it is flagged: an accident of the run, not a topic), and each resample's silhouette sweep votes
for a K. A resample of six sentences holds only three to five of them, so the vote is noisy here.
"""),
    code("""
use embedscope::stability::Stability;
let stability = Stability::params().k_range(2, 3).run(&vectors, 2).unwrap();
stability
""", html=True),
    md("## HDBSCAN, with noise"),
    code("""
use embedscope::cluster::{Hdbscan, Metric};
// min_samples 1: with six points, the default (min_samples = min_cluster_size) calls all noise.
let hdbscan = Hdbscan::params().min_cluster_size(2).min_samples(1).metric(Metric::Cosine).fit(&vectors).unwrap();
for (text, label) in texts.iter().zip(hdbscan.labels()) {
    match label {
        Some(c) => println!("cluster {c}: {text}"),
        None => println!("noise:     {text}"),
    }
}
hdbscan
""", html=True),
    md("## Topic labels: c-TF-IDF keywords"),
    code("""
use embedscope::label::{topics, KeywordParams};
let assigned: Vec<Option<usize>> = kmeans.labels().iter().map(|&c| Some(c)).collect();
let topics = topics(&texts, &assigned, 2, &KeywordParams::default()).unwrap();
topics
""", html=True),
    md("""
## LLM labels (optional)

Runs against any OpenAI-compatible API when `OPENAI_API_KEY` or `OPENAI_BASE_URL` is set;
otherwise the keyword labels above stay.
"""),
    code("""
use embedscope::label::llm::{llm_labels, LlmParams, TopicInput};
if std::env::var("OPENAI_API_KEY").is_ok() || std::env::var("OPENAI_BASE_URL").is_ok() {
    let inputs: Vec<TopicInput> = topics.keywords.iter().enumerate().map(|(c, kw)| TopicInput {
        keywords: kw.iter().take(10).map(|k| k.term.clone()).collect(),
        documents: texts.iter().zip(kmeans.labels()).filter(|(_, l)| **l == c).map(|(t, _)| t.clone()).collect(),
    }).collect();
    for (c, l) in llm_labels(&inputs, &topics.labels, &LlmParams::from_env()).unwrap().iter().enumerate() {
        println!("cluster {c}: {} ({:?}{})", l.label, l.source, l.reason.as_deref().map(|r| format!(": {r}")).unwrap_or_default());
    }
} else {
    println!("No OPENAI_API_KEY or OPENAI_BASE_URL: the keyword labels stay: {:?}", topics.labels);
}
"""),
    md("## Duplicates at cosine >= 0.95 (and where the nearest neighbours lie)"),
    code("""
let duplicates = embedscope::dedup::scan(&vectors, 0.95).unwrap();
duplicates
""", html=True),
    md("## Cluster-based retrieval: probe the nearest cluster, compare with exact search"),
    code("""
use embedscope::retrieve::ClusterIndex;
let index = ClusterIndex::params().nlist(2).build(&vectors).unwrap();
let query = "What is deep learning?";
let probed = index.search_text(&model, query, 3, 1).unwrap();
let q = embed_texts(&model, &[query.to_string()], None, &Silent).unwrap().0;
let exact = index.exact_search(&q, 3).unwrap().remove(0);
println!("query: {query}");
println!("probing 1 of 2 clusters:");
for h in &probed {
    println!("  {:.3} (cluster {}) {}", h.score, h.cluster, texts[h.row]);
}
println!("exact search:");
for e in &exact {
    println!("  {:.3} (cluster {}) {}", e.score, e.cluster, texts[e.row]);
}
let found = exact.iter().filter(|e| probed.iter().any(|h| h.row == e.row)).count();
println!("recall@3 of the probe: {found}/3");
"""),
    md("## The UMAP scatter"),
    code("""
use embedscope::project::Umap;
let umap = Umap::params().n_neighbors(3).seed(42).fit(&vectors).unwrap();
let names: Vec<String> = topics.labels.clone();
umap.scatter(kmeans.labels(), &names, &texts)
""", html=True),
    md("## The report"),
    code("""
use embedscope::{Audit, Corpus};
use embedscope::report::{write_html, ReportOptions};
let mut corpus = Corpus::from_texts(texts.clone());
corpus.vectors = Some(vectors.clone());
let audit = Audit::builder().k_range(2, 4).run(&corpus).unwrap().without_timings();
std::fs::create_dir_all("../reports").unwrap();
write_html("../reports/tutorial.html".as_ref(), &audit, &ReportOptions::default()).unwrap();
println!("wrote reports/tutorial.html");
audit
""", html=True),
])

sample = notebook([
    md("""
# Audit of the sample corpus

2,000 Debian package descriptions with their all-MiniLM-L6-v2 vectors
(`samples/debian-2k.parquet`): every stage of the audit, the full report written to
`reports/sample-notebook.html`, and the tables as polars DataFrames.
"""),
    code(SETUP),
    code("""
use embedscope::io::{load, LoadOptions};
let corpus = load("../samples/debian-2k.parquet".as_ref(), &LoadOptions::default()).unwrap();
let vectors = corpus.vectors.clone().unwrap();
vectors
""", html=True),
    md("## The audit (summary here; the full report is written to reports/)"),
    code("""
use embedscope::Audit;
use embedscope::report::{write_html, ReportOptions};
let audit = Audit::builder().run(&corpus).unwrap().without_timings();
std::fs::create_dir_all("../reports").unwrap();
write_html("../reports/sample-notebook.html".as_ref(), &audit, &ReportOptions::default()).unwrap();
audit
""", html=True),
    md("## Every document as a DataFrame: cluster, label, outlier scores, duplicate groups"),
    code("""
// A block, so the DataFrame is not kept as a notebook variable (its type lives in polars).
{
    let frame = audit.to_frame().unwrap();
    println!("{}", frame.head(Some(8)));
    println!("{} rows, columns {:?}", frame.height(), frame.get_column_names());
}
"""),
    md("## Cluster-based retrieval against exact search"),
    code("""
use embedscope::retrieve::RetrievalEval;
let eval = RetrievalEval::params().repeats(1).fit(&vectors).unwrap();
eval
""", html=True),
    md("""
## Two snapshots compared

June holds the first 1,500 documents, July the last 1,500: a third of June is gone, a third of
July is new. Each snapshot is audited, then `Compare` sets the audits side by side, matches the
topics, tests whether the corpus moved (MMD with a permutation p-value) and finds new documents
that copy old ones; the report links the two maps (pick a cluster, see where its documents sit on
the other side).
"""),
    code("""
use embedscope::compare::Compare;
use embedscope::report::write_compare_html;
let mut june = corpus.select(&(0..1500).collect::<Vec<_>>());
june.source = "june.parquet".into();
let mut july = corpus.select(&(500..2000).collect::<Vec<_>>());
july.source = "july.parquet".into();
let june_audit = Audit::builder().run(&june).unwrap();
let july_audit = Audit::builder().run(&july).unwrap();
let comparison = Compare::params()
    .run_audited(&june, &july, &june_audit, &july_audit)
    .unwrap()
    .without_timings();
write_compare_html("../reports/compare-notebook.html".as_ref(), &comparison, &ReportOptions::default()).unwrap();
comparison
""", html=True),
    md("""
## What users ask against what the corpus holds

Questions: the short descriptions of 60 of the documents, and three about things Debian does
not package. Each is embedded with the same model, run against the corpus (its exact top 10),
and set against the audit's clusters: coverage gaps, demand against supply, documents nobody
retrieves, and recall of cluster retrieval on real questions.
"""),
    code("""
use embedscope::embed::{default_model_dir, embed_texts, LocalModel};
use embedscope::progress::Silent;
use embedscope::queries::{Queries, Topics};
let mut asked: Vec<String> = corpus.texts.as_ref().unwrap().iter().step_by(33).take(60)
    .map(|t| t.split(". ").next().unwrap_or("").to_string())
    .collect();
asked.extend(["file my income tax return online", "a recipe for fresh pasta with eggs", "book cheap flights to Lisbon"].map(String::from));
let model = LocalModel::load(&default_model_dir()).expect("run scripts/audit-sample.sh to install the model");
let mut questions = embedscope::Corpus::from_texts(asked.clone());
questions.vectors = Some(embed_texts(&model, &asked, None, &Silent).unwrap().0);
let topics = Topics {
    labels: audit.labels.clone(),
    names: audit.clusters.iter().map(|c| c.label.clone()).collect(),
};
let asked_report = Queries::params().topics(Some(topics)).run(&corpus, &questions).unwrap();
asked_report
""", html=True),
])

python = notebook([
    md("""
# embedscope from Python

The same Rust core as the command line and the Rust notebooks, through the Python package
(`scripts/python.sh` builds and installs the wheel; `pip install embedscope-*.whl` elsewhere):
data frames and numpy arrays in, results out, the audit rendered right here.
"""),
    code("""
import numpy as np
import polars as pl
import embedscope as es

frame = pl.read_parquet("../samples/debian-2k.parquet")
print(es.__version__, frame.shape, frame.columns)
"""),
    md("""
## The whole audit, from a polars DataFrame

The `embedding` column holds the all-MiniLM-L6-v2 vectors; without it, the `text` column would
be embedded with the local model. `timings=False` makes the output the same run to run.
"""),
    code("""
report = es.audit(frame, label_column="section", timings=False)
report.write_html("../reports/sample-python.html")
report
""", html=True),
    md("## Every document as a pandas DataFrame"),
    code("""
table = report.to_pandas()
print(report.tables, table.shape)
table.head(8)
""", html=True),
    md("""
## The stages one by one, on numpy

scikit-learn's shape: `fit` returns the estimator, results end in `_`, noise is `-1`.
"""),
    code("""
X = frame["embedding"].to_numpy()          # (2000, 384) float32, no copy
sweep = es.KSweep(2, 12).fit(X)
print("chosen K", sweep.chosen_k_, "elbow", sweep.elbow_k_)
sweep
""", html=True),
    code("""
kmeans = es.KMeans(sweep.chosen_k_).fit(X)
points = es.Umap(n_components=5, min_dist=0.0).fit_transform(X)   # BERTopic's reduction
hdbscan = es.Hdbscan(min_cluster_size=15).fit(points)
texts = frame["text"].to_list()
for t in es.topics(texts, kmeans.labels_)[:5]:
    print(t["cluster"], t["size"], t["label"])
print("HDBSCAN:", hdbscan.n_clusters_, "clusters,", int((hdbscan.labels_ == -1).sum()), "noise rows")
"""),
    code("""
pairs, cosines = es.near_duplicates(X, 0.95)
index = es.ClusterIndex().fit(X)
ids, _ = index.search(X[:200], k=10, nprobe=3)
exact, _ = index.exact_search(X[:200], k=10)
recall = np.mean([len(set(a) & set(b)) / 10 for a, b in zip(ids, exact)])
print(f"{len(pairs)} near-duplicate pairs; IVF recall@10 at nprobe 3: {recall:.3f} over {index.nlist_} cells")
"""),
    md("## Embedding new text with the local model, and asking the index"),
    code("""
embedder = es.Embedder()                       # all-MiniLM-L6-v2, offline, cached
q = embedder.embed(["a tool to edit photos", "a Python web framework"])
ids, scores = index.search(q, k=3, nprobe=8)
for row, score in zip(ids, scores):
    print([(texts[i][:50], round(float(s), 3)) for i, s in zip(row, score)])
"""),
], PYTHON)

ALL = {"01-tutorial.ipynb": tutorial, "02-audit-sample.ipynb": sample, "03-python.ipynb": python}
# `make.py NAME ...` rewrites only those (the others keep their stored formatting and outputs).
for name, nb in [(n, ALL[n]) for n in (sys.argv[1:] or ALL)]:
    for i, cell in enumerate(nb["cells"]):
        cell["id"] = f"cell-{i:02d}"
    path = HERE / name
    old = json.loads(path.read_text()) if path.exists() else None
    # Keep stored outputs of unchanged cells.
    if old:
        for cell, prev in zip(nb["cells"], old["cells"]):
            if cell["cell_type"] == "code" and cell["source"] == "".join(prev.get("source", "")):
                cell["outputs"] = prev.get("outputs", [])
                cell["execution_count"] = prev.get("execution_count")
    path.write_text(json.dumps(nb, indent=1, ensure_ascii=False) + "\n")
    print("wrote", path)
