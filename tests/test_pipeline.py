"""AutoLabelingPipeline end to end: a crash mid-run resumes, the CLI runs a config, the widget and a real Label Studio
answer later and the same loop collects them."""
import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression

from auto_labeling import AutoLabelingPipeline, EvaluationSettings, LabelStore, StoppingSettings

ROOT = Path(__file__).resolve().parents[1]
PYTHON = sys.executable

RUN = textwrap.dedent("""
    import sys, numpy as np
    from sklearn.datasets import load_digits
    from sklearn.linear_model import LogisticRegression
    from auto_labeling import AutoLabelingPipeline, EvaluationSettings, StoppingSettings
    X, y = load_digits(return_X_y=True); X = X / 16.0
    p = AutoLabelingPipeline(LogisticRegression(max_iter=300), store=sys.argv[1], random_state=0)
    p.configure(batch_size=10, max_iterations=int(sys.argv[2]), evaluation=EvaluationSettings(random_baseline=False),
                stopping=StoppingSettings(patience=None))
    r = p.run(unlabeled_data=(X[:1200], y[:1200]), validation_data=(X[1200:], y[1200:]), progress=False)
    print("DONE", r.labels_used, r.stopped_by, len(r.rounds), flush=True)
""")


def test_a_run_killed_mid_round_resumes_where_it_stopped_and_buys_no_label_twice(tmp_path):
    script = tmp_path / "run.py"
    script.write_text(RUN)
    store = tmp_path / "run.sqlite"
    proc = subprocess.Popen([PYTHON, str(script), str(store), "40"], cwd=tmp_path)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:                     # kill -9 once a few rounds are stored
        time.sleep(0.2)
        if store.exists():
            try:
                rounds = LabelStore(str(store)).get_state("pipeline", {"rounds": []})["rounds"]
            except Exception:
                continue
            if len(rounds) >= 5:
                break
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    killed_at = len(LabelStore(str(store)).labels("human"))
    assert 30 <= killed_at < 400, killed_at
    out = subprocess.run([PYTHON, str(script), str(store), "40"], cwd=tmp_path, capture_output=True, text=True,
                         timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    done = out.stdout.split("DONE")[1].split()
    labels_used, stopped_by, n_rounds = int(done[0]), done[1], int(done[2])
    assert stopped_by == "max_iterations" and n_rounds == 41
    assert labels_used == 400                              # 40 rounds x 10: nothing bought twice, nothing skipped
    s = LabelStore(str(store))
    assert len(s.labels("human")) == 400
    assert s.history(kind="human")["item_id"].is_unique      # every item labeled exactly once
    rounds = s.get_state("pipeline")["rounds"]
    assert [r["round"] for r in rounds] == list(range(41)) and rounds[-1]["n_labels"] == 400


FAULTS = textwrap.dedent("""
    # A pipeline whose parts die (os._exit: no cleanup, like kill -9) at one step boundary of one round:
    #   send   - the batch is saved as outstanding; the annotator is about to be asked
    #   store  - the answers and the loop state that marks them answered have just been committed
    #   refit  - the model is being refit on them
    #   state  - the pipeline's round record has just been committed
    # The annotator appends every item it is asked for to a log (fsync'd) before answering.
    import os, sys, numpy as np
    from sklearn.datasets import load_digits
    from sklearn.linear_model import LogisticRegression
    from auto_labeling import (AutoLabelingPipeline, EvaluationSettings, LabelStore, SimulatedAnnotator,
                               StoppingSettings)
    store_path, log_path, point, when = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    die = lambda: os._exit(137)

    class Logged(SimulatedAnnotator):
        def send(self, batch):
            if point == "send" and self.loop.round == when:
                die()
            labels = super().send(batch)
            with open(log_path, "a") as f:
                f.write(" ".join(map(str, batch.indices.tolist())) + "\\n"); f.flush(); os.fsync(f.fileno())
            return labels

    class Store(LabelStore):
        answered = None                                # the round whose answers were committed last
        def add_many(self, *a, state=None, **k):
            out = super().add_many(*a, state=state, **k)
            if state is not None:
                Store.answered = state["pipeline:loop"]["round"]
                if point == "store" and Store.answered == when:
                    die()
            return out
        def put_state(self, key, value):
            super().put_state(key, value)
            if key == "pipeline" and point == "state" and len(value["rounds"]) == when + 1:
                die()

    class Model(LogisticRegression):
        def fit(self, X, y, sample_weight=None):
            if point == "refit" and Store.answered == when:
                die()
            return super().fit(X, y, sample_weight)

    X, y = load_digits(return_X_y=True); X = X / 16.0
    p = AutoLabelingPipeline(Model(max_iter=300), labeling_tool=Logged(), store=Store(store_path), random_state=0)
    p.configure(batch_size=10, max_iterations=8, evaluation=EvaluationSettings(random_baseline=False),
                stopping=StoppingSettings(patience=None))
    r = p.run(unlabeled_data=(X[:600], y[:600]), validation_data=(X[1200:], y[1200:]), progress=False)
    print("DONE", r.labels_used, r.stopped_by, len(r.rounds), flush=True)
""")


@pytest.mark.parametrize("point", ["send", "store", "refit", "state"])
def test_a_kill_at_any_step_boundary_never_buys_a_label_twice(tmp_path, point):
    "The pipeline dies at one step boundary in each of rounds 2, 4 and 6, and is started again each time: every item "
    "is asked for exactly once, every answer is stored once, the rounds are 0..8 with no gap."
    script = tmp_path / "faults.py"
    script.write_text(FAULTS)
    store, log = tmp_path / "run.sqlite", tmp_path / "asked.log"
    deaths = 0
    for when in (2, 4, 6, 10 ** 6):                        # the last run has no fault and must finish
        out = subprocess.run([PYTHON, str(script), str(store), str(log), point, str(when)], cwd=tmp_path,
                             capture_output=True, text=True, timeout=300)
        if out.returncode == 137:
            deaths += 1
            continue
        assert out.returncode == 0, out.stderr[-2000:]
    assert deaths == 3, deaths                             # it really died at each planned boundary
    done = out.stdout.split("DONE")[1].split()
    assert (int(done[0]), done[1], int(done[2])) == (80, "max_iterations", 9)
    asked = [int(i) for line in log.read_text().split("\n") if line for i in line.split()]
    assert len(asked) == len(set(asked)) == 80              # nobody was asked twice, nobody skipped
    s = LabelStore(str(store))
    assert s.history(kind="human")["item_id"].is_unique and len(s.labels("human")) == 80
    assert sorted(int(i) for i in s.labels("human")) == sorted(asked)
    assert [r["round"] for r in s.get_state("pipeline")["rounds"]] == list(range(9))


def test_cli_run_config_and_its_errors(tmp_path):
    import yaml
    cfg = tmp_path / "pipeline.yaml"
    cfg.write_text(yaml.safe_dump({
        "model": {"class": "sklearn.linear_model.LogisticRegression", "params": {"max_iter": 500}},
        "data": {"dataset": "digits", "test_size": 0.25, "n_initial": 20},
        "pipeline": {"active_learning": "uncertainty", "labeling_tool": "simulated", "random_state": 0,
                     "store": str(tmp_path / "run.sqlite")},
        "configure": {"batch_size": 20, "confidence_threshold": 0.95, "max_iterations": 15},
        "run": {"target_accuracy": 0.93},
        "output": {"json": str(tmp_path / "results.json"), "plot": str(tmp_path / "results.png")}}))
    exe = Path(PYTHON).parent / "auto-label"
    out = subprocess.run([str(exe), "run", "--config", str(cfg), "--no-progress"], capture_output=True, text=True,
                         timeout=300, cwd=tmp_path)
    assert out.returncode == 0, out.stderr[-2000:]
    res = json.loads((tmp_path / "results.json").read_text())
    assert res["stopped_by"] == "target_accuracy" and res["accuracy"] >= 0.93
    assert res["baseline"].startswith("measured") and res["labels_random"] > res["labels_used"]
    assert (tmp_path / "results.png").stat().st_size > 10_000
    bad = tmp_path / "bad.yaml"
    bad.write_text("model: {class: sklearn.linear_model.LogisticRegression}\ndata: {dataset: digits}\n"
                   "configure: {batch_size: 100, budget: 50}\n")
    out = subprocess.run([str(exe), "run", "--config", str(bad)], capture_output=True, text=True, timeout=120)
    assert out.returncode == 2 and out.stderr.strip().count("\n") == 0 and "smaller than one batch" in out.stderr
    out = subprocess.run([str(exe), "run", "--config", str(tmp_path / "missing.yaml")], capture_output=True, text=True)
    assert out.returncode == 2 and "no config file" in out.stderr
    out = subprocess.run([str(exe), "run", "--help"], capture_output=True, text=True)
    assert out.returncode == 0 and "--config" in out.stdout and "YAML" in out.stdout


def test_widget_rounds_are_the_pipelines_rounds(tmp_path, digits):
    X, y = digits
    store = tmp_path / "w.sqlite"
    p = AutoLabelingPipeline(LogisticRegression(max_iter=500), labeling_tool="widget", store=store, random_state=0,
                             classes=list(range(10)))
    p.configure(batch_size=8, max_iterations=2, evaluation=EvaluationSettings(random_baseline=False))
    data = dict(labeled_data=(X[:20], y[:20]), unlabeled_data=X[20:600], validation_data=(X[1200:], y[1200:]),
                progress=False)
    r = p.run(**data)
    assert r.stopped_by == "waiting_for_labels" and r.labels_used == 20
    session = p.tool.session
    pending = [v[0] for v in LabelStore(str(store)).get_state("pipeline:loop")["outstanding"].values()]
    assert session.queue == pending and len(pending) == 8
    for pos in list(session.queue):                        # a person clicks the right class for each item
        time.sleep(0.2)                                    # (a fast one)
        session.submit(int(y[20 + pos]))
    assert session.current is None                         # the widget stops after the pipeline's batch
    r = p.run(**data)                                      # collects the batch, retrains, sends the next one
    assert r.labels_used == 28 and list(r.rounds["round"]) == [0, 1] and r.stopped_by == "waiting_for_labels"
    assert r.rounds["n_confirmed"].iloc[1] >= 0
    assert 0.15 <= r.seconds_per_label <= 5, r.seconds_per_label   # measured from the clicks' stored times
    assert r.cost_report()["seconds_per_label_source"].startswith("measured")
    assert session.queue != pending and len(session.queue) == 8 and not set(session.queue) & set(pending)


def test_label_studio_answers_later_and_a_restarted_pipeline_collects(label_studio, tmp_path, digits):
    from auto_labeling.label_studio import LabelStudioClient, choices_result
    X, y = digits
    ys = y.astype(str)
    texts = [f"digit image {i}" for i in range(len(X))]
    store = tmp_path / "ls.sqlite"

    def pipeline():
        p = AutoLabelingPipeline(LogisticRegression(max_iter=500), labeling_tool="label_studio", store=store,
                                 url=label_studio.url, api_key=label_studio.token, classes=[str(c) for c in range(10)],
                                 project_title="pipeline test", random_state=0)
        return p.configure(batch_size=10, max_iterations=2, evaluation=EvaluationSettings(random_baseline=False))

    data = dict(labeled_data=(X[:30], ys[:30]), unlabeled_data=X[30:500], items=texts[30:500],
                validation_data=(X[1200:], ys[1200:]), progress=False)
    r = pipeline().run(**data)
    assert r.stopped_by == "waiting_for_labels"
    client = LabelStudioClient(label_studio.url, label_studio.token)
    project_id = LabelStore(str(store)).get_state("pipeline:loop")["tool"]["project_id"]
    tasks = client.task_ids_by_item(project_id)
    assert len(tasks) == 10
    assert all(t["data"]["text"].startswith("digit image") for t in client.export_annotations(project_id, "JSON"))
    control = client.controls(project_id)[0]
    for k, (item, task_id) in enumerate(tasks.items()):   # the annotators answer in Label Studio (which times them)
        client.sdk.annotations.create(id=task_id, result=choices_result(control, ys[30 + int(item)]),
                                      lead_time=10.0 + k)
    r = pipeline().run(**data)                             # a new process would do exactly this
    assert r.labels_used == 40 and list(r.rounds["round"]) == [0, 1]
    assert r.stopped_by == "waiting_for_labels"
    assert len(client.task_ids_by_item(project_id)) == 20  # the next batch went to the same project
    assert r.seconds_per_label == 14.5                     # the median of Label Studio's lead times 10..19 s
    assert r.cost_report()["seconds_per_label_source"].startswith("measured")
    s = LabelStore(str(store))
    assert len(s.labels("human")) == 10 and set(s.labels("human").values()) <= {str(c) for c in range(10)}
    # no true labels with Label Studio: the saving is estimated from the random items, or unknown and says how many more
    assert r.cost_savings != r.cost_savings and r.baseline.startswith("unknown: 1 random items")
    assert r.more_random_needed == 11 and r.to_dict()["cost_savings"] is None


def test_oracle_argument_plateau_and_pool_exhausted_stops(digits):
    "The oracle may come as oracle=; an accuracy plateau and an exhausted pool each stop the run and say so."
    X, y = digits
    p = AutoLabelingPipeline(LogisticRegression(max_iter=300), random_state=0)
    p.configure(batch_size=20, max_iterations=30, stopping=StoppingSettings(patience=2, stable_kappa=1.0, min_delta=0.5),
                evaluation=EvaluationSettings(random_baseline=False))
    r = p.run(unlabeled_data=X[:600], oracle=y[:600], validation_data=(X[1200:], y[1200:]), progress=False)
    assert r.stopped_by == "plateau" and len(r.rounds) == 4       # rounds 0..3: two gains below 0.5 after round 1
    small = AutoLabelingPipeline(LogisticRegression(max_iter=300), random_state=0)
    small.configure(batch_size=25, max_iterations=30, stopping=StoppingSettings(patience=None),
                    evaluation=EvaluationSettings(random_baseline=False))
    r = small.run(unlabeled_data=(X[:60], y[:60]), validation_data=(X[1200:], y[1200:]), progress=False)
    assert r.stopped_by == "pool_exhausted" and r.labels_used == 60
    with pytest.raises(ValueError, match="one label per pool item"):
        small.run(unlabeled_data=X[:60], oracle=y[:59])


def test_a_scripted_person_without_a_validation_set_gets_honest_figures():
    """The specification's settings with a tool that is not the simulator (a scripted person: no oracle reaches the
    pipeline): the accuracy comes from the random audit with an interval holding the true accuracy on the items the
    run never saw, the target stop fires on the lower bound, and the saving is estimated from the random items or is
    NaN with how many more random labels would settle it — never a constant."""
    from sklearn.datasets import load_digits
    from auto_labeling.destinations import LabelingTool
    X, y = load_digits(return_X_y=True)
    order = np.random.default_rng(0).permutation(len(y))
    X, y = X[order] / 16.0, y[order]

    class Person(LabelingTool):
        name, answers_now = "scripted_person", True
        def __init__(self, truth): self.truth = truth
        def send(self, batch): return self.truth[batch.indices]

    p = AutoLabelingPipeline(LogisticRegression(max_iter=1000), labeling_tool=Person(y[30:]), random_state=0)
    p.configure(batch_size=20, max_iterations=20, budget=400, random_fraction=0.2)
    r = p.run(labeled_data=(X[:30], y[:30]), unlabeled_data=X[30:], target_accuracy=0.9, progress=False)
    last = r.rounds.iloc[-1]
    unseen = np.setdiff1d(np.arange(len(y) - 30), p.learner.labeled_indices) + 30
    true = p.model.score(X[unseen], y[unseen])
    assert r.evaluation.startswith("random audit") and r.stopped_by == "target_accuracy"
    assert last.score_low >= 0.9 and last.score_low - 0.02 <= true
    if r.cost_savings == r.cost_savings:
        assert r.baseline.startswith("estimated from") and r.labels_random_low <= r.labels_random <= r.labels_random_high
    else:
        assert r.baseline.startswith("unknown") and r.more_random_needed > 0
    assert r.cost_report()["more_random_needed"] == r.more_random_needed


def test_the_simulated_random_baseline_is_measured_when_first_read(monkeypatch, digits):
    """A run does not pay for the random baseline; the first read of a figure built on it measures it, once, from the
    run's own pool, seed set and settings — a second run of the same pipeline does not change the first run's figure."""
    import auto_labeling.pipeline as pipeline_module
    X, y = digits
    calls = []
    real = pipeline_module.random_curve
    monkeypatch.setattr(pipeline_module, "random_curve", lambda *a, **k: calls.append(1) or real(*a, **k))

    def run(pool_size, seed):
        p = AutoLabelingPipeline(LogisticRegression(max_iter=500), random_state=seed)
        p.configure(batch_size=20, max_iterations=4, stopping=StoppingSettings(patience=None))
        return p, p.run(labeled_data=(X[:20], y[:20]), unlabeled_data=(X[20:pool_size], y[20:pool_size]),
                        validation_data=(X[1500:], y[1500:]), progress=False)

    p, first = run(1400, 0)
    assert calls == []                                   # the run itself measured nothing
    saving = first.cost_savings
    n_calls = len(calls)
    assert n_calls >= 1 and first.baseline.startswith("measured in simulation") and saving == saving
    assert first.labels_random > 0 and first.random_curve is not None and len(calls) == n_calls   # once
    # the same pipeline runs again on another pool before the second result is read: each keeps its own run's figure
    _, fresh = run(1000, 1)
    fresh_labels = fresh.labels_random
    p2, early = run(1000, 1)
    p2.configure(batch_size=10, max_iterations=2)
    p2.run(labeled_data=(X[:20], y[:20]), unlabeled_data=(X[20:600], y[20:600]), validation_data=(X[1500:], y[1500:]),
           progress=False)
    assert early.labels_random == fresh_labels and early.random_curve.equals(fresh.random_curve)
    assert json.loads(first.to_json())["labels_random"] == first.labels_random
