"""Every code snippet of the specification (../shared/specification.md) is a public-API contract: this file holds,
in one place, a test per snippet with the argument names and shapes as written.

Snippets that need a real Label Studio or CVAT are run, as written, by the real-server tests named in `SNIPPETS`
(they start the servers; nothing here duplicates that); the others run here on small real data (digits).
`test_every_snippet_has_its_test` reads the specification and fails when a snippet has no test, or when a named test
is gone — a changed specification or a deleted test is caught."""
import ast
import re
from pathlib import Path

import numpy as np
import pytest
from sklearn.datasets import load_digits
from sklearn.linear_model import LogisticRegression

SPEC = Path(__file__).resolve().parents[1] / ".." / "shared" / "specification.md"
TESTS = Path(__file__).resolve().parent

# snippet (the heading above it, numbered when a heading has several) -> where it runs as written
SNIPPETS = {
    "Active Learning Strategy": "test_specification.py::test_active_learning_strategy",
    "Label Studio Integration": "test_label_studio.py::test_the_specifications_label_studio_and_pre_annotation_snippets_run_as_written",
    "CVAT Integration": "test_cvat.py::test_the_specifications_cvat_calls_verbatim",
    "Uncertainty Sampling": "test_specification.py::test_active_learning_strategies",
    "Query by Committee": "test_specification.py::test_active_learning_strategies",
    "Diversity Sampling": "test_specification.py::test_active_learning_strategies",
    "Self-Training": "test_specification.py::test_self_training",
    "Co-Training": "test_specification.py::test_co_training",
    "Pre-Annotations": "test_pre_annotation.py::test_the_specification_calls_as_written",
    "Inter-Annotator Agreement": "test_quality.py::test_the_specification_calls_as_written",
    "Consensus Labeling": "test_quality.py::test_the_specification_calls_as_written",
    "End-to-End Workflow": "test_specification.py::test_end_to_end_workflow_constructor_on_label_studio",
    "Image Classification": "test_specification.py::test_image_classification_use_case",
    "Object Detection": "test_cvat.py::test_the_specifications_cvat_calls_verbatim",
    "Text Classification": "test_specification.py::test_text_classification_use_case",
    "Medical Image Segmentation": "test_cvat.py::test_the_specifications_cvat_calls_verbatim",
    "Label Studio Webhook": "test_specification.py::test_label_studio_webhook",
    "CVAT Auto-Annotation Plugin": "test_specification.py::test_cvat_auto_annotation_plugin",
}


# lines of the snippets that do NOT run as written, and why (defects to fix, reported; each line must be in the spec).
# Empty: every line of every snippet runs as written.
NOT_AS_WRITTEN: dict[str, str] = {}


def spec_snippets() -> dict[str, str]:
    "Heading -> the python snippet under it, read from the specification."
    text, out, heading = SPEC.read_text(encoding="utf-8"), {}, None
    for m in re.finditer(r"^(#+) ([^\n]+)$|^```python\n(.*?)^```", text, flags=re.M | re.S):
        if m.group(2):
            heading = m.group(2).strip()
        elif heading is not None:
            out[heading if heading not in out else f"{heading} ({sum(k.startswith(heading) for k in out) + 1})"] = m.group(3)
    return out


def test_every_snippet_has_its_test():
    snippets = spec_snippets()
    assert len(snippets) == 18 and set(snippets) == set(SNIPPETS), sorted(set(snippets) ^ set(SNIPPETS))
    for heading, where in SNIPPETS.items():
        file, name = where.split("::")
        defined = {n.name for n in ast.parse((TESTS / file).read_text()).body if isinstance(n, ast.FunctionDef)}
        assert name in defined, f"the test of the specification's {heading!r} snippet, {where}, is gone"
    code = "\n".join(snippets.values())
    for line in NOT_AS_WRITTEN:
        assert line in code, f"{line!r} is no longer in the specification: drop it from NOT_AS_WRITTEN"


@pytest.fixture(scope="module")
def data():
    X, y = load_digits(return_X_y=True)
    return X / 16.0, y


