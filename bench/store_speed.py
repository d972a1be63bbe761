"""Label-store write and read speed: 1,000,000 labels added in batches, then `current()` read back.

Side by side, in one run, on each back end:
  * ours: `LabelStore.add_many` (validation, canonical JSON, unknown-item check through a foreign key, the event
    index, one durable transaction per batch);
  * the floor: plain `executemany` of ready-made tuples into a bare table with the same columns and no constraints or
    indexes, one transaction per batch, same durability settings (SQLite: WAL + synchronous=FULL).
PostgreSQL runs on a throw-away local server started from Debian's package (as in the tests).

    .venv/bin/python bench/store_speed.py                 # 1,000,000 labels, batches of 10,000, 3 repeats
    .venv/bin/python bench/store_speed.py --n 100000      # quicker
"""
import argparse
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from auto_labeling.store import LabelStore  # noqa: E402


def ours(url, ids, labels, batch):
    store = LabelStore(url, classes=list(range(10)))
    store.add_items(ids)
    t0 = time.perf_counter()
    for i in range(0, len(ids), batch):
        store.add_many(ids[i:i + batch], labels[i:i + batch], who="annotator-1", round=0)
    add_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    cur = store.current()
    read_s = time.perf_counter() - t0
    assert len(cur) == len(ids)
    store.close()
    return add_s, read_s


def bare_rows(ids, labels):
    "The floor's input: ready-made tuples with the same columns as ours."
    return [(None, str(i), str(l), "human", "annotator-1", None, 0, 0.0) for i, l in zip(ids.tolist(), labels.tolist())]


def timed_batches(insert_batch, rows, batch, read_all):
    "Seconds to insert `rows` batch by batch (one transaction each), and to read them all back."
    t0 = time.perf_counter()
    for i in range(0, len(rows), batch):
        insert_batch(rows[i:i + batch])
    add_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    got = read_all()
    read_s = time.perf_counter() - t0
    assert len(got) == len(rows)
    return add_s, read_s


def floor_sqlite(path, ids, labels, batch):
    con = sqlite3.connect(path, isolation_level=None)
    con.execute("PRAGMA journal_mode=WAL"); con.execute("PRAGMA synchronous=FULL")
    con.execute("CREATE TABLE bare (event_id TEXT, item_id TEXT, label TEXT, kind TEXT, who TEXT, confidence REAL, "
                "round INTEGER, created_at REAL)")

    def insert(chunk):
        con.execute("BEGIN")
        con.executemany("INSERT INTO bare VALUES (?, ?, ?, ?, ?, ?, ?, ?)", chunk)
        con.execute("COMMIT")

    out = timed_batches(insert, bare_rows(ids, labels), batch, lambda: con.execute("SELECT * FROM bare").fetchall())
    con.close()
    return out


def floor_postgres(url, ids, labels, batch):
    import psycopg
    con = psycopg.connect(url)
    con.execute("CREATE TABLE bare (event_id TEXT, item_id TEXT, label TEXT, kind TEXT, who TEXT, "
                "confidence DOUBLE PRECISION, round INTEGER, created_at DOUBLE PRECISION)")
    con.commit()

    def insert(chunk):
        with con.cursor() as cur:
            cur.executemany("INSERT INTO bare VALUES (%s, %s, %s, %s, %s, %s, %s, %s)", chunk)
        con.commit()

    out = timed_batches(insert, bare_rows(ids, labels), batch, lambda: con.execute("SELECT * FROM bare").fetchall())
    con.close()
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=1_000_000)
    ap.add_argument("--batch", type=int, default=10_000)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--no-postgres", action="store_true")
    args = ap.parse_args()
    rng = np.random.default_rng(0)
    ids = np.arange(args.n)
    labels = rng.integers(0, 10, args.n)
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        for r in range(args.repeats):
            results.setdefault(("sqlite", "ours"), []).append(ours(f"{tmp}/ours{r}.sqlite", ids, labels, args.batch))
            results.setdefault(("sqlite", "floor"), []).append(floor_sqlite(f"{tmp}/bare{r}.sqlite", ids, labels,
                                                                          args.batch))
            for f in Path(tmp).glob("*"):
                f.unlink()
        if not args.no_postgres:
            from servers import create_database, postgres_server
            with postgres_server() as base:
                for r in range(args.repeats):
                    results.setdefault(("postgresql", "ours"), []).append(
                        ours(create_database(base, f"ours{r}"), ids, labels, args.batch))
                    results.setdefault(("postgresql", "floor"), []).append(
                        floor_postgres(create_database(base, f"bare{r}"), ids, labels, args.batch))
    print(f"{args.n:,} labels in batches of {args.batch:,}; median of {args.repeats} repeats")
    print(f"{'backend':11s} {'who':6s} {'add s':>8s} {'labels/s':>11s} {'read s':>8s}  ratio to floor (add)")
    for backend in ("sqlite", "postgresql"):
        if (backend, "ours") not in results:
            continue
        floor_add = statistics.median(a for a, _ in results[(backend, "floor")])
        for who in ("ours", "floor"):
            add = statistics.median(a for a, _ in results[(backend, who)])
            read = statistics.median(b for _, b in results[(backend, who)])
            print(f"{backend:11s} {who:6s} {add:8.2f} {args.n / add:11,.0f} {read:8.2f}  {add / floor_add:.2f}x")


if __name__ == "__main__":
    main()
