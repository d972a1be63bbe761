"""Label Studio integration against a real server started on 127.0.0.1 (never a mock)."""
import io
import json
import threading
import time
import urllib.request
import zipfile
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from auto_labeling import ActiveLearner, LabelStore
from auto_labeling.label_studio import (LabelStudioClient, LabelStudioError, choices_result, image_classification_config,
                                        ner_config, object_detection_config, parse_label_config, rectangles_result,
                                        text_classification_config)


@pytest.fixture(scope="module")
def client(label_studio):
    return LabelStudioClient(label_studio.url, label_studio.token, backoff=0.2)


def make_images(folder: Path, n: int, size=(64, 48)) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    paths = []
    for i in range(n):
        p = folder / f"img_{i}.png"
        Image.fromarray(rng.integers(0, 255, (size[1], size[0], 3), dtype=np.uint8)).save(p)
        paths.append(p)
    return paths


def test_projects_of_every_builder_kind(client):
    for name, cfg in [("img", image_classification_config(["cat", "dog"])),
                      ("img-multi", image_classification_config(["cat", "dog"], multi_label=True)),
                      ("txt", text_classification_config(["ham", "spam"])), ("ner", ner_config(["PER", "ORG"])),
                      ("det", object_detection_config(["cat", "dog"]))]:
        project = client.create_project(f"builders-{name}", cfg)
        assert [c.type for c in client.controls(project.id)] == [c.type for c in parse_label_config(cfg)]
    bad = ('<View><Text name="text" value="$text"/><Choices name="label" toName="text"><Choice value="a"/></Choices>'
           '<Choices name="label" toName="text"><Choice value="b"/></Choices></View>')
    with pytest.raises(LabelStudioError, match="refused to create project"):
        client.create_project("bad-config", bad)


def test_upload_200_with_predictions_is_idempotent_and_annotations_come_back(client, label_studio, tmp_path):
    from sklearn.datasets import load_digits
    from sklearn.linear_model import LogisticRegression
    X, y = load_digits(return_X_y=True)
    model = LogisticRegression(max_iter=1000).fit(X[:300] / 16, y[:300])
    proba = model.predict_proba(X[300:500] / 16)
    classes = [str(c) for c in range(10)]
    images = make_images(Path(label_studio.files) / "digits", 200)
    project = client.create_project("digits", image_classification_config(classes))
    preds = [{str(c): float(p) for c, p in zip(model.classes_, row)} for row in proba]
    report = client.upload_with_predictions(project.id, images, preds, item_ids=range(300, 500),
                                            local_files_root=label_studio.files, progress=False)
    assert report.created == 200 and report.skipped == 0
    again = client.upload_with_predictions(project.id, images, preds, item_ids=range(300, 500),
                                           local_files_root=label_studio.files, progress=False)
    assert again.created == 0 and again.skipped == 200
    assert len(client.task_ids_by_item(project.id)) == 200
    tasks = client.export_annotations(project.id, "JSON")
    assert len(tasks) == 200 and tasks[0]["data"]["image"].startswith("/data/local-files/?d=digits/")
    # annotate as a human would, through the API; pull into the store twice -> stored once
    control = client.controls(project.id)[0]
    for item in range(300, 320):
        client.sdk.annotations.create(id=report.task_ids[str(item)], result=choices_result(control, str(y[item])),
                                      lead_time=1.0)
    store = LabelStore(tmp_path / "labels.sqlite")
    assert client.pull_annotations(project.id, store) == 20
    assert client.pull_annotations(project.id, store) == 0
    labels = store.labels()
    assert labels == {str(i): str(y[i]) for i in range(300, 320)}
    assert set(store.current()["who"]) == {"admin@example.com"}
    assert store.current()["event_id"].str.startswith("label-studio:").all()
    # the image is really served to the labeling UI through local-files storage
    import urllib.request
    req = urllib.request.Request(label_studio.url + tasks[0]["data"]["image"],
                                 headers={"Authorization": f"Token {label_studio.token}"})
    with urllib.request.urlopen(req) as r:
        assert r.status == 200 and r.read()[:8] == b"\x89PNG\r\n\x1a\n"


