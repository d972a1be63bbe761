"""Label efficiency of the package's strategies next to scikit-activeml 1.0.1, in one run on the same splits and the
same initial labels: labels needed to reach 98% of the full-data accuracy (median and spread over seeds) and the area
under the learning curve.

Protocol (every dataset): one stratified 75/25 pool/test split (random_state=0), LogisticRegression(max_iter=2000)
(refit each round from the previous round's solution, warm_start=True, for both libraries: a speed-up only),
20 random initial labels per seed (the same 20 for every strategy of a seed), 10 seeds. Each round fits the model on
the labels so far, measures accuracy on the test set and asks the strategy for the next batch. Batches of 10 and a
budget of 500 labels (20 Newsgroups: batches of 20, budget 1,200, as in bench/performance_table.py). The loop is this
script's own (fit, query, add the labels): it does not depend on `simulate`. Labels are encoded as integers.

* digits: scikit-learn's 1,797 digits / 16.
* newsgroups: 20 Newsgroups, 4 topics (alt.atheism, talk.religion.misc, comp.graphics, sci.space; headers, footers
  and quotes removed), embedded with all-MiniLM-L6-v2 (`auto_labeling.embeddings.embed_texts`, cached in bench/out/).
* sms: SMS Spam Collection, MiniLM embeddings; the test set is all test spam and as many random test ham, so accuracy
  there is balanced accuracy.

Ours: random, margin, entropy, the hybrid (margin candidates thinned by k-means), BADGE, cluster-margin, core-set,
TypiClust, and TypiClust for the 20 initial labels followed by BADGE ("cold start": its first 20 labels are not random,
so it is the only row whose initial labels differ), and "auto" (`AutoSampling`, issue 18), twice: its default policy
(the hybrid leads, margin, BADGE and random challenge it every fifth round) and "auto (EXP3)" (a bandit over margin,
the hybrid, QBC, core-set, BADGE and random). Two more rows are not query strategies: "ours: hybrid + self-training"
and "ours: auto + self-training" run the package's `ActiveLearner` with its `SelfTrainer` (confidence_threshold 0.5),
so the model also learns from confident pseudo-labels of the pool: what the package saves when it labels the easy rest
itself (their query seconds include nothing of the self-training, which happens in the refit). The loop calls its `fit` and `observe` as `ActiveLearner` does, and the
arm of each of its rounds goes to bench/out/label_efficiency_<dataset>_auto_arms.csv. While the labels hold one class
(SMS spam: some seeds' 20 random items are all ham), our rows do what `ActiveLearner` does: the cold start
(k-means diversity) picks the batch, and the accuracy is that of predicting the one class. Peers (scikit-activeml
1.0.1): Badge, TypiClust, ProbCover, CoreSet, UncertaintySampling(margin_sampling).

`--add-to` re-measures only the rows named in `--strategies` and keeps the others from the last run's records (same
splits, seeds and initial labels), so a changed strategy is compared with peers measured before.

    nice .venv/bin/python bench/label_efficiency.py [--datasets digits newsgroups sms] [--seeds 10]
"""
import argparse
import json
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.datasets import load_digits
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split

from auto_labeling.auto_strategy import AutoSampling
from auto_labeling.strategies import (BadgeSampling, ClusterMarginSampling, DiversitySampling, RandomSampling,
                                      TypiClustSampling, UncertaintyDiversitySampling, UncertaintySampling)

