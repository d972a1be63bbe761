"""The pipeline's time per round outside the model, on digits (issue 20: under 20 ms a round), and what the simulated
random baseline adds to a run (issue 20: at most +50%).

The specification's call on digits: `AutoLabelingPipeline(LogisticRegression(max_iter=1000), "uncertainty",
"simulated")`, `configure(batch_size=20)`, `run(labeled_data=20 seed rows, unlabeled_data=(X_rest, y_rest))` (no
validation set: the score comes from the held-out random audit items). The estimator is a LogisticRegression subclass
whose fit / predict / predict_proba / decision_function add their wall time to a counter (clones keep the class, so
the lift monitor's and the baseline's fits are counted too). A round is the time from one `Loop.propose` to the
next; in it:

- model: the estimator's own methods, outside the lift monitor (the round's refit, scoring the pool, suggestions,
  the stop set's predictions, the audit score);
- lift monitor: all time inside `AutoLabelingPipeline._lift` (its 8 small refits on the random items once there are
  12 of them, and its bookkeeping), reported on its own;
- overhead: the round's wall time minus both — the pipeline, loop, learner, store and state work;
- the same three in CPU time of the process (`*_cpu`; BLAS limited to one thread, so CPU time is the work done): on
  a shared, loaded machine wall time also counts the time the process waited for a core.

Medians over rounds (all rounds of all repeats), and the run times with the baseline on and off side by side (same
seeds, interleaved).

    nice .venv/bin/python bench/pipeline_overhead.py [--repeats 3] [--profile]
"""
import argparse
import cProfile
import pstats
import time
import warnings

import numpy as np
from sklearn.datasets import load_digits
from sklearn.linear_model import LogisticRegression

from auto_labeling.loop import Loop
from auto_labeling.pipeline import AutoLabelingPipeline, EvaluationSettings

warnings.filterwarnings("ignore")
CLOCK = {"model": 0.0, "lift": 0.0, "lift_model": 0.0, "baseline": 0.0, "baseline_model": 0.0, "where": "model",
         "depth": 0, "model_cpu": 0.0, "lift_cpu": 0.0, "lift_model_cpu": 0.0,
         "baseline_cpu": 0.0, "baseline_model_cpu": 0.0}
CALLS = {"predict_proba": 0, "fit": 0}


def _timed(name):
    base = getattr(LogisticRegression, name)

    def method(self, *args, **kwargs):
        if CLOCK["depth"]:                             # predict_proba calls decision_function: count the outer call
            return base(self, *args, **kwargs)
        t, c = time.perf_counter(), time.process_time()
        CLOCK["depth"] = 1
        try:
            return base(self, *args, **kwargs)
        finally:
            CLOCK["depth"] = 0
            CLOCK[CLOCK["where"]] += time.perf_counter() - t
            CLOCK[CLOCK["where"] + "_cpu"] = CLOCK.get(CLOCK["where"] + "_cpu", 0.0) + time.process_time() - c
            if name in CALLS and CLOCK["where"] == "model":
                CALLS[name] += 1
    method.__name__ = name
    return method


class TimedLogisticRegression(LogisticRegression):
    "LogisticRegression whose methods add their wall time to CLOCK (same parameters, same results)."
    fit = _timed("fit")
    predict = _timed("predict")
    predict_proba = _timed("predict_proba")
    decision_function = _timed("decision_function")


def _wrap_lift():
    base = AutoLabelingPipeline._lift

    def _lift(self, row):
        t, c = time.perf_counter(), time.process_time()
        CLOCK["where"] = "lift_model"
        try:
            return base(self, row)
        finally:
            CLOCK["where"] = "model"
            CLOCK["lift"] += time.perf_counter() - t
            CLOCK["lift_cpu"] += time.process_time() - c
    AutoLabelingPipeline._lift = _lift


def _wrap_results():
    base = AutoLabelingPipeline._results

    def _results(self, *args, **kwargs):
        t, c = time.perf_counter(), time.process_time()
        CLOCK["where"] = "baseline_model"
        try:
            return base(self, *args, **kwargs)
        finally:
            CLOCK["where"] = "model"
            CLOCK["baseline"] += time.perf_counter() - t
            CLOCK["baseline_cpu"] = CLOCK.get("baseline_cpu", 0.0) + time.process_time() - c
    AutoLabelingPipeline._results = _results


def _wrap_propose(marks):
    base = Loop.propose

    def propose(self, *args, **kwargs):
        marks.append((time.perf_counter(), CLOCK["model"], CLOCK["lift"], CLOCK["lift_model"], dict(CALLS),
                      time.process_time(), CLOCK["model_cpu"], CLOCK["lift_cpu"]))
        return base(self, *args, **kwargs)
    Loop.propose = propose


