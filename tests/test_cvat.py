"""CVAT integration through the real cvat-sdk client.

Two tiers:
1. default: against the CVAT test double (tests/cvat_double.py) on 127.0.0.1 — no CVAT can be installed here;
2. live (opt-in): the same flow tests against a real server when CVAT_URL, CVAT_USER and CVAT_PASSWORD are set
   (skipped with that reason otherwise). Tasks made there are named `al-test-<random>` and deleted at the end.
"""
import io
import json
import os
import socket
import threading
import time
import uuid
import warnings
import zipfile
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from auto_labeling import ActiveLearner, LabelStore, PreAnnotator
from auto_labeling.core import QueryResult
from auto_labeling.cvat import (CVATClient, CVATDestination, CVATError, annotation_shapes, as_auto_annotation_function,
                                cvat_destination, cvat_format, read_export)
from auto_labeling.formats import Annotation
from cvat_double import CVATDouble, check_against_model

GOLDEN = Path(__file__).resolve().parent.parent.parent / "shared" / "reference" / "cvat-golden"
IMAGES = [GOLDEN / f"img_{i}.png" for i in range(3)]
TRUTH = [Annotation("img_0.png", 64, 48, [[10, 10, 30, 30]], ["cat"], [0.9], model_version="demo:1"),
         Annotation("img_1.png", 64, 48, [[35, 5, 60, 40], [10, 10, 30, 30]], ["dog", "cat"], [0.8, 0.7],
                    model_version="demo:1"),
         Annotation("img_2.png", 64, 48, [[10, 10, 30, 30]], ["cat"], [0.95], model_version="demo:1")]
PASSWORD = "double-pass-7f3a"
LIVE = all(os.environ.get(k) for k in ("CVAT_URL", "CVAT_USER", "CVAT_PASSWORD"))


def boxes_of(annotations):
    return [sorted(zip(a.labels, a.boxes.round(3).tolist())) for a in annotations]


@pytest.fixture(scope="module")
def double():
    d = CVATDouble({"admin": PASSWORD, "alice": "alice-pass-1"}).start()
    yield d
    d.stop()
    assert d.errors == [], d.errors                  # every body it sent decoded with the SDK's strict models


@pytest.fixture(params=["double", "live"])
def server(request, double, tmp_path):
    "(client, double or None): the flow tests run against the double, and against a live CVAT when configured."
    if request.param == "live":
        if not LIVE:
            pytest.skip("live tier: set CVAT_URL, CVAT_USER and CVAT_PASSWORD to run against a real CVAT server")
        client = CVATClient(os.environ["CVAT_URL"], (os.environ["CVAT_USER"], os.environ["CVAT_PASSWORD"]),
                            status_check_period=1, progress=False, cache_dir=tmp_path / "cache")
        made = []
        client.created = made
        yield client, None
        for tid in made:
            client.sdk.tasks.remove_by_ids([tid])
        return
    client = CVATClient(double.url, ("admin", PASSWORD), status_check_period=0.02, backoff=0.01, progress=False,
                        cache_dir=tmp_path / "cache")
    client.created = []
    yield client, double


def new_task(client, labels=("cat", "dog"), **kw):
    task = client.create_task(f"al-test-{uuid.uuid4().hex[:8]}", list(labels), **kw)
    client.created.append(task.id)
    return task


# --- the golden files, read by our converters directly ------------------------------------------------
def test_our_readers_read_the_golden_exports():
    sizes = {f"img_{i}.png": (64, 48) for i in range(3)}
    for fmt, name in (("YOLO", "yolo"), ("COCO", "coco"), ("PASCAL_VOC", "voc")):
        got = read_export((GOLDEN / f"{name}.zip").read_bytes(), fmt, sizes)
        assert [Path(a.image).name for a in got] == [f"img_{i}.png" for i in range(3)]
        assert boxes_of(got) == boxes_of(TRUTH), fmt
    with_images = read_export((GOLDEN / "yolo_with_images.zip").read_bytes(), "YOLO")   # sizes from the images
    assert boxes_of(with_images) == boxes_of(TRUTH)


