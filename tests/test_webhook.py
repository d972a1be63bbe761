"""The webhook loop: real Label Studio deliveries through `auto-labeling serve-webhook`, and load with bad input."""
import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request

import numpy as np

from auto_labeling import LabelStore
from auto_labeling.label_studio import LabelStudioClient, choices_result, parse_label_config, text_classification_config
from auto_labeling.webhook import SECRET_HEADER, WebhookServer, make_webhook_app

SECRET = "webhook-test-secret-0123456789"


def wait_for(predicate, timeout=90.0, every=0.25):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(every)
    return False


def test_serve_webhook_stores_real_deliveries_and_uploads_the_next_batch(label_studio, tmp_path):
    from servers import free_port
    from sklearn.datasets import load_digits
    X, y = load_digits(return_X_y=True)
    X = (X[:400] / 16).astype(np.float32)
    np.save(tmp_path / "features.npy", X)
    texts = [f"digit #{i}: ink {X[i].sum():.2f}" for i in range(len(X))]
    (tmp_path / "items.txt").write_text("\n".join(texts))
    client = LabelStudioClient(label_studio.url, label_studio.token)
    project = client.create_project("webhook-loop", text_classification_config([str(c) for c in range(10)]))
    first = list(range(0, 400, 40))                                  # the first batch, uploaded by hand
    client.upload_text_tasks(project.id, [texts[i] for i in first], item_ids=first, progress=False)
    port = free_port()
    env = dict(os.environ, LABEL_STUDIO_API_KEY=label_studio.token, AUTO_LABELING_WEBHOOK_SECRET=SECRET)
    store_path = tmp_path / "labels.sqlite"
    proc = subprocess.Popen([sys.executable, "-m", "auto_labeling.cli", "serve-webhook", "--project", str(project.id),
                             "--url", label_studio.url, "--store", str(store_path), "--port", str(port),
                             "--features", str(tmp_path / "features.npy"), "--items", str(tmp_path / "items.txt"),
                             "--every-n", "5", "--every-s", "30", "--batch-size", "10"],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert wait_for(lambda: _healthy(port) or proc.poll() is not None, 60), "webhook did not start"
        assert proc.poll() is None, proc.stderr.read()
        hooks = client.sdk.webhooks.list(project=project.id)
        assert any(h.url == f"http://127.0.0.1:{port}/webhook" for h in hooks)
        tasks = client.task_ids_by_item(project.id)
        control = client.controls(project.id)[0]
        for item in first[:6]:                                       # a person labels six tasks in Label Studio
            client.sdk.annotations.create(id=tasks[str(item)], result=choices_result(control, str(y[item])))
        store = LabelStore(store_path)
        assert wait_for(lambda: len(store.labels()) == 6), store.labels()
        assert store.labels() == {str(i): str(y[i]) for i in first[:6]}
        assert set(store.current()["who"]) == {"admin@example.com"}
        # five new labels -> a debounced retrain -> the queue is topped up to ten unlabeled tasks, with pre-annotations
        def batch():
            return list(store.get_state(f"webhook:{project.id}", {}).get("outstanding", {}))
        assert wait_for(lambda: len(batch()) == 6), batch()                 # 4 of the first 10 are still open
        assert wait_for(lambda: set(batch()) <= set(client.task_ids_by_item(project.id)))
        exported = client.export_annotations(project.id, "JSON")
        new = [t for t in exported if int(t["data"]["item_id"]) not in first]
        assert len(new) == len(set(batch()) - {str(i) for i in first})          # an unlabeled task is not re-made
        assert client.count_unlabeled(project.id) == 4 + len(new) <= 10        # the queue does not grow
        assert all(t["data"]["text"] == texts[int(t["data"]["item_id"])] and t["predictions"] for t in new)
        # an edit in Label Studio is a new event; the old one stays in the history
        ann = client.sdk.annotations.list(id=tasks[str(first[0])])[0]
        client.sdk.annotations.update(id=ann.id, result=choices_result(control, str((y[first[0]] + 1) % 10)))
        assert wait_for(lambda: store.labels()[str(first[0])] == str((y[first[0]] + 1) % 10))
        assert len(store.history(str(first[0]))) == 2
        assert _healthy(port)["rejected"] == 0
    finally:
        proc.send_signal(signal.SIGTERM)                             # stop our own process by its PID
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
    assert "token" not in proc.stdout.read().lower()                 # the payload's project secrets never logged


def _healthy(port):
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2) as r:
            return json.loads(r.read())
    except OSError:
        return None