warnings.filterwarnings("ignore")
OUT = Path(__file__).parent / "out"
SETTINGS = {"digits": (500, 10), "newsgroups": (1200, 20), "sms": (500, 10)}     # budget, batch size
NEWSGROUPS_4 = ["alt.atheism", "talk.religion.misc", "comp.graphics", "sci.space"]
OURS = {
    "random": RandomSampling,
    "ours: margin": lambda: UncertaintySampling("margin"),
    "ours: entropy": lambda: UncertaintySampling("entropy"),
    "ours: hybrid (margin + k-means)": UncertaintyDiversitySampling,
    "ours: BADGE": BadgeSampling,
    "ours: cluster-margin": ClusterMarginSampling,
    "ours: core-set": lambda: DiversitySampling("coreset"),
    "ours: TypiClust": TypiClustSampling,
    "ours: TypiClust start + BADGE": BadgeSampling,          # initial labels from TypiClust, see run_ours
    "ours: auto": lambda: AutoSampling(model=new_model()),   # the default policy: the hybrid leads, challengers
    "ours: auto (EXP3)": lambda: AutoSampling(model=new_model(), policy="exp3"),   # margin, hybrid, QBC, core-set,
                                                                                  # BADGE, random
    "ours: auto (audit 0.2)": lambda: AutoSampling(model=new_model(), audit_fraction=0.2),   # twice the evidence
}
ARMS = []        # (strategy, seed, round, arm, the lead after the round) for auto's rounds
PEERS = ["skactiveml: Badge", "skactiveml: TypiClust", "skactiveml: ProbCover", "skactiveml: CoreSet",
         "skactiveml: margin"]


def cached_text_embeddings(name, texts):
    "MiniLM embeddings of `texts`, computed once and kept in bench/out/<name>_minilm.npy (as performance_table.py)."
    from auto_labeling.embeddings import embed_texts
    OUT.mkdir(exist_ok=True)
    path = OUT / f"{name}_minilm.npy"
    if path.exists():
        E = np.load(path)
        if len(E) == len(texts):
            return E
    E = embed_texts(texts, batch_size=64, progress=False)
    np.save(path, E)
    return E


def load(name):
    "(X_pool, y_pool, X_test, y_test) with integer labels."
    if name == "digits":
        X, y = load_digits(return_X_y=True)
        X = X / 16.0
    elif name == "newsgroups":
        from auto_labeling.datasets import load_newsgroups
        texts, y = load_newsgroups(NEWSGROUPS_4, subset="all", remove=("headers", "footers", "quotes"))
        X = cached_text_embeddings("newsgroups4", texts)
    elif name == "sms":
        from auto_labeling.datasets import load_sms_spam
        texts, y = load_sms_spam()
        X = cached_text_embeddings("sms_spam", texts)
    else:
        raise ValueError(f"unknown dataset {name!r}; choose from digits, newsgroups, sms")
    y = np.unique(np.asarray(y), return_inverse=True)[1]
    Xp, Xt, yp, yt = train_test_split(X, y, test_size=0.25, stratify=y, random_state=0)
    if name == "sms":                                      # class-balanced test set: accuracy = balanced accuracy
        spam = np.flatnonzero(yt == 1)
        ham = np.random.default_rng(0).choice(np.flatnonzero(yt == 0), size=len(spam), replace=False)
        keep = np.sort(np.concatenate([spam, ham]))
        Xt, yt = Xt[keep], yt[keep]
    return Xp, yp, Xt, yt


def new_model():
    "The protocol's model; warm_start only speeds up the refits (the problem is convex: same optimum, fewer steps)."
    return LogisticRegression(max_iter=2000, warm_start=True)


def run_ours(name, make, Xp, yp, Xt, yt, initial, budget, batch, seed):
    "One learning curve: (strategy, seed, labels, accuracy, seconds of the query that followed)."
    rows, labeled = [], list(initial)
    rng = np.random.default_rng(seed)
    if name == "ours: TypiClust start + BADGE":
        labeled = TypiClustSampling().query(unlabeled_pool=Xp, n_instances=len(initial),
                                            random_state=seed).indices.tolist()
    strategy, model, n_seen = make(), new_model(), 0
    arms = ARMS
    while True:
        if len(np.unique(yp[labeled])) != n_seen:         # a new class: the warm start's shape changes
            model, n_seen = new_model(), len(np.unique(yp[labeled]))
        t = time.perf_counter()
        if n_seen == 1:                                 # one class so far: as ActiveLearner, the cold start picks
            acc = float(np.mean(yt == yp[labeled[0]]))
            r = DiversitySampling("kmeans").query(unlabeled_pool=Xp, n_instances=min(batch, budget - len(labeled)),
                                                  exclude=labeled, random_state=rng)
            rows.append((name, seed, len(labeled), acc, time.perf_counter() - t))
            labeled += r.indices.tolist()
            continue
        model.fit(Xp[labeled], yp[labeled])
        acc = float(np.mean(model.predict(Xt) == yt))
        if len(labeled) >= budget:
            rows.append((name, seed, len(labeled), acc, np.nan))
            return rows
        t = time.perf_counter()
        if hasattr(strategy, "fit"):                   # what ActiveLearner does after each refit
            strategy.fit(Xp[labeled], yp[labeled])
        r = strategy.query(model=model, unlabeled_pool=Xp, n_instances=min(batch, budget - len(labeled)),
                           exclude=labeled, random_state=rng, labeled_features=Xp[labeled])
        rows.append((name, seed, len(labeled), acc, time.perf_counter() - t))
        labeled += r.indices.tolist()
        if hasattr(strategy, "observe"):               # what ActiveLearner does with each label it learns
            strategy.observe(r.indices, yp[r.indices])
        if hasattr(strategy, "history"):
            arms.extend((name, seed, h["round"], h["arm"], getattr(strategy, "leader", None))
                        for h in [strategy.history_[-1]])


