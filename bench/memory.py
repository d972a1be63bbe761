"""Peak memory of an uncertainty query over a pool larger than it should ever hold in memory.

A 2,000,000 x 128 float32 memmap (about 1 GB on disk) is scored by a linear model in chunks. Each run is a
fresh process so its peak RSS (ru_maxrss) is the query's own, imports included. The same query with page
release switched off is run beside it, to show what the release buys.

    .venv/bin/python bench/memory.py            # writes bench/out/pool_2m_x128.f32 on first use
"""
import argparse
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np

CHILD = textwrap.dedent("""
    import json, resource, sys, time
    import numpy as np
    from sklearn.linear_model import LogisticRegression
    import auto_labeling.core as core
    from auto_labeling import UncertaintySampling
    path, n, d, release = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4] == "1"
    if not release:
        core._release = lambda mm: None
    pool = np.memmap(path, dtype=np.float32, mode="r", shape=(n, d))
    Xs = np.array(pool[:5000])          # a labeled seed set: the first rows
    model = LogisticRegression(max_iter=300).fit(Xs, (Xs[:, 0] > 0).astype(int) + (Xs[:, 1] > 0))
    t = time.perf_counter()
    r = UncertaintySampling("margin").query(model=model, unlabeled_pool=pool, n_instances=1000)
    secs = time.perf_counter() - t
    print(json.dumps({"peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                      "seconds": secs, "picked": len(r)}))
""")


def make_pool(path: Path, n: int, d: int) -> None:
    if path.exists() and path.stat().st_size == n * d * 4:
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    mm = np.memmap(path, dtype=np.float32, mode="w+", shape=(n, d))
    for s in range(0, n, 100_000):
        mm[s:s + 100_000] = np.random.default_rng(s).normal(size=(min(100_000, n - s), d))
    mm.flush()
    del mm
    with open(path, "rb+") as f:      # written back before measuring: dirty pages of a fresh file stay resident
        os.fsync(f.fileno())


def run(path, n, d, release: bool) -> dict:
    out = subprocess.run([sys.executable, "-c", CHILD, str(path), str(n), str(d), "1" if release else "0"],
                         capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


if __name__ == "__main__":
    p = argparse.ArgumentParser()
    p.add_argument("--n", type=int, default=2_000_000)
    p.add_argument("--d", type=int, default=128)
    p.add_argument("--repeats", type=int, default=3)
    a = p.parse_args()
    path = Path(__file__).parent / "out" / f"pool_{a.n // 1_000_000}m_x{a.d}.f32"
    make_pool(path, a.n, a.d)
    size_mb = os.path.getsize(path) / 2**20
    rows = {True: [], False: []}
    for _ in range(a.repeats):
        for release in (True, False):
            rows[release].append(run(path, a.n, a.d, release))
    print(f"pool: {a.n:,} x {a.d} float32 memmap, {size_mb:,.0f} MB on disk; median of {a.repeats} fresh processes")
    for release, label in ((True, "auto_labeling (pages released per chunk)"), (False, "same query, release off")):
        peak = np.median([r["peak_rss_mb"] for r in rows[release]])
        secs = np.median([r["seconds"] for r in rows[release]])
        print(f"  {label:42s} peak RSS {peak:7.0f} MB   query {secs:5.2f} s")
