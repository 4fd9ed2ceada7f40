#!/usr/bin/env bash
# The whole audit at several corpus sizes: makes N x 384 corpora with ../shared/data/make_scale.py
# (real debian-30k directions plus noise, planted near duplicates), audits each with default
# flags and prints per-stage seconds and peak MiB with the fitted scaling exponents.
# Usage: benches/scale_audit.sh N [N ...]   (e.g. 100000 300000 1000000 3000000; OUT=/tmp/scale)
# F16=1 makes and audits float16 corpora (hN.npy, results ahN.json), held half in memory.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
source "$root/scripts/env.sh"
out="${OUT:-/tmp/scale}"
mkdir -p "$out"
py="${PYTHON:-python3}"
cargo build --release --locked --bin embedscope --manifest-path "$root/Cargo.toml" >&2
bin="$CARGO_TARGET_DIR/release/embedscope"
if [ "${F16:-0}" = 1 ]; then in=h; res=ah; half=--f16; else in=s; res=a; half=; fi
for n in "$@"; do
  [ -f "$out/$in-$n.npy" ] || "$py" "$root/../shared/data/make_scale.py" \
    "$root/../shared/data/debian-30k.npy" "$out/$in-$n.npy" "$n" $half >&2
  /usr/bin/time -f "%e s %M KB" "$bin" audit "$out/$in-$n.npy" --out "$out/$res$n.html" \
    --json "$out/$res$n.json" > "$out/$res$n.log" 2>&1
done
PREFIX=$res "$py" "$root/benches/scale_fit.py" "$out" "$@"
