#!/usr/bin/env bash
# The Python package: builds the wheel from python/ (maturin, the same crate as the command
# line) and installs it into the build-and-test venv; `test` then installs the wheel into a
# brand-new venv (nothing but pip and the wheel's own requirements) and runs the Python tests
# (python/tests; test_ray.py starts a Ray cluster on this machine and stops it).
# Stable places, so warm runs skip what is there:
#   venv     ~/.cache/embedscope/python-venv (pinned in python/requirements.txt)
#   wheel    ~/.cache/embedscope/wheels/embedscope-*.whl
#   kernel   "embedscope-python" (Jupyter's user kernels; notebooks/03-python.ipynb runs on it)
# Usage: scripts/python.sh [build|test]   (default build)
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
what="${1:-build}"
venv="$EMBEDSCOPE_HOME/python-venv"
stamp="$venv/.requirements"
if ! cmp -s python/requirements.txt "$stamp" 2>/dev/null; then
  step "Python build and test environment into $venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check -r python/requirements.txt
  cp python/requirements.txt "$stamp"
fi
wheels="$EMBEDSCOPE_HOME/wheels"
mkdir -p "$wheels"
rm -f "$wheels"/embedscope-*.whl
step "maturin build (the wheel)"
"$venv/bin/maturin" build --release --locked --quiet -m python/Cargo.toml --out "$wheels"
wheel="$(ls "$wheels"/embedscope-*.whl)"
"$venv/bin/pip" install --quiet --disable-pip-version-check --force-reinstall --no-deps "$wheel"
"$venv/bin/python" -m ipykernel install --user --name embedscope-python \
  --display-name "Python (embedscope)" >/dev/null
echo "built and installed $wheel" >&2
[ "$what" = test ] || exit 0

step "the wheel in a fresh venv"
fresh="$(mktemp -d)"
trap 'rm -rf "$fresh"' EXIT
python3 -m venv "$fresh/venv"
"$fresh/venv/bin/pip" install --quiet --disable-pip-version-check "$wheel"
"$fresh/venv/bin/python" - <<'PY'
import numpy as np
import embedscope as es
X = np.vstack([np.eye(4, 8, dtype=np.float32) + 0.01 * i for i in range(5)])
labels = es.KMeans(4, random_state=0).fit(X).labels_
assert sorted(np.bincount(labels)) == [5, 5, 5, 5], labels
try:
    es.KMeans(2).fit(X.astype(np.int32))
except es.EmbedscopeError as e:
    assert "dtype int32 is not floating point" in str(e), e
else:
    raise AssertionError("int32 was accepted")
print("fresh venv: import, KMeans and the dtype error work")
PY

step "Python tests"
"$venv/bin/python" -m pytest -q -W ignore::DeprecationWarning python/tests
