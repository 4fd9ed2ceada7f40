# Sourced by the bench scripts: the project's environment, the peers' Python and harness, a
# temporary output folder removed on exit, and the release binary built.
# Sets: py (PEERS_PY, default the peers venv), bench (PEERS_BENCH, default
# ../shared/peers/bench.py), out, bin.
cd "$(dirname "${BASH_SOURCE[0]}")/.."
source scripts/env.sh
py="${PEERS_PY:-$EMBEDSCOPE_HOME/peers-venv/bin/python}"
bench="${PEERS_BENCH:-../shared/peers/bench.py}"
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
cargo build --release --locked --bin embedscope >&2
bin="$CARGO_TARGET_DIR/release/embedscope"