def test_active_learning_strategy(data, tmp_path, monkeypatch):
    "As written, with the labeling tool the learner is handed: Label Studio's needs a server, so the tool here is the "
    "simulator run the same way (`tool=` a registered name); the Label Studio send runs in test_label_studio.py."
    from auto_labeling import ActiveLearner, UncertaintySampling  # noqa: F401  (the snippet's import, as written)
    X, y = data
    base_model = LogisticRegression(max_iter=1000).fit(X[:50], y[:50])
    learner = ActiveLearner(
        model=base_model,
        strategy="uncertainty",  # or "query_by_committee", "diversity"
        batch_size=100
    )
    load_unlabeled_data = lambda: X[50:]
    unlabeled_pool = load_unlabeled_data()
    informative_samples = learner.query(
        unlabeled_pool=unlabeled_pool,
        n_instances=100
    )
    assert len(informative_samples) == 100 and len(set(informative_samples.indices.tolist())) == 100
    got = learner.send_to_labeling(
        samples=informative_samples,
        tool="simulated", oracle=y[50:]
    )
    assert list(got) == y[50:][informative_samples.indices].tolist() and learner.n_labeled == 100
    for strategy in ("query_by_committee", "diversity"):
        assert len(ActiveLearner(model=base_model, strategy=strategy, batch_size=100).query(
            unlabeled_pool=unlabeled_pool, n_instances=100)) == 100


def test_active_learning_strategies(data):
    from auto_labeling import DiversitySampling, QueryByCommittee, UncertaintySampling
    X, y = data
    pool = X[300:]
    model = LogisticRegression(max_iter=1000).fit(X[:300], y[:300])
    model1, model2, model3 = (LogisticRegression(C=c, max_iter=1000).fit(X[:300], y[:300]) for c in (0.1, 1.0, 10.0))
    for method in ("least_confident", "margin", "entropy"):
        strategy = UncertaintySampling(method=method)
        selected = strategy.query(
            model=model,
            unlabeled_pool=pool,
            n_instances=100
        )
        assert len(selected) == 100
    committee = QueryByCommittee(
        models=[model1, model2, model3],
        disagreement_measure="vote_entropy"
    )
    selected = committee.query(
        unlabeled_pool=pool,
        n_instances=100
    )
    assert len(selected) == 100
    for method in ("kmeans", "coreset"):
        diversity = DiversitySampling(
            method=method,  # or "coreset"
            n_clusters=100
        )
        selected = diversity.query(
            unlabeled_pool=pool,
            n_instances=100
        )
        assert len(selected) == 100 and len(set(selected.indices.tolist())) == 100


def test_self_training(data):
    """As written, and it must not make the model worse than its human labels alone: this very loop once cost 2-6
    points on 10 of 10 shuffles of digits (pseudo-labels of a few classes, all right, teach a wrong class mix)."""
    from auto_labeling import SelfTrainer
    X, y = data
    labeled_data, pool = (X[:100], y[:100]), X[100:]
    model = LogisticRegression(max_iter=1000).fit(*labeled_data)     # a fitted model is usable at once
    supervised = model.score(pool, y[100:])
    trainer = SelfTrainer(
        base_model=model,
        confidence_threshold=0.95
    )
    sizes = []
    for iteration in range(10):
        pseudo_labeled = trainer.label_unlabeled(
            unlabeled_data=pool,
            confidence_threshold=0.95
        )
        trainer.fit(
            labeled_data=labeled_data,
            pseudo_labeled_data=pseudo_labeled
        )
        sizes.append(len(pseudo_labeled))
    assert trainer.score(pool, y[100:]) >= supervised
    assert len(pseudo_labeled) == 0 or pseudo_labeled.accuracy(y[100:]) > 0.9
    # where every class has confident items the same loop does add pseudo-labels, and they help
    low = SelfTrainer(base_model=LogisticRegression(max_iter=1000).fit(*labeled_data), confidence_threshold=0.5)
    rounds = []
    for iteration in range(5):
        pseudo_labeled = low.label_unlabeled(unlabeled_data=pool, confidence_threshold=0.5)
        low.fit(labeled_data=labeled_data, pseudo_labeled_data=pseudo_labeled)
        rounds.append((len(pseudo_labeled), low.last_check_["kept"], low.score(pool, y[100:])))
    assert all(n > 100 for n, _, _ in rounds), rounds
    assert all(score > supervised for _, kept, score in rounds if kept) and any(kept for _, kept, _ in rounds), rounds
    assert all(score == supervised for _, kept, score in rounds if not kept), rounds   # a "no" is the human-label fit