def test_detection_exports_in_every_format(client, label_studio):
    images = make_images(Path(label_studio.files) / "det", 2, size=(64, 48))
    project = client.create_project("detection", object_detection_config(["cat", "dog"]))
    boxes = [[{"bbox": [10, 10, 30, 30], "label": "cat", "score": 0.9}],
             [{"bbox": [10, 10, 30, 30], "label": "cat"}, {"bbox": [35, 5, 60, 40], "label": "dog"}]]
    report = client.upload_with_predictions(project.id, images, boxes, item_ids=["a", "b"],
                                            local_files_root=label_studio.files, progress=False)
    control = client.controls(project.id)[0]
    for item, bx in zip(["a", "b"], boxes):
        client.sdk.annotations.create(id=report.task_ids[item], result=rectangles_result(control, bx, (64, 48)))
    tasks = client.export_annotations(project.id, "JSON")
    assert sorted(len(t["annotations"][0]["result"]) for t in tasks) == [1, 2]
    assert len(client.export_annotations(project.id, "JSON_MIN")) == 2
    csv = client.export_annotations(project.id, "CSV", as_dataframe=True)
    assert len(csv) == 2 and "item_id" in csv.columns
    yolo = zipfile.ZipFile(io.BytesIO(client.export_annotations(project.id, "YOLO")))
    lines = sorted(l for n in yolo.namelist() if n.startswith("labels/") and n.endswith(".txt")
                   for l in yolo.read(n).decode().split("\n") if l.strip())
    assert lines[0].split()[0] == "0" and np.allclose([float(v) for v in lines[0].split()[1:]],
                                                       [20 / 64, 20 / 48, 20 / 64, 20 / 48], atol=1e-4)
    assert any(l.startswith("1 ") for l in lines)
    coco = zipfile.ZipFile(io.BytesIO(client.export_annotations(project.id, "COCO")))
    data = json.loads(coco.read([n for n in coco.namelist() if n.endswith(".json")][0]))
    assert sorted(round(a["bbox"][2]) for a in data["annotations"]) == [20, 20, 25]
    voc = zipfile.ZipFile(io.BytesIO(client.export_annotations(project.id, "VOC")))
    xml = [voc.read(n).decode() for n in voc.namelist() if n.endswith(".xml")]
    assert len(xml) == 2 and any("<name>dog</name>" in x for x in xml)
    with pytest.raises(ValueError, match=r"unknown export format 'PARQUET'; choose one of \['JSON'"):
        client.export_annotations(project.id, "PARQUET")
    with pytest.raises(ValueError, match="not in control 'label'"):
        client.upload_with_predictions(project.id, images, [[{"bbox": [1, 1, 5, 5], "label": "horse"}]] * 2,
                                       item_ids=["c", "d"], local_files_root=label_studio.files, progress=False)
    assert len(client.task_ids_by_item(project.id)) == 2                      # the refused upload wrote nothing


def test_server_restart_in_the_middle_of_an_upload_loses_and_duplicates_nothing(label_studio):
    client = LabelStudioClient(label_studio.url, label_studio.token, retries=8, backoff=0.5, timeout=10)
    project = client.create_project("restart", text_classification_config(["ham", "spam"]))
    texts = [f"message number {i}" for i in range(300)]
    outcome = {}

    def upload():
        try:
            outcome["report"] = client.upload_text_tasks(project.id, texts, chunk_size=10, progress=False)
        except Exception as e:
            outcome["error"] = e

    worker = threading.Thread(target=upload)
    worker.start()
    deadline = time.monotonic() + 120
    while len(client.task_ids_by_item(project.id)) < 30 and time.monotonic() < deadline:
        time.sleep(0.05)
    label_studio.stop()                                   # the server goes away mid-upload ...
    time.sleep(2)
    label_studio.start()                                  # ... and comes back on the same port and data
    worker.join(timeout=300)
    assert "error" not in outcome, outcome.get("error")
    ids = client.task_ids_by_item(project.id)
    assert sorted(ids, key=int) == [str(i) for i in range(300)]
    tasks = client.export_annotations(project.id, "JSON")
    assert len(tasks) == 300                               # no duplicate task for any item


class _NotLabelStudio(BaseHTTPRequestHandler):
    def do_GET(self):
        body = b"<html>hello</html>"
        self.send_response(404); self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body))); self.end_headers(); self.wfile.write(body)

    def log_message(self, *a):
        pass


def test_clear_errors_for_bad_key_bad_url_and_not_label_studio(label_studio):
    with pytest.raises(PermissionError) as info:
        LabelStudioClient(label_studio.url, "wrong-secret-key-123", retries=0)
    assert label_studio.url in str(info.value) and "wrong-secret-key-123" not in str(info.value)
    from servers import free_port
    with pytest.raises(ConnectionError, match="cannot reach Label Studio at http://127.0.0.1"):
        LabelStudioClient(f"http://127.0.0.1:{free_port()}", "k", retries=0, timeout=3)
    other = ThreadingHTTPServer(("127.0.0.1", 0), _NotLabelStudio)
    threading.Thread(target=other.serve_forever, daemon=True).start()
    try:
        with pytest.raises(ConnectionError, match="does not answer like a Label Studio server"):
            LabelStudioClient(f"http://127.0.0.1:{other.server_address[1]}", "k", retries=0)
    finally:
        other.shutdown()
    with pytest.raises(ValueError, match="LABEL_STUDIO_API_KEY"):
        LabelStudioClient(label_studio.url, None) if not __import__("os").environ.get("LABEL_STUDIO_API_KEY") else \
            (_ for _ in ()).throw(ValueError("LABEL_STUDIO_API_KEY set in the environment"))
    client = LabelStudioClient(label_studio.url, label_studio.token)
    assert label_studio.token not in repr(client)


