#!/usr/bin/env python3
"""A corpus with texts for the report's size at scale: the vectors of a `.npy` (e.g.
../shared/data/make_scale.py's 1M rows) with the texts of a Parquet file cycled onto them
(e.g. debian-full.parquet's 63,666 descriptions), written as Parquet (id, text, embedding).
The texts do not describe the vectors; they give the page real document lengths. Each text ends
with its row number, so the cycling makes no exact duplicates (the vectors' own planted near
duplicates stay the only ones).

Usage: with_texts.py VECTORS.npy TEXTS.parquet OUT.parquet  (needs numpy and polars)"""
import sys

import numpy as np
import polars as pl


def main():
    vectors_path, texts_path, out = sys.argv[1:4]
    v = np.load(vectors_path, mmap_mode="r")
    texts = pl.read_parquet(texts_path, columns=["text"])["text"]
    n = v.shape[0]
    reps = -(-n // len(texts))
    text = pl.concat([texts] * reps)[:n] + pl.Series([f" [{i}]" for i in range(n)])
    frame = pl.DataFrame({
        "id": pl.Series("id", [f"doc-{i}" for i in range(n)]),
        "text": text,
        "embedding": pl.Series("embedding", np.asarray(v, dtype=np.float32)),
    })
    frame.write_parquet(out + ".tmp", row_group_size=50_000)
    import os
    os.replace(out + ".tmp", out)
    print(f"{out}: {n} rows, dim {v.shape[1]}")


if __name__ == "__main__":
    main()