def test_co_training(data):
    from auto_labeling import CoTrainer
    X, y = data
    text_model, image_model = LogisticRegression(max_iter=1000), LogisticRegression(max_iter=1000)
    views = (X[:, :32], X[:, 32:])                  # two views: the top and the bottom half of each digit
    labeled_data = ((views[0][:60], views[1][:60]), y[:60])
    unlabeled_data = (views[0][60:], views[1][60:])
    co_trainer = CoTrainer(
        model1=text_model,  # Text features
        model2=image_model,  # Image features
        confidence_threshold=0.9
    )
    co_trainer.fit(
        labeled_data=labeled_data,
        unlabeled_data=unlabeled_data,
        iterations=10
    )
    assert co_trainer.model1.score(views[0][60:], y[60:]) > 0.7 and co_trainer.model2.score(views[1][60:], y[60:]) > 0.7


def test_end_to_end_workflow(data, tmp_path, monkeypatch):
    """configure(), run() and the three prints exactly as written, on the simulator (run() against people in Label
    Studio waits for their labels: test_label_studio.py runs that); the constructor as written is the next test's."""
    from auto_labeling import AutoLabelingPipeline
    X, y = data
    base_model = LogisticRegression(max_iter=1000)
    pipeline = AutoLabelingPipeline(model=base_model, active_learning="uncertainty", labeling_tool="simulated")
    pipeline.configure(
        batch_size=100,
        confidence_threshold=0.95,
        max_iterations=20,
        budget=1000  # Maximum labels (the specification's 10000 is more than digits has)
    )
    initial_labeled, large_unlabeled_pool = (X[:100], y[:100]), (X[100:], y[100:])
    results = pipeline.run(
        labeled_data=initial_labeled,
        unlabeled_data=large_unlabeled_pool,
        target_accuracy=0.95
    )
    lines = [f"Final accuracy: {results.accuracy:.2%}", f"Labels used: {results.labels_used}/{pipeline.budget}",
             f"Cost savings: {results.cost_savings:.0%}"]
    assert lines[1] == f"Labels used: {results.labels_used}/1000" and results.labels_used <= 1000
    assert 0 < results.accuracy <= 1 and lines[0].endswith("%") and lines[2].startswith("Cost savings: ")


def test_end_to_end_workflow_constructor_on_label_studio(label_studio, tmp_path, monkeypatch):
    """The constructor and configure() exactly as written against a real Label Studio: its url from the environment
    (the way a user configures it), the key the server gave in place of "your-key"; no store= given, so the durable
    default store is made in the working directory and announced."""
    from auto_labeling import AutoLabelingPipeline
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("LABEL_STUDIO_URL", label_studio.url)
    base_model = LogisticRegression(max_iter=1000)
    with pytest.warns(UserWarning, match="answers later"):
        pipeline = AutoLabelingPipeline(
            model=base_model,
            active_learning="uncertainty",
            labeling_tool="label_studio",
            api_key=label_studio.token
        )
    pipeline.configure(
        batch_size=100,
        confidence_threshold=0.95,
        max_iterations=20,
        budget=10000  # Maximum labels
    )
    assert pipeline.budget == 10000 and label_studio.token not in repr(pipeline)


def _digit_images(folder: Path, X) -> list[str]:
    "The digits as small PNG files under the served root (what a user's image folder holds)."
    from PIL import Image
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i, row in enumerate(X):
        path = folder / f"{i:04d}.png"
        Image.fromarray((np.asarray(row).reshape(8, 8) * 255).astype(np.uint8)).resize((32, 32)).save(path)
        paths.append(str(path))
    return paths


def _pixels(paths) -> np.ndarray:
    "Features read from the image files themselves (stands in for resnet50's embedding)."
    from PIL import Image
    return np.stack([np.asarray(Image.open(p).resize((8, 8)), dtype=float).ravel() / 255 for p in paths])