def payload(i: int, label: str) -> dict:
    return {"action": "ANNOTATION_CREATED",
            "project": {"id": 1, "token": "LS-SECRET-TOKEN", "task_data_password": "pw"},
            "task": {"id": 1000 + i, "data": {"text": f"message {i}", "item_id": f"m{i}"}},
            "annotation": {"id": i, "completed_by": 7, "updated_at": f"2026-11-25T10:{i % 60:02d}:00Z",
                           "result": [{"from_name": "label", "to_name": "text", "type": "choices",
                                       "value": {"choices": [label]}}]}}


def send(url, body: bytes, secret=SECRET) -> int:
    req = urllib.request.Request(url, data=body, method="POST",
                                 headers={"Content-Type": "application/json", SECRET_HEADER: secret})
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status
    except urllib.error.HTTPError as e:
        return e.code


def test_2000_deliveries_from_8_senders_with_duplicates_and_malformed(tmp_path):
    control = parse_label_config(text_classification_config(["ham", "spam"]))[0]
    store = LabelStore(tmp_path / "labels.sqlite", classes=["ham", "spam"])
    server = WebhookServer(make_webhook_app(store, SECRET, control)).start()
    rng = random.Random(0)
    deliveries, valid = [], set()
    for i in range(2000):
        r = rng.random()
        if r < 0.05:                                                    # malformed: five kinds of bad
            bad = rng.choice([b"{not json", json.dumps({"action": "ANNOTATION_CREATED"}).encode(),
                              json.dumps({"task": {}}).encode(), b"x" * 1_100_000,
                              json.dumps(payload(10_000 + i, "eggs")).encode()])
            deliveries.append(("bad", bad))
        elif r < 0.15 and valid:                                        # a redelivery of an earlier annotation
            j = rng.choice(sorted(valid))
            deliveries.append(("dup", json.dumps(payload(j, "spam" if j % 3 == 0 else "ham")).encode()))
        else:
            valid.add(i)
            deliveries.append(("ok", json.dumps(payload(i, "spam" if i % 3 == 0 else "ham")).encode()))
    results = [None] * len(deliveries)

    def sender(k):
        for n in range(k, len(deliveries), 8):
            results[n] = send(server.url + "/webhook", deliveries[n][1])

    t0 = time.perf_counter()
    threads = [threading.Thread(target=sender, args=(k,)) for k in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=300)
    seconds = time.perf_counter() - t0
    server.stop()
    print(f"\n2000 deliveries from 8 senders in {seconds:.2f} s = {2000 / seconds:.0f} deliveries/s")
    kinds = [k for k, _ in deliveries]
    assert all(code == 200 for code, k in zip(results, kinds) if k in ("ok", "dup"))
    assert all(400 <= code < 500 for code, k in zip(results, kinds) if k == "bad")
    events = store.history()
    assert len(events) == len(valid) and events["event_id"].is_unique          # each valid annotation exactly once
    assert set(events["item_id"]) == {f"m{i}" for i in valid}                    # none lost
    assert (events["who"] == "label-studio-user-7").all()


