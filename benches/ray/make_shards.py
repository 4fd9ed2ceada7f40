"""Writes a .npy corpus (make_scale.py's) as Parquet shards with an id column, for the audit on
Ray. Usage: make_shards.py CORPUS.npy OUT_DIR SHARDS"""
import sys
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

src, out, shards = sys.argv[1], Path(sys.argv[2]), int(sys.argv[3])
X = np.load(src, mmap_mode="r")
n, d = X.shape
out.mkdir(parents=True, exist_ok=True)
bounds = np.linspace(0, n, shards + 1).astype(int)
for s, (lo, hi) in enumerate(zip(bounds[:-1], bounds[1:])):
    block = np.ascontiguousarray(X[lo:hi], dtype=np.float32)
    table = pa.table({
        "id": pa.array(np.arange(lo, hi).astype(str)),
        "embedding": pa.FixedSizeListArray.from_arrays(pa.array(block.reshape(-1)), d),
    })
    pq.write_table(table, out / f"part-{s:04d}.parquet", row_group_size=65536)
print(f"{n} rows x {d} in {shards} shards -> {out}")