def test_learner_sends_batches_and_learns_from_pulled_annotations(client, tmp_path):
    from sklearn.datasets import load_digits
    from sklearn.linear_model import LogisticRegression
    X, y = load_digits(return_X_y=True)
    X = X / 16
    project = client.create_project("loop", text_classification_config([str(c) for c in range(10)]))
    store = LabelStore(tmp_path / "labels.sqlite")
    learner = ActiveLearner(LogisticRegression(max_iter=500), batch_size=10, random_state=0, store=store)
    batch = learner.query(X)
    assert learner.send_to_labeling(batch, tool="label_studio", client=client, project_id=project.id,
                                    to_data=lambda row: f"digit image, pixel sum {row.sum():.1f}") is None
    tasks = client.task_ids_by_item(project.id)
    assert set(tasks) == {str(i) for i in batch.indices}
    control = client.controls(project.id)[0]
    for item, task_id in tasks.items():
        client.sdk.annotations.create(id=task_id, result=choices_result(control, str(y[int(item)])))
    assert client.pull_annotations(project.id, store) == 10
    nxt = learner.query(X)                                   # the learner syncs from the store: 10 labels, refit
    assert learner.n_labeled == 10 and learner.model_version == 1
    assert not set(nxt.indices) & set(batch.indices)


def test_upload_images_into_label_studio_storage(client, tmp_path):
    images = make_images(tmp_path / "upload", 5)
    project = client.create_project("uploaded-images", image_classification_config(["cat", "dog"]))
    preds = ["cat", "dog", None, {"cat": 0.3, "dog": 0.7}, "cat"]
    report = client.upload_images(project.id, images, item_ids=[f"u{i}" for i in range(5)], predictions=preds,
                                  chunk_size=2)
    assert report.created == 5 and len(set(report.task_ids.values())) == 5
    # the same call again, keyword style: nothing is uploaded twice
    again = client.upload_images(project.id, images=images, item_ids=[f"u{i}" for i in range(5)], predictions=preds)
    assert again.created == 0 and again.skipped == 5
    tasks = client.export_annotations(project.id, "JSON")
    assert len(tasks) == 5 and all(t["data"]["image"].startswith("/data/upload/") for t in tasks)
    by_item = {t["data"]["item_id"]: t for t in tasks}
    assert by_item["u3"]["data"]["image"].endswith("-img_3.png")
    task = client.sdk.tasks.get(id=str(report.task_ids["u1"]))
    assert task.predictions and task.predictions[0].result[0]["value"]["choices"] == ["dog"]


def test_integer_classes_go_through_the_pipeline_and_confirmations_are_counted(label_studio, tmp_path):
    "Digits with integer y: the project's choices are '0'..'9', labels come back as ints, confirmations are counted."
    from sklearn.datasets import load_digits
    from sklearn.linear_model import LogisticRegression
    from auto_labeling import AutoLabelingPipeline, EvaluationSettings
    X, y = load_digits(return_X_y=True)
    X = X / 16
    texts = [f"digit image {i}" for i in range(len(X))]
    store = tmp_path / "ints.sqlite"

    def pipeline():
        p = AutoLabelingPipeline(LogisticRegression(max_iter=500), labeling_tool="label_studio", store=store,
                                 url=label_studio.url, api_key=label_studio.token, project_title="integer classes",
                                 random_state=0)
        return p.configure(batch_size=10, max_iterations=3, evaluation=EvaluationSettings(random_baseline=False))

    data = dict(labeled_data=(X[:40], y[:40]), unlabeled_data=X[40:600], items=texts[40:600],
                validation_data=(X[1200:], y[1200:]), progress=False)
    assert pipeline().run(**data).stopped_by == "waiting_for_labels"
    client = LabelStudioClient(label_studio.url, label_studio.token)
    project_id = LabelStore(str(store)).get_state("pipeline:loop")["tool"]["project_id"]
    control = client.controls(project_id)[0]
    assert control.labels == [str(c) for c in range(10)]
    tasks = client.export_annotations(project_id, "JSON")
    assert len(tasks) == 10
    shown = {t["data"]["item_id"]: client.sdk.tasks.get(id=str(t["id"])).predictions[0].result[0]["value"]["choices"][0]
             for t in tasks}
    confirmed = 0
    for k, t in enumerate(tasks[:6]):                      # an annotator labels 6 of the 10 with the true digit
        item = t["data"]["item_id"]
        truth = str(y[40 + int(item)])
        confirmed += truth == shown[item]
        client.sdk.annotations.create(id=t["id"], result=choices_result(control, truth), lead_time=5.0)
    r = pipeline().run(**data)                              # collects the 6: stored as ints, no error
    s = LabelStore(str(store))
    human = s.labels("human")
    assert len(human) == 6 and all(type(v) is int for v in human.values()), human
    for t in tasks[6:]:                                     # the rest of the batch comes in
        item = t["data"]["item_id"]
        truth = str(y[40 + int(item)])
        confirmed += truth == shown[item]
        client.sdk.annotations.create(id=t["id"], result=choices_result(control, truth), lead_time=5.0)
    r = pipeline().run(**data)
    assert list(r.rounds["round"])[:2] == [0, 1] and r.labels_used == 50
    assert int(r.rounds["n_confirmed"].iloc[1]) == confirmed and confirmed > 0
    assert len(client.task_ids_by_item(project_id)) == 20   # the next batch went up


