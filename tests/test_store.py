"""LabelStore on both back ends (an SQLite file and a real PostgreSQL server): durability under kill -9, concurrent
writers, idempotent deliveries, refused bad input, versions and exports, schema versions."""
import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import threading
import time

import pandas as pd
import pytest

import auto_labeling.store as store_module
from auto_labeling import ActiveLearner, LabelStore

# A child process that adds labels one by one and reports each id only after add() has returned.
WRITER = r"""
import sys
from auto_labeling.store import LabelStore
url, prefix = sys.argv[1], sys.argv[2]
store = LabelStore(url, unknown_items="register")
print("ready", flush=True)
for i in range(200_000):
    store.add(f"item{i % 997}", i % 10, who=f"writer-{prefix}", event_id=f"{prefix}{i}")
    print(f"{prefix}{i}", flush=True)
"""


def test_acknowledged_labels_survive_kill_9(store_url, tmp_path):
    "A child adds labels and reports each acknowledged id; SIGKILL at a random moment loses none of them."
    script = tmp_path / "writer.py"
    script.write_text(WRITER)
    rng = random.Random(1234)
    acknowledged = set()
    for attempt in range(3):
        proc = subprocess.Popen([sys.executable, str(script), store_url, f"k{attempt}-"],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        lines = []
        reader = threading.Thread(target=lambda: lines.extend(proc.stdout), daemon=True)
        reader.start()
        deadline = time.monotonic() + 60
        while "ready\n" not in lines:
            assert proc.poll() is None, proc.stderr.read()
            assert time.monotonic() < deadline, "writer did not start"
            time.sleep(0.05)
        time.sleep(rng.uniform(0.3, 1.5))
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
        reader.join(timeout=30)
        acked = {line.strip() for line in lines[1:] if line.endswith("\n")}
        assert len(acked) > 5, f"the writer acknowledged only {len(acked)} labels before the kill"
        acknowledged |= acked
    store = LabelStore(store_url)
    stored = set(store.history()["event_id"])
    missing = acknowledged - stored
    assert not missing, f"{len(missing)} acknowledged labels were lost, e.g. {sorted(missing)[:5]}"
    assert len(stored) >= len(acknowledged)                 # at most the one in flight when killed is extra
    if store.backend == "sqlite":
        con = sqlite3.connect(store_url)
        assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        con.close()


CONCURRENT_WRITER = r"""
import sys, random
from auto_labeling.store import LabelStore
url, name, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
store = LabelStore(url)
rng = random.Random(name)
i = 0
while i < n:
    k = min(rng.randint(1, 40), n - i)
    ids = [f"{name}-{j}" for j in range(i, i + k)]
    store.add_many([j % 500 for j in range(i, i + k)], [j % 10 for j in range(i, i + k)], who=name, event_ids=ids)
    i += k
store.add_many([0, 1], [0, 1], who=name, event_ids=[f"{name}-0", f"{name}-1"])   # a redelivery
print("done", flush=True)
"""


def _write_labels(store, name, n):
    rng = random.Random(name)
    i = 0
    while i < n:
        k = min(rng.randint(1, 40), n - i)
        if k == 1:
            store.add(i % 500, i % 10, who=name, event_id=f"{name}-{i}")
        else:
            store.add_many([j % 500 for j in range(i, i + k)], [j % 10 for j in range(i, i + k)], who=name,
                           event_ids=[f"{name}-{j}" for j in range(i, i + k)])
        i += k
    store.add_many([0, 1], [0, 1], who=name, event_ids=[f"{name}-0", f"{name}-1"])


def test_four_threads_and_two_processes_lose_and_duplicate_nothing(store_url, tmp_path):
    store = LabelStore(store_url, classes=list(range(10)))
    store.add_items(range(500))
    script = tmp_path / "concurrent_writer.py"
    script.write_text(CONCURRENT_WRITER)
    per_writer = {f"thread{t}": 1667 for t in range(4)} | {"proc0": 1666, "proc1": 1666}
    assert sum(per_writer.values()) == 10_000
    procs = [subprocess.Popen([sys.executable, str(script), store_url, name, str(per_writer[name])],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for name in ("proc0", "proc1")]
    errors = []

    def run(name):
        try:
            _write_labels(store, name, per_writer[name])
        except Exception as e:          # surfaced below; a thread's exception would otherwise vanish
            errors.append(e)

    threads = [threading.Thread(target=run, args=(f"thread{t}",)) for t in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=300)
    for p in procs:
        out, err = p.communicate(timeout=300)
        assert p.returncode == 0 and "done" in out, err
    assert not errors, errors
    events = store.history()
    assert len(events) == 10_000
    assert events["event_id"].nunique() == 10_000
    for name, n in per_writer.items():
        mine = events[events["who"] == name]
        assert set(mine["event_id"]) == {f"{name}-{j}" for j in range(n)}
    assert events["seq"].is_unique


def test_same_event_twice_is_stored_once(store_url):
    store = LabelStore(store_url, unknown_items="register")
    seq = store.add("a", "cat", who="alice", event_id="ls-1")
    assert store.add("a", "cat", who="alice", event_id="ls-1") == seq
    assert store.add_many(["a", "b", "c"], ["cat", "dog", "dog"], who="alice", event_ids=["ls-1", "ls-2", "ls-3"]) == 2
    assert store.add_many(["b", "c"], ["dog", "dog"], who="alice", event_ids=["ls-2", "ls-3"]) == 0
    assert len(store) == 3
    with pytest.raises(ValueError, match="different content"):
        store.add_many(["d", "a"], ["dog", "dog"], who="alice", event_ids=["ls-4", "ls-1"])
    assert len(store) == 3 and "d" not in set(store.history()["item_id"])      # the whole batch was refused


def test_bad_input_is_refused_and_writes_nothing(store_url):
    store = LabelStore(store_url, classes=["cat", "dog"])
    store.add_items(["a", "b"])
    cases = [
        (lambda: store.add("zzz", "cat", who="alice"), ValueError, "not registered"),
        (lambda: store.add_many(["a", "zzz"], ["cat", "cat"], who="alice"), ValueError, "not registered"),
        (lambda: store.add("a", object(), who="alice"), TypeError, "not JSON-serializable"),
        (lambda: store.add("a", float("nan"), who="alice"), ValueError, "not valid JSON"),
        (lambda: store.add("a", None, who="alice"), ValueError, "retract"),
        (lambda: store.add("a", "horse", who="alice"), ValueError, "outside the project's classes"),
        (lambda: store.add("a", [{"label": "cat"}, {"label": "cow"}], who="alice"), ValueError, "'cow'"),
        (lambda: store.add("a", "cat", who=""), ValueError, "who must name"),
        (lambda: store.add("a", "cat", who="   "), ValueError, "who must name"),
        (lambda: store.add("a", "cat", who="alice", kind="truth"), ValueError, "kind must be one of"),
        (lambda: store.add("a", "cat", who="alice", confidence=1.5), ValueError, "confidence must lie"),
        (lambda: store.add("a", "cat", who="alice", round=-1), ValueError, "round must be"),
        (lambda: store.add(True, "cat", who="alice"), TypeError, "item_id"),
        (lambda: store.add_many(["a", "b"], ["cat"], who="alice"), ValueError, "one label per item"),
        (lambda: store.add_many(["a", "b"], ["cat", "dog"], who="alice", event_ids=["x", "x"]), ValueError, "repeat"),
        (lambda: store.current(per="team"), ValueError, "per must be"),
    ]
    for call, error, message in cases:
        with pytest.raises(error, match=message):
            call()
    assert len(store) == 0
    store.add("a", [{"label": "cat", "box": [0, 0, 5, 5]}], who="alice")       # boxes with known classes are fine
    assert store.labels() == {"a": [{"box": [0, 0, 5, 5], "label": "cat"}]}


def test_current_versions_diff_and_exports(store_url, tmp_path):
    store = LabelStore(store_url, unknown_items="register")
    store.add_many(["a", "b", "c"], [1, 2, 3], who="alice", round=0)
    store.add_many(["a", "b"], [1, 5], who="bob", round=0)
    store.add_many(["c"], [9], who="model-v1", kind="pseudo", confidence=0.99)
    assert store.snapshot("v1", note="round 0") == 6
    store.add("b", 2, who="bob", round=1)                 # bob agrees with alice now
    store.retract("c", who="alice")
    store.add_items(["d"]); store.add("d", 4, who="alice", round=1)
    cur = store.current(per="annotator")
    assert sorted(zip(cur["item_id"], cur["who"], cur["label"])) == [
        ("a", "alice", 1), ("a", "bob", 1), ("b", "alice", 2), ("b", "bob", 2), ("d", "alice", 4)]
    assert store.labels(kind=["human", "pseudo"]) == {"a": 1, "b": 2, "c": 9, "d": 4}
    assert store.labels(version="v1") == {"a": 1, "b": 5, "c": 3}     # bob's later label was the newest then
    diff = store.diff("v1").set_index("item_id")
    assert diff.loc["b", "change"] == "changed" and diff.loc["b", "label_before"] == 5
    assert diff.loc["c", "change"] == "removed" and diff.loc["d", "change"] == "added"
    assert "a" not in diff.index
    assert store.snapshot("v2") == 6
    assert store.diff("v1", "v2").equals(store.diff("v1"))
    assert store.versions()["name"].tolist() == ["v1", "v2"]
    assert len(store.history("b")) == 3
    # exports round-trip
    data = json.loads(store.export(tmp_path / "v1.json", version="v1").read_text())
    assert data["version"] == "v1" and {r["item_id"]: r["label"] for r in data["labels"]} == {"a": 1, "b": 5, "c": 3}
    csv = pd.read_csv(store.export(tmp_path / "now.csv"), dtype={"item_id": str, "label": str})
    assert dict(zip(csv["item_id"], csv["label"].map(json.loads))) == {"a": 1, "b": 2, "d": 4}
    with pytest.raises(ValueError, match="format must be"):
        store.export(tmp_path / "x.parquet")
    with pytest.raises(ValueError, match="saved versions"):
        store.diff("v0")


def test_schema_migrates_forward_and_refuses_newer(store_url, monkeypatch):
    LabelStore(store_url, unknown_items="register").add("a", 1, who="alice")
    current = store_module.SCHEMA_VERSION
    monkeypatch.setattr(store_module, "SCHEMA_VERSION", current + 1)
    monkeypatch.setattr(store_module, "MIGRATIONS", {**store_module.MIGRATIONS,
                                                     current: ["ALTER TABLE al_items ADD COLUMN note TEXT"]})
    upgraded = LabelStore(store_url)
    assert upgraded.schema_version == current + 1 and upgraded.labels() == {"a": 1}
    with upgraded._read() as conn:
        assert conn.execute("SELECT note FROM al_items").fetchall() == [(None,)]
        assert conn.execute("SELECT value FROM al_meta WHERE key = 'schema_version'").fetchone()[0] == str(current + 1)
    monkeypatch.setattr(store_module, "SCHEMA_VERSION", current)
    with pytest.raises(ValueError, match="newer than this auto_labeling"):
        LabelStore(store_url)


def test_learner_on_either_backend(store_url, digits):
    from sklearn.linear_model import LogisticRegression
    from auto_labeling import SimulatedAnnotator
    X, y = digits
    learner = ActiveLearner(LogisticRegression(max_iter=500), batch_size=10, random_state=0, store=store_url)
    annotator = SimulatedAnnotator(y)
    for _ in range(3):
        learner.send_to_labeling(learner.query(X), tool=annotator)
    resumed = ActiveLearner(LogisticRegression(max_iter=500), batch_size=10, store=store_url)
    batch = resumed.query(X)
    assert resumed.n_labeled == 30 and set(resumed.labeled_indices) == set(learner.labeled_indices)
    assert not set(batch.indices) & set(learner.labeled_indices)
    assert LabelStore(store_url).current()["round"].tolist() == [1] * 10 + [2] * 10 + [3] * 10   # the loop's rounds


def test_not_a_store_and_secrets(tmp_path, postgres_base_url):
    (tmp_path / "notes.txt").write_text("hello " * 1000)
    with pytest.raises(ValueError, match="is not a label store"):
        LabelStore(tmp_path / "notes.txt")
    with pytest.raises(ValueError, match="is a folder"):
        LabelStore(tmp_path)
    # a password never shows in a repr or an error
    url = postgres_base_url.replace("al@", "al:s3cret-pw@") + "/postgres"
    store = LabelStore(url)
    assert "s3cret-pw" not in repr(store) and "***" in repr(store)
    port = int(postgres_base_url.rsplit(":", 1)[1])
    with pytest.raises(ConnectionError) as info:
        LabelStore(f"postgresql://al:s3cret-pw@127.0.0.1:{port + 1 if port < 65535 else port - 1}/nope", timeout=2)
    assert "s3cret-pw" not in str(info.value) and "127.0.0.1" in str(info.value)


def test_pulled_labels_of_several_annotators_and_run_state(store_url):
    "add_pulled: one batch per annotator, items registered, a second pull adds nothing; put/get_state round-trips."
    store = LabelStore(store_url)
    events = [("a", "cat", "ann@x", "ls:1"), ("b", "dog", "bob@x", "ls:2"), ("c", "cat", "ann@x", "ls:3")]
    assert store.add_pulled(events) == 3 and store.add_pulled(events) == 0
    cur = store.current()
    assert dict(zip(cur["item_id"], cur["who"])) == {"a": "ann@x", "b": "bob@x", "c": "ann@x"}
    assert set(store.items()["item_id"]) == {"a", "b", "c"}
    store.put_state("pipeline", {"rounds": [1, 2], "pending": None})
    store.put_state("pipeline", {"rounds": [1, 2, 3], "pending": [4]})
    assert LabelStore(store_url).get_state("pipeline") == {"rounds": [1, 2, 3], "pending": [4]}
    assert store.get_state("nothing", "default") == "default"


# --- current labels kept on insert (schema v2) -----------------------------------------------------------------------
def _reference_labels(history: pd.DataFrame, kinds=None) -> dict:
    "What labels() must be, computed from the history alone: per (item, kind, who) the latest event; per item the newest live one."
    latest = {}
    for seq, item, kind, who, label in zip(history["seq"], history["item_id"], history["kind"], history["who"],
                                           history["label"]):
        if kinds is None or kind in kinds:
            latest[(item, kind, who)] = (seq, label)
    best = {}
    for (item, _, _), (seq, label) in latest.items():
        if label is not None and (item not in best or seq > best[item][0]):
            best[item] = (seq, label)
    return {item: label for item, (_, label) in best.items()}


def _random_writes(store, rng, n_ops):
    "Adds, batches (an item twice in one batch), retractions and redeliveries over 30 items, 3 annotators, 3 kinds."
    items = [f"i{k}" for k in range(30)]
    for op in range(n_ops):
        who, kind = rng.choice(["ann", "bob", "cy"]), rng.choice(["human", "human", "pseudo", "model"])
        r = rng.random()
        if r < 0.4:
            store.add(rng.choice(items), rng.randrange(5), who=who, kind=kind)
        elif r < 0.7:
            batch = [rng.choice(items) for _ in range(rng.randint(1, 6))]
            store.add_many(batch, [rng.randrange(5) for _ in batch], who=who, kind=kind)
        elif r < 0.85:
            store.retract(rng.choice(items), who=who, kind=kind)
        else:
            eid = f"ev{rng.randrange(20)}"
            try:
                store.add("i0", 1, who="src", event_id=eid)
            except ValueError:
                pass


def test_current_labels_match_the_history(store_url):
    "labels(), current() and incremental label_changes() agree with a reference computed from the history, any kinds."
    rng = random.Random(7)
    store = LabelStore(store_url, unknown_items="register")
    mine, since = {k: {} for k in ("human", "all")}, {"human": 0, "all": 0}
    for step in range(12):
        _random_writes(store, rng, 25)
        history = store.history()
        for kinds in (["human"], ["human", "pseudo"], None):
            assert store.labels(kind=kinds) == _reference_labels(history, kinds)
            per_item = store.current(kind=kinds, per="item")
            assert dict(zip(per_item["item_id"], per_item["label"])) == _reference_labels(history, kinds)
        for name, kinds in (("human", "human"), ("all", None)):
            since[name], changes = store.label_changes(since[name], kind=kinds)
            mine[name].update(changes)
            assert {k: v for k, v in mine[name].items() if v is not None} == store.labels(kind=kinds)
        per_annotator = store.current(kind=None)
        assert len(per_annotator) == len(set(zip(per_annotator["item_id"], per_annotator["kind"], per_annotator["who"])))
    assert since["all"] == store.last_seq()


def _make_v1_store(url):
    "A store as version 1 of the package wrote it: its tables, a history, schema_version = 1."
    from auto_labeling.store_schema import PostgresBackend, SQLiteBackend, schema_v1
    b = PostgresBackend(url, 10) if url.startswith("postgresql") else SQLiteBackend(url, 10)
    conn = b.connect()
    q = b.sql
    for stmt in schema_v1(b):
        conn.execute(stmt)
    conn.execute(q("INSERT INTO al_meta (key, value) VALUES (?, ?)"), ("schema_version", "1"))
    conn.execute(q("INSERT INTO al_meta (key, value) VALUES (?, ?)"), ("classes", "[0,1,2,3,4]"))
    rng = random.Random(3)
    for k in range(40):
        conn.execute(q("INSERT INTO al_items (item_id, position) VALUES (?, ?)"), (f"i{k}", k))
    rows = []
    for n in range(3000):
        label = None if rng.random() < 0.1 else str(rng.randrange(5))
        rows.append((f"i{rng.randrange(40)}", label, rng.choice(["human", "pseudo"]), rng.choice(["a", "b", "c"]),
                     float(n)))
    conn.cursor().executemany(q("INSERT INTO al_events (item_id, label, kind, who, created_at) VALUES (?, ?, ?, ?, ?)"),
                              rows)
    if b.name == "sqlite":
        conn.commit()
    b.close(conn)


def test_a_version_1_store_is_migrated(store_url):
    "Opening a v1 store fills the current-labels table from its history once; reads and writes then use it."
    _make_v1_store(store_url)
    store = LabelStore(store_url)
    assert store.schema_version == 2 and store.classes == [0, 1, 2, 3, 4]
    history = store.history()
    assert len(history) == 3000
    for kinds in (["human"], None):
        assert store.labels(kind=kinds) == _reference_labels(history, kinds)
    top, changes = store.label_changes(0, kind=None)
    assert top == 3000 and {k: v for k, v in changes.items() if v is not None} == store.labels(kind=None)
    store.add("i0", 4, who="a")
    assert store.label_changes(top) == (3001, {"i0": 4}) and store.labels()["i0"] == 4
    assert LabelStore(store_url).schema_version == 2                  # migrated once, opened again as v2


CHANGING_WRITER = r"""
import random, sys
from auto_labeling.store import LabelStore
url, name, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
store = LabelStore(url)
rng = random.Random(name)
for i in range(n):
    items = [f"i{rng.randrange(400)}" for _ in range(rng.randint(1, 4))]
    store.add_many(items, [rng.randrange(10) for _ in items], who=name)
    if rng.random() < 0.1:
        store.retract(items[0], who=name)
print("done", flush=True)
"""


def test_label_changes_miss_nothing_under_concurrent_writers(store_url, tmp_path):
    """Three processes and two threads write and retract labels of 400 items while a reader follows label_changes:
    its dict ends equal to labels(). (On PostgreSQL a writer holding a lower seq can commit after a higher one; the
    writers' turn-taking is what keeps the reader's marker from passing a change it has not seen.)"""
    store = LabelStore(store_url, unknown_items="register")
    store.add_items([f"i{k}" for k in range(400)])
    script = tmp_path / "changing_writer.py"
    script.write_text(CHANGING_WRITER)
    procs = [subprocess.Popen([sys.executable, str(script), store_url, f"p{k}", "400"], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for k in range(3)]
    errors, done = [], threading.Event()

    def write(name):
        try:
            rng = random.Random(name)
            for _ in range(300):
                items = [f"i{rng.randrange(400)}" for _ in range(rng.randint(1, 4))]
                store.add_many(items, [rng.randrange(10) for _ in items], who=name)
        except Exception as e:
            errors.append(e)

    threads = [threading.Thread(target=write, args=(f"t{k}",)) for k in range(2)]
    for t in threads:
        t.start()
    reader = LabelStore(store_url)
    mine, since, calls, deadline = {}, 0, 0, time.monotonic() + 300
    while not done.is_set():
        if all(p.poll() is not None for p in procs) and not any(t.is_alive() for t in threads):
            done.set()                                     # one more call below, after the last commit
        seq, changes = reader.label_changes(since)
        assert seq >= since
        mine.update(changes)
        since, calls = seq, calls + 1
        assert time.monotonic() < deadline, "writers did not finish"
    for p in procs:
        out, err = p.communicate(timeout=60)
        assert p.returncode == 0 and "done" in out, err
    assert not errors, errors
    assert since == reader.last_seq() and calls > 10
    assert {k: v for k, v in mine.items() if v is not None} == reader.labels()


# --- labels and run state in one transaction ---------------------------------------------------------------------------
def test_labels_and_run_state_are_stored_together_or_not_at_all(store_url, monkeypatch):
    store = LabelStore(store_url)
    store.add_items(["a", "b", "c"])
    assert store.add_many(["a"], [1], who="x", state={"run": {"round": 1}}) == 1
    assert store.get_state("run") == {"round": 1} and store.labels() == {"a": 1}
    with pytest.raises(ValueError, match="not registered"):             # the foreign key fails inside the transaction
        store.add_many(["b", "zzz"], [2, 2], who="x", state={"run": {"round": 2}})
    store.add_many(["b"], [2], who="x", event_ids=["e1"], state={"run": {"round": 3}})
    with pytest.raises(ValueError, match="different content"):          # found after the insert, inside the transaction
        store.add_many(["c", "b"], [3, 9], who="x", event_ids=["e2", "e1"], state={"run": {"round": 4}})
    real_q = LabelStore._q

    def failing_q(self, conn, sql, params=()):                          # a fault after events and state were written
        if sql.startswith("INSERT INTO al_current"):
            raise RuntimeError("injected fault")
        return real_q(self, conn, sql, params)

    monkeypatch.setattr(LabelStore, "_q", failing_q)
    with pytest.raises(RuntimeError, match="injected"):
        store.add_many(["c"], [3], who="x", state={"run": {"round": 5}})
    monkeypatch.setattr(LabelStore, "_q", real_q)
    reopened = LabelStore(store_url)
    assert reopened.get_state("run") == {"round": 3}
    assert reopened.labels() == {"a": 1, "b": 2} and len(reopened) == 2
    assert reopened.label_changes(0) == (reopened.last_seq(), {"a": 1, "b": 2})


STATE_WRITER = r"""
import sys
from auto_labeling.store import LabelStore
store = LabelStore(sys.argv[1], unknown_items="register")
start = store.get_state("run", {"rounds_done": 0})["rounds_done"]        # resume, as a pipeline does
print("ready", flush=True)
for r in range(start, 1_000_000):
    store.add_many([f"r{r}-{j}" for j in range(20)], [j % 3 for j in range(20)], who="annotator", round=r,
                   state={"run": {"rounds_done": r + 1}})
"""


def test_kill_9_never_separates_labels_from_the_state_that_records_them(store_url, tmp_path):
    """A child commits a batch and its round counter together, round after round, resuming from the counter; SIGKILL
    at a random moment, three times, leaves every round's labels with its counter: no round lost, none stored twice."""
    script = tmp_path / "state_writer.py"
    script.write_text(STATE_WRITER)
    rng, done_before = random.Random(99), 0
    for attempt in range(3):
        proc = subprocess.Popen([sys.executable, str(script), store_url], stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)
        assert proc.stdout.readline() == "ready\n", proc.stderr.read()
        time.sleep(rng.uniform(0.3, 1.2))
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
        store = LabelStore(store_url)
        done = store.get_state("run", {"rounds_done": 0})["rounds_done"]
        events = store.history()
        assert done > done_before and len(events) == 20 * done
        assert events.groupby("round").size().to_dict() == {r: 20 for r in range(done)}
        done_before = done
        store.close()


# --- the same text rule on both back ends ------------------------------------------------------------------------------
def test_text_a_back_end_cannot_hold_is_refused_on_both(store_url):
    store = LabelStore(store_url, unknown_items="register")
    store.add("ok", "cat", who="alice")
    for bad, why in (("a\x00b", "must not contain NUL"), ("x\ud800", "valid Unicode")):
        cases = [
            (lambda: store.add(bad, "cat", who="alice"), "item_id"),
            (lambda: store.add_many(["ok", bad], ["cat", "dog"], who="alice"), "item_ids[1]"),
            (lambda: store.add_items([bad]), "item_ids[0]"),
            (lambda: store.add("ok", "cat", who=bad), "who"),
            (lambda: store.add("ok", bad, who="alice"), "label"),
            (lambda: store.add("ok", {"label": "cat", "note": bad}, who="alice"), "label"),
            (lambda: store.add("ok", [{bad: 1}], who="alice"), "label"),
            (lambda: store.add_many(["ok"], [[bad]], who="alice"), "labels[0]"),
            (lambda: store.add("ok", "cat", who="alice", event_id=bad), "event_id"),
            (lambda: store.add_many(["ok"], ["cat"], who="alice", event_ids=[bad]), "event_ids[0]"),
            (lambda: store.retract(bad, who="alice"), "item_id"),
            (lambda: store.put_state(bad, 1), "key"),
            (lambda: store.add_many(["ok"], ["cat"], who="alice", state={bad: 1}), "key"),
            (lambda: store.snapshot(bad), "name"),
            (lambda: store.labels(version=bad), "version"),
            (lambda: store.history(who=bad), "who"),
            (lambda: LabelStore(store_url, classes=["cat", bad]), "classes[1]"),
        ]
        for call, name in cases:
            with pytest.raises(ValueError) as info:
                call()
            assert str(info.value).startswith(name) and why in str(info.value), (name, str(info.value))
        with pytest.raises(ValueError, match="kind must be one of"):
            store.add("ok", "cat", who="alice", kind="human" + bad[-1])
    assert len(store) == 1 and store.versions().empty
    good = ["line\nbreak", "cr\ronly", "tab\tx", "emoji 😀", "rtl \u202e", "sep\u2028", "日本語", "'q", '"dq"',
            "=1+1", "-2", "x" * 3000, "\\u0000 (an escaped NUL is six plain characters)"]
    for k, text in enumerate(good):
        store.add(text, {"label": text, text: [text]}, who=text, event_id=f"{k}:{text}")
    cur = store.current(per="annotator").set_index("item_id")
    for k, text in enumerate(good):
        assert cur.loc[text, "who"] == text and cur.loc[text, "label"] == {"label": text, text: [text]}
        assert cur.loc[text, "event_id"] == f"{k}:{text}"


@pytest.mark.parametrize("how", ["folder", "file", "replaced"])
def test_a_deleted_or_replaced_sqlite_file_is_refused_not_written_into(tmp_path, how):
    """An open SQLite connection keeps writing into a deleted file (the inode lives on until closed): every label
    after the deletion would be lost. Each write transaction checks the file is still the one opened (same device
    and inode) and refuses, naming the path and what to do. PostgreSQL has no file: unaffected."""
    import shutil
    folder = tmp_path / "project"
    folder.mkdir()
    path = folder / "labels.sqlite"
    store = LabelStore(path)
    store.add_items(["a", "b"])
    store.add("a", "cat", who="alice")
    if how == "folder":
        shutil.rmtree(folder)
    elif how == "file":
        path.unlink()
    else:
        other = LabelStore(tmp_path / "other.sqlite")
        other.close()
        path.unlink()
        shutil.copy(tmp_path / "other.sqlite", path)
    what = "replaced by another file" if how == "replaced" else "deleted"
    for write in (lambda: store.add("b", "dog", who="alice"), lambda: store.add_items(["c"]),
                  lambda: store.put_state("k", {"x": 1})):
        with pytest.raises(FileNotFoundError, match=f"label store '{path}' was {what} while it was open; nothing "
                                                    f"was written.*Restore the file, or open LabelStore"):
            write()
    assert store.labels() == {"a": "cat"}                     # reads still see what was stored before
    store.close()
