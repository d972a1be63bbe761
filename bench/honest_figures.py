"""Honest figures without a validation set: how good are the numbers a run reports when it only has its own labels?

For each dataset and seed, an `AutoLabelingPipeline` runs with a scripted person as its labeling tool (it answers
with the true labels, but no oracle reaches the pipeline, exactly as with Label Studio or the widget), no validation
set, uncertainty sampling, batches of 20 with the default 10% random share (`--random-fraction`), 30 random initial
labels, 15 rounds. Then:

* **coverage**: at every round with at least 10 random audit items, does the reported 95% interval (random audit,
  prediction-powered) hold the model's true accuracy on a held-out test set the run never saw? (The true accuracy is
  read by a stopping rule that never stops, so it scores the very model the interval is about.)
* **labels random sampling would need**: the run's estimate (`results.labels_random`, from the random items alone,
  `estimate_labels_random`), next to the count measured with the true labels (`random_curve` on the same pool, seed
  set and model, scored on the test set, 3 orders), both for the same score: the run's 95% lower bound at its end.
* **what the random share costs**: the same runs with a validation set (so both score the same way) at
  random_fraction 0.1 and 0.0, labels to reach the target on the validation set.

Text datasets are TF-IDF + 100-d truncated SVD (fast, no model weights): 20 Newsgroups (4 topics) and SMS spam.

    .venv/bin/python bench/honest_figures.py [--datasets digits sms newsgroups] [--seeds 5] [--rounds 15]
        [--random-fraction 0.1] [--share-targets JSON]
"""
import argparse
import json
import time
import warnings

import numpy as np
import pandas as pd
from sklearn.datasets import load_digits
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split

from auto_labeling import AutoLabelingPipeline, EvaluationSettings, StoppingSettings
from auto_labeling.core import Pool
from auto_labeling.destinations import LabelingTool
from auto_labeling.evaluation import estimate_labels_random, labels_to_reach, random_curve
from auto_labeling.stopping import StoppingRule

warnings.filterwarnings("ignore")
NEWSGROUPS_4 = ["alt.atheism", "talk.religion.misc", "comp.graphics", "sci.space"]


def text_features(texts):
    from sklearn.decomposition import TruncatedSVD
    from sklearn.feature_extraction.text import TfidfVectorizer
    T = TfidfVectorizer(min_df=2, max_features=20000, sublinear_tf=True).fit_transform(texts)
    return TruncatedSVD(100, random_state=0).fit_transform(T)


def load(name):
    if name == "digits":
        X, y = load_digits(return_X_y=True)
        return X / 16.0, y
    if name == "sms":
        from auto_labeling.datasets import load_sms_spam
        texts, y = load_sms_spam()
        return text_features(texts), np.asarray(y)
    if name == "newsgroups":
        from auto_labeling.datasets import load_newsgroups
        texts, y = load_newsgroups(NEWSGROUPS_4, subset="all", remove=("headers", "footers", "quotes"))
        return text_features(texts), np.asarray(y)
    raise ValueError(name)


class Person(LabelingTool):
    "A scripted person: answers at once with the true labels; the pipeline never sees them otherwise."
    name, answers_now = "scripted_person", True

    def __init__(self, truth):
        self.truth = truth

    def send(self, batch):
        return self.truth[batch.indices]


class TrueAccuracy(StoppingRule):
    """Never stops; records the current model's accuracy on the test set next to the round's reported interval
    (every round with a model when `every_round`, else only the rounds that report an interval)."""
    reason = "never"

    def __init__(self, pipeline, X_test, y_test, every_round=False):
        self.pipeline, self.X_test, self.y_test, self.rows = pipeline, X_test, y_test, []
        self.every_round = every_round

    def observe(self, progress):
        model = self.pipeline.model
        if (self.every_round or progress.score_low is not None) and hasattr(model, "classes_"):
            self.rows.append({"round": progress.round, "n_labels": progress.n_labels, "score": progress.score,
                              "low": progress.score_low, "high": progress.score_high,
                              "n_audit": len(self.pipeline.learner.held_out),
                              "true": float(model.score(self.X_test, self.y_test))})
        return False


