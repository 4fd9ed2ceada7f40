#!/usr/bin/env bash
# The whole test suite, as CI runs it: installs what the tests need (the model), then format,
# lints, unit + integration + doc tests, and the sample audit end to end.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
step "model"
scripts/install-model.sh
step "cargo fmt --check"
cargo fmt --check
step "cargo clippy"
cargo clippy --release --locked --all-targets -- -D warnings
step "cargo test"
cargo test --release --locked
step "sample audit (the README's first command)"
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
"$CARGO_TARGET_DIR/release/embedscope" audit samples/debian-2k.parquet --out "$out/sample.html" --json "$out/sample.json"
test -s "$out/sample.html" && test -s "$out/sample.json"
echo "all checks passed"