# --- the double: SDK metadata, strict models, golden exports ------------------------------------------
def test_double_routes_come_from_the_sdk_and_bodies_decode_strictly(double, tmp_path):
    from cvat_double import sdk_endpoints
    eps = sdk_endpoints()
    assert {("TasksApi", "create_dataset_export"), ("RequestsApi", "retrieve"), ("AuthApi", "create_login")} <= \
        {(e["api"], e["op"]) for e in eps}
    client = CVATClient(double.url, ("admin", PASSWORD), status_check_period=0.02, progress=False,
                        cache_dir=tmp_path / "c")
    task = client.create_task(f"strict-{uuid.uuid4().hex[:6]}", ["cat", "dog"])
    client.upload_with_annotations(task.id, IMAGES, TRUTH)
    client.export_annotations(task.id, "COCO")
    client.assignees(task.id)
    schema = {(e["api"], e["op"]): e["response"] for e in eps}
    used = set()
    for api, op, payload in double.sent:             # decode every body again, as the SDK's endpoint declares it
        check_against_model(payload, schema[(api, op)])
        used.add((api, op))
    assert {("ServerApi", "retrieve_about"), ("AuthApi", "create_login"), ("UsersApi", "retrieve_self"),
            ("TasksApi", "create"), ("TasksApi", "list"), ("TasksApi", "retrieve"), ("LabelsApi", "list"),
            ("TasksApi", "retrieve_data_meta"), ("TasksApi", "retrieve_annotations"), ("RequestsApi", "retrieve"),
            ("TasksApi", "partial_update_annotations"), ("JobsApi", "list")} <= used
    with pytest.raises(Exception):                  # the checker is strict: a missing required field fails
        check_against_model({"name": "x"}, schema[("ServerApi", "retrieve_about")])
    with pytest.raises(ValueError, match="not fields of RqId"):
        check_against_model({"rq_id": "a", "extra": 1}, schema[("TasksApi", "create_dataset_export")])


def test_double_exports_equal_the_golden_zips(server):
    client, double = server
    task = new_task(client)
    # shapes in the order the golden task was made: frame 0 cat, frame 1 dog then cat, frame 2 cat
    client.upload_with_annotations(task.id, IMAGES, TRUTH)
    for fmt, name, images in (("YOLO", "yolo", False), ("COCO", "coco", False), ("PASCAL_VOC", "voc", False),
                              ("YOLO", "yolo_with_images", True)):
        got = zipfile.ZipFile(io.BytesIO(client.export_annotations(task.id, fmt, raw=True, include_images=images)))
        want = zipfile.ZipFile(GOLDEN / f"{name}.zip")
        assert sorted(got.namelist()) == sorted(want.namelist()), name
        for n in want.namelist():
            if double is not None:
                assert got.read(n) == want.read(n), (name, n)       # byte for byte (zip order/timestamps aside)
            elif n.endswith(".json"):                                # a live server: same numbers, any order
                g, w = json.loads(got.read(n)), json.loads(want.read(n))
                assert sorted(a["bbox"] for a in g["annotations"]) == sorted(a["bbox"] for a in w["annotations"])
            elif not n.endswith(".xml"):
                assert sorted(got.read(n).split(b"\n")) == sorted(want.read(n).split(b"\n")), (name, n)
        assert boxes_of(client.export_annotations(task.id, fmt)) == boxes_of(TRUTH)


