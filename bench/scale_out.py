"""A 5,000,000-row memmap pool: in one process (chunked) vs a dask.distributed LocalCluster (2 workers).

1. Margin: both pick the 1,000 highest-margin items with the same LogisticRegression; the picks must be identical.
2. Core-set: k-center greedy, 1,000 picks from 2,000 labeled centers; the picks must be identical.
3. k-means diversity: 100 picks; the covering radius of the distributed picks next to the local ones.

The file is float32, 5,000,000 x 32 (610 MB). Median of 3 for the margin, one run each for the others.

    nice .venv/bin/python bench/scale_out.py [--skip-margin]
"""
import sys
import statistics
import time
from pathlib import Path

import numpy as np
from sklearn.linear_model import LogisticRegression

from auto_labeling.core import predict_proba_pool
from auto_labeling.diversity import covering_radius, kcenter_greedy, kmeans_diverse
from auto_labeling.distributed import (dask_kcenter_greedy, dask_kmeans_diverse, dask_top_k, margin_scores_of,
                                       memmap_to_dask)
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
        for _ in range(0 if "--skip-margin" in sys.argv else 3):
            t = time.perf_counter()
            local = select_uncertain(predict_proba_pool(model, X), K, "margin", random_state=0)
            local_t.append(time.perf_counter() - t)
            t = time.perf_counter()
            remote = dask_top_k(memmap_to_dask(path, np.float32, (N, D), 250_000), margin_scores_of(model), K,
                                random_state=0, client=client)
            dist_t.append(time.perf_counter() - t)
            assert np.array_equal(local, remote)
        if local_t:
            lt, dt = statistics.median(local_t), statistics.median(dist_t)
            print(f"{N:,} x {D} float32 memmap, top {K} by margin: one process {lt:.2f} s ({N / lt / 1e6:.2f} M "
                  f"items/s), LocalCluster 2 workers {dt:.2f} s ({N / dt / 1e6:.2f} M items/s); identical picks; "
                  f"{20} partitions sent back at most {20 * K:,} candidates", flush=True)
        labeled = np.array(X[:2000])
        t = time.perf_counter()
        here = kcenter_greedy(X, K, labeled, exclude=np.arange(2000))
        t_here = time.perf_counter() - t
        pool = memmap_to_dask(path, np.float32, (N, D), 250_000)
        t = time.perf_counter()
        there = dask_kcenter_greedy(pool, K, labeled, exclude=np.arange(2000), client=client)
        t_there = time.perf_counter() - t
        print(f"core-set, {K} picks, 2,000 labeled: one process {t_here:.1f} s, LocalCluster {t_there:.1f} s; "
              f"identical picks: {bool(np.array_equal(here, there))}", flush=True)
        t = time.perf_counter()
        km_here = kmeans_diverse(X, 100, random_state=0)
        t_here = time.perf_counter() - t
        t = time.perf_counter()
        km_there = dask_kmeans_diverse(pool, 100, random_state=0, client=client)
        t_there = time.perf_counter() - t
        r_here, r_there = covering_radius(X, X[km_here]), covering_radius(X, X[km_there])
        print(f"k-means diversity, 100 picks: one process {t_here:.1f} s (covering radius {r_here:.3f}), "
              f"LocalCluster {t_there:.1f} s (covering radius {r_there:.3f}, {r_there / r_here:.3f}x)", flush=True)
    finally:
        client.close()
        cluster.close()


if __name__ == "__main__":
    main()