def test_restarts_register_one_webhook_and_catch_up_on_what_was_annotated_while_down(label_studio, tmp_path):
    from servers import free_port
    from auto_labeling.webhook import serve_webhook
    client = LabelStudioClient(label_studio.url, label_studio.token)
    project = client.create_project("webhook-restarts", text_classification_config(["ham", "spam"]))
    client.upload_text_tasks(project.id, ["buy now", "hello mum", "cheap pills"], item_ids=["a", "b", "c"],
                             progress=False)
    tasks, control = client.task_ids_by_item(project.id), client.controls(project.id)[0]
    store, port = LabelStore(tmp_path / "labels.sqlite"), free_port()
    url = f"http://127.0.0.1:{port}/webhook"
    client.sdk.annotations.create(id=tasks["a"], result=choices_result(control, "spam"))   # before the first start
    for start in range(3):
        server, _ = serve_webhook(client, project.id, store, SECRET, port=port, block=False)
        try:
            assert [h.url for h in client.sdk.webhooks.list(project=str(project.id))].count(url) == 1
            if start == 0:
                assert store.labels() == {"a": "spam"}              # caught up on start
                client.sdk.annotations.create(id=tasks["b"], result=choices_result(control, "ham"))
                assert wait_for(lambda: "b" in store.labels(), 30)  # delivered while up
        finally:
            server.stop()
        if start == 1:                                              # annotated while the service is down
            client.sdk.annotations.create(id=tasks["c"], result=choices_result(control, "spam"))
    assert store.labels() == {"a": "spam", "b": "ham", "c": "spam"}
    assert len(store.current()) == 3                                # each annotation stored once


def _answer(url, body: bytes):
    req = urllib.request.Request(url, data=body, method="POST",
                                 headers={"Content-Type": "application/json", SECRET_HEADER: SECRET})
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"{}")


def test_deliveries_are_validated_counted_once_and_a_cleared_choice_withdraws_the_label(tmp_path):
    control = parse_label_config(text_classification_config(["ham", "spam"]))[0]
    store = LabelStore(tmp_path / "labels.sqlite")
    fired = []
    server = WebhookServer(make_webhook_app(store, SECRET, control, on_stored=fired.append, project_id=1)).start()
    url = server.url + "/webhook"
    try:
        body = json.dumps(payload(1, "ham")).encode()                # 20 concurrent copies of one annotation
        answers = [None] * 20
        threads = [threading.Thread(target=lambda k=k: answers.__setitem__(k, _answer(url, body))) for k in range(20)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=60)
        assert [a[1]["stored"] for a in answers].count(True) == 1 and len(fired) == 1
        assert _healthy(server.port)["stored"] == 1 and len(store.history()) == 1
        bad = []
        p = payload(2, "ham"); p["annotation"]["result"][0]["value"]["choices"] = "ham"; bad.append(p)   # a string
        bad.append(payload(3, "eggs"))                                                                # not a class
        p = payload(4, "ham"); p["task"]["data"]["item_id"] = None; bad.append(p)
        p = payload(5, "ham"); p["task"]["data"]["item_id"] = {"x": 1}; bad.append(p)
        p = payload(6, "ham"); p["project"]["id"] = 2; bad.append(p)                                  # other project
        p = payload(7, "ham"); del p["annotation"]["completed_by"]; bad.append(p)
        for p in bad:
            code, why = _answer(url, json.dumps(p).encode())
            assert code == 422, (p, code, why)
        code, _ = _answer(url, b"[" * 100_000)                       # nested past the recursion limit
        assert code == 400
        assert len(store.history()) == 1                             # none of them stored anything
        cleared = payload(1, "ham")
        cleared["action"], cleared["annotation"]["result"] = "ANNOTATION_UPDATED", []
        cleared["annotation"]["updated_at"] = "2026-11-25T11:00:00Z"
        code, answer = _answer(url, json.dumps(cleared).encode())
        assert code == 200 and answer["withdrawn"] is True
        assert "m1" not in store.labels() and len(store.history("m1")) == 2     # the label is withdrawn, history kept
        assert _answer(url, json.dumps(cleared).encode())[1]["withdrawn"] is False   # a redelivery: once
    finally:
        server.stop()