# --- the full flow --------------------------------------------------------------------------------
def test_flow_upload_idempotent_scores_export_import_pull(server, tmp_path):
    client, double = server
    store = LabelStore(tmp_path / "labels.sqlite")
    task = new_task(client, score_attribute=True)
    name = client.task(task.id).name
    report = client.upload_with_annotations(task.id, IMAGES, TRUTH, store=store)
    assert report.uploaded and report.shapes_added == 4 and report.frames == {f"img_{i}.png": i for i in range(3)}
    # a re-run after a crash: same task found by name, images and shapes not sent twice
    again_task = client.create_task(name, ["dog", "cat"], score_attribute=True)
    assert again_task.id == task.id and len(client.find_tasks(name)) == 1
    again = client.upload_with_annotations(task.id, IMAGES, TRUTH, store=store)
    assert (again.uploaded, again.shapes_added) == (False, 0)
    shapes = client.task(task.id).get_annotations().shapes
    assert len(shapes) == 4 and sorted(s.frame for s in shapes) == [0, 1, 1, 2]
    scores = sorted(float(a.value) for s in shapes for a in s.attributes)
    assert scores == [0.7, 0.8, 0.9, 0.95]                          # kept as the `score` attribute
    model_rows = store.current(kind="model")
    assert set(model_rows.kind) == {"model"} and set(model_rows.who) == {"demo:1"}
    assert sorted(model_rows.confidence.round(3)) == [0.75, 0.9, 0.95]
    # every export format parses back into our result type
    for fmt in ("YOLO", "COCO", "PASCAL_VOC", "CVAT"):
        assert boxes_of(client.export_annotations(task.id, fmt)) == boxes_of(TRUTH), fmt
    # importing CVAT's own COCO export into a fresh task gives the same annotations
    other = new_task(client)
    client.upload_images(other.id, IMAGES)
    client.task(other.id).import_annotations("COCO 1.0", GOLDEN / "coco.zip")
    assert boxes_of(client.export_annotations(other.id, "VOC")) == boxes_of(TRUTH)
    # a person works in CVAT: job assigned (through the SDK), a box moved; pulled as human labels, once
    jobs = client.task(task.id).get_jobs()
    users = {u.username: u.id for u in client.sdk.users.list()}
    assignee = "alice" if "alice" in users else client.user
    client.sdk.jobs.retrieve(jobs[0].id).update({"assignee": users[assignee]})
    assert client.pull_annotations(task.id, store) == 3
    assert client.pull_annotations(task.id, store) == 0
    human = store.current()
    assert set(human.who) == {assignee} and sorted(human.item_id) == ["img_0.png", "img_1.png", "img_2.png"]
    from cvat_sdk import models
    moved = [s for s in shapes if s.frame == 0][0]
    client.task(task.id).update_annotations(models.PatchedLabeledDataRequest(shapes=[models.LabeledShapeRequest(
        id=moved.id, type="rectangle", frame=0, label_id=moved.label_id, points=[12.0, 10.0, 32.0, 30.0])]))
    assert client.pull_annotations(task.id, store) == 1               # the correction is one new event
    assert store.labels()["img_0.png"] == [{"bbox": [12.0, 10.0, 32.0, 30.0], "label": "cat"}]


def test_large_upload_goes_in_several_requests_and_survives_server_errors(server, tmp_path):
    client, double = server
    rng = np.random.default_rng(0)
    paths = []
    for i in range(40):
        p = tmp_path / f"big_{i:02d}.png"
        Image.fromarray(rng.integers(0, 255, (120, 160, 3), dtype=np.uint8)).save(p)
        paths.append(p)
    preds = [Annotation(p.name, 160, 120, [[5, 5, 50, 60]], ["cat"], [0.9]) for p in paths]
    task = new_task(client)
    if double is not None:
        double.fail_next = [503, 502]                   # the next two SDK calls fail; _call retries with backoff
    client.progress = True
    report = client.upload_images(task.id, paths, annotations=preds, chunk_mb=0.2)   # ~58 KB per image
    assert report.uploaded and report.shapes_added == 40
    assert client.frame_names(task.id) == [p.name for p in paths]
    if double is not None:
        assert double.fail_next == []
        parts = [c for c in double.calls if c == ("TasksApi", "create_data")]
        assert len(parts) >= 2 + 40 * 58_000 // (0.2 * 2 ** 20)    # start, several bulk requests, finish


def test_segmentation_task_with_polygons_and_masks(server):
    client, double = server
    mask = np.zeros((48, 64), bool)
    mask[5:20, 30:50] = True
    task = client.create_segmentation_task(IMAGES, labels=["tumor", "healthy"], name=f"al-seg-{uuid.uuid4().hex[:6]}",
                                           polygons=[[("tumor", [10, 10, 30, 10, 20, 30])], [], []],
                                           masks=[[], [("healthy", mask)], []])
    client.created.append(task.id)
    shapes = client.task(task.id).get_annotations().shapes
    assert sorted((s.type.value, s.frame) for s in shapes) == [("mask", 1), ("polygon", 0)]
    from cvat_sdk.masks import encode_mask
    assert [s for s in shapes if s.type.value == "mask"][0].points == encode_mask(mask)
    with pytest.raises(ValueError, match="mask must have the image's shape"):
        client.create_segmentation_task(IMAGES, ["tumor"], name=f"al-seg-{uuid.uuid4().hex[:6]}",
                                        masks=[[("tumor", np.ones((4, 4), bool))], [], []])


# --- our models inside CVAT's auto-annotation tooling ------------------------------------------------
class _Tensor:
    def __init__(self, a):
        self.a = np.asarray(a)

    def cpu(self):
        return self

    def numpy(self):
        return self.a


