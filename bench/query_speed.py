"""Query speed, side by side in one process: auto_labeling vs scikit-activeml 1.0.1 vs plain numpy.

1. Uncertainty: pick 1,000 of 1,000,000 items from a 1,000,000 x 10 probability matrix (ours: select_uncertain;
   peer: skactiveml.pool.uncertainty_scores + simple_batch; plain numpy: one argpartition of 1 - max).
2. k-center greedy, k = 1,000 of n x 128 float32 random normal rows, n = 50k ... 4M: seconds and microseconds per row;
   at 1M next to the plain numpy GEMV loop (float32, one matrix-vector product per pick, as the issue measured it)
   and the float64 textbook loop (the reference our picks must equal).
3. Core-set: 1,000 of 200,000 x 128 (ours vs skactiveml's k_greedy_center, what CoreSet runs).
4. BADGE: 1,000 of 200,000 x 128 with a 10-class LogisticRegression (ours vs skactiveml Badge; the peer builds the
   200,000 x 1,280 gradient matrix and makes one pass per pick, so it is timed at --peer-badge-k picks and its
   per-pick time is reported next to ours; the extrapolation to 1,000 picks is marked as such).
5. Every strategy next to the fastest peer doing the same job, on one pool: 20,000 x 64, 10 classes, 200 labeled,
   k = 100, median of --repeats.

    nice .venv/bin/python bench/query_speed.py [--repeats 3] [--parts 1 2 3 4 5] [--kcenter-sizes 50000 ...]
"""
import argparse
import time
import warnings

import numpy as np

from auto_labeling.strategies import (BadgeSampling, ClusterMarginSampling, DiversitySampling, QueryByCommittee,
                                      TypiClustSampling, UncertaintyDiversitySampling, UncertaintySampling,
                                      kcenter_greedy, select_uncertain, top_k, uncertainty_scores)

warnings.filterwarnings("ignore")


def median_seconds(fn, repeats):
    times, out = [], None
    for _ in range(repeats):
        t = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t)
    return float(np.median(times)), out


def gemv_loop(X, k, first, dtype):
    "The plain loop: one distance vector, one matrix-vector product per pick (in `dtype`)."
    X = np.asarray(X, dtype=dtype)
    sq = np.einsum("ij,ij->i", X, X)
    d = np.full(len(X), np.inf, dtype=dtype)
    out, nxt = [], first
    for _ in range(k):
        out.append(nxt)
        v = X @ (-2.0 * X[nxt])
        v += sq
        v += sq[nxt]
        np.minimum(d, v, out=d)
        d[out] = -np.inf
        nxt = int(np.argmax(d))
    return np.array(out)


def part_uncertainty(rng, k, r):
    from skactiveml.pool import uncertainty_scores as skal_scores
    from skactiveml.utils import simple_batch
    P = rng.dirichlet(np.ones(10), size=1_000_000).astype(np.float32)
    print(f"1. uncertainty: {k:,} of 1,000,000 x 10 probabilities, median of {r} (milliseconds)")
    print(f"   {'method':16s} {'ours':>8s} {'scikit-activeml':>16s} {'plain numpy':>12s} {'peer/ours':>10s}")
    skal = {"least_confident": "least_confident", "margin": "margin_sampling", "entropy": "entropy"}
    naive = {"least_confident": lambda: np.argpartition(1 - P.max(axis=1), len(P) - k)[-k:],
             "margin": lambda: np.argpartition(-np.diff(np.sort(P, axis=1)[:, -2:], axis=1).ravel(), len(P) - k)[-k:],
             "entropy": lambda: np.argpartition(-(P * np.log(np.clip(P, 1e-12, 1))).sum(1), len(P) - k)[-k:]}
    for method in skal:
        t_ours, ours = median_seconds(lambda: select_uncertain(P, k, method), r)
        t_peer, peer = median_seconds(lambda: simple_batch(skal_scores(P, method=skal[method]), random_state=0,
                                                           batch_size=k), r)
        t_np, _ = median_seconds(naive[method], r)
        same = len(set(ours.tolist()) & set(np.asarray(peer).ravel().tolist()))
        print(f"   {method:16s} {t_ours*1e3:8.1f} {t_peer*1e3:16.1f} {t_np*1e3:12.1f} {t_peer/t_ours:9.1f}x"
              f"   (same picks: {same}/{k})", flush=True)
    s = uncertainty_scores(P, "least_confident")
    t_floor, _ = median_seconds(lambda: np.argpartition(s, len(s) - k)[-k:], max(r, 9))
    t_top, _ = median_seconds(lambda: top_k(s, k), max(r, 9))
    print(f"   selection on precomputed scores: top_k {t_top*1e3:.2f} ms vs one np.argpartition {t_floor*1e3:.2f} ms"
          f" -> {t_top/t_floor:.2f}x the floor", flush=True)


