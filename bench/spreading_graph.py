"""What one self-training round's graph check costs: scikit-learn's LabelSpreading fitted on labeled + pool rows (what
SelfTrainer did every round before issue 18) against `PoolGraph` (built once per pool, then one `spread` a round).

Pools are the bench's real features where they are big enough (SMS spam, TF-IDF + 100-d SVD, 4,180 pool rows: the dense
RBF kernel SelfTrainer uses up to RBF_MAX_ITEMS) and, for the kNN kernel SelfTrainer uses beyond, SMS rows tiled with
small noise to 20,000 and 50,000 (= graph_max_items). 200 labeled rows (half of them copies of pool rows, as the
learner's labeled set is), 2 classes. Medians over `--repeats`; CPU seconds of this process (pin OPENBLAS_NUM_THREADS=1).

    PYTHONPATH=. OPENBLAS_NUM_THREADS=1 .venv/bin/python bench/spreading_graph.py [--repeats 3] [--sizes 4180 20000 50000]
"""
import argparse
import json
import time
import warnings

import numpy as np
from sklearn.semi_supervised import LabelSpreading

from auto_labeling.spreading import PoolGraph
from honest_figures import load

warnings.filterwarnings("ignore")


def cpu(fn):
    t = time.process_time()
    out = fn()
    return time.process_time() - t, out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--sizes", type=int, nargs="+", default=[4180, 20000, 50000])
    args = ap.parse_args()
    X, y = load("sms")
    rng = np.random.default_rng(0)
    for n in args.sizes:
        reps = -(-n // len(X))
        pool = np.vstack([X + (0 if r == 0 else rng.normal(scale=0.01, size=X.shape)) for r in range(reps)])[:n]
        labels = np.tile(y, reps)[:n]
        kernel = "rbf" if n <= 5000 else "knn"
        outside = rng.choice(len(X), 100, replace=False)
        inside = rng.choice(n, 100, replace=False)
        X_l = np.vstack([X[outside], pool[inside]])
        codes = np.concatenate([np.unique(y, return_inverse=True)[1][outside],
                                np.unique(labels, return_inverse=True)[1][inside], np.full(n, -1)])
        old, build, new, agree = [], [], [], []
        for _ in range(args.repeats):
            ls = LabelSpreading(kernel="rbf", gamma=20.0) if kernel == "rbf" else LabelSpreading(kernel="knn", n_neighbors=7)
            t, ls = cpu(lambda: ls.fit(np.vstack([X_l, pool]), codes))
            old.append(t)
            t, graph = cpu(lambda: PoolGraph(pool, kernel))
            build.append(t)
            t, Q = cpu(lambda: graph.spread(X_l, codes, 2))
            new.append(t)
            agree.append(float(np.mean(Q.argmax(1) == ls.label_distributions_[len(X_l):].argmax(1))))
        row = {"pool": n, "kernel": kernel, "label_spreading_s": round(float(np.median(old)), 3),
               "graph_build_s": round(float(np.median(build)), 3), "spread_s": round(float(np.median(new)), 3),
               "same_class_share": round(min(agree), 4)}
        print(json.dumps(row), flush=True)


if __name__ == "__main__":
    main()
