#!/usr/bin/env bash
# Launcher of the "embedscope-rust" Jupyter kernel (scripts/notebooks.sh copies it next to the
# kernel's kernel.json; its arguments are evcxr_jupyter's).
#
# evcxr builds each session's code in a fresh temporary folder, so every new session compiled
# the embedscope crate again (75-80 s): its `:cache` keeps registry crates only, and a path
# dependency is built incrementally, which the cache skips. Here each session gets a build folder
# that outlives it (EVCXR_TMPDIR = ~/.cache/embedscope/evcxr/slot-N): cargo finds embedscope and
# its dependencies already built and compiles the cell alone. A slot is held by an exclusive lock
# for the kernel's life, so two sessions at once never share one; when all are busy the session
# falls back to evcxr's own temporary folder (correct, just slow).
#
# The slots share one cargo setting (root/.cargo/config.toml, which cargo reads from the slot's
# parent folder): polars, more than half of the first build's compile time, is built without
# optimisation. A notebook reads a few thousand rows through it; the numeric work (embedscope,
# faer) keeps the notebook's `:opt 2`.
set -euo pipefail
evcxr="${EMBEDSCOPE_EVCXR:-evcxr_jupyter}"
root="${EMBEDSCOPE_HOME:-${XDG_CACHE_HOME:-$HOME/.cache}/embedscope}/evcxr"
mkdir -p "$root/.cargo"
config="# Written by embedscope's kernel launcher (scripts/evcxr-kernel.sh).
$(for p in polars polars-arrow polars-arrow-format polars-async polars-buffer polars-compute \
           polars-config polars-core polars-dtype polars-error polars-io polars-ops \
           polars-parquet polars-parquet-format polars-row polars-schema polars-utils; do
    printf '[profile.dev.package.%s]\nopt-level = 0\n' "$p"
  done)"
if [ "$(cat "$root/.cargo/config.toml" 2>/dev/null)" != "$config" ]; then
  printf '%s\n' "$config" > "$root/.cargo/config.toml.tmp"
  mv "$root/.cargo/config.toml.tmp" "$root/.cargo/config.toml"
fi
for i in 0 1 2 3; do
  slot="$root/slot-$i"
  exec 9>"$slot.lock"
  if flock -n 9; then
    mkdir -p "$slot"
    export EVCXR_TMPDIR="$slot"
    # evcxr loads each cell's library from the copy cargo places in target/.../debug, whose
    # relative library path ($ORIGIN/../..., computed for target/.../debug/deps) is one folder
    # short. Under /tmp the extra ".." vanished at the root; in a folder that lasts it does not,
    # so the standard library's folder is named for the loader instead.
    rustc="$(command -v rustc || echo "$HOME/.cargo/bin/rustc")"
    if sysroot="$("$rustc" --print sysroot 2>/dev/null)"; then
      host="$("$rustc" -vV | sed -n 's/^host: //p')"
      export LD_LIBRARY_PATH="$sysroot/lib/rustlib/$host/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
    fi
    exec "$evcxr" "$@"
  fi
done
exec 9>&-
echo "embedscope-rust: all build slots under $root are in use; this session builds from scratch" >&2
exec "$evcxr" "$@"