def test_plain_tasks_get_a_stable_item_id_and_tasks_must_fit_the_project(client, label_studio):
    project = client.create_project("plain tasks", image_classification_config(["cat", "dog"]))
    plain = [{"data": {"image": f"https://example.org/cat{i}.jpg"}} for i in range(3)]
    first = client.upload_tasks(project.id, plain, progress=False)          # the seed's call shape
    again = client.upload_tasks(project_id=project.id, tasks=plain, progress=False)
    assert first.created == 3 and again.created == 0 and again.skipped == 3
    assert first.task_ids == again.task_ids and all(k.startswith("ls-") for k in first.task_ids)
    with pytest.raises(ValueError, match="upload_text_tasks needs a project that shows <Text>"):
        client.upload_text_tasks(project.id, ["a sentence"], progress=False)
    with pytest.raises(ValueError, match="has no 'image', which the project's <Image> reads"):
        client.upload_tasks(project.id, [{"data": {"text": "a sentence"}}], progress=False)
    with pytest.raises(ValueError, match=r"\(created: none\); pass project_id="):   # a client that made no project
        LabelStudioClient(label_studio.url, label_studio.token).upload_tasks(tasks=plain)
    assert client.upload_tasks("plain tasks", plain, progress=False).skipped == 3   # a project by its title
    assert len(client.task_ids_by_item(project.id)) == 3


def test_images_without_a_served_root_are_refused_and_annotations_are_accepted(client, label_studio, tmp_path, monkeypatch):
    from auto_labeling.formats import Annotation
    monkeypatch.delenv("LABEL_STUDIO_LOCAL_FILES_DOCUMENT_ROOT", raising=False)
    project = client.create_project("root needed", image_classification_config(["cat", "dog"]))
    images = make_images(Path(label_studio.files) / "rooted", 2)
    with pytest.raises(ValueError, match="pass local_files_root="):
        client.upload_with_predictions(project.id, images, ["cat", "dog"], progress=False)
    outside = make_images(tmp_path / "outside", 1)
    with pytest.raises(ValueError, match="is not under the local files root"):
        client.upload_with_predictions(project.id, outside, ["cat"], local_files_root=label_studio.files, progress=False)
    assert client.task_ids_by_item(project.id) == {}                      # nothing was marked uploaded
    preds = [Annotation(str(images[0]), label="cat", score=0.9), Annotation(str(images[1]), label="dog", score=0.6)]
    report = client.upload_with_predictions(project.id, images, preds, local_files_root=label_studio.files,
                                            progress=False)
    assert report.created == 2
    task = client.sdk.tasks.get(id=str(report.task_ids[str(images[0])]))
    assert task.predictions[0].result[0]["value"]["choices"] == ["cat"] and task.predictions[0].score == 0.9
    req = urllib.request.Request(label_studio.url + task.data["image"],
                                 headers={"Authorization": f"Token {label_studio.token}"})
    with urllib.request.urlopen(req, timeout=10) as answer:                   # the image renders
        assert answer.status == 200 and answer.read()[:4] == b"\x89PNG"


def test_the_pipeline_shows_image_items_and_refuses_images_that_would_not_render(label_studio, tmp_path, monkeypatch):
    monkeypatch.delenv("LABEL_STUDIO_LOCAL_FILES_DOCUMENT_ROOT", raising=False)
    from sklearn.linear_model import LogisticRegression
    from auto_labeling import AutoLabelingPipeline, EvaluationSettings
    rng = np.random.default_rng(1)
    X = rng.normal(size=(60, 4))
    y = np.where(X[:, 0] > 0, 1, 0)
    paths = [str(p) for p in make_images(Path(label_studio.files) / "pipeline" / "nested", 60)]

    def pipeline(store, **options):
        p = AutoLabelingPipeline(LogisticRegression(), labeling_tool="label_studio", store=store, url=label_studio.url,
                                 api_key=label_studio.token, random_state=0, **options)
        return p.configure(batch_size=5, max_iterations=2, evaluation=EvaluationSettings(random_baseline=False))

    data = dict(labeled_data=(X[:10], y[:10]), unlabeled_data=X[10:], items=paths[10:], progress=False)
    with pytest.raises(ValueError, match="local_files_root"):       # no root known: refused, nothing sent
        pipeline(tmp_path / "a.sqlite", project_title="no root").run(**data)
    r = pipeline(tmp_path / "b.sqlite", project_title="images", local_files_root=label_studio.files).run(**data)
    assert r.stopped_by == "waiting_for_labels"
    client = LabelStudioClient(label_studio.url, label_studio.token)
    project_id = LabelStore(str(tmp_path / "b.sqlite")).get_state("pipeline:loop")["tool"]["project_id"]
    tasks = client.export_annotations(project_id, "JSON")
    assert len(tasks) == 5 and all(t["data"]["image"].startswith("/data/local-files/?d=pipeline/nested/") for t in tasks)
    assert all(client.image_status(t["data"]["image"]) == 200 for t in tasks)