def one_run(X, y, seed, random_baseline=True, lift_monitor=True, max_iterations=20, confidence_threshold=None):
    "One pipeline run; returns (seconds, per-round rows, results)."
    marks = []
    saved = Loop.propose
    _wrap_propose(marks)
    rng = np.random.default_rng(seed)
    start = rng.choice(len(X), 20, replace=False)
    rest = np.setdiff1d(np.arange(len(X)), start)
    try:
        for k in CLOCK:
            CLOCK[k] = "model" if k == "where" else 0
        p = AutoLabelingPipeline(model=TimedLogisticRegression(max_iter=1000), active_learning="uncertainty",
                                 labeling_tool="simulated", random_state=seed)
        p.configure(batch_size=20, max_iterations=max_iterations, confidence_threshold=confidence_threshold,
                    evaluation=EvaluationSettings(random_baseline=random_baseline, lift_monitor=lift_monitor))
        t0, c0 = time.perf_counter(), time.process_time()
        res = p.run(labeled_data=(X[start], y[start]), unlabeled_data=(X[rest], y[rest]), progress=False)
        total, total_cpu = time.perf_counter() - t0, time.process_time() - c0
        t1, c1 = time.perf_counter(), time.process_time()
        res.cost_savings                                  # noqa: B018  the first read measures the baseline
        read, read_cpu = time.perf_counter() - t1, time.process_time() - c1
        marks.append((time.perf_counter() - CLOCK["baseline"], CLOCK["model"], CLOCK["lift"], CLOCK["lift_model"],
                      dict(CALLS), time.process_time() - CLOCK["baseline_cpu"], CLOCK["model_cpu"], CLOCK["lift_cpu"]))
    finally:
        Loop.propose = saved
    rows = []
    for (t_a, m_a, l_a, lm_a, c_a, u_a, mu_a, lu_a), (t_b, m_b, l_b, lm_b, c_b, u_b, mu_b, lu_b) in zip(marks,
                                                                                                  marks[1:]):
        wall, model, lift = t_b - t_a, m_b - m_a, l_b - l_a
        rows.append(dict(wall=wall, model=model, lift=lift, lift_model=lm_b - lm_a, overhead=wall - model - lift,
                         cpu=u_b - u_a, model_cpu=mu_b - mu_a, lift_cpu=lu_b - lu_a,
                         overhead_cpu=(u_b - u_a) - (mu_b - mu_a) - (lu_b - lu_a),
                         predict_proba=c_b["predict_proba"] - c_a["predict_proba"]))
    return (total, total_cpu, read, read_cpu), rows, res, CLOCK["baseline"]


def ms(v):
    return f"{1000 * v:8.1f}"


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--profile", action="store_true", help="cProfile one run without the baseline, top 30 by own time")
    ap.add_argument("--blas-threads", type=int, default=1,
                    help="BLAS threads (threadpoolctl); 0 = the library default (2 here). On 2 shared, loaded cores "
                         "OpenBLAS's threads make each small LogisticRegression fit 5-35x slower (spin-waiting)")
    a = ap.parse_args()
    if a.blas_threads:
        from threadpoolctl import threadpool_limits
        threadpool_limits(a.blas_threads)
    X, y = load_digits(return_X_y=True)
    X = X / 16.0
    _wrap_lift()
    _wrap_results()
    if a.profile:
        prof = cProfile.Profile()
        prof.enable()
        one_run(X, y, 0, random_baseline=False)
        prof.disable()
        pstats.Stats(prof).sort_stats("tottime").print_stats(30)
        pstats.Stats(prof).sort_stats("cumulative").print_stats(40)
    rounds, runs = [], []
    for r in range(a.repeats):
        for baseline in (False, True):                     # side by side, same seed, interleaved
            total, rows, res, base_s = one_run(X, y, r, random_baseline=baseline)
            runs.append(dict(seed=r, baseline=baseline, seconds=total[0], cpu_seconds=total[1], assemble_s=base_s,   # _results: since the baseline is deferred, only the table's assembly
                             first_read_s=total[2], first_read_cpu_s=total[3],
                             rounds=len(rows), labels_used=res.labels_used, labels_random=res.labels_random))
            if not baseline:
                rounds.extend(rows)
    import pandas as pd
    df = pd.DataFrame(rounds)
    late = df[df["lift"] > df["lift"].median()] if len(df) else df
    print(f"{len(df)} rounds over {a.repeats} runs (batch 20, digits, no validation set; baseline off; "
          f"BLAS threads {a.blas_threads or 'default'})\n")
    print("per round, ms            median      p90     mean")
    for col in ("wall", "model", "lift", "lift_model", "overhead", "cpu", "model_cpu", "lift_cpu", "overhead_cpu"):
        print(f"  {col:<20}{ms(df[col].median())} {ms(df[col].quantile(0.9))} {ms(df[col].mean())}")
    print(f"  overhead + lift     {ms((df['overhead'] + df['lift'] - df['lift_model']).median())}"
          f"  (lift's own bookkeeping counted as overhead)")
    print(f"  predict_proba calls a round outside the lift monitor: median {df['predict_proba'].median():.0f}, "
          f"max {df['predict_proba'].max():.0f}\n")
    rt = pd.DataFrame(runs)
    print(rt.to_string(index=False), "\n")
    on = rt[rt.baseline].set_index("seed")["seconds"]
    off = rt[~rt.baseline].set_index("seed")["seconds"]
    ratio = on / off
    print(f"run with the baseline / without, per seed: {np.round(ratio.values, 3).tolist()}; "
          f"median {ratio.median():.3f} (bar: at most 1.5)")
    cpu = rt[rt.baseline].set_index("seed")["cpu_seconds"] / rt[~rt.baseline].set_index("seed")["cpu_seconds"]
    print(f"the same in CPU seconds: {np.round(cpu.values, 3).tolist()}; median {cpu.median():.3f}")
    # the baseline is measured on the first read of a figure built on it (`cost_savings` above), not inside run():
    # what a reader who asks for the saving pays, run and first read together
    both = rt[rt.baseline].set_index("seed")
    paid = (both["cpu_seconds"] + both["first_read_cpu_s"]) / rt[~rt.baseline].set_index("seed")["cpu_seconds"]
    wall = (both["seconds"] + both["first_read_s"]) / off
    print(f"run + the first read of cost_savings / run without the baseline, CPU: {np.round(paid.values, 3).tolist()}; "
          f"median {paid.median():.3f}; wall: {np.round(wall.values, 3).tolist()}; median {wall.median():.3f}")
