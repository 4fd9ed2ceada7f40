#!/usr/bin/env bash
# The round trips of issue 20 at debian-30k: the corpus (texts, sections, all-MiniLM-L6-v2
# vectors) loaded into Postgres as vector(384), real[] and halfvec(384) and into a Chroma
# collection; `embedscope audit` on each must give the audit.json (no timings) of the Parquet
# file (the halfvec table: of the float16 Parquet file), and the write-back rows must equal
# assignments.parquet. Prints each audit's wall time and peak memory, and the verdicts.
#   benches/stores/round-trip.sh ../shared/data/debian-30k.parquet ../shared/data/debian-30k.npy
set -euo pipefail
cd "$(dirname "$0")/../.."
source scripts/env.sh
texts="$(realpath "$1")"; npy="$(realpath "$2")"
scripts/install-stores.sh >/dev/null
bin="$(realpath "$EMBEDSCOPE_HOME/stores/pgsql/bin")"
venv="$EMBEDSCOPE_HOME/stores/bench-venv"
if ! "$venv/bin/python" -c "import psycopg, pgvector, numpy, pyarrow" 2>/dev/null; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check "psycopg[binary]==3.2.*" "pgvector==0.4.*" numpy pyarrow
fi
cargo build --release >/dev/null 2>&1
es="$CARGO_TARGET_DIR/release/embedscope"
dir="$(mktemp -d /tmp/embedscope-roundtrip.XXXXXX)"
as=(); [ "$(id -u)" -eq 0 ] && { chown postgres: "$dir"; as=(runuser -u postgres --); }
free() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
port="$(free)"; cport="$(free)"
"${as[@]}" "$bin/initdb" -D "$dir/data" -U bench --auth=trust -E UTF8 --no-sync >/dev/null
chroma_pid=""
stop() {
  "${as[@]}" "$bin/pg_ctl" -D "$dir/data" -m fast stop >/dev/null 2>&1 || true
  [ -n "$chroma_pid" ] && kill "$chroma_pid" 2>/dev/null && wait "$chroma_pid" 2>/dev/null || true
  rm -rf "$dir"
}
trap stop EXIT
"${as[@]}" "$bin/pg_ctl" -D "$dir/data" -l "$dir/log" -w \
  -o "-p $port -h 127.0.0.1 -k $dir -c fsync=off -c synchronous_commit=off" start >/dev/null
mkdir -p "$dir/chroma"
ANONYMIZED_TELEMETRY=False "$EMBEDSCOPE_HOME/stores/venv/bin/chroma" run --path "$dir/chroma" \
  --host 127.0.0.1 --port "$cport" >/dev/null 2>&1 &
chroma_pid=$!
url="postgres://bench@127.0.0.1:$port/postgres"
curl -s --retry 30 --retry-connrefused --retry-delay 1 "http://127.0.0.1:$cport/api/v2/heartbeat" >/dev/null
"$venv/bin/python" - "$texts" "$npy" "$dir" "$url" "$cport" <<'PY'
import json, sys, time, urllib.request
import numpy as np, pyarrow as pa, pyarrow.parquet as pq, psycopg
from pgvector.psycopg import register_vector
texts, npy, d, url, cport = sys.argv[1:]
t = pq.read_table(texts).select(["id", "section", "text"])
X = np.load(npy).astype(np.float32)
f32 = t.append_column("embedding", pa.FixedSizeListArray.from_arrays(pa.array(X.ravel()), X.shape[1]))
pq.write_table(f32, f"{d}/file.parquet")
H = X.astype(np.float16)
f16 = pa.table({"id": t["id"], "embedding": pa.ListArray.from_arrays(
    pa.array(np.arange(0, H.size + 1, H.shape[1], dtype=np.int32)), pa.array(H.ravel()))})
