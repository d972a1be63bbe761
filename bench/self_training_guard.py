"""Does self-training inside the pipeline ever make the model worse than its human labels alone?

For each dataset and seed, two `AutoLabelingPipeline` runs with the same seed set, pool, strategy (uncertainty),
batches of 20 (10% random share, held out of training as the audit sample: no validation set), a scripted person
as the labeling tool, and a fixed number of rounds: one without self-training and one with the specification's
`confidence_threshold=0.95`. Reported: the final model's accuracy on a test split neither run ever saw, the rounds in
which the guard dropped the round's pseudo-labels (held-out random items scored worse with them) or raised/paused the
bar (audits below `min_pseudo_accuracy`), the pseudo-labels kept in the last round, and seconds per run.
Run it on two trees side by side to compare code versions (`PYTHONPATH=<tree>`), `--label` names the rows.
Seconds are wall time (`seconds`) and the process's CPU time (`cpu_seconds`, less sensitive to other load; pin
`OPENBLAS_NUM_THREADS=1` so the two agree).

    PYTHONPATH=. .venv/bin/python bench/self_training_guard.py [--datasets digits sms newsgroups] [--seeds 3]
        [--rounds 10] [--label NAME] [--validation]
"""
import argparse
import json
import time
import warnings

import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split

from auto_labeling import AutoLabelingPipeline, EvaluationSettings, StoppingSettings
from honest_figures import Person, load

warnings.filterwarnings("ignore")


def one_run(X, y, seed, rounds, threshold, validation=False):
    Xp, Xt, yp, yt = train_test_split(X, y, test_size=0.25, stratify=y, random_state=seed)
    val = None
    if validation:            # a fifth of the pool becomes the run's validation set: nothing is held out of training
        Xp, Xv, yp, yv = train_test_split(Xp, yp, test_size=0.2, stratify=yp, random_state=seed)
        val = (Xv, yv)
    init = np.random.default_rng(seed).choice(len(yp), 30, replace=False)
    rest = np.setdiff1d(np.arange(len(yp)), init)
    p = AutoLabelingPipeline(LogisticRegression(max_iter=1000), active_learning="uncertainty",
                             labeling_tool=Person(yp[rest]), random_state=seed)
    p.configure(batch_size=20, max_iterations=rounds, confidence_threshold=threshold,
                stopping=StoppingSettings(patience=None),
                evaluation=EvaluationSettings(random_baseline=False, lift_monitor=False))
    t, cpu = time.perf_counter(), time.process_time()
    r = p.run(labeled_data=(Xp[init], yp[init]), unlabeled_data=Xp[rest], validation_data=val, progress=False)
    seconds, cpu = time.perf_counter() - t, time.process_time() - cpu
    h = pd.DataFrame(p.learner.pseudo_history)
    return {"threshold": threshold, "seed": seed, "labels": int(r.labels_used),
            "true_accuracy": round(float(p.model.score(Xt, yt)), 4),
            "rounds_dropped": int(h["dropped"].sum()) if "dropped" in h else None,
            "rounds_judged_by_folds": int(h["cv_gain"].notna().sum()) if "cv_gain" in h else 0,
            "rounds_paused": int(h["paused"].sum()) if "paused" in h else 0,
            "rounds_raised": int((h["bar"] > threshold).sum()) if "bar" in h and threshold else None,
            "pseudo_last": int(h["n_pseudo"].iloc[-1]) if len(h) else 0,
            "rounds_with_pseudo": int((h["n_pseudo"] > 0).sum()) if len(h) else 0, "seconds": round(seconds, 2),
            "cpu_seconds": round(cpu, 2)}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--datasets", nargs="+", default=["digits", "sms", "newsgroups"])
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--rounds", type=int, default=10)
    ap.add_argument("--label", default="this tree")
    ap.add_argument("--validation", action="store_true",
                    help="hand the pipeline a validation set (a fifth of the pool): nothing is held out, and "
                         "cross-validation on the human labels judges the pseudo-labels")
    args = ap.parse_args()
    rows = []
    for name in args.datasets:
        X, y = load(name)
        for seed in range(args.seeds):
            for threshold in (None, 0.95):
                row = dict(one_run(X, y, seed, args.rounds, threshold, args.validation), dataset=name,
                           code=args.label, validation=args.validation)
                rows.append(row)
                print(json.dumps(row), flush=True)
    df = pd.DataFrame(rows)
    wide = df.pivot_table(index=["dataset", "seed"], columns=df.threshold.fillna(0).map({0: "none", 0.95: "st"}),
                          values="true_accuracy")
    wide["st - none"] = wide["st"] - wide["none"]
    print(f"\n## {args.label}: final test accuracy without / with self-training (0.95)")
    print(wide.round(4).to_string())
    print(wide.groupby("dataset")["st - none"].agg(["median", "min", "max"]).round(4).to_string())


if __name__ == "__main__":
    main()
