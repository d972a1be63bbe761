"""Label efficiency on digits: labels needed to reach 98% of the full-data accuracy, per strategy,
auto_labeling next to random sampling and next to scikit-activeml, in one run on the same splits.

Protocol (both libraries): scikit-learn's digits / 16, one stratified 75/25 pool/test split, LogisticRegression
(max_iter=2000), 20 random initial labels (the same 20 for every strategy of a seed), batches of 10, a budget
of 500 labels, 5 seeds. "Labels to reach" is read off each strategy's mean curve over the seeds.
modAL 0.4.2, the other peer users know, does not run with scikit-learn >= 1.8, so it is not in the table.

    .venv/bin/python bench/label_efficiency.py [--seeds 5] [--budget 500]
"""
import argparse
import time
import warnings

import numpy as np
import pandas as pd
from sklearn.datasets import load_digits
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split

from auto_labeling import LearningCurves, simulate

warnings.filterwarnings("ignore")

OURS = {
    "ours: uncertainty (margin)": "margin",
    "ours: least_confident": "least_confident",
    "ours: entropy": "entropy",
    "ours: uncertainty+kmeans (margin)": "uncertainty_diversity",
    "ours: query_by_committee (5 bagged)": "query_by_committee",
    "ours: coreset": "coreset",
    "random": "random",
}


def skal_strategies(seed):
    from sklearn.ensemble import BaggingClassifier
    from skactiveml.classifier import SklearnClassifier
    from skactiveml.pool import Clue, CoreSet, QueryByCommittee, TypiClust, UncertaintySampling
    classes = np.arange(10)
    us = lambda m: (UncertaintySampling(method=m, random_state=seed), "clf")
    return {
        "skactiveml: US margin_sampling": us("margin_sampling"),
        "skactiveml: US least_confident": us("least_confident"),
        "skactiveml: US entropy": us("entropy"),
        "skactiveml: QBC (5 bagged)": (QueryByCommittee(random_state=seed), SklearnClassifier(
            BaggingClassifier(LogisticRegression(max_iter=2000), n_estimators=5, random_state=seed),
            classes=classes, random_state=seed)),
        "skactiveml: CoreSet": (CoreSet(random_state=seed), None),
        "skactiveml: Clue": (Clue(random_state=seed), "clf"),
        "skactiveml: TypiClust": (TypiClust(random_state=seed), None),
    }


def run_skal(X_pool, y_pool, X_test, y_test, seeds, n_initial, batch_size, budget):
    from skactiveml.classifier import SklearnClassifier
    rows = []
    for seed in seeds:
        for name, (qs, extra) in skal_strategies(seed).items():
            initial = np.random.default_rng(seed).choice(len(X_pool), size=n_initial, replace=False)
            y = np.full(len(X_pool), np.nan)
            y[initial] = y_pool[initial]
            clf = SklearnClassifier(LogisticRegression(max_iter=2000), classes=np.arange(10), random_state=seed)
            while True:
                t0 = time.perf_counter()
                clf.fit(X_pool, y)
                n_lab = int((~np.isnan(y)).sum())
                rows.append((name, seed, n_lab, float(np.mean(clf.predict(X_test) == y_test)),
                             time.perf_counter() - t0))
                if n_lab >= budget:
                    break
                k = min(batch_size, budget - n_lab)
                if extra is None:
                    idx = qs.query(X_pool, y, batch_size=k)
                elif extra == "clf":
                    kw = {"fit_clf": False} if "Uncertainty" in type(qs).__name__ else {"fit_estimator": False}
                    idx = qs.query(X_pool, y, clf, batch_size=k, **kw)
                else:
                    idx = qs.query(X_pool, y, ensemble=extra, batch_size=k)
                y[idx] = y_pool[idx]
    return pd.DataFrame(rows, columns=["strategy", "seed", "n_labels", "accuracy", "seconds"])


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--seeds", type=int, default=5)
    ap.add_argument("--budget", type=int, default=500)
    ap.add_argument("--batch-size", type=int, default=10)
    ap.add_argument("--n-initial", type=int, default=20)
    ap.add_argument("--target", type=float, default=0.98)
    a = ap.parse_args()
    X, y = load_digits(return_X_y=True)
    X = X / 16.0
    seeds = list(range(a.seeds))
    t = time.time()
    ours = simulate(LogisticRegression(max_iter=2000), X, y, strategies=OURS, n_initial=a.n_initial,
                    batch_size=a.batch_size, budget=a.budget, seeds=seeds, progress=False)
    t_ours = time.time() - t
    X_pool, X_test, y_pool, y_test = train_test_split(X, y, test_size=0.25, stratify=y, random_state=0)
    t = time.time()
    peer = run_skal(X_pool, y_pool, X_test, y_test, seeds, a.n_initial, a.batch_size, a.budget)
    t_peer = time.time() - t
    both = LearningCurves(pd.concat([ours.records, peer], ignore_index=True), ours.full_accuracy, ours.settings)
    table = both.savings(a.target)
    goal = a.target * both.full_accuracy
    print(f"digits, LogisticRegression, {len(seeds)} seeds, {a.n_initial} initial labels, batches of "
          f"{a.batch_size}, budget {a.budget}")
    print(f"full-data accuracy {both.full_accuracy:.4f} ({ours.settings['n_pool']} pool labels); "
          f"target = {a.target:.0%} of it = {goal:.4f}\n")
    print(f"| strategy | labels to reach target | fraction of random | accuracy at {a.budget} |")
    print("|---|---:|---:|---:|")
    for name, row in table.sort_values("labels_to_reach").iterrows():
        need = "not reached" if np.isnan(row.labels_to_reach) else f"{row.labels_to_reach:.0f}"
        frac = "" if np.isnan(row.fraction_of_random) else f"{row.fraction_of_random:.1%}"
        print(f"| {name} | {need} | {frac} | {row.final_accuracy:.4f} |")
    ours_best = table.loc[[n for n in table.index if n.startswith("ours")], "labels_to_reach"].min()
    peer_best = table.loc[[n for n in table.index if n.startswith("skactiveml")], "labels_to_reach"].min()
    print(f"\nours best {ours_best:.0f} labels = {ours_best / table.loc['random', 'labels_to_reach']:.1%} of random;"
          f" scikit-activeml best {peer_best:.0f}; wall time ours {t_ours:.0f} s, scikit-activeml {t_peer:.0f} s")
