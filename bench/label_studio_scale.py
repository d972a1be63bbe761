"""Label Studio at 5,000 tasks (issue 17), against a real Label Studio 1.23.2 started on 127.0.0.1 from `.venv-ls`.

Side by side on one server, per repeat:
  * sdk_import: label-studio-sdk's own `projects.import_tasks` of the 5,000 text tasks with predictions, one call;
  * first_upload: `LabelStudioClient.upload_text_tasks(..., store=store)` of the same 5,000 into a fresh project
    (the item -> task map is kept in the label store as the chunks land);
  * rerun: the same upload again from a new client and the store reopened, as a new process would (creates nothing;
    the map comes from the store, Label Studio is asked one task count);
  * rerun_listing: the same upload again without `store=` (the project is listed: the fallback);
  * round: one pipeline round on the 5,000-task project through `LabelStudioTool`: 10 tasks get annotated, then
    `collect` (incremental pull into the label store) + `send` (the next batch of 10 with predictions).
  * full_pull: for reference, `pull_annotations` without `since` (reads every task).

    PYTHONPATH=. .venv/bin/python bench/label_studio_scale.py [--n 5000] [--repeats 3]
"""
import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from servers import label_studio_server  # noqa: E402

from auto_labeling import LabelStore  # noqa: E402
from auto_labeling.core import Pool, QueryResult  # noqa: E402
from auto_labeling.label_studio import ChoiceMap, choices_result, text_classification_config  # noqa: E402
from auto_labeling.label_studio_client import LabelStudioClient, prediction  # noqa: E402
from auto_labeling.label_studio_tool import LabelStudioTool  # noqa: E402

CLASSES = list(range(10))


class _Loop:                      # what a tool reads of its loop (Loop itself needs a learner; the round is the tool's)
    def __init__(self, pool, store):
        self.pool, self.classes, self.store = pool, CLASSES, store

        class _L:
            model_version = 1
        self.learner = _L()


def one_repeat(ls, n, rep, rng, tmp):
    client = LabelStudioClient(ls.url, ls.token, timeout=600)      # the SDK call alone can take minutes under load
    texts = [f"message {rep}-{i}: {' '.join(rng.choice(['cheap', 'hello', 'pills', 'mum'], 6))}" for i in range(n)]
    preds = [{c: float(p) for c, p in zip(CLASSES, rng.dirichlet(np.ones(10)))} for _ in range(n)]
    cmap = ChoiceMap(CLASSES)
    out = {}
    sdk_project = client.create_project(f"sdk {rep}", text_classification_config(CLASSES))
    control = client.controls(sdk_project.id)[0]
    tasks = [{"data": {"text": t, "item_id": str(i)}, "predictions": [prediction(control, p, choices=cmap)]}
             for i, (t, p) in enumerate(zip(texts, preds))]
    t0 = time.perf_counter()
    client.sdk.projects.import_tasks(id=sdk_project.id, request=tasks)
    out["sdk_import"] = time.perf_counter() - t0
    print("  sdk_import", round(out["sdk_import"], 2), flush=True)
    ours = client.create_project(f"ours {rep}", text_classification_config(CLASSES))
    store = LabelStore(f"{tmp}/labels-{rep}.sqlite", classes=CLASSES)
    t0 = time.perf_counter()
    report = client.upload_text_tasks(ours.id, texts, item_ids=range(n), predictions=preds, choices=cmap,
                                      progress=False, store=store)
    out["first_upload"] = time.perf_counter() - t0
    print("  first_upload", round(out["first_upload"], 2), flush=True)
    assert report.created == n and len(set(report.task_ids.values())) == n
    store.close()
    t0 = time.perf_counter()
    client2, store = LabelStudioClient(ls.url, ls.token, timeout=600), LabelStore(f"{tmp}/labels-{rep}.sqlite")
    again = client2.upload_text_tasks(ours.id, texts, item_ids=range(n), predictions=preds, choices=cmap,
                                      progress=False, store=store)
    out["rerun"] = time.perf_counter() - t0
    assert again.created == 0 and again.skipped == n and again.task_ids == report.task_ids, again
    assert client2.lookup == "store", client2.lookup
    t0 = time.perf_counter()
    listed = client.upload_text_tasks(ours.id, texts, item_ids=range(n), predictions=preds, choices=cmap,
                                      progress=False)
    out["rerun_listing"] = time.perf_counter() - t0
    assert listed.created == 0 and listed.skipped == n and listed.task_ids == report.task_ids
    # a pipeline round on the 5,000-task project
    store.add_items([str(i) for i in range(n + 10)])
    pool = Pool(np.zeros((n + 10, 1)), ids=[str(i) for i in range(n + 10)],
                items=texts + [f"next {i}" for i in range(10)])
    tool = LabelStudioTool(client, ours.id)
    tool.attach(_Loop(pool, store))
    tool.collect(store)                                   # the previous round's pull (the watermark)
    for i in range(10):
        client.sdk.annotations.create(id=report.task_ids[str(i)], result=choices_result(control, i % 10, cmap))
    batch = QueryResult(indices=np.arange(n, n + 10), items=None, ids=[str(i) for i in range(n, n + 10)],
                        suggestions=[(3, 0.6)] * 10)
    t0 = time.perf_counter()
    got = tool.collect(store)
    tool.send(batch)
    out["round"] = time.perf_counter() - t0
    assert got.n_new == 10 and tool.report.created == 10, (got, tool.report)
    assert client.lookup == "store", client.lookup
    t0 = time.perf_counter()
    client.pull_annotations(ours.id, LabelStore(f"{tmp}/full-{rep}.sqlite"), choices=cmap)
    out["full_pull"] = time.perf_counter() - t0
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=5000)
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    rng = np.random.default_rng(0)
    runs = []
    with label_studio_server() as ls, tempfile.TemporaryDirectory() as tmp:
        for rep in range(args.repeats):
            runs.append(one_repeat(ls, args.n, rep, rng, tmp))
            print(rep, {k: round(v, 2) for k, v in runs[-1].items()}, flush=True)
    med = {k: statistics.median(r[k] for r in runs) for k in runs[0]}
    ratios = [r["first_upload"] / r["sdk_import"] for r in runs]
    print(f"n={args.n} repeats={args.repeats} medians (s): " + ", ".join(f"{k} {v:.2f}" for k, v in med.items()))
    print(f"first upload / SDK import_tasks, per repeat: {[round(x, 2) for x in ratios]}, "
          f"median {statistics.median(ratios):.2f}")


if __name__ == "__main__":
    main()
