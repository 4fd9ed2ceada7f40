#!/usr/bin/env bash
# Embedding throughput, embedscope vs sentence-transformers (torch CPU), same texts, same run.
# Usage: benches/embed_throughput.sh [CORPUS.parquet|.jsonl]   (default: samples/debian-2k.parquet)
# Needs a Python with sentence-transformers and pyarrow: set PEERS_PY (default
# ~/.cache/embedscope/peers-venv/bin/python; make one with
#   python3 -m venv ~/.cache/embedscope/peers-venv &&
#   ~/.cache/embedscope/peers-venv/bin/pip install -r ../shared/peers/requirements.txt sentence-transformers).
set -euo pipefail
corpus_arg="${1:-}"
source "$(dirname "$0")/common.sh"
corpus="${corpus_arg:-samples/debian-2k.parquet}"
model="${EMBEDSCOPE_MODEL_DIR:-$EMBEDSCOPE_HOME/models/all-MiniLM-L6-v2}"
for threads in 2 1; do
  RAYON_NUM_THREADS=$threads "$bin" embed "$corpus" --out "$out/ours-$threads.npy" --no-cache --json --model-dir "$model" \
    | sed "s/^/{\"tool\":\"embedscope\",\"threads\":$threads,\"r\":/; s/\$/}/"
  HF_HUB_OFFLINE=1 "$py" benches/st_embed.py "$corpus" "$model" --threads $threads --out "$out/st-$threads.npy" 2>/dev/null \
    | sed "s/^/{\"tool\":\"sentence-transformers\",\"threads\":$threads,\"r\":/; s/\$/}/"
done
"$py" - "$out" <<'PY'
import sys, numpy as np
d = sys.argv[1]
a, b = np.load(f"{d}/ours-2.npy"), np.load(f"{d}/st-2.npy")
cos = (a * b).sum(1) / np.linalg.norm(a, axis=1) / np.linalg.norm(b, axis=1)
print(f'{{"parity_min_cosine": {cos.min():.7f}, "parity_mean_cosine": {cos.mean():.8f}, "rows": {len(cos)}}}')
PY