def test_pre_annotator_boxes_upload_as_they_come(client, label_studio):
    from auto_labeling.pre_annotation import make_shapes_dataset
    shapes = make_shapes_dataset(Path(label_studio.files) / "shapes-as-they-come", 3, seed=3)   # Annotation objects
    project = client.create_project("annotations as they come", object_detection_config(["red", "blue"]))
    report = client.upload_with_predictions(project.id, [a.image for a in shapes], shapes,
                                            local_files_root=label_studio.files, progress=False)
    assert report.created == 3
    task = client.sdk.tasks.get(id=str(report.task_ids[shapes[0].image]))
    regions = task.predictions[0].result
    assert len(regions) == len(shapes[0].boxes) and regions[0]["value"]["rectanglelabels"] == [shapes[0].labels[0]]


SPEC_CONFIG = """
    <View>
      <Image name="image" value="$image"/>
      <Choices name="label" toName="image">
        <Choice value="cat"/>
        <Choice value="dog"/>
      </Choices>
    </View>
    """


def test_the_specifications_label_studio_and_pre_annotation_snippets_run_as_written(label_studio, monkeypatch):
    import torch
    from ultralytics import YOLO
    from auto_labeling import LabelStudioClient, PreAnnotator
    from auto_labeling.pre_annotation import make_shapes_dataset
    monkeypatch.setenv("LABEL_STUDIO_LOCAL_FILES_DOCUMENT_ROOT", label_studio.files)   # the server's served root
    client = LabelStudioClient(url=label_studio.url, api_key=label_studio.token)
    texts = client.create_project(name="Reviews", label_config=text_classification_config(["ham", "spam"]))
    # --- the specification's Label Studio section, as written
    project = client.create_project(
        name="Image Classification",
        label_config=SPEC_CONFIG
    )
    control = client.controls(project.id)[0]
    tasks_with_predictions = [{"data": {"image": f"https://example.org/cat{i}.jpg"},
                               "predictions": [{"result": choices_result(control, "cat"), "score": 0.9}]}
                              for i in range(2)]
    client.upload_tasks(
        project_id=project.id,
        tasks=tasks_with_predictions
    )
    labeled_data = client.export_annotations(
        project_id=project.id,
        format="JSON"
    )
    assert len(labeled_data) == 2
    # --- its Pre-Annotations section, as written (no project named: the one image project this client created)
    torch.manual_seed(0)
    yolov8_model = YOLO("yolov8n.yaml")                        # a detector's config: random weights, no download
    unlabeled_images = [a.image for a in make_shapes_dataset(Path(label_studio.files) / "spec-unlabeled", 4, seed=1)]
    annotator = PreAnnotator(
        model=yolov8_model,
        confidence_threshold=0.7
    )
    pre_annotations = annotator.predict(
        images=unlabeled_images,
        format="coco"  # or "yolo", "pascal_voc"
    )
    client.upload_with_predictions(
        images=unlabeled_images,
        predictions=pre_annotations
    )
    assert pre_annotations["annotations"] == []      # untrained weights are never 0.7 sure: the tasks carry no box
    tasks = client.export_annotations(project_id=project.id, format="JSON")
    uploaded = [t for t in tasks if t["data"]["image"].startswith("/data/local-files/?d=spec-unlabeled/")]
    assert len(tasks) == 6 and len(uploaded) == 4 and all(t["predictions"] == [] for t in uploaded)
    assert client.image_status(uploaded[0]["data"]["image"]) == 200
    assert client.task_ids_by_item(texts.id) == {}                 # the text project got nothing, not even a storage
    assert list(client.sdk.import_storage.local.list(project=texts.id)) == []
    report = client.upload_text_tasks(texts=["great", "awful"], progress=False)   # texts: the one text project
    assert report.created == 2 and len(client.task_ids_by_item(texts.id)) == 2


def test_two_fitting_projects_and_no_project_named_is_refused_naming_both(label_studio, tmp_path):
    client = LabelStudioClient(label_studio.url, label_studio.token)
    a = client.create_project("cats A", image_classification_config(["cat", "dog"]))
    b = client.create_project("boxes B", object_detection_config(["cat", "dog"]))
    images = make_images(Path(label_studio.files) / "two-fit", 2)
    for upload in (lambda: client.upload_with_predictions(images=images, local_files_root=label_studio.files),
                   lambda: client.upload_tasks(tasks=[{"data": {"image": "https://example.org/a.jpg"}}]),
                   lambda: client.upload_images(images=images)):
        with pytest.raises(ValueError) as e:
            upload()
        message = str(e.value)
        assert f"id {a.id} 'cats A'" in message and f"id {b.id} 'boxes B'" in message and "pass project_id=" in message
    assert client.task_ids_by_item(a.id) == {} and client.task_ids_by_item(b.id) == {}
    assert client.upload_with_predictions(b.id, images, local_files_root=label_studio.files, progress=False).created == 2
    client.project_id = a.id                                 # the user's default wins over the lookup
    assert client.upload_tasks(tasks=[{"data": {"image": "https://example.org/a.jpg"}}], progress=False).created == 1
    assert len(client.task_ids_by_item(a.id)) == 1 and len(client.task_ids_by_item(b.id)) == 2


