#!/usr/bin/env bash
# The whole audit at several corpus sizes: makes N x 384 corpora with ../shared/data/make_scale.py
# (real debian-30k directions plus noise, planted near duplicates), audits each with default
# flags and prints per-stage seconds and peak MiB with the fitted scaling exponents.
# Usage: benches/scale_audit.sh N [N ...]   (e.g. 100000 300000 1000000 3000000; OUT=/tmp/scale)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
source "$root/scripts/env.sh"
out="${OUT:-/tmp/scale}"
mkdir -p "$out"
py="${PYTHON:-python3}"
cargo build --release --locked --bin embedscope --manifest-path "$root/Cargo.toml" >&2
bin="$CARGO_TARGET_DIR/release/embedscope"
for n in "$@"; do
  [ -f "$out/s-$n.npy" ] || "$py" "$root/../shared/data/make_scale.py" \
    "$root/../shared/data/debian-30k.npy" "$out/s-$n.npy" "$n" >&2
  /usr/bin/time -f "%e s %M KB" "$bin" audit "$out/s-$n.npy" --out "$out/a$n.html" \
    --json "$out/a$n.json" > "$out/a$n.log" 2>&1
done
"$py" "$root/benches/scale_fit.py" "$out" "$@"