SELF_TRAINING = {"ours: hybrid + self-training": "uncertainty_diversity", "ours: auto + self-training": "auto"}


def run_self_training(name, Xp, yp, Xt, yt, initial, budget, batch, seed):
    """The package's own learner with its SelfTrainer (confidence_threshold=0.5, as bench/semi_supervised.py): each
    refit adds the pool's confident rest as pseudo-labels, audited against later human labels. Not a query strategy
    next to the peers: what the package reaches when it also labels the easy rest itself."""
    from auto_labeling.core import Pool, is_fitted
    from auto_labeling.learner import ActiveLearner
    from auto_labeling.semi_supervised import SelfTrainer
    model = LogisticRegression(max_iter=2000)                 # no warm start: pseudo-labels change the classes seen
    learner = ActiveLearner(model, strategy=SELF_TRAINING[name], batch_size=batch, random_state=seed,
                            self_training=SelfTrainer(LogisticRegression(max_iter=2000), confidence_threshold=0.5))
    pool = learner.use_pool(Pool(Xp))
    learner.teach(Xp[initial], yp[initial], indices=np.asarray(initial))
    rows = []
    while True:
        if is_fitted(learner.model):
            acc = float(np.mean(learner.model.predict(Xt) == yt))
        else:                                           # one class so far: the cold start picks; predict that class
            acc = float(np.mean(yt == yp[initial[0]]))
        if learner.n_labeled >= budget:
            rows.append((name, seed, learner.n_labeled, acc, np.nan))
            return rows
        t = time.perf_counter()
        r = learner.query(pool, min(batch, budget - learner.n_labeled), sync=False)
        rows.append((name, seed, learner.n_labeled, acc, time.perf_counter() - t))
        learner.teach(Xp[r.indices], yp[r.indices], indices=r.indices)


def run_peer(name, Xp, yp, Xt, yt, initial, budget, batch, seed, n_classes):
    from skactiveml.classifier import SklearnClassifier
    from skactiveml.pool import Badge, CoreSet, ProbCover, TypiClust, UncertaintySampling as SkUS
    qs = {"skactiveml: Badge": Badge(random_state=seed), "skactiveml: TypiClust": TypiClust(random_state=seed),
          "skactiveml: ProbCover": ProbCover(n_classes=n_classes, random_state=seed),
          "skactiveml: CoreSet": CoreSet(random_state=seed),
          "skactiveml: margin": SkUS(method="margin_sampling", random_state=seed)}[name]
    y = np.full(len(Xp), np.nan)
    y[initial] = yp[initial]
    rows = []
    clf, n_seen = SklearnClassifier(new_model(), classes=np.arange(n_classes), random_state=seed), 0
    while True:
        if len(np.unique(y[~np.isnan(y)])) != n_seen:    # a new class: the warm start's shape changes
            clf.estimator, n_seen = new_model(), len(np.unique(y[~np.isnan(y)]))
        clf.fit(Xp, y)
        clf.estimator = clf.estimator_                  # the next round's fit starts from this one (warm start)
        n_lab = int((~np.isnan(y)).sum())
        acc = float(np.mean(clf.predict(Xt) == yt))
        if n_lab >= budget:
            rows.append((name, seed, n_lab, acc, np.nan))
            return rows
        k = min(batch, budget - n_lab)
        t = time.perf_counter()
        if name in ("skactiveml: Badge", "skactiveml: margin"):
            idx = qs.query(Xp, y, clf, fit_clf=False, batch_size=k)
        else:
            idx = qs.query(Xp, y, batch_size=k)
        rows.append((name, seed, n_lab, acc, time.perf_counter() - t))
        y[idx] = yp[idx]


