"""sentence-transformers (torch CPU) embedding throughput on a corpus, for BENCHMARKS.md.

Usage: python benches/st_embed.py CORPUS(.jsonl|.parquet) MODEL_DIR [--out vectors.npy] [--threads N]
Prints one JSON line: texts, seconds, texts_per_second, tokens.
"""
import argparse, json, time

import numpy as np


def read_texts(path):
    if path.endswith(".parquet"):
        import pyarrow.parquet as pq
        return pq.read_table(path, columns=["text"]).column("text").to_pylist()
    with open(path) as f:
        return [json.loads(line)["text"] for line in f if line.strip()]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("corpus")
    ap.add_argument("model_dir")
    ap.add_argument("--out")
    ap.add_argument("--threads", type=int, default=0)
    ap.add_argument("--batch-size", type=int, default=32)
    a = ap.parse_args()
    import torch
    from sentence_transformers import SentenceTransformer
    if a.threads:
        torch.set_num_threads(a.threads)
    texts = read_texts(a.corpus)
    model = SentenceTransformer(a.model_dir, device="cpu")
    assert model.max_seq_length == 256, model.max_seq_length
    model.encode(texts[:8])  # warm-up
    t0 = time.perf_counter()
    vecs = model.encode(texts, batch_size=a.batch_size, normalize_embeddings=True, convert_to_numpy=True)
    dt = time.perf_counter() - t0
    tokens = sum(min(len(model.tokenizer(t, truncation=False)["input_ids"]), 256) for t in texts)
    if a.out:
        np.save(a.out, vecs.astype(np.float32))
    print(json.dumps({"peer": "sentence-transformers", "torch_threads": torch.get_num_threads(),
                      "texts": len(texts), "tokens": tokens, "seconds": dt,
                      "texts_per_second": len(texts) / dt, "tokens_per_second": tokens / dt}))


if __name__ == "__main__":
    main()