class YOLO:
    "A tiny deterministic detector with ultralytics' predict() surface: the box of the pure red pixels is a cat."
    names = {0: "cat", 1: "dog"}

    def predict(self, images, **kw):
        out = []
        for bgr in images:
            ys, xs = np.where((bgr[..., 2] == 255) & (bgr[..., 1] == 0) & (bgr[..., 0] == 0))
            boxes = types_ns(xyxy=_Tensor([[xs.min(), ys.min(), xs.max(), ys.max()]] if len(xs) else np.zeros((0, 4))),
                             conf=_Tensor([0.93] if len(xs) else []), cls=_Tensor([0] if len(xs) else []))
            out.append(types_ns(boxes=boxes))
        return out


def types_ns(**kw):
    import types
    return types.SimpleNamespace(**kw)


def test_pre_annotator_runs_inside_cvat_sdk_annotate_task(server):
    from cvat_sdk.auto_annotation import annotate_task
    client, double = server
    pre = PreAnnotator(YOLO(), confidence_threshold=0.5, model_version="red-box:1", device="cpu")
    fn = as_auto_annotation_function(pre)
    assert [l.name for l in fn.spec.labels] == ["cat", "dog"]
    task = new_task(client)
    client.upload_images(task.id, IMAGES)
    annotate_task(client.sdk, task.id, fn)                   # CVAT's own driver, unpatched
    shapes = client.task(task.id).get_annotations().shapes
    assert sorted((s.frame, s.points) for s in shapes) == [(f, [10.0, 10.0, 30.0, 30.0]) for f in range(3)]
    assert {s.source for s in shapes} == {"auto"}
    client.annotate_task(task.id, pre, clear_existing=True)  # the same through our client
    assert len(client.task(task.id).get_annotations().shapes) == 3
    with pytest.raises(TypeError, match="must be a PreAnnotator"):
        as_auto_annotation_function(object())


# --- from the learner ----------------------------------------------------------------------------
def test_send_to_labeling_tool_cvat(double, tmp_path):
    from sklearn.linear_model import LogisticRegression
    from auto_labeling.cvat_tool import CVATTool
    rng = np.random.default_rng(0)
    X = rng.normal(size=(30, 4))
    y = (X[:, 0] > 0).astype(int)
    pool_images = [IMAGES[i % 3] for i in range(30)]
    copies = []
    for i, p in enumerate(pool_images):
        q = tmp_path / f"pool_{i:02d}.png"
        q.write_bytes(p.read_bytes())
        copies.append(q)
    store = LabelStore(tmp_path / "l.sqlite")
    learner = ActiveLearner(LogisticRegression(), batch_size=3, X_training=X[:6], y_training=y[:6], store=store)
    picked = learner.query(X, n_instances=3)
    client = CVATClient(double.url, ("admin", PASSWORD), status_check_period=0.02, progress=False,
                        cache_dir=tmp_path / "c")
    pre = PreAnnotator(YOLO(), confidence_threshold=0.5, model_version="red-box:1", device="cpu")
    labels = learner.send_to_labeling(samples=picked, tool="cvat", client=client, labels=["cat", "dog"],
                                      images=copies, predict=pre)
    assert labels is None                                   # pending: people label in CVAT
    (task_id, names), = store.get_state("send_to_labeling:cvat")["tool"]["tasks"].items()
    assert sorted(names.values()) == sorted(str(i) for i in picked.indices)
    again = CVATTool(client=client, labels=["cat", "dog"], images=copies)
    again.send(picked)                                      # same batch -> same task, nothing re-sent
    assert list(again.tasks) == [int(task_id)] and not again.report.uploaded
    assert client.pull_annotations(int(task_id), store, item_ids=names) == 3
    assert set(store.current().item_id) == {str(i) for i in picked.indices}


# --- bad input ------------------------------------------------------------------------------------
def test_wrong_credentials_and_tokens(double, monkeypatch):
    with pytest.raises(PermissionError, match="rejected the login of user 'admin'") as e:
        CVATClient(double.url, ("admin", "not-the-password"))
    assert "not-the-password" not in str(e.value) and "not-the-password" not in repr(e.value)
    token = double.add_token("alice")
    c = CVATClient(double.url, token=token)
    assert c.user == "alice" and token not in repr(c)
    with pytest.raises(PermissionError) as e:
        CVATClient(double.url, token="bogus-token-123")
    assert "bogus-token-123" not in str(e.value)
    monkeypatch.setenv("CVAT_HOST", double.url)
    monkeypatch.setenv("CVAT_USER", "admin")
    monkeypatch.setenv("CVAT_PASSWORD", PASSWORD)
    monkeypatch.delenv("CVAT_ACCESS_TOKEN", raising=False)
    c = CVATClient()
    assert c.user == "admin" and PASSWORD not in repr(c) and c.server_version == "2.23.1"
    with pytest.raises(TypeError, match="credentials must be a"):
        CVATClient(double.url, credentials="admin:pw")
    monkeypatch.delenv("CVAT_HOST")
    monkeypatch.delenv("CVAT_URL", raising=False)
    with pytest.raises(ValueError, match="host is required"):
        CVATClient()


