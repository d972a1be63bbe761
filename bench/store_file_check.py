"""Cost of the SQLite store's per-write file check (`SQLiteBackend.check_file`: one os.stat after BEGIN IMMEDIATE).

Times `LabelStore.add` (one label, one durable transaction, synchronous=FULL) with the check and with it switched off,
alternating blocks of writes in one run; prints the medians over the blocks and the cost of the stat alone.
Usage: python bench/store_file_check.py [n_blocks] [writes_per_block]"""
import os
import statistics
import sys
import tempfile
import time

from auto_labeling import LabelStore
from auto_labeling.store_schema import SQLiteBackend

blocks = int(sys.argv[1]) if len(sys.argv) > 1 else 10
per = int(sys.argv[2]) if len(sys.argv) > 2 else 200
folder = tempfile.mkdtemp()
store = LabelStore(os.path.join(folder, "labels.sqlite"))
ids = [f"item{i}" for i in range(blocks * per * 2)]
store.add_items(ids)
check = SQLiteBackend.check_file
times = {"with check": [], "without": []}
k = 0
for b in range(blocks):
    for mode in ("with check", "without"):
        SQLiteBackend.check_file = check if mode == "with check" else (lambda self, conn=None: None)
        t = time.perf_counter()
        for _ in range(per):
            store.add(ids[k], "cat", who="bench")
            k += 1
        times[mode].append((time.perf_counter() - t) / per)
SQLiteBackend.check_file = check
t = time.perf_counter()
for _ in range(100_000):
    os.stat(os.path.join(folder, "labels.sqlite"))
stat = (time.perf_counter() - t) / 100_000
w, wo = statistics.median(times["with check"]), statistics.median(times["without"])
print(f"add(): {w * 1e6:.0f} µs with the check, {wo * 1e6:.0f} µs without (medians of {blocks} blocks of {per}); "
      f"ratio {w / wo:.3f}; one os.stat: {stat * 1e6:.2f} µs; load: {os.getloadavg()[0]:.1f}")
