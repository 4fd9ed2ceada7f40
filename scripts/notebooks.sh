#!/usr/bin/env bash
# Executes notebooks/*.ipynb headless on their kernels (evcxr's, the Python package's) and
# fails when a cell errors or an expected text/html output is missing. Installs what it needs into stable places and
# skips what is there: evcxr_jupyter (cargo's bin, pinned), Jupyter's pieces (a venv under
# ~/.cache/embedscope, pinned in notebooks/requirements.txt), the kernels' registration.
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
# The Rust notebooks' kernel, "embedscope-rust": evcxr started by scripts/evcxr-kernel.sh, which
# gives each session a build folder that outlives it (a new session's first cell then compiles
# only the cell, not the crate again). Rewritten when the launcher changes.
rust_kernel="$kernels/embedscope-rust"
if ! cmp -s scripts/evcxr-kernel.sh "$rust_kernel/launch.sh" 2>/dev/null; then
  mkdir -p "$rust_kernel"
  cp scripts/evcxr-kernel.sh "$rust_kernel/launch.sh.tmp" && mv "$rust_kernel/launch.sh.tmp" "$rust_kernel/launch.sh"
  cat > "$rust_kernel/kernel.json" <<JSON
{
  "argv": ["/bin/bash", "$rust_kernel/launch.sh", "--control_file", "{connection_file}"],
  "display_name": "Rust (embedscope)",
  "env": {"EMBEDSCOPE_EVCXR": "$(command -v evcxr_jupyter)", "EMBEDSCOPE_HOME": "$EMBEDSCOPE_HOME"},
  "interrupt_mode": "message",
  "language": "rust"
}
JSON
fi
# The Python notebook's kernel: the Python package's venv, with the wheel installed.
[ -f "$kernels/embedscope-python/kernel.json" ] || scripts/python.sh build
# Compiled crates: the sessions' build folders under ~/.cache/embedscope/evcxr (the crate and its
# dependencies as built last), and evcxr's own cache (`:cache` in the first cell, ~/.cache/evcxr).
"$venv/bin/python" scripts/run_notebooks.py "$@"