def test_bad_predictions_formats_and_task_ids(double, tmp_path, caplog):
    client = CVATClient(double.url, ("admin", PASSWORD), status_check_period=0.02, progress=False,
                        cache_dir=tmp_path / "c")
    task = client.create_task(f"bad-{uuid.uuid4().hex[:6]}", ["cat", "dog"])
    client.upload_images(task.id, IMAGES)
    cow = [Annotation("img_0.png", 64, 48, [[1, 1, 5, 5]], ["cow"]), None, None]
    with pytest.raises(ValueError, match=r"labels \['cow'\] in the predictions are not labels of the CVAT task"):
        client.upload_annotations(task.id, cow)
    outside = [Annotation("img_0.png", 64, 48, [[-5, 40, 70, 60]], ["cat"]), None, None]
    with pytest.warns(UserWarning, match="clipped to"):
        assert client.upload_annotations(task.id, outside) == 1
    assert client.task(task.id).get_annotations().shapes[0].points == [0.0, 40.0, 64.0, 48.0]
    gone = [Annotation("img_0.png", 64, 48, [[70, 50, 80, 60]], ["cat"]), None, None]
    with pytest.raises(ValueError, match="lies outside the 64x48 image"):
        client.upload_annotations(task.id, gone, replace=True)
    with pytest.raises(ValueError, match="one entry .* per frame"):
        client.upload_annotations(task.id, cow[:1])
    with pytest.raises(ValueError, match=r"unknown export format 'TFRecord'; choose one of \['YOLO', 'COCO'"):
        client.export_annotations(task.id, "TFRecord")
    with pytest.raises(LookupError, match="task 99999 does not exist"):
        client.export_annotations(99999, "COCO")
    with pytest.raises(ValueError, match="task_id must be a positive int"):
        client.task("7")
    with pytest.raises(ValueError, match="already exists with labels"):
        client.create_task(client.task(task.id).name, ["car"])
    with pytest.raises(CVATError, match="already holds 3 other images"):
        client.upload_images(task.id, IMAGES[:2])
    with pytest.raises(ValueError, match="images not found"):
        client.upload_images(task.id, [tmp_path / "nope.png"])
    with pytest.raises(TypeError, match="format must be a string"):
        cvat_format(3)
    assert PASSWORD not in caplog.text


class _NotCVAT(BaseHTTPRequestHandler):
    def do_GET(self):
        body = b"<html><body>hello</body></html>"
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_POST = do_GET

    def log_message(self, *a):
        pass


def test_a_server_that_is_not_cvat_and_one_that_is_down():
    srv = ThreadingHTTPServer(("127.0.0.1", 0), _NotCVAT)
    t = threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
    t.start()
    try:
        with pytest.raises(ConnectionError, match="does not answer like a CVAT server"):
            CVATClient(f"http://127.0.0.1:{srv.server_address[1]}", ("admin", "pw-xyz"), retries=0)
    finally:
        srv.shutdown()
        srv.server_close()
        t.join(5)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]                   # closed again: nothing listens there
    start = time.monotonic()
    with pytest.raises(ConnectionError, match="cannot reach CVAT"):
        CVATClient(f"http://127.0.0.1:{port}", ("admin", "pw-xyz"), retries=1, backoff=0.01)
    assert time.monotonic() - start < 30


def test_shapes_helper_validates_types():
    with pytest.raises(TypeError, match=r"annotations\[0\] must be an Annotation"):
        annotation_shapes([{"boxes": []}], {"cat": 1}, [(10, 10)])
    with pytest.raises(ValueError, match="x_min < x_max"):
        annotation_shapes([Annotation("a", 10, 10, [[5, 5, 1, 1]], ["cat"])], {"cat": 1}, [(10, 10)])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        s = annotation_shapes([Annotation("a", 10, 10, [[1, 1, 5, 5]], ["cat"], [0.5])], {"cat": 3}, [(10, 10)],
                              score_ids={"cat": 9})
    assert s == [{"type": "rectangle", "frame": 0, "label_id": 3, "points": [1.0, 1.0, 5.0, 5.0], "occluded": False,
                  "z_order": 0, "source": "auto", "attributes": [{"spec_id": 9, "value": "0.5000"}]}]
