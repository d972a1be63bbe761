"""What `active_learning="auto"` costs or saves *inside* `AutoLabelingPipeline`, next to the pipeline's default
("uncertainty", margin) in the same run: the pipeline adds its own random share (`random_fraction`, 10%) to every
batch, and auto holds back 10% more for its lifts, so an auto run has about twice the uniform items.

Protocol: bench/label_efficiency.py's splits and initial labels (20 random per seed), LogisticRegression(max_iter=2000),
the simulated tool, batches of 10, 48 rounds (500 labels), the test split given as the validation set so that both
arms are scored the same way, no target, no stopping rule, no simulated random baseline. Per seed: area under the
validation accuracy against labels, and labels to 98% of the full-data accuracy.

    OPENBLAS_NUM_THREADS=1 nice .venv/bin/python bench/auto_in_pipeline.py [--datasets digits sms] [--seeds 10]
"""
import argparse
import sys
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression

sys.path.insert(0, str(Path(__file__).parent))
import label_efficiency as le                                  # noqa: E402  (the same splits and datasets)
from auto_labeling import AutoLabelingPipeline, EvaluationSettings, StoppingSettings   # noqa: E402

warnings.filterwarnings("ignore")


def one_run(strategy, Xp, yp, Xt, yt, seed, rounds):
    initial = np.random.default_rng(seed).choice(len(Xp), size=20, replace=False)
    rest = np.setdiff1d(np.arange(len(Xp)), initial)
    p = AutoLabelingPipeline(LogisticRegression(max_iter=2000), active_learning=strategy, random_state=seed)
    p.configure(batch_size=10, max_iterations=rounds, stopping=StoppingSettings(patience=None),
                evaluation=EvaluationSettings(random_baseline=False, lift_monitor=False))
    r = p.run(labeled_data=(Xp[initial], yp[initial]), unlabeled_data=(Xp[rest], yp[rest]),
              validation_data=(Xt, yt), progress=False)
    return r.rounds[["n_labels", "score"]].assign(strategy=strategy, seed=seed)


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--datasets", nargs="+", default=["digits", "sms"])
    ap.add_argument("--seeds", type=int, default=10)
    ap.add_argument("--rounds", type=int, default=48)
    a = ap.parse_args()
    for ds in a.datasets:
        Xp, yp, Xt, yt = le.load(ds)
        full = float(np.mean(le.new_model().fit(Xp, yp).predict(Xt) == yt))
        goal = 0.98 * full
        rec = pd.concat([one_run(s, Xp, yp, Xt, yt, seed, a.rounds) for s in ("uncertainty", "auto")
                         for seed in range(a.seeds)])
        rows = {}
        for (s, seed), c in rec.groupby(["strategy", "seed"]):
            x, y = c["n_labels"].to_numpy(float), c["score"].to_numpy(float)
            hit = c.loc[c["score"] >= goal, "n_labels"]
            rows[(s, seed)] = (float(np.trapezoid(y, x) / (x[-1] - x[0])), float(hit.min()) if len(hit) else np.inf)
        t = pd.DataFrame(rows, index=["auc", "labels"]).T
        print(f"\n### {ds}: full-data accuracy {full:.4f}, target {goal:.4f}, {a.seeds} seeds, {a.rounds} rounds of 10")
        for s in ("uncertainty", "auto"):
            g = t.loc[s]
            print(f"{s:12s} AUC median {g['auc'].median():.4f} ({g['auc'].min():.4f}-{g['auc'].max():.4f}); "
                  f"labels to target median {g['labels'].median():.0f} ({g['labels'].min():.0f}-{g['labels'].max():.0f})")
        d = t.loc["auto", "auc"] - t.loc["uncertainty", "auc"]
        print(f"auto - uncertainty AUC per seed: median {d.median():+.4f} ({d.min():+.4f} to {d.max():+.4f}), "
              f"ahead in {int((d > 0).sum())}/{len(d)}", flush=True)
