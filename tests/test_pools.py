"""Pools larger than RAM and pools of items: streamed in chunks, same answers as in memory."""
import json
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest
from sklearn.feature_extraction.text import HashingVectorizer
from sklearn.linear_model import LogisticRegression

from auto_labeling import ActiveLearner, SimulatedAnnotator, UncertaintySampling, predict_proba_pool


def test_memmap_query_matches_in_memory(tmp_path, digits, fitted):
    X, _ = digits
    path = tmp_path / "pool.f64"
    mm = np.memmap(path, dtype=X.dtype, mode="w+", shape=X.shape)
    mm[:] = X
    mm.flush()
    ro = np.memmap(path, dtype=X.dtype, mode="r", shape=X.shape)
    a = UncertaintySampling("entropy").query(model=fitted, unlabeled_pool=ro, n_instances=40, chunk_size=256)
    b = UncertaintySampling("entropy").query(model=fitted, unlabeled_pool=X, n_instances=40)
    np.testing.assert_array_equal(a.indices, b.indices)
    np.testing.assert_array_equal(a.items, X[a.indices])
    np.testing.assert_allclose(predict_proba_pool(fitted, ro, chunk_size=100), fitted.predict_proba(X), atol=1e-6)


SCRIPT = textwrap.dedent("""
    import json, resource, sys
    import numpy as np
    from sklearn.linear_model import LogisticRegression
    from auto_labeling import UncertaintySampling
    path, n, d = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    rng = np.random.default_rng(0)
    model = LogisticRegression(max_iter=300).fit(rng.normal(size=(500, d)).astype(np.float32), rng.integers(0, 5, 500))
    pool = np.memmap(path, dtype=np.float32, mode="r", shape=(n, d))
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    r = UncertaintySampling("margin").query(model=model, unlabeled_pool=pool, n_instances=100, chunk_size=32768)
    after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({"before_kb": before, "after_kb": after, "n": len(r)}))
""")


def test_memmap_pool_larger_than_the_memory_it_uses(tmp_path):
    """Scoring a 256 MB memmap raises peak RSS by far less than the file: pages are released chunk by chunk."""
    n, d = 1_000_000, 64
    path = tmp_path / "big.f32"
    mm = np.memmap(path, dtype=np.float32, mode="w+", shape=(n, d))
    for s in range(0, n, 100_000):
        mm[s:s + 100_000] = np.random.default_rng(s).normal(size=(100_000, d)).astype(np.float32)
    mm.flush()
    del mm
    out = subprocess.run([sys.executable, "-c", SCRIPT, str(path), str(n), str(d)], capture_output=True,
                         text=True, timeout=300, check=True)
    res = json.loads(out.stdout.strip().splitlines()[-1])
    grew_mb = (res["after_kb"] - res["before_kb"]) / 1024
    file_mb = n * d * 4 / 2**20
    assert res["n"] == 100
    assert grew_mb < 0.35 * file_mb, f"peak RSS grew {grew_mb:.0f} MB while scoring a {file_mb:.0f} MB memmap"


EVERY_STRATEGY = textwrap.dedent("""
    import json, resource, sys
    import numpy as np
    from sklearn.linear_model import LogisticRegression
    from auto_labeling.strategies import get_strategy
    path, n, d, name = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
    pool = np.memmap(path, dtype=np.float32, mode="r", shape=(n, d))
    seed = np.array(pool[:2000])
    model = LogisticRegression(max_iter=300).fit(seed, (seed[:, 0] > 0).astype(int) + (seed[:, 1] > 0))
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    strategy = get_strategy(name)
    r = strategy.query(model=model, unlabeled_pool=pool, n_instances=100, exclude=np.arange(2000),
                       labeled_features=seed, random_state=0)
    after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({"before_kb": before, "after_kb": after, "n": len(r), "unique": len(set(r.indices.tolist())),
                      "min": int(r.indices.min())}))
""")


@pytest.mark.parametrize("name", ["kmeans", "coreset", "uncertainty_diversity", "badge", "typiclust",
                                  "cluster_margin"])
def test_every_strategy_streams_a_memmap_pool(tmp_path_factory, name):
    """Each strategy on a 256 MB memmap with 2,000 labeled items: peak RSS grows by far less than the file
    (no pool.to_array(), no n x d temporaries, no copy of the allowed rows)."""
    n, d = 1_000_000, 64
    path = tmp_path_factory.getbasetemp() / "every_strategy.f32"
    if not path.exists():
        mm = np.memmap(path, dtype=np.float32, mode="w+", shape=(n, d))
        for s in range(0, n, 100_000):
            mm[s:s + 100_000] = np.random.default_rng(s).normal(size=(100_000, d)).astype(np.float32)
        mm.flush()
        del mm
        with open(path, "rb+") as f:                      # written back: dirty pages of a fresh file stay resident
            os.fsync(f.fileno())
    out = subprocess.run([sys.executable, "-c", EVERY_STRATEGY, str(path), str(n), str(d), name],
                         capture_output=True, text=True, timeout=600, check=True)
    res = json.loads(out.stdout.strip().splitlines()[-1])
    grew_mb = (res["after_kb"] - res["before_kb"]) / 1024
    file_mb = n * d * 4 / 2**20
    assert res["n"] == 100 and res["unique"] == 100 and res["min"] >= 2000
    assert grew_mb < 0.4 * file_mb, f"{name}: peak RSS grew {grew_mb:.0f} MB on a {file_mb:.0f} MB memmap"


def test_items_pool_with_featurize_through_the_learner():
    """A pool of texts: the learner featurizes chunks, queries return the texts themselves."""
    words = {0: "goal match striker league", 1: "vote senate election ballot"}
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 400)
    texts = [" ".join(rng.choice(words[c].split(), 3)) + " " + " ".join(rng.choice(words[1 - c].split(), 1))
             for c in y]
    vec = HashingVectorizer(n_features=256, alternate_sign=False)
    featurize = lambda batch: vec.transform(batch).toarray()
    learner = ActiveLearner(LogisticRegression(max_iter=500), "uncertainty", batch_size=10, featurize=featurize,
                            random_state=0, chunk_size=64)
    annotator = SimulatedAnnotator(y)
    for _ in range(5):
        batch = learner.query(texts)
        assert all(isinstance(t, str) for t in batch.items)
        assert [texts[i] for i in batch.indices] == batch.items
        learner.send_to_labeling(batch, tool=annotator)
    assert learner.n_labeled == 50
    assert learner.accuracy(texts, y) > 0.9
