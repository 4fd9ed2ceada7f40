#!/usr/bin/env bash
# HDBSCAN on the NN-descent kNN graph (`--knn-nndescent`) vs fast_hdbscan, which takes the same
# route above 30 dimensions: same data, same run, both on 2 threads. The peer harness first
# (fast_hdbscan only: the hdbscan library needs ~9 min per setting at 30k rows), then ours,
# then times, ratios and agreement (ARI) with fast_hdbscan and, when REFERENCE_DIR holds
# hdbscan_lib_mcs{5,15}.npy label files (the harness's labels/<name>/hdbscan folder of an
# earlier run with the hdbscan library), with the library.
# Usage: benches/hdbscan_fast.sh DATA.npy [REPEATS]   (e.g. ../shared/data/debian-30k.npy)
set -euo pipefail
data="$(realpath "$1")"
repeats="${2:-3}"
source "$(dirname "$0")/common.sh"
name="$(basename "$data" .npy)"
PEERS_OUT="$out/peers" env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE "$py" "$bench" "$data" \
  --tasks hdbscan --hdbscan-impls fast_hdbscan --hdbscan-mcs 5,15 --repeats "$repeats" \
  --threads 2 --name "$name" >&2
for mcs in 5 15; do
  for i in $(seq "$repeats"); do
    "$bin" cluster "$data" --algorithm hdbscan --knn-nndescent --min-cluster-size "$mcs" \
      --min-samples 3 --out "$out/ours-$mcs.csv" --json > "$out/ours-$mcs-$i.json"
  done
done
"$py" - "$out" "$name" "$repeats" "${REFERENCE_DIR:-}" <<'PY'
import csv, json, os, sys, statistics as st
import numpy as np
from sklearn.metrics import adjusted_rand_score as ari
d, name, R, ref = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
peers = json.load(open(f"{d}/peers/results/{name}.json"))["tasks"]["hdbscan"]["results"]
print("min_cluster_size | embedscope (median) | fast_hdbscan | ratio | clusters, noise ours / fast_hdbscan | ARI vs fast_hdbscan | ARI vs hdbscan library")
for mcs in (5, 15):
    runs = [json.load(open(f"{d}/ours-{mcs}-{i}.json")) for i in range(1, R + 1)]
    t = st.median(r["seconds"] for r in runs)
    f = next(r for r in peers if r["method"] == f"fast_hdbscan_mcs{mcs}")
    ours = np.array([int(r["cluster"]) for r in csv.DictReader(open(f"{d}/ours-{mcs}.csv"))])
    fast = np.load(f"{d}/peers/labels/{name}/hdbscan/fast_hdbscan_mcs{mcs}.npy")
    lib = os.path.join(ref, f"hdbscan_lib_mcs{mcs}.npy") if ref else ""
    vs_lib = "-"
    if lib and os.path.exists(lib):
        lab = np.load(lib)
        vs_lib = f"{ari(ours, lab):.4f} (fast_hdbscan: {ari(fast, lab):.4f})"
    print(f"{mcs} | {t:.3f} s | {f['median_s']:.3f} s | {f['median_s'] / t:.2f}x | "
          f"{runs[0]['n_clusters']}, {runs[0]['noise']} / {int(fast.max()) + 1}, {int((fast < 0).sum())} | "
          f"{ari(ours, fast):.4f} | {vs_lib}")
PY
