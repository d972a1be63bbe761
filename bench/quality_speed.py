"""Quality-control speed on a large crowd: 1,000,000 items x 5 annotators x 10 classes, side by side in one run.

  * Fleiss' kappa: ours (a bincount table fed to statsmodels' fleiss_kappa) vs statsmodels end to end
    (aggregate_raters + fleiss_kappa) on the same matrix; the values must be equal.
  * Dawid-Skene: ours (vectorized EM on a code matrix) vs crowd-kit's DawidSkene (pandas, long format), both run
    for the same fixed number of EM iterations (tol=0) so the work is the same; accuracy against the generated truth
    is reported for both, with majority vote beside them.

    .venv/bin/python bench/quality_speed.py                       # 1,000,000 items, 10 EM iterations
    .venv/bin/python bench/quality_speed.py --items 100000 --iters 20
"""
import argparse
import time
import warnings

import numpy as np
import pandas as pd

from auto_labeling.quality import QualityControl, counts_table, dawid_skene, fleiss_kappa


def crowd(n, m, k, seed=0):
    rng = np.random.default_rng(seed)
    truth = rng.integers(0, k, n)
    acc = np.linspace(0.85, 0.35, m)                    # from careful to nearly random
    codes = np.empty((n, m), dtype=np.int64)
    for j in range(m):
        wrong = rng.random(n) > acc[j]
        codes[:, j] = np.where(wrong, (truth + rng.integers(1, k, n)) % k, truth)
    return truth, codes


def timed(fn):
    t0 = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - t0


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--items", type=int, default=1_000_000)
    ap.add_argument("--annotators", type=int, default=5)
    ap.add_argument("--classes", type=int, default=10)
    ap.add_argument("--iters", type=int, default=10)
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    from statsmodels.stats.inter_rater import aggregate_raters
    from statsmodels.stats.inter_rater import fleiss_kappa as sm_fleiss
    from crowdkit.aggregation import DawidSkene

    n, m, k = args.items, args.annotators, args.classes
    truth, codes = crowd(n, m, k)
    print(f"{n:,} items x {m} annotators x {k} classes; median of {args.repeats} repeats")

    ours_f, ref_f = [], []
    for _ in range(args.repeats):
        v1, t1 = timed(lambda: fleiss_kappa(codes, k))
        v2, t2 = timed(lambda: sm_fleiss(aggregate_raters(codes, n_cat=k)[0]))
        assert abs(v1 - v2) < 1e-12, (v1, v2)
        ours_f.append(t1); ref_f.append(t2)
    print(f"fleiss kappa = {v1:.6f}: ours {np.median(ours_f):.3f} s, statsmodels {np.median(ref_f):.3f} s "
          f"-> {np.median(ref_f) / np.median(ours_f):.1f}x")

    long = pd.DataFrame({"task": np.repeat(np.arange(n), m), "worker": np.tile(np.arange(m), n),
                         "label": codes.ravel()})
    ours_d, ref_d = [], []
    for r in range(args.repeats):
        (post, _, _), t1 = timed(lambda: dawid_skene(codes, k, max_iter=args.iters, tol=0.0))
        ours_d.append(t1)
        if r == 0:                                          # crowd-kit is slow: one timed run
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                ref, t2 = timed(lambda: DawidSkene(n_iter=args.iters, tol=0.0).fit_predict(long))
            ref_d.append(t2)
    acc_ours = float(np.mean(post.argmax(1) == truth))
    acc_ref = float(np.mean(ref.sort_index().to_numpy() == truth))
    mv = QualityControl(random_state=0)._argmax_ties(counts_table(codes, k).astype(float))
    print(f"dawid-skene, {args.iters} EM iterations: ours {np.median(ours_d):.2f} s, crowd-kit {np.median(ref_d):.2f} s "
          f"-> {np.median(ref_d) / np.median(ours_d):.1f}x; accuracy vs truth: ours {acc_ours:.4f}, "
          f"crowd-kit {acc_ref:.4f}, majority vote {np.mean(mv == truth):.4f}")


if __name__ == "__main__":
    main()
