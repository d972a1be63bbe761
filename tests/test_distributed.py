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


def test_local_cluster_core_set_is_the_one_process_core_set(cluster_client, tmp_path):
    """Core-set over a memmap read by the workers: the picks (hence the covering radius) equal the local ones."""
    from auto_labeling.diversity import covering_radius, kcenter_greedy
    from auto_labeling.distributed import dask_kcenter_greedy
    rng = np.random.default_rng(1)
    n, d = 120_000, 16
    path = tmp_path / "pool.f32"
    mm = np.memmap(path, dtype=np.float32, mode="w+", shape=(n, d))
    mm[:] = rng.normal(size=(n, d))
    mm.flush()
    X = np.memmap(path, dtype=np.float32, mode="r", shape=(n, d))
    labeled = rng.normal(size=(300, d)).astype(np.float32)          # more than the 64 applied in the first pass
    ex = np.arange(0, n, 13)
    local = kcenter_greedy(X, 400, labeled, exclude=ex, hot_size=20_000, work_size=512)
    pool = memmap_to_dask(path, np.float32, (n, d), rows_per_chunk=15_000)
    remote = dask_kcenter_greedy(pool, 400, labeled, exclude=ex, client=cluster_client, hot_size=20_000,
                                 work_size=512)
    np.testing.assert_array_equal(remote, local)
    r_local = covering_radius(X, np.concatenate([labeled, X[local]]), exclude=ex)
    r_remote = covering_radius(X, np.concatenate([labeled, X[remote]]), exclude=ex)
    assert r_remote <= 1.05 * r_local
    no_labels = dask_kcenter_greedy(pool, 100, random_state=5, client=cluster_client)
    np.testing.assert_array_equal(no_labels, kcenter_greedy(X, 100, random_state=5))


def test_local_cluster_kmeans_diversity_covers_like_one_process(cluster_client):
    """k-means picks from partitions: median covering radius over seeds within 5% of the in-process picks."""
    import dask.array as da
    from auto_labeling.diversity import covering_radius, kmeans_diverse
    from auto_labeling.distributed import dask_kmeans_diverse
    rng = np.random.default_rng(2)
    centres = rng.normal(0, 6, size=(16, 12))
    X = (centres[rng.integers(0, 16, 80_000)] + rng.normal(size=(80_000, 12))).astype(np.float32)
    pool = da.from_array(X, chunks=(10_000, 12))
    local, remote = [], []
    for seed in range(5):
        a = kmeans_diverse(X, 32, random_state=seed)
        b = dask_kmeans_diverse(pool, 32, random_state=seed, client=cluster_client)
        assert len(set(b.tolist())) == 32
        local.append(covering_radius(X, X[a]))
        remote.append(covering_radius(X, X[b]))
    assert np.median(remote) <= 1.05 * np.median(local), (local, remote)
