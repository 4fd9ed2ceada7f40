#!/usr/bin/env bash
# The whole test suite, as CI runs it: installs what the tests need (the model, Debian's
# chromium for the browser test; evcxr_jupyter and Jupyter's pieces for the notebooks; the
# Python package's venv), then format, lints, unit + integration + doc tests, the Python wheel
# built and tested, the notebooks executed headless, and the sample audit end to end.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
step "model"
scripts/install-model.sh
scripts/install-onnx.sh
step "chromium (the browser test)"
if ! command -v chromium >/dev/null 2>&1 && [ -z "${EMBEDSCOPE_CHROMIUM:-}" ]; then
  sudo_=""; [ "$(id -u)" -ne 0 ] && sudo_="sudo"
  $sudo_ apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo_ apt-get install -y -qq chromium >/dev/null
fi
step "store servers (Postgres with pgvector, Chroma; the store tests start and stop them)"
if ! scripts/install-stores.sh; then
  export EMBEDSCOPE_SKIP_STORES="scripts/install-stores.sh could not install them"
  echo "warning: the store tests will be skipped: $EMBEDSCOPE_SKIP_STORES" >&2
fi
step "cargo fmt --check"
cargo fmt --check
step "cargo clippy (the crate and its Python bindings)"
cargo clippy --release --locked --workspace --all-targets -- -D warnings
step "cargo test"
cargo test --release --locked
step "Python package (wheel, a fresh venv, pytest)"
scripts/python.sh test
step "notebooks (evcxr and Python kernels, headless)"
scripts/notebooks.sh
step "sample audit (the README's first command)"
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
"$CARGO_TARGET_DIR/release/embedscope" audit samples/debian-2k.parquet --out "$out/sample.html" --json "$out/sample.json"
test -s "$out/sample.html" && test -s "$out/sample.json"
echo "all checks passed"
