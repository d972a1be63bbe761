"""The seed's performance table, measured: labels needed to reach 98% of the full-data accuracy, per strategy, with
the saving against random sampling, on digits and on two real text datasets embedded with all-MiniLM-L6-v2.

Protocol (every dataset): one stratified 75/25 pool/test split (random_state=0), LogisticRegression(max_iter=2000),
20 random initial labels (the same 20 for every strategy of a seed), 5 seeds, all through `auto_labeling.simulate`;
batches of 10 and a budget of 500 labels, except 20 Newsgroups: batches of 20, budget 1,200 (random sampling does not
reach its target within 500 labels there). For each strategy and seed, "labels to reach" is the first point of that
seed's curve at or above the target; the table shows the median over seeds (and the package's own
`LearningCurves.labels_to_reach`, read off the mean curve, for reference). Saving = 1 - median labels / random's.

* digits: scikit-learn's 1,797 digits / 16 (64 pixel features).
* 20 Newsgroups, 4 topics (alt.atheism, talk.religion.misc, comp.graphics, sci.space; headers, footers and quotes
  removed; all 3,387 posts), embedded with all-MiniLM-L6-v2 (384-d).
* SMS Spam Collection (5,574 messages, 13% spam), embedded with all-MiniLM-L6-v2. `simulate` scores plain accuracy,
  which is weak on an imbalanced set (always "ham" scores 87%), so the test set is made class-balanced: all 187 test
  spam and 187 test ham drawn at random. Accuracy on a class-balanced set equals balanced accuracy.

Embeddings are computed once with `auto_labeling.embeddings.embed_texts` and cached in bench/out/*.npy.

    .venv/bin/python bench/performance_table.py [--datasets digits newsgroups sms] [--seeds 5] [--budget N]
        [--batch-size N]     (budget and batch size default per dataset, see SETTINGS)
"""
import argparse
import json
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.base import clone
from sklearn.datasets import load_digits
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split

from auto_labeling import LearningCurves, simulate
from auto_labeling.semi_supervised import SelfTrainer

warnings.filterwarnings("ignore")
OUT = Path(__file__).parent / "out"
STRATEGIES = {
    "random": "random",
    "uncertainty (margin)": "margin",
    "uncertainty (entropy)": "entropy",
    "QBC (5 bagged members)": "query_by_committee",
    "diversity (k-means)": "kmeans",
    "hybrid: uncertainty + k-means": "uncertainty_diversity",
}
PSEUDO = {"hybrid + pseudo-labels (self-training)": "uncertainty_diversity"}
THRESHOLD = 0.5              # SelfTrainer's threshold, as in bench/semi_supervised.py
SETTINGS = {"digits": (500, 10), "newsgroups": (1200, 20), "sms": (500, 10)}     # budget, batch size
NEWSGROUPS_4 = ["alt.atheism", "talk.religion.misc", "comp.graphics", "sci.space"]


def cached_text_embeddings(name, texts):
    "MiniLM embeddings of `texts`, computed once and kept in bench/out/<name>_minilm.npy."
    from auto_labeling.embeddings import embed_texts
    OUT.mkdir(exist_ok=True)
    path = OUT / f"{name}_minilm.npy"
    if path.exists():
        E = np.load(path)
        if len(E) == len(texts):
            return E, 0.0
    t = time.time()
    E = embed_texts(texts, batch_size=64, progress=False)
    np.save(path, E)
    return E, time.time() - t


def load(name):
    "(X_pool, y_pool, X_test, y_test, description)"
    if name == "digits":
        X, y = load_digits(return_X_y=True)
        Xp, Xt, yp, yt = train_test_split(X / 16.0, y, test_size=0.25, stratify=y, random_state=0)
        return Xp, yp, Xt, yt, "digits (64 pixels), LogisticRegression"
    if name == "newsgroups":
        from auto_labeling.datasets import load_newsgroups
        texts, y = load_newsgroups(NEWSGROUPS_4, subset="all", remove=("headers", "footers", "quotes"))
        E, secs = cached_text_embeddings("newsgroups4", texts)
        Xp, Xt, yp, yt = train_test_split(E, y, test_size=0.25, stratify=y, random_state=0)
        return Xp, yp, Xt, yt, (f"20 Newsgroups, 4 topics ({len(y)} posts), MiniLM embeddings"
                                f"{f' (embedded in {secs:.0f} s)' if secs else ''}, LogisticRegression")
    if name == "sms":
        from auto_labeling.datasets import load_sms_spam
        texts, y = load_sms_spam()
        E, secs = cached_text_embeddings("sms_spam", texts)
        Xp, Xt, yp, yt = train_test_split(E, y, test_size=0.25, stratify=y, random_state=0)
        spam = np.flatnonzero(yt == "spam")
        ham = np.random.default_rng(0).choice(np.flatnonzero(yt == "ham"), size=len(spam), replace=False)
        keep = np.sort(np.concatenate([spam, ham]))
        return Xp, yp, Xt[keep], yt[keep], (f"SMS spam ({len(y)} messages), MiniLM embeddings"
                                            f"{f' (embedded in {secs:.0f} s)' if secs else ''}, LogisticRegression, "
                                            f"class-balanced test set ({len(keep)}): accuracy = balanced accuracy")
    raise ValueError(f"unknown dataset {name!r}; choose from digits, newsgroups, sms")