def one_run(X, y, seed, rounds, random_fraction=0.1):
    Xp, Xt, yp, yt = train_test_split(X, y, test_size=0.25, stratify=y, random_state=seed)
    init = np.random.default_rng(seed).choice(len(yp), 30, replace=False)
    rest = np.setdiff1d(np.arange(len(yp)), init)
    p = AutoLabelingPipeline(LogisticRegression(max_iter=1000), active_learning="uncertainty",
                             labeling_tool=Person(yp[rest]), random_state=seed)
    watch = TrueAccuracy(p, Xt, yt)
    p.configure(batch_size=20, max_iterations=rounds, random_fraction=random_fraction,
                stopping=StoppingSettings(patience=None, rules=(watch,)))
    t = time.time()
    r = p.run(labeled_data=(Xp[init], yp[init]), unlabeled_data=Xp[rest], progress=False)
    seconds = time.time() - t
    last = r.rounds.iloc[-1]
    level = float(last.score_low)
    measured_curve = random_curve(LogisticRegression(max_iter=1000), Pool(Xp[rest]), yp[rest],
                                  steps=sorted({int(40 * 1.08 ** k) for k in range(60) if 40 * 1.08 ** k < len(rest)}), X0=Xp[init], y0=yp[init],
                                  validation=(Xt, yt), seeds=3, random_state=seed, stop_at=level)
    measured = labels_to_reach(measured_curve, level)
    # the fitted curve's own reading too (what the run reports only when its interval is narrow enough)
    labels = p.learner.labels_by_position
    positions = sorted({a["position"] for a in p.loop.audits if a["position"] in labels})
    est = estimate_labels_random(LogisticRegression(max_iter=1000), Xp[rest][positions],
                                 np.asarray([labels[q] for q in positions]), level, Xp[init], yp[init],
                                 random_state=seed)
    return {"seed": seed, "labels_used": r.labels_used, "n_random": int(last.n_random), "level": level,
            "estimated": r.labels_random, "est_low": r.labels_random_low, "est_high": r.labels_random_high,
            "point": est["point"], "more_needed": r.more_random_needed, "measured": measured,
            "baseline": r.baseline, "seconds": round(seconds, 1)}, watch.rows


def random_share_cost(X, y, seed, target):
    "Labels to reach `target` on the validation set with random_fraction 0.1 and 0.0 (everything else equal)."
    Xp, Xt, yp, yt = train_test_split(X, y, test_size=0.25, stratify=y, random_state=seed)
    init = np.random.default_rng(seed).choice(len(yp), 30, replace=False)
    rest = np.setdiff1d(np.arange(len(yp)), init)
    out = {"seed": seed}
    for share in (0.1, 0.0):
        p = AutoLabelingPipeline(LogisticRegression(max_iter=1000), active_learning="uncertainty", random_state=seed)
        p.configure(batch_size=20, max_iterations=40, random_fraction=share, stopping=StoppingSettings(patience=None),
                    evaluation=EvaluationSettings(random_baseline=False, lift_monitor=False))
        r = p.run(labeled_data=(Xp[init], yp[init]), unlabeled_data=(Xp[rest], yp[rest]), validation_data=(Xt, yt),
                  target_accuracy=target, progress=False)
        out[f"labels@{share}"] = r.labels_used if r.stopped_by == "target_accuracy" else float("inf")
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--datasets", nargs="+", default=["digits", "sms", "newsgroups"])
    ap.add_argument("--seeds", type=int, default=5)
    ap.add_argument("--rounds", type=int, default=15)
    ap.add_argument("--random-fraction", type=float, default=0.1)
    ap.add_argument("--share-targets", default='{"digits": 0.93, "sms": 0.95, "newsgroups": 0.8}')
    args = ap.parse_args()
    targets = json.loads(args.share_targets)
    runs, cover, share = [], [], []
    for name in args.datasets:
        X, y = load(name)
        for seed in range(args.seeds):
            row, watched = one_run(X, y, seed, args.rounds, args.random_fraction)
            row["dataset"] = name
            runs.append(row)
            cover += [dict(w, dataset=name, seed=seed) for w in watched]
            print(json.dumps(row), flush=True)
            if name in targets:
                s = random_share_cost(X, y, seed, targets[name])
                s["dataset"] = name
                share.append(s)
                print(json.dumps(s), flush=True)
    runs, cover, share = pd.DataFrame(runs), pd.DataFrame(cover), pd.DataFrame(share)
    cover = cover[cover.n_audit >= 10]
    cover["covered"] = (cover.low <= cover.true) & (cover.true <= cover.high)
    final = cover.groupby(["dataset", "seed"]).tail(1)
    print("\n## labels random sampling would need: estimated (from the random items) vs measured (true labels)")
    runs["point_within_25%"] = (runs.point - runs.measured).abs() <= 0.25 * runs.measured
    print(runs[["dataset", "seed", "labels_used", "n_random", "level", "estimated", "est_low", "est_high",
                "point", "more_needed", "measured", "point_within_25%"]].round(3).to_string(index=False))
    print(runs.groupby("dataset")[["point_within_25%"]].sum().to_string())
    print("\n## coverage of the reported 95% accuracy interval (rounds with >= 10 audit items)")
    print(f"all rounds: {cover.covered.mean():.2f} of {len(cover)}; final rounds: {final.covered.mean():.2f} of "
          f"{len(final)}; median width {float((cover.high - cover.low).median()):.3f}")
    print(cover.groupby("dataset").covered.agg(["mean", "size"]).round(2).to_string())
    if len(share):
        print("\n## what the random share costs (labels to reach the target on the validation set)")
        print(share.to_string(index=False))


if __name__ == "__main__":
    main()