def test_image_classification_use_case(data, label_studio, monkeypatch):
    """As written against a real Label Studio: `samples` (a QueryResult of image paths) goes positionally into
    `upload_tasks`; its items become local-files image tasks (checked against the served root), its ids the item ids.
    A classifier on pixels read from the files stands in for resnet50."""
    from auto_labeling import ActiveLearner, LabelStudioClient, Pool, QueryResult
    from auto_labeling.label_studio import image_classification_config
    monkeypatch.setenv("LABEL_STUDIO_LOCAL_FILES_DOCUMENT_ROOT", label_studio.files)   # the server's served root
    X, y = data
    paths = _digit_images(Path(label_studio.files) / "spec-image-classification", X[:400])
    resnet50 = LogisticRegression(max_iter=1000).fit(_pixels(paths[:50]), y[:50])
    unlabeled_images = Pool(paths[50:], featurize=_pixels)
    client = LabelStudioClient(url=label_studio.url, api_key=label_studio.token)
    project_id = client.create_project("Image Classification", image_classification_config(range(10))).id
    # --- the specification's lines, as written
    learner = ActiveLearner(model=resnet50, strategy="uncertainty")
    samples = learner.query(unlabeled_images, n_instances=100)
    client.upload_tasks(project_id, samples)
    # ---
    tasks = client.export_annotations(project_id=project_id, format="JSON")
    assert len(samples) == 100 and len(tasks) == 100
    assert sorted(t["data"]["item_id"] for t in tasks) == sorted(samples.ids)
    by_item = {t["data"]["item_id"]: t["data"]["image"] for t in tasks}
    for item, path in zip(samples.ids, samples.items):
        assert by_item[item] == f"/data/local-files/?d=spec-image-classification/{Path(path).name}"
    assert client.image_status(tasks[0]["data"]["image"]) == 200           # the task shows its image
    assert client.upload_tasks(project_id, samples).created == 0           # a re-run buys nothing twice
    # with the model's suggestions (what Loop.propose carries): they become predictions, class -> choice
    suggested = QueryResult(samples.indices[:5], samples.items[:5], ids=[f"s{i}" for i in range(5)],
                            suggestions=learner.suggest(samples.indices[:5]))
    report = client.upload_tasks(project_id, suggested)
    assert report.created == 5
    shown = {item: [p.result[0]["value"]["choices"] for p in client.sdk.predictions.list(task=task)]
             for item, task in report.task_ids.items()}
    assert shown == {f"s{i}": [[str(label)]] for i, (label, _) in enumerate(suggested.suggestions)}
    with pytest.raises(ValueError, match="feature rows"):                   # nothing a person could be shown
        client.upload_tasks(project_id, learner.query(X[400:], n_instances=3))


