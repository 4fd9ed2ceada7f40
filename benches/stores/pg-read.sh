#!/usr/bin/env bash
# Reading N x 384 vectors from Postgres: embedscope's binary COPY against psycopg 3 + pgvector
# in Python reading the same table (BENCHMARKS.md "Reading a store").
#   benches/stores/pg-read.sh SCALE.npy [vector|halfvec|real[]] [REPEATS]
# Starts its own Postgres 18 + pgvector (scripts/install-stores.sh) on a free loopback port,
# loads the matrix, times both readers in turn with farm-bench, and stops the server.
set -euo pipefail
cd "$(dirname "$0")/../.."
source scripts/env.sh
npy="$(realpath "$1")"; type="${2:-vector}"; repeats="${3:-3}"
scripts/install-stores.sh >/dev/null
bin="$(realpath "$EMBEDSCOPE_HOME/stores/pgsql/bin")"
venv="$EMBEDSCOPE_HOME/stores/bench-venv"
if ! "$venv/bin/python" -c "import psycopg, pgvector, numpy" 2>/dev/null; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check "psycopg[binary]==3.2.*" "pgvector==0.4.*" numpy
fi
dir="$(mktemp -d /tmp/embedscope-pgbench.XXXXXX)"
as=(); [ "$(id -u)" -eq 0 ] && { chown postgres: "$dir"; as=(runuser -u postgres --); }
port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
"${as[@]}" "$bin/initdb" -D "$dir/data" -U bench --auth=trust -E UTF8 --no-sync >/dev/null
stop() { "${as[@]}" "$bin/pg_ctl" -D "$dir/data" -m fast stop >/dev/null 2>&1 || true; rm -rf "$dir"; }
trap stop EXIT
"${as[@]}" "$bin/pg_ctl" -D "$dir/data" -l "$dir/log" -w \
  -o "-p $port -h 127.0.0.1 -k $dir -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c shared_buffers=2GB -c max_wal_size=8GB" start >/dev/null
url="postgres://bench@127.0.0.1:$port/postgres"
echo "loading $npy as $type into $url ..." >&2
"$venv/bin/python" - "$url" "$npy" "$type" <<'PY'
import sys, time, numpy as np, psycopg
from pgvector.psycopg import register_vector
url, npy, typ = sys.argv[1:]
X = np.load(npy, mmap_mode="r")
t = time.time()
with psycopg.connect(url, autocommit=True) as c:
    c.execute("CREATE EXTENSION IF NOT EXISTS vector")
    register_vector(c)
    c.execute(f"CREATE TABLE scale (id bigint, embedding {typ})")
    with c.cursor().copy("COPY scale (id, embedding) FROM STDIN (FORMAT BINARY)") as cp:
        cp.set_types(["int8", "real[]" if typ == "real[]" else typ])
        for s in range(0, len(X), 100_000):
            block = np.asarray(X[s:s + 100_000], dtype=np.float16 if typ == "halfvec" else np.float32)
            for i, row in enumerate(block):
                cp.write_row((s + i, row.tolist() if typ == "real[]" else row))
    c.execute("VACUUM ANALYZE scale")
    n = c.execute("SELECT count(*), pg_size_pretty(pg_total_relation_size('scale')) FROM scale").fetchone()
print(f"loaded {n[0]} rows ({n[1]}) in {time.time() - t:.0f} s", file=sys.stderr)
PY
cat > "$dir/peer.py" <<'PY'
# psycopg 3 + pgvector at its best: binary COPY with pgvector's binary loaders into one
# preallocated numpy matrix (a server-side cursor is timed too with --cursor).
import resource, sys, time, numpy as np, psycopg
from pgvector.psycopg import register_vector
url, typ, mode = sys.argv[1], sys.argv[2], sys.argv[3] if len(sys.argv) > 3 else "copy"
t = time.time()
with psycopg.connect(url) as c:
    register_vector(c)
    n, dim = c.execute("SELECT count(*), max(vector_dims(embedding)) FROM scale").fetchone() if typ != "real[]" else \
        c.execute("SELECT count(*), max(array_length(embedding, 1)) FROM scale").fetchone()
    ids = np.empty(n, dtype=np.int64)
    X = np.empty((n, dim), dtype=np.float32)
    i = 0
    if mode == "copy":
        with c.cursor().copy("COPY (SELECT id, embedding FROM scale) TO STDOUT (FORMAT BINARY)") as cp:
            cp.set_types(["int8", "real[]" if typ == "real[]" else typ])
            for rid, v in cp.rows():
                ids[i] = rid; X[i] = v; i += 1
    else:
        with c.cursor(name="embedscope_bench") as cur:
            cur.itersize = 10_000
            cur.execute("SELECT id, embedding FROM scale")
            for rid, v in cur:
                ids[i] = rid; X[i] = v; i += 1
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(f"{i} rows x {dim} via psycopg {mode} in {time.time() - t:.2f} s, peak {peak:.0f} MiB")
PY
cargo build --release --example store_read >/dev/null 2>&1
ours="$CARGO_TARGET_DIR/release/examples/store_read"
# Ours in the ids' order (the default for a table: read as stored, then sorted here) and as
# stored (what the peer reads); the peer by binary COPY, and by a server-side cursor with
# CURSOR=1 (14x slower: not the peer at its best).
"$ours" "$url" scale 10000
"$ours" "$url" scale 10000 none
"$venv/bin/python" "$dir/peer.py" "$url" "$type" copy
[ -n "${CURSOR:-}" ] && "$venv/bin/python" "$dir/peer.py" "$url" "$type" cursor
farm-bench -n "$repeats" --warmup 0 --timeout 3000 --vs "$venv/bin/python $dir/peer.py $url $type copy" -- "$ours" "$url" scale 10000