def summarize(rec: pd.DataFrame, goal: float, budget: int, n_initial: int) -> pd.DataFrame:
    "Per strategy: median and range over seeds of labels to target and of the area under the curve."
    out = {}
    for name, g in rec.groupby("strategy", sort=False):
        reach, auc = [], []
        for _, c in g.groupby("seed"):
            c = c.sort_values("n_labels")
            hit = c.loc[c["accuracy"] >= goal, "n_labels"]
            reach.append(float(hit.min()) if len(hit) else np.inf)
            x, a = c["n_labels"].to_numpy(float), c["accuracy"].to_numpy(float)
            auc.append(float(np.trapezoid(a, x) / (x[-1] - x[0])))
        out[name] = {"median_labels": float(np.median(reach)), "min_labels": min(reach), "max_labels": max(reach),
                     "seeds_reached": int(np.isfinite(reach).sum()), "auc_median": float(np.median(auc)),
                     "auc_min": min(auc), "auc_max": max(auc),
                     "query_seconds_median": float(np.nanmedian(g["seconds"])) if g["seconds"].notna().any() else np.nan}
    table = pd.DataFrame(out).T
    base = table.loc["random", "median_labels"]
    table["saving_vs_random"] = [1 - m / base if np.isfinite(m) and np.isfinite(base) else np.nan
                                 for m in table["median_labels"]]
    return table


def paired(rec: pd.DataFrame, name: str = "ours: auto") -> list[str]:
    "Per seed (same initial labels): `name`'s AUC minus random's and minus the best peer's (by median AUC)."
    auc = {}
    for (s, seed), c in rec.groupby(["strategy", "seed"]):
        x, a = c["n_labels"].to_numpy(float), c["accuracy"].to_numpy(float)
        auc.setdefault(s, {})[seed] = float(np.trapezoid(a, x) / (x[-1] - x[0]))
    auc = pd.DataFrame(auc)
    if name not in auc:
        return []
    peers = [p for p in PEERS if p in auc]
    others = ["random"] + ([max(peers, key=lambda p: auc[p].median())] if peers else []) + \
        [o for o in ("ours: hybrid (margin + k-means)", "ours: margin") if o in auc]
    lines = []
    for o in others:
        d = (auc[name] - auc[o]).dropna()
        lines.append(f"{name} - {o}: median {d.median():+.4f} ({d.min():+.4f} to {d.max():+.4f}), "
                     f"ahead in {int((d > 0).sum())}/{len(d)} seeds, level or ahead in {int((d >= 0).sum())}")
    return lines