def test_text_classification_use_case(label_studio):
    """As written against a real Label Studio: `uncertain_texts` (a QueryResult of texts) goes positionally into
    `upload_text_tasks`; TF-IDF pipelines stand in for the three BERTs."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.naive_bayes import MultinomialNB
    from sklearn.pipeline import make_pipeline
    from auto_labeling import LabelStudioClient, QueryByCommittee
    from auto_labeling.label_studio import text_classification_config
    texts = [f"{w} offer {i}" for i, w in enumerate(["free", "meeting", "prize", "lunch"] * 25)]
    labels = ["spam", "ham", "spam", "ham"] * 25
    bert1, bert2, bert3 = (make_pipeline(TfidfVectorizer(), c).fit(texts, labels)
                           for c in (MultinomialNB(), LogisticRegression(), LogisticRegression(C=0.01)))
    unlabeled_texts = [f"free lunch {i}" for i in range(300)] + [f"prize meeting {i}" for i in range(300)]
    client = LabelStudioClient(url=label_studio.url, api_key=label_studio.token)
    project_id = client.create_project("Text Classification", text_classification_config(["ham", "spam"])).id
    # --- the specification's lines, as written
    committee = QueryByCommittee(models=[bert1, bert2, bert3])
    uncertain_texts = committee.query(unlabeled_texts, n_instances=200)
    client.upload_text_tasks(project_id, uncertain_texts)
    # ---
    tasks = client.export_annotations(project_id=project_id, format="JSON")
    assert len(uncertain_texts) == 200 and len(tasks) == 200
    ids = [str(i) for i in (uncertain_texts.ids if uncertain_texts.ids is not None else uncertain_texts.indices)]
    assert {t["data"]["item_id"]: t["data"]["text"] for t in tasks} == dict(zip(ids, uncertain_texts.items))
    assert client.upload_text_tasks(project_id, uncertain_texts).created == 0      # idempotent by item id


class _App:
    "The smallest web framework the snippet's decorator needs (Flask's `app.route` shape), on http.server."
    def __init__(self):
        self.routes, self.errors, self.answers = {}, [], []

    def route(self, path, methods=("GET",)):
        def register(view):
            self.routes[path] = view
            return view
        return register


def test_label_studio_webhook(data, label_studio):
    """The snippet's handler, verbatim, behind a minimal `app.route` and `request.json` (the web framework is the
    user's): a real annotation in a real Label Studio makes it call the handler with its webhook delivery, which
    stores the label (who: the annotator), refits and uploads the next batch."""
    import json
    import threading
    from http.server import BaseHTTPRequestHandler, HTTPServer
    from types import SimpleNamespace
    from auto_labeling import ActiveLearner, LabelStudioClient, Pool
    from auto_labeling.label_studio import choices_result, text_classification_config
    from auto_labeling.webhook import register_webhook
    from servers import free_port
    X, y = data
    scans = [f"scan {i:04d}" for i in range(600)]
    unlabeled_pool = Pool(scans, featurize=lambda items: X[[int(s.split()[1]) for s in items]])
    learner = ActiveLearner(model=LogisticRegression(max_iter=1000), strategy="uncertainty")
    learner.teach(X[1000:1050], y[1000:1050])
    client = LabelStudioClient(url=label_studio.url, api_key=label_studio.token)
    project_id = client.create_project("webhook snippet", text_classification_config(list(range(10)))).id
    first = learner.query(unlabeled_pool, n_instances=50)
    client.upload_tasks(project_id, first)
    app, request, done = _App(), SimpleNamespace(json=None), threading.Event()

    # --- the specification's snippet, as written
    @app.route('/webhook', methods=['POST'])
    def label_studio_webhook():
        annotation = request.json

        # Add to training data
        learner.add_labeled_sample(annotation)

        # Retrain incrementally
        learner.update_model()

        # Query next batch
        next_batch = learner.query(unlabeled_pool, n_instances=50)
        client.upload_tasks(project_id, next_batch)

        return {"status": "ok"}
    # ---

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            request.json = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            try:
                app.answers.append(app.routes[self.path]())
            except Exception as e:                       # reported below, never swallowed
                app.errors.append(e)
            self.send_response(200)
            self.end_headers()
            done.set()

        def log_message(self, *args):
            pass

    server = HTTPServer(("127.0.0.1", free_port()), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        register_webhook(client, project_id, f"http://127.0.0.1:{server.server_port}/webhook", "x" * 16)
        item = first.ids[0]
        task = client.task_ids_by_item(project_id)[item]
        truth = int(y[int(item)])
        version = learner.model_version
        client.sdk.annotations.create(id=task, result=choices_result(client.controls(project_id)[0], str(truth)))
        assert done.wait(120), "Label Studio never delivered the annotation"
        deadline = threading.Event()
        for _ in range(240):                              # the handler's upload finishes after the delivery answer
            if app.answers or app.errors:
                break
            deadline.wait(0.25)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(10)
    assert not app.errors, app.errors
    assert app.answers == [{"status": "ok"}]
    assert learner.store.labels()[item] == truth and learner.n_labeled == 51
    annotator = request.json["annotation"]["completed_by"]              # Label Studio's user id in the delivery
    assert list(learner.store.history(item)["who"]) == [f"label-studio-user-{annotator}"]
    assert learner.model_version == version + 1
    tasks = client.export_annotations(project_id=project_id, format="JSON")
    items = [t["data"]["item_id"] for t in tasks]
    assert 51 <= len(items) <= 100 and len(set(items)) == len(items)       # the next batch, nothing twice
    assert {t["data"]["text"] for t in tasks} <= set(scans)
    with pytest.raises(ValueError, match="annotation"):
        learner.add_labeled_sample({**request.json, "task": {"id": task, "data": {"item_id": "no such item"}}})


def _confident_yolov8n(path: Path) -> None:
    """A YOLOv8n built offline from ultralytics' packaged `yolov8n.yaml`, saved as a real .pt. Its class-0 bias is
    raised so it finds 'person' boxes (score ~1) on every image at load_model's default threshold of 0.7: a YOLO
    trained that confident takes minutes on 2 CPU cores (chapter 14: 171 s of training, scores ~0.6-0.7); the
    boxes it draws still come from the network and scale with each image's size, so each frame's are its own."""
    import torch
    from ultralytics import YOLO
    yolo = YOLO("yolov8n.yaml")
    with torch.no_grad():
        for branch in yolo.model.model[-1].cv3:              # the detect head's class branch, one per stride
            branch[-1].bias[0] = 10.0
    yolo.model.names = {**{k: str(k) for k in range(80)}, 0: "person"}
    yolo.save(path)


def test_cvat_auto_annotation_plugin(request, tmp_path, monkeypatch):
    """The specification's `@cvat_plugin` snippet, read from the specification and run verbatim (`from auto_labeling
    import *` in front) against a real CVAT 2.23.1: `load_model("yolov8n.pt")` loads the local file of that name in
    the working directory, `auto_annotate.run(client, task_id)` and `auto_annotate(task_id)` (connection from the
    environment) call it with the task's frames, and each frame's shapes in CVAT are the model's boxes for that
    frame's image — on that frame, whatever the file names' order."""
    from PIL import Image
    from auto_labeling import CVATClient, load_model
    server = request.getfixturevalue("cvat")              # not named `cvat`: the snippet's `cvat` is the plugin's
    snippet = spec_snippets()["CVAT Auto-Annotation Plugin"]
    assert 'load_model("yolov8n.pt")' in snippet and "cvat.create_annotations(task_id, frame.id, predictions)" in snippet
    monkeypatch.chdir(tmp_path)
    _confident_yolov8n(tmp_path / "yolov8n.pt")
    rng = np.random.default_rng(0)
    sizes = {"zeta_10.png": (64, 48), "zeta_2.png": (96, 60), "alpha.png": (50, 90)}   # frame order != name order
    paths = []
    for file, (w, h) in sizes.items():
        Image.fromarray(rng.integers(0, 255, (h, w, 3), dtype=np.uint8)).save(tmp_path / file)
        paths.append(tmp_path / file)
    namespace = {}
    exec("from auto_labeling import *\n" + snippet, namespace)
    auto_annotate = namespace["auto_annotate"]
    client = CVATClient(server.url, (server.user, server.password), progress=False)
    task = client.create_task(f"al-spec-plugin-{np.random.default_rng().integers(1 << 30)}", labels=["person", "car"])
    try:
        client.upload_images(task.id, paths)
        model = load_model("yolov8n.pt")
        want = {k: sorted((str(l), tuple(np.round(b, 2))) for b, l in zip(a.boxes, a.labels))
                for k, a in enumerate(model.predict(p) for p in paths)}   # one image at a time, as the snippet
        assert all(want.values()) and len({tuple(v) for v in want.values()}) == len(want)   # boxes on each, distinct
        names = {l.id: l.name for l in client.sdk.tasks.retrieve(task.id).get_labels()}

        def landed() -> dict:
            got = {k: [] for k in want}
            for s in client.sdk.tasks.retrieve(task.id).get_annotations().shapes:
                got[s.frame].append((names[s.label_id], tuple(np.round(s.points, 2))))
            return {k: sorted(v) for k, v in got.items()}

        assert auto_annotate.run(client, task.id) is None
        assert landed() == want
        assert "cvat" not in namespace                     # bound for the call only
        client.sdk.tasks.retrieve(task.id).remove_annotations()
        monkeypatch.setenv("CVAT_HOST", server.url)
        monkeypatch.setenv("CVAT_USER", server.user)
        monkeypatch.setenv("CVAT_PASSWORD", server.password)
        auto_annotate(task.id)                             # the connection from the environment
        assert landed() == want
        client.sdk.tasks.retrieve(task.id).remove_annotations()
        from ultralytics import YOLO                       # predictions as ultralytics gives them: list of Results
        yolo = YOLO("yolov8n.pt")
        for k, path in enumerate(paths):
            client.create_annotations(task.id, k, yolo.predict(str(path), conf=0.7, verbose=False, device="cpu"))
        assert landed() == want
    finally:
        client.sdk.tasks.remove_by_ids([task.id])
        client.close()


def test_star_import_gives_every_name_the_specification_imports():
    "`from auto_labeling import *` brings the public API (it imported nothing while `__all__` was empty)."
    names = set(re.findall(r"from auto_labeling import (\w+)", SPEC.read_text(encoding="utf-8")))
    assert len(names) >= 10
    namespace = {}
    exec("from auto_labeling import *", namespace)
    assert names <= set(namespace), sorted(names - set(namespace))


def test_the_readme_names_pseudo_labels_attributes_that_exist(data):
    "The README once called them `positions`/`confidences`; they are `indices`/`confidence`."
    from auto_labeling import SelfTrainer
    X, y = data
    readme = (TESTS.parent / "README.md").read_text(encoding="utf-8")
    line = next(l for l in readme.splitlines() if "`PseudoLabels` (" in l)
    named = re.findall(r"`(\w+)`", line.split("`PseudoLabels` (")[1].split(")")[0])
    pseudo = SelfTrainer(LogisticRegression(max_iter=1000), confidence_threshold=0.5).fit((X[:100], y[:100])) \
        .label_unlabeled(X[100:300])
    assert named == ["indices", "labels", "confidence", "features"] and all(hasattr(pseudo, n) for n in named)