def test_a_project_this_client_did_not_create_is_never_picked(label_studio):
    someone = LabelStudioClient(label_studio.url, label_studio.token)
    theirs = someone.create_project("someone else's images", image_classification_config(["cat", "dog"]))
    client = LabelStudioClient(label_studio.url, label_studio.token)
    images = make_images(Path(label_studio.files) / "not-mine", 2)
    with pytest.raises(ValueError, match=r"no project this client created takes image tasks \(created: none\)"):
        client.upload_with_predictions(images=images, predictions=["cat", "dog"], local_files_root=label_studio.files)
    mine = client.create_project("my texts", text_classification_config(["ham", "spam"]))
    with pytest.raises(ValueError, match=f"created: id {mine.id} 'my texts'\\); pass project_id="):
        client.upload_with_predictions(images=images, predictions=["cat", "dog"], local_files_root=label_studio.files)
    with pytest.raises(ValueError, match="no project this client created takes tasks with data keys \\['image'\\]"):
        client.upload_tasks(tasks=[{"data": {"image": "https://example.org/a.jpg"}}])
    assert someone.task_ids_by_item(theirs.id) == {} and client.task_ids_by_item(mine.id) == {}
    assert list(someone.sdk.import_storage.local.list(project=theirs.id)) == []
    named = client.upload_with_predictions(theirs.id, images, ["cat", "dog"], local_files_root=label_studio.files,
                                           progress=False)                   # named by the user: fine
    assert named.created == 2


def test_a_rerun_takes_the_item_to_task_map_from_the_store_and_lists_only_when_it_must(label_studio, tmp_path):
    "The uploaded item -> task map lives in the label store; the project is listed only without a current map."
    from auto_labeling.label_studio_uploads import task_map_key
    client = LabelStudioClient(label_studio.url, label_studio.token)
    project = client.create_project("map in the store", text_classification_config(["ham", "spam"]))
    texts, ids = [f"message {i}" for i in range(1200)], [f"m{i}" for i in range(1200)]
    store = LabelStore(tmp_path / "labels.sqlite")
    first = client.upload_text_tasks(project.id, texts, item_ids=ids, store=store, chunk_size=500, progress=False)
    assert client.lookup == "empty project" and first.created == 1200
    kept = store.get_state(task_map_key(label_studio.url, project.id))
    assert kept["total"] == 1200 and kept["tasks"] == first.task_ids == client.task_ids_by_item(project.id)
    store.close()

    again_client, store = LabelStudioClient(label_studio.url, label_studio.token), LabelStore(tmp_path / "labels.sqlite")
    again = again_client.upload_text_tasks(project.id, texts, item_ids=ids, store=store, progress=False)
    assert again_client.lookup == "store" and again.created == 0 and again.skipped == 1200
    assert again.task_ids == first.task_ids

    more = again_client.upload_text_tasks(project.id, texts + ["one more"], item_ids=ids + ["new"], store=store,
                                          progress=False)
    assert again_client.lookup == "store" and more.created == 1 and more.skipped == 1200
    assert store.get_state(task_map_key(label_studio.url, project.id))["total"] == 1201

    client.sdk.tasks.delete(id=first.task_ids["m7"])                     # behind the store's back
    healed = again_client.upload_text_tasks(project.id, texts, item_ids=ids, store=store, progress=False)
    assert again_client.lookup == "listed: it holds 1200 tasks, the store's map 1201", again_client.lookup
    assert healed.created == 1 and healed.skipped == 1199                 # the deleted item is uploaded again
    assert client.task_ids_by_item(project.id) == store.get_state(task_map_key(label_studio.url, project.id))["tasks"]
    assert len(client.task_ids_by_item(project.id)) == 1201

    plain = client.upload_text_tasks(project.id, texts[:5], item_ids=ids[:5], progress=False)
    assert client.lookup == "listed: no store= given" and plain.created == 0
    other = LabelStore(tmp_path / "other.sqlite")                         # a store that never saw this project
    few = client.upload_text_tasks(project.id, texts[:5], item_ids=ids[:5], store=other, progress=False)
    assert client.lookup == "asked for 5 items: the store has no item -> task map for it" and few.created == 0
    assert other.get_state(task_map_key(label_studio.url, project.id)) is None


