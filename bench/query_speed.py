"""Query speed, side by side in one process: auto_labeling vs scikit-activeml vs plain numpy.

1. Uncertainty: pick 1,000 of 1,000,000 items from a 1,000,000 x 10 probability matrix.
   - ours: auto_labeling.select_uncertain (score sweep + top_k)
   - peer: skactiveml.pool.uncertainty_scores + skactiveml.utils.simple_batch
   - plain numpy: np.argpartition(1 - P.max(axis=1), n - k)[-k:]
   - the floor: one np.argpartition over precomputed scores, next to our top_k on the same scores
2. Core-set (k-center greedy): pick 1,000 of 200,000 x 128 float32 embeddings.
   - ours: auto_labeling.kcenter_greedy; peer: skactiveml.pool._core_set.k_greedy_center (what CoreSet runs)

    .venv/bin/python bench/query_speed.py [--repeats 3]
"""
import argparse
import time
import warnings

import numpy as np

from auto_labeling import kcenter_greedy, select_uncertain, top_k, uncertainty_scores

warnings.filterwarnings("ignore")


def median_seconds(fn, repeats):
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t)
    return float(np.median(times)), out


def skal_uncertainty(P, k, method):
    from skactiveml.pool import uncertainty_scores as skal_scores
    from skactiveml.utils import simple_batch
    return simple_batch(skal_scores(P, method=method), random_state=0, batch_size=k)


def skal_coreset(E, k):
    from skactiveml.pool._core_set import k_greedy_center
    return k_greedy_center(E, np.full(len(E), np.nan), batch_size=k, random_state=0)[0]


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--n-proba", type=int, default=1_000_000)
    ap.add_argument("--n-embed", type=int, default=200_000)
    ap.add_argument("--k", type=int, default=1_000)
    a = ap.parse_args()
    rng = np.random.default_rng(0)
    k, r = a.k, a.repeats

    P = rng.dirichlet(np.ones(10), size=a.n_proba).astype(np.float32)
    print(f"1. uncertainty: {k:,} of {a.n_proba:,} x 10 probabilities, median of {r} (milliseconds)")
    print(f"   {'method':16s} {'ours':>8s} {'scikit-activeml':>16s} {'plain numpy':>12s} {'peer/ours':>10s}")
    skal_name = {"least_confident": "least_confident", "margin": "margin_sampling", "entropy": "entropy"}
    for method in ["least_confident", "margin", "entropy"]:
        t_ours, ours = median_seconds(lambda: select_uncertain(P, k, method), r)
        t_peer, peer = median_seconds(lambda: skal_uncertainty(P, k, skal_name[method]), r)
        naive = {"least_confident": lambda: np.argpartition(1 - P.max(axis=1), len(P) - k)[-k:],
                 "margin": lambda: np.argpartition(-np.diff(np.sort(P, axis=1)[:, -2:], axis=1).ravel(),
                                                   len(P) - k)[-k:],
                 "entropy": lambda: np.argpartition(-(P * np.log(np.clip(P, 1e-12, 1))).sum(1), len(P) - k)[-k:]}
        t_np, _ = median_seconds(naive[method], r)
        same = len(set(ours.tolist()) & set(np.asarray(peer).ravel().tolist()))
        print(f"   {method:16s} {t_ours*1e3:8.1f} {t_peer*1e3:16.1f} {t_np*1e3:12.1f} {t_peer/t_ours:9.1f}x"
              f"   (same picks: {same}/{k})")
    s = uncertainty_scores(P, "least_confident")
    t_floor, _ = median_seconds(lambda: np.argpartition(s, len(s) - k)[-k:], max(r, 9))
    t_top, _ = median_seconds(lambda: top_k(s, k), max(r, 9))
    print(f"   selection on precomputed scores: top_k {t_top*1e3:.2f} ms vs one np.argpartition {t_floor*1e3:.2f} ms"
          f" -> {t_top/t_floor:.2f}x the floor")
    t_sc, _ = median_seconds(lambda: uncertainty_scores(P, "least_confident"), r)
    print(f"   least_confident end to end = scoring {t_sc*1e3:.1f} ms + selection; "
          f"ours end to end vs (argpartition floor + our scoring): see rows above")

    E = rng.normal(size=(a.n_embed, 128)).astype(np.float32)
    print(f"\n2. core-set (k-center greedy): {k:,} of {a.n_embed:,} x 128 float32, median of {r} (seconds)")
    t_ours, ours = median_seconds(lambda: kcenter_greedy(E, k, random_state=0), r)
    t_peer, peer = median_seconds(lambda: skal_coreset(E, k), r)

    def covering_radius(idx):   # max distance of any item to its nearest pick: what k-center minimizes
        C = E[idx]
        d = np.full(len(E), np.inf, dtype=np.float32)
        for s0 in range(0, len(C), 100):
            Cb = C[s0:s0 + 100]
            dd = (E**2).sum(1)[:, None] - 2 * E @ Cb.T + (Cb**2).sum(1)[None, :]
            d = np.minimum(d, dd.min(1))
        return float(np.sqrt(max(d.max(), 0)))
    print(f"   ours {t_ours:.2f} s   scikit-activeml {t_peer:.2f} s   -> ours is {t_peer/t_ours:.1f}x faster")
    print(f"   covering radius: ours {covering_radius(ours):.3f}, scikit-activeml {covering_radius(peer):.3f}")