def fmt(v, pct=False):
    if v is None or (isinstance(v, float) and np.isnan(v)):
        return "—"
    if np.isinf(v):
        return "not reached"
    return f"{v:.0%}" if pct else f"{v:.0f}"


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--datasets", nargs="+", default=["digits", "newsgroups", "sms"])
    ap.add_argument("--seeds", type=int, default=10)
    ap.add_argument("--n-initial", type=int, default=20)
    ap.add_argument("--target", type=float, default=0.98)
    ap.add_argument("--strategies", nargs="*", default=None, help="subset of the row names (default: all)")
    ap.add_argument("--add-to", action="store_true",
                    help="keep the other rows of bench/out/label_efficiency_<dataset>_records.csv (same splits, seeds "
                         "and initial labels) and replace only the rows run now, so a changed strategy is re-measured "
                         "next to peers measured before")
    a = ap.parse_args()
    OUT.mkdir(exist_ok=True)
    for ds in a.datasets:
        Xp, yp, Xt, yt = load(ds)
        budget, batch = SETTINGS[ds]
        n_classes = int(yp.max()) + 1
        full = float(np.mean(new_model().fit(Xp, yp).predict(Xt) == yt))
        goal = a.target * full
        names = [n for n in list(OURS) + list(SELF_TRAINING) + PEERS if a.strategies is None or n in a.strategies]
        records, wall = [], {}
        for name in names:
            t = time.time()
            for seed in range(a.seeds):
                initial = np.random.default_rng(seed).choice(len(Xp), size=a.n_initial, replace=False).tolist()
                if name in SELF_TRAINING:
                    records += run_self_training(name, Xp, yp, Xt, yt, initial, budget, batch, seed)
                elif name in OURS:
                    records += run_ours(name, OURS[name], Xp, yp, Xt, yt, initial, budget, batch, seed)
                else:
                    records += run_peer(name, Xp, yp, Xt, yt, initial, budget, batch, seed, n_classes)
            wall[name] = time.time() - t
            print(f"  {ds}: {name} done in {wall[name]:.0f} s", flush=True)
        rec = pd.DataFrame(records, columns=["strategy", "seed", "n_labels", "accuracy", "seconds"])
        old_path = OUT / f"label_efficiency_{ds}_records.csv"
        if a.add_to and old_path.exists():
            old = pd.read_csv(old_path)
            old = old[~old["strategy"].isin(names) & (old["seed"] < a.seeds)]
            order = [n for n in list(OURS) + list(SELF_TRAINING) + PEERS if n in set(old["strategy"]) | set(names)]
            rec = pd.concat([old, rec]).set_index("strategy").loc[order].reset_index()
            wall = {**json.loads((OUT / f"label_efficiency_{ds}.json").read_text()).get("wall_seconds", {}), **wall} \
                if (OUT / f"label_efficiency_{ds}.json").exists() else wall
        rec.to_csv(OUT / f"label_efficiency_{ds}_records.csv", index=False)
        if ARMS:
            arms = pd.DataFrame(ARMS, columns=["strategy", "seed", "round", "arm", "leader"])
            arms_path = OUT / f"label_efficiency_{ds}_auto_arms.csv"
            if a.add_to and arms_path.exists():                 # keep the arms of the rows not re-measured
                kept = pd.read_csv(arms_path)
                arms_all = pd.concat([kept[~kept["strategy"].isin(names)], arms])
            else:
                arms_all = arms
            arms_all.to_csv(arms_path, index=False)
            for name, g in arms.groupby("strategy", sort=False):
                print(f"  {ds}: {name}'s arms, share of rounds: "
                      f"{g['arm'].value_counts(normalize=True).round(3).to_dict()}", flush=True)
            ARMS.clear()
        table = summarize(rec, goal, budget, a.n_initial)
        table["wall_seconds"] = pd.Series(wall)
        (OUT / f"label_efficiency_{ds}.json").write_text(json.dumps({
            "dataset": ds, "full_accuracy": full, "wall_seconds": wall, "target": goal, "seeds": a.seeds,
            "budget": budget, "batch": batch,
            "table": json.loads(table.replace([np.inf], None).to_json(orient="index"))}, indent=2))
        print(f"\n### {ds}: pool {len(Xp)}, test {len(Xt)}; full-data accuracy {full:.4f}; target {goal:.4f}; "
              f"{a.seeds} seeds, {a.n_initial} initial labels, batches of {batch}, budget {budget}\n")
        print("| strategy | median labels to target (min–max) | seeds reaching | saving vs random | "
              "AUC median (min–max) | query s (median) |")
        print("|---|---:|---:|---:|---:|---:|")
        for s, r in table.iterrows():
            spread = f" ({fmt(r['min_labels'])}–{fmt(r['max_labels'])})" if np.isfinite(r["median_labels"]) else ""
            print(f"| {s} | {fmt(r['median_labels'])}{spread} | {int(r['seeds_reached'])}/{a.seeds} | "
                  f"{fmt(r['saving_vs_random'], pct=True)} | {r['auc_median']:.4f} ({r['auc_min']:.4f}–"
                  f"{r['auc_max']:.4f}) | {r['query_seconds_median']:.3f} |", flush=True)
        for line in paired(rec):
            print("  " + line, flush=True)