def per_seed_labels(curves: LearningCurves, goal: float) -> pd.DataFrame:
    "Labels each (strategy, seed) curve first reaches `goal` at (inf = never, within the budget)."
    rec = curves.records
    hit = rec[rec["accuracy"] >= goal].groupby(["strategy", "seed"])["n_labels"].min()
    full = rec.groupby(["strategy", "seed"])["n_labels"].max().rename("budget")
    return pd.concat([hit.rename("labels"), full], axis=1).fillna({"labels": np.inf})


def run(name, seeds, budget, batch_size, n_initial, target):
    Xp, yp, Xt, yt, what = load(name)
    lr = LogisticRegression(max_iter=2000)
    common = dict(X_test=Xt, y_test=yt, n_initial=n_initial, batch_size=batch_size, budget=budget, seeds=seeds,
                  progress=False)
    t = time.time()
    plain = simulate(lr, Xp, yp, strategies=STRATEGIES, **common)
    t_plain = time.time() - t
    t = time.time()
    ssl = simulate(lr, Xp, yp, strategies=PSEUDO, **common, learner_options={
        "self_training": SelfTrainer(clone(lr), confidence_threshold=THRESHOLD)})
    t_ssl = time.time() - t
    curves = LearningCurves(pd.concat([plain.records, ssl.records], ignore_index=True), plain.full_accuracy,
                            plain.settings)
    goal = target * curves.full_accuracy
    seedwise = per_seed_labels(curves, goal)
    med = seedwise.groupby("strategy", sort=False)["labels"].median()
    reached = seedwise.groupby("strategy", sort=False)["labels"].apply(lambda s: int(np.isfinite(s).sum()))
    lo = seedwise.groupby("strategy", sort=False)["labels"].min()
    hi = seedwise.groupby("strategy", sort=False)["labels"].max()
    mean_curve = curves.labels_to_reach(target)
    final = curves.mean_curves().groupby("strategy", sort=False).last()["mean"]
    table = pd.DataFrame({"median_labels": med, "min": lo, "max": hi, "seeds_reached": reached,
                          "mean_curve_labels": mean_curve, "final_accuracy": final}).loc[curves.strategies]
    base = table.loc["random", "median_labels"]
    table["savings_vs_random"] = [1 - m / base if np.isfinite(m) and np.isfinite(base) else np.nan
                                  for m in table["median_labels"]]
    curves.records.to_csv(OUT / f"performance_{name}_records.csv", index=False)
    (OUT / f"performance_{name}.json").write_text(json.dumps({
        "dataset": what, "full_accuracy": curves.full_accuracy, "target": goal,
        "table": json.loads(table.replace([np.inf], None).to_json(orient="index"))}, indent=2))
    return table, curves.full_accuracy, goal, what, len(Xp), len(Xt), t_plain + t_ssl


def fmt(v, pct=False):
    if v is None or (isinstance(v, float) and np.isnan(v)):
        return "—"
    if np.isinf(v):
        return "not reached"
    return f"{v:.0%}" if pct else f"{v:.0f}"


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--datasets", nargs="+", default=["digits", "newsgroups", "sms"])
    ap.add_argument("--seeds", type=int, default=5)
    ap.add_argument("--budget", type=int, default=None)
    ap.add_argument("--batch-size", type=int, default=None)
    ap.add_argument("--n-initial", type=int, default=20)
    ap.add_argument("--target", type=float, default=0.98)
    a = ap.parse_args()
    for name in a.datasets:
        budget, batch_size = a.budget or SETTINGS[name][0], a.batch_size or SETTINGS[name][1]
        table, full, goal, what, n_pool, n_test, secs = run(name, list(range(a.seeds)), budget, batch_size,
                                                            a.n_initial, a.target)
        print(f"\n### {what}\n")
        print(f"pool {n_pool}, test {n_test}; full-data accuracy {full:.4f}; target = {a.target:.0%} of it = "
              f"{goal:.4f}; {a.seeds} seeds, {a.n_initial} initial labels, batches of {batch_size}, budget "
              f"{budget}; {secs:.0f} s\n")
        print(f"| strategy | median labels to target (min–max) | seeds reaching | saving vs random | "
              f"mean-curve labels | accuracy at {budget} |")
        print("|---|---:|---:|---:|---:|---:|")
        for s, r in table.iterrows():
            spread = f" ({fmt(r['min'])}–{fmt(r['max'])})" if np.isfinite(r["median_labels"]) else ""
            print(f"| {s} | {fmt(r['median_labels'])}{spread} | {int(r['seeds_reached'])}/{a.seeds} | "
                  f"{fmt(r['savings_vs_random'], pct=True)} | {fmt(r['mean_curve_labels'])} | "
                  f"{r['final_accuracy']:.4f} |", flush=True)
