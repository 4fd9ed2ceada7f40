#!/usr/bin/env bash
# Executes notebooks/*.ipynb headless on their kernels (evcxr's, the Python package's) and
# fails when a cell errors or an expected text/html output is missing. Installs what it needs into stable places and
# skips what is there: evcxr_jupyter (cargo's bin, pinned), Jupyter's pieces (a venv under
# ~/.cache/embedscope, pinned in notebooks/requirements.txt), the kernel registration.
# Usage: scripts/notebooks.sh [--write]   (--write stores the outputs in the committed notebooks)
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
evcxr_version=0.22.0
if ! cargo install --list | grep -q "^evcxr_jupyter v$evcxr_version:"; then
  step "cargo install evcxr_jupyter $evcxr_version (slow once: 10-30 min)"
  # Its own target folder, so it never invalidates the project's.
  CARGO_TARGET_DIR="$EMBEDSCOPE_HOME/evcxr-build" cargo install evcxr_jupyter --version "$evcxr_version" --locked
fi
venv="$EMBEDSCOPE_HOME/jupyter-venv"
stamp="$venv/.requirements"
if ! cmp -s notebooks/requirements.txt "$stamp" 2>/dev/null; then
  step "Jupyter pieces into $venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check -r notebooks/requirements.txt
  cp notebooks/requirements.txt "$stamp"
fi
kernels="$("$venv/bin/python" -c 'from jupyter_core.paths import jupyter_data_dir; print(jupyter_data_dir())')/kernels"
[ -f "$kernels/rust/kernel.json" ] || evcxr_jupyter --install
# The Python notebook's kernel: the Python package's venv, with the wheel installed.
[ -f "$kernels/embedscope-python/kernel.json" ] || scripts/python.sh build
# Compiled crates are cached by evcxr (`:cache` in the first cell) under ~/.cache/evcxr.
"$venv/bin/python" scripts/run_notebooks.py "$@"
