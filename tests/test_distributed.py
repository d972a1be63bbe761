"""Scoring a pool on a real dask.distributed LocalCluster (2 worker processes) selects exactly what the local path does."""
import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression

from auto_labeling.distributed import dask_top_k, margin_scores_of, memmap_to_dask
from auto_labeling.strategies import top_k


@pytest.fixture(scope="module")
def cluster_client():
    from distributed import Client, LocalCluster
    cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                           dashboard_address=None)
    client = Client(cluster)
    yield client
    client.close()
    cluster.close()


def test_local_cluster_selects_the_same_items_as_one_process(cluster_client, tmp_path):
    rng = np.random.default_rng(0)
    n, d = 300_000, 24
    path = tmp_path / "pool.f32"
    mm = np.memmap(path, dtype=np.float32, mode="w+", shape=(n, d))
    for s in range(0, n, 100_000):
        mm[s:s + 100_000] = rng.normal(size=(100_000, d))
    mm.flush()
    X = np.memmap(path, dtype=np.float32, mode="r", shape=(n, d))
    model = LogisticRegression(max_iter=300).fit(X[:3000], (X[:3000, 0] > 0).astype(int) + (X[:3000, 1] > 1))
    for method in ("margin", "entropy"):
        score = margin_scores_of(model, method)
        local = top_k(score(X), 1000, exclude=np.arange(0, n, 7), random_state=3)
        pool = memmap_to_dask(path, np.float32, (n, d), rows_per_chunk=40_000)     # each worker reads its rows
        remote = dask_top_k(pool, score, 1000, exclude=np.arange(0, n, 7), random_state=3, client=cluster_client)
        assert np.array_equal(local, remote), method
    assert len(cluster_client.scheduler_info()["workers"]) == 2
