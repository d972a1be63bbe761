"""Label-store speed at 1,000,000 events, on SQLite and PostgreSQL, side by side in one run.

Part 1, writes: 1,000,000 labels added in batches, then `current()` read back.
  * ours: `LabelStore.add_many` (validation, canonical JSON, unknown-item check through a foreign key, the event
    index, the current-labels table updated in the same durable transaction, one transaction per batch);
  * the floor: plain `executemany` of ready-made tuples into a bare table with the same columns and no constraints or
    indexes, one transaction per batch, same durability settings (SQLite: WAL + synchronous=FULL).

Part 2, a pipeline round's store work on a store holding 1,000,000 events (500,000 items; two annotators; a fifth of
the items corrected): `add_many` of a batch of 100 new labels with `state=` (labels and run state in one transaction),
one `put_state`, one `label_changes(since=last, kind="human")` that sees those ~100 new events. Timed over 30 rounds
(median and 90th percentile), next to the full reads a round used to make: the version-1 `labels("human")` query (a
GROUP BY over the whole history, run as version 1 of the package ran it, on the same database) and today's
`labels("human")` (a read of the current-labels table: it grows with the labels, not with the history).

PostgreSQL runs on a throw-away local server started from Debian's package (as in the tests).

    .venv/bin/python bench/store_speed.py                 # both parts, 1,000,000 events, 3 repeats of part 1
    .venv/bin/python bench/store_speed.py --part rounds   # part 2 only
    .venv/bin/python bench/store_speed.py --n 100000      # quicker
"""
import argparse
import json
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


# --- part 2: a pipeline round on a store with a long history ----------------------------------------------------------
V1_LABELS = ("WITH last AS (SELECT max(seq) AS seq FROM al_events WHERE kind IN (?) GROUP BY item_id, kind, who), "
             "live AS (SELECT e.item_id, e.label, e.seq FROM al_events e JOIN last ON e.seq = last.seq "
             "WHERE e.label IS NOT NULL) "
             "SELECT item_id, label FROM live WHERE seq IN (SELECT max(seq) FROM live GROUP BY item_id) ORDER BY seq")


OLD_READ = "v1 labels('human'): GROUP BY history"


def fill(url, n, batch):
    "A store with `n` events: annotator-0 labels n/2 items, annotator-1 80% of them, annotator-0 corrects 20%."
    rng = np.random.default_rng(1)
    n_items = n // 2
    ids = np.arange(n_items)
    store = LabelStore(url, classes=list(range(10)))
    store.add_items(ids)
    plan = [("annotator-0", ids), ("annotator-1", ids[: n_items * 4 // 5]), ("annotator-0", ids[: n_items // 5])]
    for who, part in plan:
        for i in range(0, len(part), batch):
            chunk = part[i:i + batch]
            store.add_many(chunk, rng.integers(0, 10, len(chunk)), who=who, round=0)
    assert len(store) == n, len(store)
    store.close()


def old_labels(store):
    "labels('human') as version 1 computed it: a GROUP BY over every event, then a dict."
    with store._read() as conn:
        rows = store._q(conn, V1_LABELS, ["human"]).fetchall()
    return {item: json.loads(label) for item, label in rows}


def rounds(url, n_rounds, batch_size):
    "Seconds per round of store work (and per call), after an untimed warm-up round."
    store = LabelStore(url, unknown_items="register")
    since, _ = store.label_changes(store.last_seq() - 100)
    times = {"add_many(state=)": [], "put_state": [], "label_changes": [], "round": []}
    rng = np.random.default_rng(2)
    for r in range(n_rounds + 1):
        ids = [f"new-{r}-{j}" for j in range(batch_size)]
        t0 = time.perf_counter()
        store.add_many(ids, rng.integers(0, 10, batch_size), who="annotator-2", round=r + 1,
                       state={"pipeline": {"round": r + 1, "pending": None, "bought": (r + 1) * batch_size}})
        t1 = time.perf_counter()
        store.put_state("tool", {"round": r + 1, "project": 7, "sent": ids[:5]})
        t2 = time.perf_counter()
        since, changed = store.label_changes(since, kind="human")
        t3 = time.perf_counter()
        assert len(changed) == batch_size, len(changed)
        if r:                                        # the first round warms caches and prepared statements
            for key, dt in (("add_many(state=)", t1 - t0), ("put_state", t2 - t1), ("label_changes", t3 - t2),
                            ("round", t3 - t0)):
                times[key].append(dt)
    full = {}
    for name, read in ((OLD_READ, old_labels), ("labels('human') now", store.labels)):
        ts = []
        for _ in range(3):
            t0 = time.perf_counter()
            got = read(store) if read is old_labels else read("human")
            ts.append(time.perf_counter() - t0)
        full[name] = (statistics.median(ts), len(got))
    assert old_labels(store) == store.labels("human")          # the same answer, read two ways
    store.close()
    return times, full


def report_rounds(backend, n, times, full):
    print(f"\n{backend}: store with {n:,} events + 100 new labels a round; {len(times['round'])} rounds")
    print(f"{'call':40s} {'median ms':>10s} {'p90 ms':>8s}")
    for key, ts in times.items():
        print(f"{key:40s} {1000 * statistics.median(ts):10.1f} {1000 * float(np.percentile(ts, 90)):8.1f}")
    for name, (secs, size) in full.items():
        print(f"{name:40s} {1000 * secs:10.1f} {'':8s} ({size:,} items)")
    old = full[OLD_READ][0]
    print(f"one v1 full read / one whole round now: {old / statistics.median(times['round']):.0f}x")


def part_rounds(args):
    with tempfile.TemporaryDirectory() as tmp:
        url = f"{tmp}/history.sqlite"
        fill(url, args.n, args.batch)
        report_rounds("sqlite", args.n, *rounds(url, args.rounds, 100))
    if not args.no_postgres:
        from servers import create_database, postgres_server
        with postgres_server() as base:
            url = create_database(base, "history")
            fill(url, args.n, args.batch)
            report_rounds("postgresql", args.n, *rounds(url, args.rounds, 100))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=1_000_000)
    ap.add_argument("--batch", type=int, default=10_000)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--no-postgres", action="store_true")
    ap.add_argument("--part", choices=["writes", "rounds", "all"], default="all")
    ap.add_argument("--rounds", type=int, default=30)
    args = ap.parse_args()
    if args.part in ("writes", "all"):
        part_writes(args)
    if args.part in ("rounds", "all"):
        part_rounds(args)


def part_writes(args):
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