def test_deleted_annotations_withdraw_their_labels_delivered_or_pulled(label_studio, tmp_path):
    "Label Studio 1.23.2 sends ANNOTATIONS_DELETED with the ids only; the labels they gave leave the store."
    from servers import free_port
    from auto_labeling.webhook import serve_webhook
    client = LabelStudioClient(label_studio.url, label_studio.token)
    project = client.create_project("webhook-deletions", text_classification_config(["ham", "spam"]))
    client.upload_text_tasks(project.id, ["buy now", "hello mum", "cheap pills", "see you"],
                             item_ids=["a", "b", "c", "d"], progress=False)
    tasks, control = client.task_ids_by_item(project.id), client.controls(project.id)[0]
    store = LabelStore(tmp_path / "labels.sqlite")
    pulled = client.sdk.annotations.create(id=tasks["c"], result=choices_result(control, "spam"))  # made while down
    server, _ = serve_webhook(client, project.id, store, SECRET, port=free_port(), block=False)
    try:
        hook = [h for h in client.sdk.webhooks.list(project=str(project.id)) if h.url == server.url + "/webhook"]
        assert "ANNOTATIONS_DELETED" in hook[0].actions
        assert store.labels() == {"c": "spam"}                          # caught up by the pull on start
        made = {k: client.sdk.annotations.create(id=tasks[k], result=choices_result(control, lab))
                for k, lab in (("a", "spam"), ("b", "ham"), ("d", "ham"))}
        assert wait_for(lambda: store.labels() == {"a": "spam", "b": "ham", "c": "spam", "d": "ham"}, 30)
        client.sdk.annotations.delete(id=made["a"].id)                  # the annotation's delete button
        assert wait_for(lambda: "a" not in store.labels(), 30), store.labels()
        client.sdk.annotations.delete(id=pulled.id)                     # one that came in by the pull, not a delivery
        assert wait_for(lambda: "c" not in store.labels(), 30), store.labels()
        import httpx                                                    # the Data Manager's "Delete annotations"
        answer = httpx.post(f"{label_studio.url}/api/dm/actions", params={"id": "delete_tasks_annotations",
                                                                          "project": project.id},
                            json={"selectedItems": {"all": False, "included": [tasks["b"]]}},
                            headers={"Authorization": f"Token {label_studio.token}"}, timeout=30)
        assert answer.status_code == 200, answer.text
        assert wait_for(lambda: "b" not in store.labels(), 30), store.labels()
        assert store.labels() == {"d": "ham"}                           # the label nobody withdrew stays
        with urllib.request.urlopen(server.url + "/health", timeout=10) as r:
            assert json.load(r)["deleted"] == 3
        history = store.history()
        assert history["label"].isna().sum() == 3                       # tombstones: the old labels stay in history
        assert set(history.loc[history["label"].isna(), "event_id"]) == {
            f"label-studio:{made['a'].id}:deleted", f"label-studio:{pulled.id}:deleted",
            f"label-studio:{made['b'].id}:deleted"}
        code, body = _answer(server.url + "/webhook", json.dumps(
            {"action": "ANNOTATIONS_DELETED", "annotations": [{"id": made["a"].id}],
             "project": {"id": project.id}}).encode())                  # a redelivery: nothing new
        assert code == 200 and body["withdrawn"] == [] and body["superseded"] == [made["a"].id]
        for bad in ([], "7", [{"id": "7"}], [{"id": True}], [{"id": -1}], [{}]):
            code, body = _answer(server.url + "/webhook", json.dumps(
                {"action": "ANNOTATIONS_DELETED", "annotations": bad, "project": {"id": project.id}}).encode())
            assert code == 422 and "ANNOTATIONS_DELETED needs annotations" in body["error"], (bad, code, body)
        code, _ = _answer(server.url + "/webhook", json.dumps(
            {"action": "ANNOTATIONS_DELETED", "annotations": [{"id": made["d"].id}], "project": {"id": 999}}).encode())
        assert code == 422 and store.labels() == {"d": "ham"}           # another project's deletion: refused
    finally:
        server.stop()
