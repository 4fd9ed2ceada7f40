#!/usr/bin/env bash
# Duplicates and cluster-based retrieval, embedscope vs FAISS / numpy / the reference workflow,
# same data, same run: the peer harness first (one thread, as recorded), then ours, then one
# table of ratios.
# Usage: benches/dedup_retrieval.sh DATA.npy [REPEATS]   (e.g. ../shared/data/debian-30k.npy)
# Needs the peer harness (../shared/peers/bench.py, or PEERS_BENCH) and its Python (PEERS_PY,
# default ~/.cache/embedscope/peers-venv/bin/python with ../shared/peers/requirements.txt).
set -euo pipefail
data="$(realpath "$1")"
repeats="${2:-3}"
source "$(dirname "$0")/common.sh"
name="$(basename "$data" .npy)"
PEERS_OUT="$out/peers" env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE "$py" "$bench" "$data" \
  --tasks retrieval,dedup --repeats "$repeats" --threads 1 --name "$name" >&2
for i in $(seq "$repeats"); do
  "$bin" dedup "$data" --mode exact --threshold 0.9 --out "$out/pairs.csv" --json > "$out/dedup-$i.json"
  "$bin" retrieval-eval "$data" --repeats 3 --json > "$out/retrieval-$i.json"
done
"$py" - "$out" "$name" "$repeats" <<'PY'
import json, sys, statistics as st
d, name, R = sys.argv[1], sys.argv[2], int(sys.argv[3])
peers = json.load(open(f"{d}/peers/results/{name}.json"))["tasks"]
dd = {r["method"]: r for r in peers["dedup"]["results"] if "median_s" in r}
ours = [json.load(open(f"{d}/dedup-{i}.json")) for i in range(1, R + 1)]
t = st.median(o["seconds"] for o in ours)
f = dd["faiss_IndexFlatIP_range_search"]
print(f"dedup >= 0.90: embedscope {t:.3f} s, {ours[0]['pairs']} pairs | FAISS range_search "
      f"{f['median_s']:.3f} s, {f['pairs']['0.90']} pairs | ratio {f['median_s'] / t:.2f}x")
rt = peers["retrieval"]
faiss = {r["nprobe"]: r for r in rt["results"] if r["method"] == "faiss_IndexIVFFlat"}
runs = [json.load(open(f"{d}/retrieval-{i}.json")) for i in range(1, R + 1)]
print(f"retrieval: nlist ours {runs[0]['nlist']} / FAISS {rt['nlist']}, {runs[0]['n_queries']} queries")
print("nprobe | recall@10 ours | FAISS | qps ours (median) | FAISS | ratio")
for p in runs[0]["per_nprobe"]:
    n = p["nprobe"]
    qps = st.median(next(x["qps"] for x in r["per_nprobe"] if x["nprobe"] == n) for r in runs)
    fr = faiss.get(n)
    if fr:
        print(f"{n} | {p['recall_at_10']:.4f} | {fr['recall@10']:.4f} | {qps:.0f} | {fr['qps']:.0f} | {qps / fr['qps']:.2f}x")
fb = next(b for b in rt["builds"] if b["method"].startswith("faiss"))
print(f"build: ours {st.median(r['build_seconds'] for r in runs):.3f} s | FAISS {fb['median_s']:.3f} s")
PY