def part_kcenter(rng, k, r, sizes, gemv=True):
    print(f"\n2. k-center greedy, {k:,} picks of n x 128 float32 (no labeled items)")
    for n in sizes:
        X = rng.normal(size=(n, 128)).astype(np.float32)
        reps = r
        t, ours = median_seconds(lambda: kcenter_greedy(X, k, random_state=0), reps)
        print(f"   n = {n:>9,}: {t:7.2f} s = {t / n * 1e6:6.2f} us per row (median of {reps})", flush=True)
        if n == 1_000_000 and gemv:
            t32, g32 = median_seconds(lambda: gemv_loop(X, k, int(ours[0]), np.float32), 1)
            t64, g64 = median_seconds(lambda: gemv_loop(X, k, int(ours[0]), np.float64), 1)
            print(f"   at 1M: plain numpy GEMV loop float32 {t32:.2f} s ({t32 / t:.1f}x ours), picks equal to ours: "
                  f"{int((g32 == ours).sum())}/{k} in order (first difference at pick "
                  f"{int(np.argmax(g32 != ours)) if (g32 != ours).any() else '-'}); float64 textbook loop "
                  f"{t64:.2f} s ({t64 / t:.1f}x ours), identical picks: {bool(np.array_equal(g64, ours))}", flush=True)
        del X


def covering_radius_of(E, idx):
    from auto_labeling.diversity import covering_radius
    return covering_radius(E, E[idx])


def part_coreset(rng, k, r):
    from skactiveml.pool._core_set import k_greedy_center
    E = rng.normal(size=(200_000, 128)).astype(np.float32)
    print(f"\n3. core-set: {k:,} of 200,000 x 128 float32, median of {r} (seconds)")
    t_ours, ours = median_seconds(lambda: kcenter_greedy(E, k, random_state=0), r)
    t_peer, peer = median_seconds(lambda: k_greedy_center(E, np.full(len(E), np.nan), batch_size=k,
                                                          random_state=0)[0], r)
    print(f"   ours {t_ours:.2f} s   scikit-activeml {t_peer:.2f} s   -> ours is {t_peer/t_ours:.1f}x faster; "
          f"covering radius ours {covering_radius_of(E, ours):.3f}, peer {covering_radius_of(E, np.asarray(peer)):.3f}",
          flush=True)


def part_badge(rng, k, r, peer_k):
    from sklearn.linear_model import LogisticRegression
    from skactiveml.classifier import SklearnClassifier
    from skactiveml.pool import Badge
    X = rng.normal(size=(200_000, 128)).astype(np.float32)
    W = rng.normal(size=(128, 10))
    lab = rng.choice(len(X), 2_000, replace=False)
    y_all = (X @ W).argmax(1)
    model = LogisticRegression(max_iter=500).fit(X[lab], y_all[lab])
    ex = np.setdiff1d(np.arange(len(X)), np.arange(len(X)))
    print(f"\n4. BADGE: {k:,} of 200,000 x 128, 10 classes (seconds)")
    t_ours, ours = median_seconds(lambda: BadgeSampling().query(model=model, unlabeled_pool=X, n_instances=k,
                                                                exclude=lab, random_state=0).indices, r)
    y = np.full(len(X), np.nan)
    y[lab] = y_all[lab]
    clf = SklearnClassifier(LogisticRegression(max_iter=500), classes=np.arange(10), random_state=0).fit(X, y)
    t_peer, _ = median_seconds(lambda: Badge(random_state=0).query(X, y, clf, fit_clf=False, batch_size=peer_k), 1)
    t_peer1, _ = median_seconds(lambda: Badge(random_state=0).query(X, y, clf, fit_clf=False, batch_size=1), 1)
    per_pick = (t_peer - t_peer1) / max(peer_k - 1, 1)
    est = t_peer1 + per_pick * (k - 1)
    print(f"   ours {t_ours:.2f} s for {k:,} picks ({t_ours / k * 1e3:.1f} ms a pick)")
    print(f"   scikit-activeml Badge: {t_peer:.1f} s measured for {peer_k} picks, {t_peer1:.1f} s for 1 "
          f"(building the gradients) -> {per_pick * 1e3:.0f} ms a further pick; extrapolated to {k:,} picks: "
          f"{est:.0f} s = {est / t_ours:.0f}x ours (an extrapolation, not a measurement)", flush=True)