pq.write_table(f16, f"{d}/half.parquet")
ids, secs, docs = t["id"].to_pylist(), t["section"].to_pylist(), t["text"].to_pylist()
with psycopg.connect(url, autocommit=True) as c:
    c.execute("CREATE EXTENSION IF NOT EXISTS vector")
    register_vector(c)
    for name, typ in [("docs_vector", "vector(384)"), ("docs_array", "real[]")]:
        c.execute(f"CREATE TABLE {name} (id bigint, section text, text text, embedding {typ})")
        with c.cursor().copy(f"COPY {name} FROM STDIN (FORMAT BINARY)") as cp:
            cp.set_types(["int8", "text", "text", "real[]" if typ == "real[]" else "vector"])
            for i in range(len(ids)):
                cp.write_row((ids[i], secs[i], docs[i], X[i].tolist() if typ == "real[]" else X[i]))
    c.execute("CREATE TABLE docs_half (id bigint, embedding halfvec(384))")
    with c.cursor().copy("COPY docs_half FROM STDIN (FORMAT BINARY)") as cp:
        cp.set_types(["int8", "halfvec"])
        for i in range(len(ids)):
            cp.write_row((ids[i], H[i]))
base = f"http://127.0.0.1:{cport}/api/v2/tenants/default_tenant/databases/default_database/collections"
def call(path, body=None, method="POST"):
    req = urllib.request.Request(base + path, method=method, data=json.dumps(body).encode() if body is not None else None,
                                 headers={"content-type": "application/json"})
    return json.load(urllib.request.urlopen(req))
cid = call("", {"name": "debian-30k"})["id"]
for s in range(0, len(ids), 1000):
    e = min(s + 1000, len(ids))
    call(f"/{cid}/add", {"ids": [str(i) for i in ids[s:e]], "embeddings": X[s:e].tolist(),
                         "documents": docs[s:e], "metadatas": [{"section": x} for x in secs[s:e]]})
print(f"loaded {len(ids)} rows into Postgres (vector, real[], halfvec) and Chroma", file=sys.stderr)
PY
flags=(--no-timings --stability-runs 0 --label-column section)
run() { # NAME INPUT [more]
  local name="$1" input="$2"; shift 2
  /usr/bin/time -f "$name: %e s, %M KB" "$es" audit "$input" --out "$dir/$name.html" --json "$dir/$name.json" \
    --tables "$dir/$name-tables" "$@" 2>&1 | grep -E "^$name:|verdict:|wrote back" || true
}
run file "$dir/file.parquet" "${flags[@]}"
run vector "$url" --table docs_vector --write-back "${flags[@]}"
run array "$url" --table docs_array "${flags[@]}"
run chroma "chroma://127.0.0.1:$cport/debian-30k" --write-back "${flags[@]}"
run halffile "$dir/half.parquet" --no-timings --stability-runs 0
run half "$url" --table docs_half --no-timings --stability-runs 0
"$venv/bin/python" - "$dir" "$url" "$cport" <<'PY'
import json, sys, urllib.request
import pyarrow.parquet as pq, psycopg
d, url, cport = sys.argv[1:]
def doc(n):
    v = json.load(open(f"{d}/{n}.json")); v["report"] = None; v["corpus"]["source"] = None
    return v
for a, b in [("file", "vector"), ("file", "array"), ("file", "chroma"), ("halffile", "half")]:
    print(f"audit.json of {b} == {a}: {doc(a) == doc(b)}")
t = pq.read_table(f"{d}/vector-tables/assignments.parquet").to_pylist()
with psycopg.connect(url) as c:
    cur = c.execute("SELECT * FROM embedscope_audit WHERE source = 'docs_vector' ORDER BY row")
    names = [x.name for x in cur.description]
    rows = [dict(zip(names, r)) for r in cur.fetchall()]
def same(x, y):
    if isinstance(x, float) and y is not None:
        return abs(x - y) <= 1e-7 * max(1.0, abs(x))
    return x == y
bad = [(i, k) for i, r in enumerate(t) for k in r if not same(r[k], rows[i][k])]
print(f"Postgres write-back == assignments.parquet: {len(rows) == len(t) and not bad} ({len(rows)} rows, {len(t[0])} columns; first mismatches {bad[:3]})")
PY
