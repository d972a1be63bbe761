"""Scoring a 5,000,000-row memmap pool: in one process (chunked) vs a dask.distributed LocalCluster (2 workers).

Both pick the 1,000 highest-margin items with the same LogisticRegression; the picks must be identical. The file is
float32, 5,000,000 x 32 (610 MB). Median of 3.

    .venv/bin/python bench/scale_out.py
"""
import statistics
import time
from pathlib import Path

import numpy as np
from sklearn.linear_model import LogisticRegression

from auto_labeling.core import predict_proba_pool
from auto_labeling.distributed import dask_top_k, margin_scores_of, memmap_to_dask
from auto_labeling.strategies import select_uncertain

N, D, K = 5_000_000, 32, 1000


def main():
    path = Path(__file__).parent / "out" / "pool_5m_x32.f32"
    path.parent.mkdir(exist_ok=True)
    if not path.exists() or path.stat().st_size != N * D * 4:
        mm = np.memmap(path, dtype=np.float32, mode="w+", shape=(N, D))
        for s in range(0, N, 500_000):
            mm[s:s + 500_000] = np.random.default_rng(s).normal(size=(500_000, D))
        mm.flush()
        del mm
    X = np.memmap(path, dtype=np.float32, mode="r", shape=(N, D))
    model = LogisticRegression(max_iter=300).fit(X[:5000], (X[:5000, 0] > 0).astype(int) + (X[:5000, 1] > 1))
    from distributed import Client, LocalCluster
    cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1", dashboard_address=None)
    client = Client(cluster)
    local_t, dist_t = [], []
    try:
        for _ in range(3):
            t = time.perf_counter()
            local = select_uncertain(predict_proba_pool(model, X), K, "margin", random_state=0)
            local_t.append(time.perf_counter() - t)
            t = time.perf_counter()
            remote = dask_top_k(memmap_to_dask(path, np.float32, (N, D), 250_000), margin_scores_of(model), K,
                                random_state=0, client=client)
            dist_t.append(time.perf_counter() - t)
            assert np.array_equal(local, remote)
    finally:
        client.close()
        cluster.close()
    lt, dt = statistics.median(local_t), statistics.median(dist_t)
    print(f"{N:,} x {D} float32 memmap, top {K} by margin: one process {lt:.2f} s ({N / lt / 1e6:.2f} M items/s), "
          f"LocalCluster 2 workers {dt:.2f} s ({N / dt / 1e6:.2f} M items/s); identical picks; "
          f"{20} partitions sent back at most {20 * K:,} candidates")


if __name__ == "__main__":
    main()
