"""What `active_learning="auto"` (the pipeline's default) costs or saves *inside* `AutoLabelingPipeline`, next to
margin sampling ("uncertainty") in the same run, and what judging auto on the run's own uniform sample changed.

A run has one uniform sample: the validation set when given, else the pipeline's random draws (`random_fraction`,
10%), held out of training while the run goes. `auto` measures each round's lift on that sample (`judge_on`, chapter
`01d_auto`). The row "auto (own sample)" is auto as it was before: judging on items it held back itself, on top of
the pipeline's random share, so about twice the uniform items.

Protocol: bench/label_efficiency.py's splits and initial labels (20 random per seed), LogisticRegression(max_iter=2000),
the simulated tool, batches of 10, 48 rounds (500 labels), no target, no stopping rule, no simulated random baseline.
With `--validation` (the default) the test split is the validation set; with `--no-validation` the run has none
(its score is then the random audit's estimate) and a rule that never stops reads each round's model's true accuracy
on the test split, which the run never sees. Per seed: area under the test accuracy against labels, and labels to 98%
of the full-data accuracy.

    OPENBLAS_NUM_THREADS=1 nice .venv/bin/python bench/auto_in_pipeline.py [--datasets digits sms] [--seeds 10] \
        [--no-validation]
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
from auto_labeling.auto_strategy import AutoSampling           # noqa: E402
from honest_figures import TrueAccuracy                        # noqa: E402  (reads each round's true accuracy)

warnings.filterwarnings("ignore")
ARMS = ("uncertainty", "auto", "auto (own sample)")


class OwnSample(AutoSampling):
    "auto as it was before judge_on: it ignores the run's sample and holds back items of its own."
    def judge_on(self, X=None, y=None, keys=None):
        return self


def one_run(arm, Xp, yp, Xt, yt, seed, rounds, validation):
    initial = np.random.default_rng(seed).choice(len(Xp), size=20, replace=False)
    rest = np.setdiff1d(np.arange(len(Xp)), initial)
    strategy = OwnSample(random_state=seed) if arm == "auto (own sample)" else arm
    p = AutoLabelingPipeline(LogisticRegression(max_iter=2000), active_learning=strategy, random_state=seed)
    watch = TrueAccuracy(p, Xt, yt, every_round=True)        # the test split, which the run never sees
    p.configure(batch_size=10, max_iterations=rounds, stopping=StoppingSettings(patience=None, rules=(watch,)),
                evaluation=EvaluationSettings(random_baseline=False, lift_monitor=False))
    p.run(labeled_data=(Xp[initial], yp[initial]), unlabeled_data=(Xp[rest], yp[rest]),
          validation_data=(Xt, yt) if validation else None, progress=False)
    leads = getattr(p.learner.strategy, "switches", None)
    out = pd.DataFrame(watch.rows).assign(strategy=arm, seed=seed)
    out.attrs["switches"] = 0 if leads is None else len(leads)
    return out


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--datasets", nargs="+", default=["digits", "sms"])
    ap.add_argument("--seeds", type=int, default=10)
    ap.add_argument("--rounds", type=int, default=48)
    ap.add_argument("--validation", action=argparse.BooleanOptionalAction, default=True)
    a = ap.parse_args()
    for ds in a.datasets:
        Xp, yp, Xt, yt = le.load(ds)
        full = float(np.mean(le.new_model().fit(Xp, yp).predict(Xt) == yt))
        goal = 0.98 * full
        runs = [one_run(s, Xp, yp, Xt, yt, seed, a.rounds, a.validation) for s in ARMS for seed in range(a.seeds)]
        rows = {}
        for c in runs:
            x, y = c["n_labels"].to_numpy(float), c["true"].to_numpy(float)
            hit = c.loc[c["true"] >= goal, "n_labels"]
            rows[(c["strategy"].iloc[0], int(c["seed"].iloc[0]))] = (
                float(np.trapezoid(y, x) / (x[-1] - x[0])), float(hit.min()) if len(hit) else np.inf,
                c.attrs["switches"])
        t = pd.DataFrame(rows, index=["auc", "labels", "switches"]).T
        where = "validation set = test split" if a.validation else "no validation set (random audit), test split read aside"
        print(f"\n### {ds}: full-data accuracy {full:.4f}, target {goal:.4f}, {a.seeds} seeds, {a.rounds} rounds of 10, "
              f"{where}")
        for s in ARMS:
            g = t.loc[s]
            print(f"{s:18s} AUC median {g['auc'].median():.4f} ({g['auc'].min():.4f}-{g['auc'].max():.4f}); "
                  f"labels to target median {g['labels'].median():.0f} ({g['labels'].min():.0f}-"
                  f"{g['labels'].max():.0f}); lead changes {int(g['switches'].sum())}")
        for other in ARMS[::2]:
            d = t.loc["auto", "auc"] - t.loc[other, "auc"]
            print(f"auto - {other}: AUC per seed median {d.median():+.4f} ({d.min():+.4f} to {d.max():+.4f}), "
                  f"ahead in {int((d > 0).sum())}/{len(d)}", flush=True)