def test_every_local_path_is_checked_against_an_explicit_root(client, label_studio, tmp_path, monkeypatch):
    "No `/` root, and local-files URLs or /data/... paths are checked like file paths (issue 19)."
    from auto_labeling.label_studio_tool import LabelStudioTool
    monkeypatch.delenv("LABEL_STUDIO_LOCAL_FILES_DOCUMENT_ROOT", raising=False)
    project = client.create_project("explicit root", image_classification_config(["cat", "dog"]))
    images = make_images(Path(label_studio.files) / "explicit", 2)
    secret = tmp_path / "secret.png"
    secret.write_bytes(images[0].read_bytes())
    escape = "/data/local-files/?d=" + "../" * 12 + str(secret).lstrip("/")
    for bad, why in ((escape, "outside the local files root"),
                     (f"/data/local-files/?d={secret}", "outside the local files root"),
                     (f"{label_studio.url}/data/local-files/?d=explicit/../../../x.png", "outside the local files root"),
                     (str(secret), "is not under the local files root")):
        with pytest.raises(ValueError, match=why):
            client.upload_with_predictions(project.id, [bad], ["cat"], local_files_root=label_studio.files,
                                           progress=False)
    with pytest.raises(ValueError, match="every file on the machine"):   # an explicit "/" is refused too
        client.upload_with_predictions(project.id, [str(secret)], ["cat"], local_files_root="/", progress=False)
    monkeypatch.setenv("LABEL_STUDIO_LOCAL_FILES_DOCUMENT_ROOT", "/")
    with pytest.raises(ValueError, match="LABEL_STUDIO_LOCAL_FILES_DOCUMENT_ROOT"):
        client.upload_with_predictions(project.id, [escape], ["cat"], progress=False)
    monkeypatch.delenv("LABEL_STUDIO_LOCAL_FILES_DOCUMENT_ROOT")
    with pytest.raises(ValueError, match="pass local_files_root="):     # a local-files URL needs the root as well
        client.upload_with_predictions(project.id, ["/data/local-files/?d=explicit/img_0.png"], ["cat"],
                                       progress=False)
    assert client.task_ids_by_item(project.id) == {}                      # nothing was uploaded
    ok = client.upload_with_predictions(project.id, ["/data/local-files/?d=explicit/img_0.png", images[1]],
                                        ["cat", "dog"], local_files_root=label_studio.files, progress=False)
    assert ok.created == 2
    shown = [t["data"]["image"] for t in client.iter_tasks(project.id)]
    assert sorted(shown) == ["/data/local-files/?d=explicit/img_0.png", "/data/local-files/?d=explicit/img_1.png"]
    assert all(client.image_status(u) == 200 for u in shown)

    class _Loop:                                                          # what the tool reads of its loop
        classes = ["cat", "dog"]
        learner = None
        pool = None
    tool = LabelStudioTool(client, project.id, local_files_root=label_studio.files)
    tool.loop = _Loop()
    with pytest.raises(ValueError, match="outside the local files root"):
        tool._shown_values([escape])


def test_the_labeling_stream_serves_tasks_in_our_ranking(label_studio, tmp_path):
    """After a send, the unlabeled tasks carry our query score and a Data Manager view orders them; what an annotator
    really gets next (`GET /api/projects/{id}/next?view=`) follows our ranking task by task."""
    import httpx
    from sklearn.datasets import load_digits
    from sklearn.linear_model import LogisticRegression
    from auto_labeling.core import Pool
    from auto_labeling.label_studio_tool import QUEUE_VIEW, LabelStudioTool
    from auto_labeling.loop import Loop
    X, y = load_digits(return_X_y=True)
    X, y = X[:400] / 16, y[:400]
    client = LabelStudioClient(label_studio.url, label_studio.token)
    project = client.create_project("ranked queue", text_classification_config([str(c) for c in range(10)]))
    client.api("PATCH", f"/api/projects/{project.id}/", "start from uniform sampling",
               json={"sampling": "Uniform sampling"})                      # rank_queue must make it sequential
    store = LabelStore(tmp_path / "labels.sqlite")
    learner = ActiveLearner(LogisticRegression(max_iter=500), batch_size=8, X_training=X[:40], y_training=y[:40],
                            random_state=0, store=store)
    pool = Pool(X, items=[f"digit {i}, pixel sum {X[i].sum():.1f}" for i in range(len(X))])
    loop = Loop(learner, pool, LabelStudioTool(client, project.id), classes=list(range(10)))
    loop.send(n_instances=8)                             # uploaded in the query's order, then ranked
    tool, sent = loop.tool, list(loop.outstanding)
    learner.teach(X[40:120], y[40:120])                  # a retrain: the queue's scores change
    learner.query(pool)
    scores = learner.scores()
    ours = sorted(sent, key=lambda item: -round(float(scores[pool.positions_of([item])[item]]), 6))
    assert tool.rank_queue(scores) == ours
    tasks = client.task_ids_by_item(project.id)
    assert len(tasks) == 8 and set(tasks) == set(sent)
    assert [tasks[i] for i in ours] != sorted(tasks.values())   # not the task order, so the check means something
    assert [t["data"]["query_score"] for t in client.iter_tasks(project.id)] != []
    views = client.api("GET", "/api/dm/views/", "views", params={"project": project.id})
    assert [v["data"]["title"] for v in views].count(QUEUE_VIEW) == 1 and tool.queue_view == views[0]["id"]
    assert client.api("GET", f"/api/projects/{project.id}/", "project")["sampling"] == "Sequential sampling"
    assert tool.rank_queue(scores) == ours                                  # again: same view, nothing new
    assert len(client.api("GET", "/api/dm/views/", "views", params={"project": project.id})) == 1
    by_task = {v: k for k, v in tasks.items()}
    auth = {"Authorization": f"Token {label_studio.token}"}
    control, served = client.controls(project.id)[0], []
    for _ in range(8):                                   # an annotator labels the queue from our tab
        task = httpx.get(f"{label_studio.url}/api/projects/{project.id}/next", params={"view": tool.queue_view},
                         headers=auth, timeout=60).json()
        served.append(by_task[task["id"]])
        client.sdk.annotations.create(id=task["id"], result=choices_result(control, "3"))
    assert served == ours, (served, ours)
    loop.collect()
    loop.send(n_instances=8)                             # the next round: new tasks, new scores
    fresh = {v for k, v in client.task_ids_by_item(project.id).items() if k not in tasks}
    assert len(fresh) == 8
    plain = httpx.get(f"{label_studio.url}/api/projects/{project.id}/next", headers=auth, timeout=60).json()
    assert plain["id"] == min(fresh)                     # without the view, Community serves tasks in task order
    again = httpx.get(f"{label_studio.url}/api/projects/{project.id}/next", params={"view": tool.queue_view},
                      headers=auth, timeout=60).json()
    assert again["id"] == plain["id"]                    # and a task the annotator holds (locked) comes back first