def part_every(rng, r):
    from sklearn.ensemble import BaggingClassifier
    from sklearn.linear_model import LogisticRegression
    from skactiveml.classifier import SklearnClassifier
    from skactiveml.pool import Badge, CoreSet, ProbCover, QueryByCommittee as SkQBC, TypiClust
    from skactiveml.pool import UncertaintySampling as SkUS
    n, d, C, k = 20_000, 64, 10, 100
    X = rng.normal(size=(n, d)).astype(np.float32)
    y_all = (X @ rng.normal(size=(d, C))).argmax(1)
    lab = rng.choice(n, 200, replace=False)
    model = LogisticRegression(max_iter=500).fit(X[lab], y_all[lab])
    y = np.full(n, np.nan)
    y[lab] = y_all[lab]
    clf = SklearnClassifier(LogisticRegression(max_iter=500), classes=np.arange(C), random_state=0).fit(X, y)
    ens = SklearnClassifier(BaggingClassifier(LogisticRegression(max_iter=500), n_estimators=5, random_state=0),
                            classes=np.arange(C), random_state=0).fit(X, y)
    qbc = QueryByCommittee(model=LogisticRegression(max_iter=500), n_members=5, random_state=0).fit(X[lab], y_all[lab])
    kw = dict(model=model, unlabeled_pool=X, n_instances=k, exclude=lab, labeled_features=X[lab], random_state=0)
    ours = {"margin": lambda: UncertaintySampling("margin").query(**kw),
            "qbc (5 bagged)": lambda: qbc.query(unlabeled_pool=X, n_instances=k, exclude=lab),
            "core-set": lambda: DiversitySampling("coreset").query(**kw),
            "BADGE": lambda: BadgeSampling().query(**kw),
            "TypiClust": lambda: TypiClustSampling().query(**kw),
            "k-means diversity": lambda: DiversitySampling("kmeans").query(**kw),
            "hybrid (margin + k-means)": lambda: UncertaintyDiversitySampling().query(**kw),
            "cluster-margin": lambda: ClusterMarginSampling().query(**kw)}
    peers = {"margin": lambda: SkUS(method="margin_sampling", random_state=0).query(X, y, clf, fit_clf=False, batch_size=k),
             "qbc (5 bagged)": lambda: SkQBC(random_state=0).query(X, y, ensemble=ens, fit_ensemble=False, batch_size=k),
             "core-set": lambda: CoreSet(random_state=0).query(X, y, batch_size=k),
             "BADGE": lambda: Badge(random_state=0).query(X, y, clf, fit_clf=False, batch_size=k),
             "TypiClust": lambda: TypiClust(random_state=0).query(X, y, batch_size=k),
             "k-means diversity": lambda: ProbCover(n_classes=C, random_state=0).query(X, y, batch_size=k)}
    print(f"\n5. every strategy on one pool: {n:,} x {d}, {C} classes, 200 labeled, k = {k}; median of {r} (seconds)")
    print(f"   {'strategy':28s} {'ours':>8s} {'peer':>8s}  peer used")
    for name, fn in ours.items():
        t_ours, _ = median_seconds(fn, r)
        if name in peers:
            t_peer, _ = median_seconds(peers[name], r)
            label = {"k-means diversity": "ProbCover (the peer's coverage strategy; not the same rule)"}.get(
                name, "scikit-activeml's " + name)
            print(f"   {name:28s} {t_ours:8.3f} {t_peer:8.3f}  {label}; ours/peer {t_ours / t_peer:.2f}", flush=True)
        else:
            print(f"   {name:28s} {t_ours:8.3f} {'—':>8s}  no scikit-activeml counterpart", flush=True)


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--k", type=int, default=1_000)
    ap.add_argument("--parts", nargs="+", type=int, default=[1, 2, 3, 4, 5])
    ap.add_argument("--no-gemv", action="store_true", help="part 2 without the (slow) plain GEMV loops at 1M")
    ap.add_argument("--kcenter-sizes", nargs="+", type=int, default=[50_000, 200_000, 1_000_000, 4_000_000])
    ap.add_argument("--peer-badge-k", type=int, default=20)
    a = ap.parse_args()
    rng = np.random.default_rng(0)
    if 1 in a.parts:
        part_uncertainty(rng, a.k, a.repeats)
    if 2 in a.parts:
        part_kcenter(rng, a.k, a.repeats, a.kcenter_sizes, gemv=not a.no_gemv)
    if 3 in a.parts:
        part_coreset(rng, a.k, a.repeats)
    if 4 in a.parts:
        part_badge(rng, a.k, a.repeats, a.peer_badge_k)
    if 5 in a.parts:
        part_every(rng, a.repeats)
