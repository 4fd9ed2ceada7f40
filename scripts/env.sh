# Shared settings for the project scripts (sourced, not run).
# Stable places outside the clone, so warm runs skip what is already there:
#   build artefacts  $CARGO_TARGET_DIR (default ~/.cache/embedscope/target)
#   model            ~/.cache/embedscope/models/all-MiniLM-L6-v2
export EMBEDSCOPE_HOME="${EMBEDSCOPE_HOME:-${XDG_CACHE_HOME:-$HOME/.cache}/embedscope}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$EMBEDSCOPE_HOME/target}"
export PATH="$HOME/.cargo/bin:$PATH"
# Two cores: let cargo use both, and keep test binaries from oversubscribing them.
export CARGO_BUILD_JOBS="${CARGO_BUILD_JOBS:-$(nproc)}"
step() { printf '\n==> %s\n' "$*" >&2; }