def test_chromium_shows_the_ranked_queue_and_what_label_all_tasks_really_serves(label_studio, tmp_path):
    """In Chromium, logged in as the test user: the Data Manager tab lists the unlabeled tasks in our ranking, and a
    task's labeling page shows the pre-annotation. What "Label All Tasks" serves is recorded as it is: Community
    1.23.2's button asks `/api/dm/actions?id=next_task&tabID=<tab>`, which does not apply the tab's ordering (the
    server reads `view`, not `tabID`), so under sequential sampling it serves the lowest task id first."""
    from playwright.sync_api import sync_playwright
    from sklearn.datasets import load_digits
    from sklearn.linear_model import LogisticRegression
    from auto_labeling.core import Pool
    from auto_labeling.label_studio_tool import LabelStudioTool
    from auto_labeling.loop import Loop
    artifacts = Path(__file__).resolve().parent.parent / "test-artifacts"
    artifacts.mkdir(exist_ok=True)
    X, y = load_digits(return_X_y=True)
    X, y = X[:400] / 16, y[:400]
    client = LabelStudioClient(label_studio.url, label_studio.token)
    project = client.create_project("digits, ranked queue", text_classification_config([str(c) for c in range(10)]))
    learner = ActiveLearner(LogisticRegression(max_iter=500), batch_size=8, X_training=X[:40], y_training=y[:40],
                            random_state=0, store=LabelStore(tmp_path / "labels.sqlite"))
    pool = Pool(X, items=[f"digit {i}, pixel sum {X[i].sum():.1f}" for i in range(len(X))])
    loop = Loop(learner, pool, LabelStudioTool(client, project.id), classes=list(range(10)))
    loop.send(n_instances=8)
    learner.teach(X[40:120], y[40:120])                  # a retrain: the scores of the queue change
    learner.query(pool)
    ours = loop.tool.rank_queue(learner.scores())
    tasks = client.task_ids_by_item(project.id)
    ranked_ids = [tasks[i] for i in ours]
    assert ranked_ids != sorted(ranked_ids)              # the ranking is not the task order, so the check means something
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", headless=True,
                                    args=["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"])
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 800})
            page.goto(f"{label_studio.url}/user/login/")
            page.fill("input[name=email]", "admin@example.com")
            page.fill("input[name=password]", "admin-test-password")
            page.click("button[type=submit]")
            page.wait_for_load_state("networkidle")
            with page.expect_response(lambda r: "/api/tasks" in r.url and f"view={loop.tool.queue_view}" in r.url,
                                      timeout=120_000) as listed:
                page.goto(f"{label_studio.url}/projects/{project.id}/data?tab={loop.tool.queue_view}")
            assert [t["id"] for t in listed.value.json()["tasks"]] == ranked_ids   # the tab: our ranking
            page.get_by_text("Label All Tasks").wait_for(timeout=60_000)
            page.wait_for_timeout(1500)
            page.screenshot(path=str(artifacts / "label_studio_queue_view.png"))
            with page.expect_response(lambda r: "/api/dm/actions" in r.url and "next_task" in r.url,
                                      timeout=120_000) as served:
                page.get_by_text("Label All Tasks").click()
            assert f"tabID={loop.tool.queue_view}" in served.value.url and "view=" not in served.value.url
            task = served.value.json()
            page.get_by_text("Submit").wait_for(timeout=60_000)
            page.wait_for_timeout(1500)
            page.screenshot(path=str(artifacts / "label_studio_task_preannotated.png"))
            checked = page.locator("input[type=checkbox]:checked")
            assert checked.count() == 1                   # the pre-annotation is selected on the labeling page
            prediction = task["predictions"][0]["result"][0]["value"]["choices"]
            assert page.locator(f"text={prediction[0]}").count() >= 1
            assert task["id"] == min(tasks.values())      # the button: task order, not the tab's
        finally:
            browser.close()
    for name in ("label_studio_queue_view.png", "label_studio_task_preannotated.png"):
        assert (artifacts / name).stat().st_size > 10_000
