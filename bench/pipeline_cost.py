"""The seed's cost example, from measured runs: AutoLabelingPipeline on digits, 5 seeds, target 95% accuracy on a
held-out quarter, batches of 10, with the random baseline measured beside each run (3 seeds each).

Three set-ups: active learning alone; active learning + pre-annotation (confirming a correct suggestion costs half a
label); active learning + pre-annotation + pseudo-labels (confidence_threshold 0.95). Costs at $0.10 a label, scaled to
a project whose random-sampling labeling costs $1,000 (the seed's example: $1,000 traditional vs $350).

    .venv/bin/python bench/pipeline_cost.py [--seeds 5]
"""
import argparse
import time
import warnings

import numpy as np
import pandas as pd
from sklearn.datasets import load_digits
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split

from auto_labeling.pipeline import AutoLabelingPipeline, CostModel

warnings.filterwarnings("ignore")
SETUPS = {"active learning": dict(review_fraction=1.0, confidence_threshold=None),
          "active + pre-annotation": dict(review_fraction=0.5, confidence_threshold=None),
          "active + pre-annotation + pseudo-labels": dict(review_fraction=0.5, confidence_threshold=0.95)}


def run(seed: int, setup: dict, X, y):
    Xp, Xt, yp, yt = train_test_split(X, y, test_size=0.25, stratify=y, random_state=0)
    start = np.random.default_rng(seed).choice(len(Xp), 20, replace=False)
    rest = np.setdiff1d(np.arange(len(Xp)), start)
    p = AutoLabelingPipeline(LogisticRegression(max_iter=2000), active_learning="uncertainty", random_state=seed,
                             cost_model=CostModel(price_per_label=0.10, review_fraction=setup["review_fraction"]))
    p.configure(batch_size=10, budget=1000, max_iterations=100, patience=None,
                confidence_threshold=setup["confidence_threshold"])
    t0 = time.perf_counter()
    r = p.run(labeled_data=(Xp[start], yp[start]), unlabeled_data=(Xp[rest], yp[rest]), validation_data=(Xt, yt),
              target_accuracy=0.95, progress=False)
    rep = r.cost_report(traditional_budget=1000)
    return dict(labels_used=r.labels_used, labels_random=r.labels_random, confirmed=r.n_confirmed,
                stopped_by=r.stopped_by, our_cost=rep["our_cost"], seconds=time.perf_counter() - t0)


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--seeds", type=int, default=5)
    a = ap.parse_args()
    X, y = load_digits(return_X_y=True)
    X = X / 16.0
    rows = []
    for name, setup in SETUPS.items():
        for seed in range(a.seeds):
            rows.append(dict(setup=name, seed=seed, **run(seed, setup, X, y)))
    df = pd.DataFrame(rows)
    print(df.to_string(index=False), "\n")
    med = df.groupby("setup", sort=False)[["labels_used", "labels_random", "confirmed", "our_cost", "seconds"]].median()
    med["traditional_cost"] = 1000.0
    med["saving"] = 1 - med["our_cost"] / 1000
    print("medians over seeds (costs scaled to a $1,000 random-sampling project)\n")
    print(med.round(3).to_string())
