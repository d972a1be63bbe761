"""Semi-supervised learning on digits, side by side in one run (5 seeds, one stratified 75/25 pool/test split).

1. Accuracy with 50 and 100 random human labels, for LogisticRegression and an RBF SVC:
   supervised only | ours: SelfTrainer (10 rounds) | scikit-learn SelfTrainingClassifier (defaults) |
   scikit-learn LabelSpreading (defaults: rbf kernel; and the knn kernel) | a diagnostic: the same model fit
   on the whole pool labeled by LabelSpreading(knn) (a reference for what self-training of that model might reach).
2. Co-training on two views (left and right halves of each 8x8 image), 50 and 100 labels: each view alone,
   both views concatenated (supervised), and our CoTrainer.
3. Active + semi-supervised: labels needed to reach 98% of the full-data accuracy for
   uncertainty+diversity with self-training, the same without, and random (LogisticRegression, batches of 10).

    .venv/bin/python bench/semi_supervised.py [--seeds 5]
"""
import argparse
import time
import warnings

import numpy as np
import pandas as pd
from sklearn.base import clone
from sklearn.datasets import load_digits
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.semi_supervised import LabelSpreading, SelfTrainingClassifier
from sklearn.svm import SVC

from auto_labeling import LearningCurves, simulate
from auto_labeling.semi_supervised import CoTrainer, SelfTrainer

warnings.filterwarnings("ignore")
THRESHOLD = 0.5          # our SelfTrainer's threshold on the model x graph confidence (geometric mean)
MODELS = {"LogisticRegression": LogisticRegression(max_iter=2000),
          "SVC(rbf)": SVC(probability=True, random_state=0)}


def part1(Xp, yp, Xt, yt, seeds):
    rows = []
    for budget in (50, 100):
        for seed in seeds:
            lab = np.random.default_rng(seed).choice(len(Xp), budget, replace=False)
            rest = np.setdiff1d(np.arange(len(Xp)), lab)
            y_semi = np.full(len(Xp), -1)
            y_semi[lab] = yp[lab]
            for name, model in MODELS.items():
                rows.append((budget, name, "supervised only", clone(model).fit(Xp[lab], yp[lab]).score(Xt, yt)))
                st = SelfTrainer(clone(model), confidence_threshold=THRESHOLD)
                hist = st.fit_iterative((Xp[lab], yp[lab]), Xp[rest], iterations=10, test_data=(Xt, yt))
                rows.append((budget, name, "ours: SelfTrainer", hist["test_accuracy"].iloc[-1]))
                stc = SelfTrainingClassifier(clone(model)).fit(Xp, y_semi)
                rows.append((budget, name, "sklearn SelfTrainingClassifier", stc.score(Xt, yt)))
                # diagnostic: the model fit on every pool item, labeled by the best graph (LabelSpreading knn)
                spread = LabelSpreading(kernel="knn").fit(Xp, y_semi).transduction_.copy()
                spread[lab] = yp[lab]
                rows.append((budget, name, "diagnostic: model fit on LabelSpreading(knn)'s labels for the whole pool",
                             clone(model).fit(Xp, spread).score(Xt, yt)))
            rows.append((budget, "(no model)", "sklearn LabelSpreading (rbf, default)",
                         LabelSpreading().fit(Xp, y_semi).score(Xt, yt)))
            rows.append((budget, "(no model)", "sklearn LabelSpreading (knn)",
                         LabelSpreading(kernel="knn").fit(Xp, y_semi).score(Xt, yt)))
    df = pd.DataFrame(rows, columns=["labels", "model", "method", "accuracy"])
    return df.groupby(["labels", "model", "method"], sort=False)["accuracy"].agg(["mean", "std"]).round(4)


def part2(Xp, yp, Xt, yt, seeds):
    left = [c for c in range(64) if c % 8 < 4]
    right = [c for c in range(64) if c % 8 >= 4]
    rows = []
    for budget in (50, 100):
        for seed in seeds:
            lab = np.random.default_rng(seed).choice(len(Xp), budget, replace=False)
            rest = np.setdiff1d(np.arange(len(Xp)), lab)
            lr = LogisticRegression(max_iter=2000)
            for view, cols in (("left half alone", left), ("right half alone", right)):
                rows.append((budget, view, clone(lr).fit(Xp[lab][:, cols], yp[lab]).score(Xt[:, cols], yt)))
            rows.append((budget, "both halves concatenated (supervised)", clone(lr).fit(Xp[lab], yp[lab]).score(Xt, yt)))
            for selection in ("joint", "each"):
                co = CoTrainer(clone(lr), clone(lr), confidence_threshold=0.8, views=(left, right), selection=selection)
                co.fit((Xp[lab], yp[lab]), Xp[rest], iterations=10)
                rows.append((budget, f"ours: CoTrainer (selection={selection!r})", co.score(Xt, yt)))
    df = pd.DataFrame(rows, columns=["labels", "method", "accuracy"])
    return df.groupby(["labels", "method"], sort=False)["accuracy"].agg(["mean", "std"]).round(4)


def part3(X, y, seeds, budget):
    lr = LogisticRegression(max_iter=2000)
    options = {"self_training": SelfTrainer(clone(lr), confidence_threshold=THRESHOLD)}
    with_ssl = simulate(lr, X, y, strategies={"active + self-training": "uncertainty_diversity"}, budget=budget,
                        seeds=seeds, progress=False, learner_options=options)
    plain = simulate(lr, X, y, strategies={"active only": "uncertainty_diversity", "random": "random"},
                     budget=budget, seeds=seeds, progress=False)
    both = LearningCurves(pd.concat([with_ssl.records, plain.records], ignore_index=True), plain.full_accuracy,
                          plain.settings)
    return both.savings(0.98), both.full_accuracy


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--seeds", type=int, default=5)
    ap.add_argument("--budget", type=int, default=400)
    ap.add_argument("--parts", default="123", help="which parts to run, e.g. 1 or 13")
    a = ap.parse_args()
    seeds = list(range(a.seeds))
    X, y = load_digits(return_X_y=True)
    X = X / 16.0
    Xp, Xt, yp, yt = train_test_split(X, y, test_size=0.25, stratify=y, random_state=0)
    t = time.time()
    if "1" in a.parts:
        print(f"1. accuracy with few human labels, mean (std) over {len(seeds)} seeds\n")
        print(part1(Xp, yp, Xt, yt, seeds).to_string(), f"\n({time.time() - t:.0f} s)\n")
    t = time.time()
    if "2" in a.parts:
        print("2. co-training on the left and right halves of each image (LogisticRegression per view)\n")
        print(part2(Xp, yp, Xt, yt, seeds).to_string(), f"\n({time.time() - t:.0f} s)\n")
    t = time.time()
    if "3" in a.parts:
        table, full = part3(X, y, seeds, a.budget)
        print(f"3. labels to reach 98% of the full-data accuracy ({full:.4f} -> {0.98 * full:.4f}), LogisticRegression, "
              f"20 initial labels, batches of 10\n")
        print(table[["labels_to_reach", "fraction_of_random", "final_accuracy"]].round(4).to_string(),
              f"\n({time.time() - t:.0f} s)")
