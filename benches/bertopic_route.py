# Usage: PYTHON benches/bertopic_route.py VECTORS.npy   (a venv with umap-learn and hdbscan,
# e.g. ../shared/peers/requirements.txt); prints one JSON line with the stage times.
"""BERTopic's clustering route as BERTopic configures it: UMAP(n_neighbors=15, n_components=5,
min_dist=0.0, metric='cosine', low_memory=False) then HDBSCAN(min_cluster_size=10,
metric='euclidean', cluster_selection_method='eom', prediction_data=True). No random_state
(BERTopic sets none), so umap-learn runs its parallel path."""
import sys, time, json, numpy as np
path = sys.argv[1]
x = np.load(path, mmap_mode="r")
x = np.array(x, dtype=np.float32)
x /= np.linalg.norm(x, axis=1, keepdims=True)
import umap, hdbscan
t0 = time.time()
emb = umap.UMAP(n_neighbors=15, n_components=5, min_dist=0.0, metric="cosine", low_memory=False).fit_transform(x)
t1 = time.time()
lab = hdbscan.HDBSCAN(min_cluster_size=10, metric="euclidean", cluster_selection_method="eom", prediction_data=True).fit_predict(emb)
t2 = time.time()
print(json.dumps({"rows": len(x), "umap_s": round(t1 - t0, 1), "hdbscan_s": round(t2 - t1, 1), "total_s": round(t2 - t0, 1),
                  "clusters": int(lab.max() + 1), "noise": round(float((lab < 0).mean()), 4)}))
