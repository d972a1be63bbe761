"""Peak memory and time of every strategy on a pool larger than it should ever hold in memory, and the quality
price of streaming k-means.

1. A 2 GiB float32 memmap pool (4,194,304 x 128, random normal rows; written once to bench/out/ and fsync'ed).
   Each query runs in a fresh process, so its peak RSS (ru_maxrss) is its own, imports included. The first 2,000
   rows are the labeled set (excluded, and given as `labeled_features`); the model is a 10-class
   LogisticRegression fitted on them. Next to them, the same process measures two streaming passes over the file:
   reading it chunk by chunk (`Pool.iter_chunks`, row norms), and a margin query (`predict_proba` of every row).
2. Streaming k-means against scikit-learn in memory, on a 400,000 x 32 mixture of 50 Gaussian blobs (in memory, so
   both can run): inertia and covering radius of `fit_kmeans` (streaming: k-means++ on a sample, then
   MiniBatchKMeans.partial_fit over the chunks, two epochs) next to `MiniBatchKMeans(n_init=3).fit` and
   `KMeans(n_init=1).fit` on the whole array.

    nice .venv/bin/python bench/memory.py [--only NAME ...] [--repeats 1]
"""
import argparse
import json
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np

N, D = 4_194_304, 128
CHILD = textwrap.dedent("""
    import json, resource, sys, time
    import numpy as np
    from sklearn.linear_model import LogisticRegression
    from auto_labeling.core import Pool
    from auto_labeling.strategies import get_strategy
    path, n, d, what, k = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4], int(sys.argv[5])
    pool = np.memmap(path, dtype=np.float32, mode="r", shape=(n, d))
    labeled = np.array(pool[:2000])
    W = np.random.default_rng(0).normal(size=(d, 10))
    model = LogisticRegression(max_iter=300).fit(labeled, (labeled @ W).argmax(1))
    base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    t = time.perf_counter()
    if what == "pass":                       # one streaming read of the file
        total = 0.0
        for _, X in Pool(pool).iter_chunks():
            total += float(np.einsum("ij,ij->", X, X))
        picked = 0
    else:
        kw = {"labeled_features": labeled, "exclude": np.arange(2000)}
        if what == "kmeans_cold":            # the learner's cold start: no labels yet
            what, kw = "kmeans", {}
        if what == "typiclust_cold":
            what, kw = "typiclust", {}
        r = get_strategy(what).query(model=model, unlabeled_pool=pool, n_instances=k, random_state=0, **kw)
        picked = len(set(r.indices.tolist()))
    secs = time.perf_counter() - t
    print(json.dumps({"peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                      "before_query_mb": base / 1024, "seconds": secs, "picked": picked}))
""")
RUNS = [("pass", 0, "one streaming pass (read + row norms)"),
        ("margin", 1000, "margin, k = 1,000 (the pass a round makes anyway)"),
        ("kmeans_cold", 20, "k-means diversity, k = 20, no labels (the default cold start)"),
        ("coreset", 1000, "core-set, k = 1,000, 2,000 labeled"),
        ("uncertainty_diversity", 1000, "hybrid (margin candidates x 10, k-means), k = 1,000"),
        ("badge", 1000, "BADGE, 10 classes, k = 1,000"),
        ("typiclust_cold", 20, "TypiClust, k = 20, no labels (cold start)"),
        ("typiclust", 100, "TypiClust, k = 100, 2,000 labeled (500 clusters)"),
        ("cluster_margin", 1000, "cluster-margin, k = 1,000 (2,000 clusters, made once)")]


WRITER = textwrap.dedent("""
    import os, sys
    import numpy as np
    path, n, d = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    mm = np.memmap(path, dtype=np.float32, mode="w+", shape=(n, d))
    for s in range(0, n, 262_144):
        mm[s:s + 262_144] = np.random.default_rng(s).normal(size=(min(262_144, n - s), d))
    mm.flush()
    del mm
    with open(path, "rb+") as f:      # written back before measuring: dirty pages of a fresh file stay resident
        os.fsync(f.fileno())
""")


def make_pool(path: Path) -> None:
    "Write the pool once, in its own process (a child's ru_maxrss can start from its parent's resident set)."
    if path.exists() and path.stat().st_size == N * D * 4:
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run([sys.executable, "-c", WRITER, str(path), str(N), str(D)], check=True)


def run(path, what, k) -> dict:
    out = subprocess.run([sys.executable, "-c", CHILD, str(path), str(N), str(D), what, str(k)],
                         capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def kmeans_quality():
    from sklearn.cluster import KMeans, MiniBatchKMeans
    from auto_labeling.diversity import assign_to_centers, covering_radius, fit_kmeans
    rng = np.random.default_rng(0)
    centres = rng.normal(0, 4, size=(50, 32))
    X = (centres[rng.integers(0, 50, 400_000)] + rng.normal(size=(400_000, 32))).astype(np.float32)
    print("\nstreaming k-means vs scikit-learn in memory (400,000 x 32, 50 blobs): inertia / covering radius")
    for k in (20, 200):
        fits = {}
        t = time.perf_counter(); fits["ours: streaming fit_kmeans"] = (fit_kmeans(X, k, random_state=0, in_memory_max=0), time.perf_counter() - t)
        t = time.perf_counter(); fits["sklearn MiniBatchKMeans(n_init=3).fit"] = (MiniBatchKMeans(k, n_init=3, random_state=0, batch_size=max(4096, 3 * k)).fit(X).cluster_centers_, time.perf_counter() - t)
        t = time.perf_counter(); fits["sklearn KMeans(n_init=1).fit"] = (KMeans(k, n_init=1, random_state=0).fit(X).cluster_centers_, time.perf_counter() - t)
        ref = None
        for name, (C, secs) in fits.items():
            inertia = float(assign_to_centers(X, C)[1].astype(np.float64).sum())
            ref = ref or inertia
            print(f"  k={k:4d}  {name:40s} inertia {inertia:14.1f} ({inertia / ref:.4f} x ours)  "
                  f"covering radius {covering_radius(X, C):.3f}  fit {secs:6.1f} s", flush=True)


if __name__ == "__main__":
    p = argparse.ArgumentParser()
    p.add_argument("--only", nargs="*", default=None)
    p.add_argument("--repeats", type=int, default=1)
    p.add_argument("--skip-quality", action="store_true")
    a = p.parse_args()
    path = Path(__file__).parent / "out" / "pool_2gib_x128.f32"
    make_pool(path)
    print(f"pool: {N:,} x {D} float32 memmap, {os.path.getsize(path) / 2**30:.2f} GiB on disk; "
          f"fresh process per query; median of {a.repeats}")
    results = {}
    for what, k, label in RUNS:
        if a.only and what not in a.only:
            continue
        rs = [run(path, what, k) for _ in range(a.repeats)]
        r = {key: float(np.median([x[key] for x in rs])) for key in rs[0]}
        results[what] = r
        print(f"  {label:58s} peak RSS {r['peak_rss_mb']:6.0f} MB (before the query {r['before_query_mb']:4.0f})  "
              f"{r['seconds']:7.1f} s", flush=True)
    if "pass" in results and "coreset" in results:
        print(f"  core-set k = 1,000 with 2,000 labeled: {results['coreset']['seconds'] / results['pass']['seconds']:.1f}x "
              f"one streaming pass" + (f", {results['coreset']['seconds'] / results['margin']['seconds']:.1f}x the margin query"
                                      if "margin" in results else ""))
    (Path(__file__).parent / "out" / "memory.json").write_text(json.dumps(results, indent=2))
    if not a.skip_quality:
        kmeans_quality()
