"""CVAT integration against a real CVAT 2.23.1 server (never a mock), through the real cvat-sdk client.

Tiers:
1. real (almost everything): the `cvat` session fixture (conftest.py) is the server `make test` started from
   ../shared/cvat-server, or the one named by CVAT_URL/CVAT_USER/CVAT_PASSWORD (+ CVAT_LEAD/CVAT_LEAD_PASSWORD for an
   ordinary user), or one started for this session. The flow tests run as the admin and as the ordinary user.
   What they make is named `al-test-<random>` and deleted at the end.
2. faults a real server cannot give on demand (a 5xx in the middle of a chunked upload, a dead server, a page that is
   not CVAT): the test double (tests/cvat_double.py), whose answers are the recorded real ones (checked below).
"""
import io
import json
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

from auto_labeling import ActiveLearner, AutoLabelingPipeline, EvaluationSettings, LabelStore, PreAnnotator
from auto_labeling.cvat import CVATClient, CVATError, as_auto_annotation_function, cvat_format, read_export
from auto_labeling.formats import Annotation
from cvat_double import FIXTURES, CVATDouble, HttpError, field_tree, recorded

GOLDEN = Path(__file__).resolve().parent.parent.parent / "shared" / "reference" / "cvat-golden"
TRUTH = [Annotation("img_0.png", 64, 48, [[10, 10, 30, 30]], ["cat"], [0.9], model_version="demo:1"),
         Annotation("img_1.png", 64, 48, [[35, 5, 60, 40], [10, 10, 30, 30]], ["dog", "cat"], [0.8, 0.7],
                    model_version="demo:1"),
         Annotation("img_2.png", 64, 48, [[10, 10, 30, 30]], ["cat"], [0.95], model_version="demo:1")]
# names out of alphabetical order, sizes all different: frame order must be upload order
STREET = [("zeta_10.png", (64, 48)), ("zeta_2.png", (80, 60)), ("alpha.png", (50, 70)), ("mid_1.png", (40, 40))]


def boxes_of(annotations):
    "Each frame's (label, box) pairs, sorted: CVAT keeps no order among the shapes of one frame."
    return [sorted(zip(map(str, a.labels), np.round(a.boxes, 3).tolist())) for a in annotations]


def same_boxes(got, want, atol: float) -> bool:
    "Frame by frame, the same labels and boxes within `atol` pixels, in any order within a frame (YOLO rounds)."
    def ordered(a):
        pairs = sorted(zip(map(str, a.labels), np.asarray(a.boxes, float).reshape(-1, 4).tolist()),
                       key=lambda p: (p[0], round(p[1][0]), round(p[1][1])))
        return [p[0] for p in pairs], np.array([p[1] for p in pairs]).reshape(-1, 4)
    for a, b in zip(got, want, strict=True):
        (la, ba), (lb, bb) = ordered(a), ordered(b)
        if la != lb or not np.allclose(ba, bb, atol=atol):
            return False
    return True


def make_images(folder: Path, spec=STREET, seed: int = 0) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for k, (name, (w, h)) in enumerate(spec):
        paths.append(folder / name)
        Image.fromarray(np.random.default_rng(seed + k).integers(0, 255, (h, w, 3), dtype=np.uint8)).save(paths[-1])
    return paths


def street_predictions():
    return [Annotation("zeta_10.png", 64, 48, [[10, 10, 30, 30.5], [35, 5, 60, 40]], ["car", "person"], [0.9, 0.6]),
            Annotation("zeta_2.png", 80, 60, [[5, 5, 70, 50]], ["bicycle"], [0.8]),
            None,
            Annotation("mid_1.png", 40, 40, [[1, 2, 20, 30]], ["person"], [0.7])]


def name(prefix="al-test"):
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


# --- clients on the real server ---------------------------------------------------------------------
@pytest.fixture(scope="module")
def admin(cvat):
    client = CVATClient(cvat.url, (cvat.user, cvat.password), status_check_period=0.5, progress=False)
    yield client
    client.close()


@pytest.fixture(params=["admin", "lead"])
def client(request, cvat, admin, tmp_path):
    "A client as the admin, and as an ordinary user (a lead is not always an admin); what it makes is deleted after."
    if request.param == "lead":
        if not (cvat.lead and cvat.lead_password):
            pytest.skip("ordinary-user tier: set CVAT_LEAD and CVAT_LEAD_PASSWORD (a non-admin user of that CVAT)")
        c = CVATClient(cvat.url, (cvat.lead, cvat.lead_password), status_check_period=0.5, progress=False,
                       cache_dir=tmp_path / "cache")
    else:
        c = CVATClient(cvat.url, (cvat.user, cvat.password), status_check_period=0.5, progress=False,
                       cache_dir=tmp_path / "cache")
    c.made = []
    yield c
    tasks = [t for kind, t in c.made if kind == "task"]
    if tasks:
        admin.sdk.tasks.remove_by_ids(tasks)
    projects = [p for kind, p in c.made if kind == "project"]
    if projects:
        admin.sdk.projects.remove_by_ids(projects)
    c.close()


def new_task(client, labels=("cat", "dog"), **kw):
    task = client.create_task(name(), list(labels), **kw)
    client.made.append(("task", task.id))
    return task


@pytest.fixture(scope="module")
def reviewer(cvat):
    "A second ordinary user, signed up through the REST API as a person would: (username, password)."
    from cvat_sdk import Client, Config, models
    username, password = f"rev{uuid.uuid4().hex[:8]}", "Review-pass-2718"
    with Client(cvat.url, check_server_version=False, config=Config(allow_unsupported_server=True)) as signup:
        signup.api_client.auth_api.create_register(models.RegisterSerializerExRequest(
            username=username, email=f"{username}@example.com", password1=password, password2=password))
    return username, password


def complete_job_as(cvat_url, credentials, job_id, edits=()):
    "What a person does in CVAT's UI, through its REST API: open the job, change shapes, finish the job."
    from cvat_sdk.core.proxies.annotations import AnnotationUpdateAction
    from cvat_sdk import models
    person = CVATClient(cvat_url, credentials, progress=False)
    job = person.sdk.jobs.retrieve(job_id)
    for action, shapes in edits:
        job.update_annotations(models.PatchedLabeledDataRequest(shapes=[models.LabeledShapeRequest(**s) for s in shapes]),
                               action=AnnotationUpdateAction(action))
    job.update({"state": "completed"})
    person.close()


# --- regressions: each failed on the old client against the real 2.23.1 ---------------------------------
def test_about_on_2_23_1_is_read_as_raw_json_and_its_version_checked(cvat):
    "2.23.1's /api/server/about has no logo_url/subtitle, which cvat-sdk 2.80's About model requires (old: refused)."
    import urllib.request
    about = json.loads(urllib.request.urlopen(cvat.url + "/api/server/about", timeout=30).read())
    assert sorted(about) == ["description", "name", "version"]
    client = CVATClient(cvat.url, (cvat.user, cvat.password), progress=False)
    assert client.server_version == about["version"] == "2.23.1" and client.user == cvat.user


def test_a_task_without_data_has_no_size_on_2_23_1(client):
    "2.23.1 sends no size/data/chunk fields for a task without images (old: ApiAttributeError 'size')."
    task = new_task(client)
    _, response = client.sdk.api_client.tasks_api.retrieve(task.id, _parse_response=False)
    assert "size" not in json.loads(response.data) and "guide_id" in json.loads(response.data)
    assert client.frame_names(task.id) == [] and client.frame_sizes(task.id) == {}
    with pytest.raises(CVATError, match="has no images yet: upload_images first"):
        client.upload_annotations(task.id, [None])


@pytest.mark.parametrize("subset", ["", "train", "validation"])
def test_frame_order_is_upload_order_for_every_format_and_subset(admin, subset, tmp_path):
    "Names out of alphabetical order, sizes all different, any subset: every export comes back in upload order."
    task = admin.create_task(name(), ["car", "person", "bicycle"], subset=subset)
    try:
        paths = make_images(tmp_path)
        preds = street_predictions()
        admin.upload_images(task.id, paths, annotations=preds)
        assert admin.frame_names(task.id) == [p.name for p in paths]
        sent = [a if a is not None else Annotation(p.name) for a, p in zip(preds, paths)]
        for fmt in ("YOLO", "COCO", "PASCAL_VOC", "CVAT"):
            back = admin.export_annotations(task.id, fmt)
            assert [a.image for a in back] == [p.name for p in paths], (fmt, subset)
            assert [(a.width, a.height) for a in back] == [s for _, s in STREET], (fmt, subset)
            if fmt == "YOLO":                         # 6 decimals of a fraction of the image
                assert same_boxes(back, sent, atol=1e-6 * 80), (fmt, subset)
            else:
                assert boxes_of(back) == boxes_of(sent), (fmt, subset)
        # the raw Pascal VOC archive names its list after the subset: the old reader looked only for default.txt
        voc = zipfile.ZipFile(io.BytesIO(admin.export_annotations(task.id, "PASCAL_VOC", raw=True)))
        listed = voc.read(f"ImageSets/Main/{subset or 'default'}.txt").decode().split()
        assert listed == [p.stem for p in paths]
        assert [a.image for a in read_export(voc.fp.getvalue(), "VOC")] == [p.name for p in paths]
    finally:
        admin.sdk.tasks.remove_by_ids([task.id])


def test_an_empty_frame_of_a_completed_job_is_stored_as_an_empty_list(client, cvat, tmp_path):
    "The person looked and drew nothing: that is an answer (no object), stored as []; unfinished frames are not."
    task = new_task(client, ["car", "person", "bicycle"])
    paths = make_images(tmp_path)
    client.upload_images(task.id, paths, annotations=street_predictions())
    store = LabelStore(tmp_path / "l.sqlite")
    assert client.pull_annotations(task.id, store, finished_only=True) == 0
    (job_id,) = client.assign(task.id, client.user)
    complete_job_as(cvat.url, (client.user, cvat.password if client.user == cvat.user else cvat.lead_password), job_id)
    assert client.pull_annotations(task.id, store, finished_only=True) == 4
    assert store.labels()["alpha.png"] == []
    assert set(store.current().who) == {client.user}


# --- the specification's calls, verbatim, against the real server -----------------------------------------
class _Tensor:
    def __init__(self, a):
        self.a = np.asarray(a)

    def cpu(self):
        return self

    def numpy(self):
        return self.a


class YOLO:
    "A tiny deterministic detector with ultralytics' predict() surface: the box of the pure red pixels is a car."
    names = {0: "car", 1: "person", 2: "bicycle"}

    class model:                                # no weights: PreAnnotator's version digest is over nothing
        state_dict = staticmethod(dict)

    def predict(self, images, **kw):
        import types
        out = []
        for bgr in images:
            ys, xs = np.where((bgr[..., 2] == 255) & (bgr[..., 1] == 0) & (bgr[..., 0] == 0))
            boxes = types.SimpleNamespace(
                xyxy=_Tensor([[xs.min(), ys.min(), xs.max() + 1, ys.max() + 1]] if len(xs) else np.zeros((0, 4))),
                conf=_Tensor([0.93] if len(xs) else []), cls=_Tensor([0] if len(xs) else []))
            out.append(types.SimpleNamespace(boxes=boxes))
        return out


def red_box_images(folder: Path, n: int = 3) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i in range(n):
        img = np.zeros((48, 64, 3), np.uint8)
        img[10 + i:30 + i, 10:30] = (255, 0, 0)
        paths.append(folder / f"red_{n - i}.png")
        Image.fromarray(img).save(paths[-1])
    return paths


def test_the_specifications_cvat_calls_verbatim(cvat, admin, tmp_path):
    from auto_labeling import DiversitySampling
    cvat_ = CVATClient(host=cvat.host, credentials=(cvat.user, cvat.password))       # the real host, port, user
    made = []
    try:
        task = cvat_.create_task(name=name("Object Detection"), labels=["car", "person", "bicycle"], subset="train")
        made.append(task.id)
        image_paths, model_predictions = make_images(tmp_path / "street"), street_predictions()
        cvat_.upload_images(task_id=task.id, images=image_paths, annotations=model_predictions)
        annotations = cvat_.export_annotations(task_id=task.id, format="YOLO")
        assert [a.image for a in annotations] == [p.name for p in image_paths]
        assert same_boxes(annotations, [a or Annotation(p.name) for a, p in zip(model_predictions, image_paths)],
                          atol=1e-6 * 80)                    # within YOLO's 6-decimal rounding
        # Object detection: pre-annotate, review in CVAT
        images = red_box_images(tmp_path / "red")
        annotator = PreAnnotator(model=YOLO(), device="cpu")
        pre_boxes = annotator.predict(images)
        task_id = cvat_.create_task(name(), labels=["car", "person", "bicycle"]).id
        made.append(task_id)
        report = cvat_.upload_with_annotations(task_id, images, pre_boxes)
        assert report.shapes_added == 3
        assert boxes_of(cvat_.export_annotations(task_id, "COCO")) == boxes_of(pre_boxes)
        # Medical image segmentation: core-set diversity picks scans, an expert task
        scans = []
        for i in range(10):
            scans.append(tmp_path / "scans" / f"scan_{i:02d}.png")
            scans[-1].parent.mkdir(exist_ok=True)
            Image.fromarray(np.full((32, 32), 25 * i, np.uint8)).save(scans[-1])
        flat = lambda paths: np.stack([np.asarray(Image.open(p), float).ravel() for p in paths])
        diversity = DiversitySampling(method="coreset")
        diverse_scans = diversity.query(unlabeled_pool=[str(p) for p in scans], featurize=flat, n_instances=4)
        seg = cvat_.create_segmentation_task(diverse_scans, labels=["tumor", "healthy"])
        made.append(seg.id)
        assert cvat_.frame_names(seg.id) == [Path(p).name for p in diverse_scans.items]
        assert {l.type for l in seg.get_labels()} == {"any"}
    finally:
        admin.sdk.tasks.remove_by_ids(made)
        cvat_.close()


# --- the full flow, as the admin and as an ordinary user -----------------------------------------------
def test_flow_upload_idempotent_scores_export_import_review_pull(client, cvat, reviewer, admin, tmp_path):
    store = LabelStore(tmp_path / "labels.sqlite")
    task = new_task(client, score_attribute=True)
    images = make_images(tmp_path, [(f"img_{i}.png", (64, 48)) for i in range(3)])
    report = client.upload_with_annotations(task.id, images, TRUTH, store=store)
    assert report.uploaded and report.shapes_added == 4 and report.frames == {f"img_{i}.png": i for i in range(3)}
    # a re-run after a crash: same task found by name, images and shapes not sent twice
    again_task = client.create_task(task.name, ["dog", "cat"], score_attribute=True)
    assert again_task.id == task.id and len(client.find_tasks(task.name)) == 1
    again = client.upload_with_annotations(task.id, images, TRUTH, store=store)
    assert (again.uploaded, again.shapes_added) == (False, 0)
    shapes = client.task(task.id).get_annotations().shapes
    assert len(shapes) == 4 and sorted(s.frame for s in shapes) == [0, 1, 1, 2]
    assert sorted(float(a.value) for s in shapes for a in s.attributes) == [0.7, 0.8, 0.9, 0.95]  # `score`
    model_rows = store.current(kind="model")
    assert set(model_rows.who) == {"demo:1"} and sorted(model_rows.confidence.round(3)) == [0.75, 0.9, 0.95]
    for fmt in ("YOLO", "COCO", "PASCAL_VOC", "CVAT"):
        assert boxes_of(client.export_annotations(task.id, fmt)) == boxes_of(TRUTH), fmt
    # importing the golden COCO (a real 2.23.1 export) into a fresh task gives the same annotations
    other = new_task(client)
    client.upload_images(other.id, images)
    client.task(other.id).import_annotations("COCO 1.0", GOLDEN / "coco.zip")
    assert boxes_of(client.export_annotations(other.id, "VOC")) == boxes_of(TRUTH)
    # a person reviews: the job is theirs, they move a box and finish the job
    if client.user == cvat.user:                           # the admin may give the job to anyone
        person, password = reviewer
    else:                                                  # an ordinary user sees only themself: reviews it themself
        person, password = client.user, cvat.lead_password
    (job_id,) = client.assign(task.id, person)
    assert client.pull_annotations(task.id, store, finished_only=True) == 0     # not finished: nothing yet
    moved = next(s for s in shapes if s.frame == 0)
    complete_job_as(cvat.url, (person, password), job_id, edits=[("update", [dict(
        id=moved.id, type="rectangle", frame=0, label_id=moved.label_id, points=[12.0, 10.0, 32.0, 30.0])])])
    assert client.pull_annotations(task.id, store, finished_only=True) == 3
    assert client.pull_annotations(task.id, store, finished_only=True) == 0     # pulling again adds nothing
    human = store.current()
    assert set(human.who) == {person} and sorted(human.item_id) == ["img_0.png", "img_1.png", "img_2.png"]
    assert store.labels()["img_0.png"] == [{"bbox": [12.0, 10.0, 32.0, 30.0], "label": "cat"}]
    from cvat_sdk import models
    client.task(task.id).update_annotations(models.PatchedLabeledDataRequest(shapes=[models.LabeledShapeRequest(
        id=moved.id, type="rectangle", frame=0, label_id=moved.label_id, points=[13.0, 10.0, 33.0, 30.0])]))
    assert client.pull_annotations(task.id, store) == 1                         # a correction is one new event


def test_polygons_and_masks_round_trip_through_exports_and_pull(client, tmp_path):
    from auto_labeling.cvat_shapes import mask_from_rle
    scans = make_images(tmp_path, [(f"scan_{i}.png", (64, 48)) for i in (3, 1, 2)])
    mask = np.zeros((48, 64), bool)
    mask[5:20, 30:50] = True
    mask[30:40, 2:6] = True                                 # two parts: a mask is not a box
    task = client.create_segmentation_task(scans, labels=["tumor", "healthy"], name=name(),
                                           polygons=[[("tumor", [10, 10, 30, 10, 20, 30])], [], []],
                                           masks=[[], [("healthy", mask)], []])
    client.made.append(("task", task.id))
    for fmt in ("COCO", "CVAT"):
        back = client.export_annotations(task.id, fmt)
        assert [a.image for a in back] == [p.name for p in scans]
        assert back[0].polygons == [("tumor", [10.0, 10.0, 30.0, 10.0, 20.0, 30.0])] and back[0].masks == []
        assert [m[0] for m in back[1].masks] == ["healthy"] and np.array_equal(mask_from_rle(back[1].masks[0][1]), mask)
        assert back[2].shape_dicts() == []
    store = LabelStore(tmp_path / "seg.sqlite")
    assert client.pull_annotations(task.id, store) == 3
    labels = store.labels()
    assert labels["scan_3.png"] == [{"bbox": [10.0, 10.0, 30.0, 30.0], "label": "tumor",
                                     "polygon": [10.0, 10.0, 30.0, 10.0, 20.0, 30.0]}]
    (got,) = labels["scan_1.png"]
    assert got["label"] == "healthy" and got["bbox"] == [2.0, 5.0, 50.0, 40.0]
    assert np.array_equal(mask_from_rle(got["mask"]), mask)
    assert labels["scan_2.png"] == []
    assert client.pull_annotations(task.id, store, format="CVAT") == 0   # the same shapes read from the XML


def test_tasks_inside_a_project_take_the_projects_labels(client, tmp_path):
    project = client.create_project(name("al-test-project"), ["car", "person", "bicycle"], score_attribute=True)
    client.made.append(("project", project.id))
    assert client.create_project(project.name, ["bicycle", "person", "car"]).id == project.id      # found again
    task = client.create_task(name(), project_id=project.id, subset="train")
    client.made.append(("task", task.id))
    assert task.project_id == project.id
    assert client.label_ids(task.id) == {l.name: l.id for l in project.get_labels()}
    assert client.create_task(task.name, ["car", "person", "bicycle"], project_id=project.id).id == task.id
    with pytest.raises(ValueError, match="takes the project's labels"):
        client.create_task(name(), ["dog"], project_id=project.id)
    paths = make_images(tmp_path)
    report = client.upload_images(task.id, paths, annotations=street_predictions())
    assert report.shapes_added == 4
    shapes = client.task(task.id).get_annotations().shapes
    assert sorted(float(a.value) for s in shapes for a in s.attributes) == [0.6, 0.7, 0.8, 0.9]   # project's score
    assert boxes_of(client.export_annotations(task.id, "COCO")) == boxes_of(
        [a if a is not None else Annotation(p.name) for a, p in zip(street_predictions(), paths)])
    store = LabelStore(tmp_path / "p.sqlite")
    assert client.pull_annotations(task.id, store) == 4
    assert store.labels()["zeta_2.png"] == [{"bbox": [5.0, 5.0, 70.0, 50.0], "label": "bicycle"}]


def test_assigning_another_person_needs_an_organization_for_a_non_admin(cvat, admin, reviewer, tmp_path):
    if not (cvat.lead and cvat.lead_password):
        pytest.skip("ordinary-user tier: set CVAT_LEAD and CVAT_LEAD_PASSWORD")
    from cvat_sdk import models
    lead = CVATClient(cvat.url, (cvat.lead, cvat.lead_password), progress=False)
    own = lead.create_task(name(), ["car"])
    made = [own.id]
    slug = f"t{uuid.uuid4().hex[:8]}"
    try:
        lead.upload_images(own.id, make_images(tmp_path)[:2])
        with pytest.raises(LookupError, match=f"user '{reviewer[0]}' is not visible to '{cvat.lead}' in the personal "
                                              f"workspace.*organization"):
            lead.assign(own.id, reviewer[0])
        assert lead.assign(own.id, cvat.lead)                        # themself they can see
        assert admin.assign(own.id, reviewer[0])                     # an admin can give it to anyone
        lead.sdk.organizations.create(models.OrganizationWriteRequest(slug=slug, name="al-test team"))
        with lead.sdk.organization_context(slug):
            lead.sdk.api_client.invitations_api.create(models.InvitationWriteRequest(
                role="worker", email=f"{reviewer[0]}@example.com"))
        team = CVATClient(cvat.url, (cvat.lead, cvat.lead_password), organization=slug, progress=False)
        assert f"organization={slug!r}" in repr(team)
        task = team.create_task(name(), ["car"])
        made.append(task.id)
        team.upload_images(task.id, make_images(tmp_path)[:2])
        team.assign(task.id, reviewer[0])
        assert team.assignees(task.id) == {0: reviewer[0], 1: reviewer[0]}
        # the reviewer, a worker of the organization, finishes the job; the lead pulls it
        complete_job_as(cvat.url, reviewer, team.task(task.id).get_jobs()[0].id)
        assert team.finished_frames(task.id) == {0, 1}
    finally:
        admin.sdk.tasks.remove_by_ids(made)
        orgs = admin.sdk.organizations.list(slug=slug)
        if orgs:
            admin.sdk.api_client.organizations_api.destroy(orgs[0].id)


# --- our models inside CVAT's auto-annotation tooling --------------------------------------------------
def test_pre_annotator_runs_inside_cvat_sdk_annotate_task(client, tmp_path):
    from cvat_sdk.auto_annotation import annotate_task
    pre = PreAnnotator(YOLO(), confidence_threshold=0.5, model_version="red-box:1", device="cpu")
    fn = as_auto_annotation_function(pre)
    assert [l.name for l in fn.spec.labels] == ["car", "person", "bicycle"]
    task = new_task(client, ["car", "person", "bicycle"])
    images = red_box_images(tmp_path)
    client.upload_images(task.id, images)
    annotate_task(client.sdk, task.id, fn)                   # CVAT's own driver, unpatched
    shapes = client.task(task.id).get_annotations().shapes
    assert sorted((s.frame, s.points) for s in shapes) == [(f, [10.0, 10.0 + f, 30.0, 30.0 + f]) for f in range(3)]
    assert {s.source for s in shapes} == {"auto"}
    client.annotate_task(task.id, pre, clear_existing=True)  # the same through our client
    assert len(client.task(task.id).get_annotations().shapes) == 3
    with pytest.raises(TypeError, match="must be a PreAnnotator"):
        as_auto_annotation_function(object())


# --- from the learner and the pipeline (public API only) -------------------------------------------------
def _pool(tmp_path, n):
    "A pool of n image files (features X) with a known class each: the red box on the left is 'car', else 'person'."
    rng = np.random.default_rng(0)
    X = rng.normal(size=(n, 4))
    y = np.where(X[:, 0] > 0, "car", "person")
    paths = []
    for i in range(n):
        img = np.zeros((40, 48, 3), np.uint8)
        img[5:20, (5 if y[i] == "car" else 25):(20 if y[i] == "car" else 40)] = (255, 0, 0)
        paths.append(tmp_path / f"pool_{i:03d}.png")
        Image.fromarray(img).save(paths[-1])
    return X, y, [str(p) for p in paths]


def _new_tasks(admin, before: set) -> list:
    return sorted((t for t in admin.sdk.tasks.list() if t.id not in before), key=lambda t: t.id)


def test_send_to_labeling_tool_cvat(cvat, admin, tmp_path):
    from sklearn.linear_model import LogisticRegression
    X, y, paths = _pool(tmp_path, 30)
    store = LabelStore(tmp_path / "l.sqlite")
    learner = ActiveLearner(LogisticRegression(), batch_size=3, X_training=X[:6], y_training=y[:6], store=store)
    batch = learner.query(X, n_instances=3)
    pre = PreAnnotator(YOLO(), confidence_threshold=0.5, model_version="red-box:1", device="cpu")
    before = {t.id for t in admin.sdk.tasks.list()}
    try:
        labels = learner.send_to_labeling(batch, tool="cvat", client=admin, labels=["car", "person", "bicycle"],
                                          images=paths, predict=pre)
        assert labels is None                                   # pending: people label in CVAT
        (task,) = _new_tasks(admin, before)
        assert admin.frame_names(task.id) == [Path(paths[i]).name for i in batch.indices]
        assert len(task.get_annotations().shapes) == 3         # the model's boxes, drawn
        assert set(store.current(kind="model").item_id) == {str(i) for i in batch.indices}
        again = learner.send_to_labeling(batch, tool="cvat", client=admin, labels=["car", "person", "bicycle"],
                                         images=paths)          # the same batch again: the same task, nothing re-sent
        assert again is None and [t.id for t in _new_tasks(admin, before)] == [task.id]
        # the person finishes; the labels come back under the learner's item ids
        complete_job_as(cvat.url, (cvat.user, cvat.password), task.get_jobs()[0].id)
        ids = {Path(paths[i]).name: str(i) for i in batch.indices}
        assert admin.pull_annotations(task.id, store, item_ids=ids, finished_only=True) == 3
        assert {k: [b["label"] for b in v] for k, v in store.labels().items()} == \
            {str(i): ["car"] for i in batch.indices}             # the person kept the model's box on each image
    finally:
        admin.sdk.tasks.remove_by_ids([t.id for t in _new_tasks(admin, before)])


def test_pipeline_two_cvat_rounds_collect_only_completed_jobs(cvat, admin, tmp_path):
    "Two review rounds on the real server: untouched tasks teach nothing; a completed job's boxes become classes."
    from sklearn.linear_model import LogisticRegression
    X, y, paths = _pool(tmp_path, 40)
    name_to_class = {Path(p).name: c for p, c in zip(paths, y)}
    before = {t.id for t in admin.sdk.tasks.list()}

    def pipeline():
        p = AutoLabelingPipeline(LogisticRegression(), labeling_tool="cvat", store=tmp_path / "c.sqlite",
                                 client=admin, classes=["car", "person"], random_state=0)
        return p.configure(batch_size=4, max_iterations=2, evaluation=EvaluationSettings(random_baseline=False))

    def review(task):
        "A person draws one box of the image's class on every frame and finishes the job."
        ids = admin.label_ids(task.id)
        shapes = [dict(type="rectangle", frame=k, label_id=ids[name_to_class[n]], points=[5.0, 5.0, 20.0, 20.0])
                  for k, n in enumerate(admin.frame_names(task.id))]
        complete_job_as(cvat.url, (cvat.user, cvat.password), task.get_jobs()[0].id, edits=[("create", shapes)])

    data = dict(labeled_data=(X[:6], y[:6]), unlabeled_data=X[6:], items=paths[6:], progress=False)
    try:
        r = pipeline().run(**data)
        assert r.stopped_by == "waiting_for_labels"
        (first,) = _new_tasks(admin, before)
        r = pipeline().run(**data)                          # nothing reviewed yet: nothing learned, still waiting
        assert r.stopped_by == "waiting_for_labels" and r.labels_used == 6
        assert [t.id for t in _new_tasks(admin, before)] == [first.id]
        review(first)
        r = pipeline().run(**data)                          # round 1 collected, round 2 sent
        assert r.stopped_by == "waiting_for_labels" and r.labels_used == 10
        first_, second = _new_tasks(admin, before)
        assert first_.id == first.id and not set(admin.frame_names(first.id)) & set(admin.frame_names(second.id))
        review(second)
        r = pipeline().run(**data)
        assert r.stopped_by == "max_iterations" and r.labels_used == 14
        stored = LabelStore(str(tmp_path / "c.sqlite")).labels("human")
        sent = admin.frame_names(first.id) + admin.frame_names(second.id)
        assert len(stored) == 8 and sorted(stored.values()) == sorted(name_to_class[n] for n in sent)
    finally:
        admin.sdk.tasks.remove_by_ids([t.id for t in _new_tasks(admin, before)])


# --- uploads that need several requests ---------------------------------------------------------------
def test_large_upload_goes_in_several_requests(admin, tmp_path):
    rng = np.random.default_rng(0)
    paths = []
    for i in range(40):
        p = tmp_path / f"big_{39 - i:02d}.png"                         # names in reverse order
        Image.fromarray(rng.integers(0, 255, (120, 160, 3), dtype=np.uint8)).save(p)
        paths.append(p)
    preds = [Annotation(p.name, 160, 120, [[5, 5, 50, 60]], ["cat"], [0.9]) for p in paths]
    task = admin.create_task(name(), ["cat", "dog"])
    try:
        admin.progress = True
        report = admin.upload_images(task.id, paths, annotations=preds, chunk_mb=0.2)   # ~58 KB per image
        assert report.uploaded and report.shapes_added == 40
        assert admin.frame_names(task.id) == [p.name for p in paths]
    finally:
        admin.progress = False
        admin.sdk.tasks.remove_by_ids([task.id])


# --- bad input, against the real server -----------------------------------------------------------------
def test_wrong_credentials_and_tokens(cvat, monkeypatch):
    with pytest.raises(PermissionError, match=f"rejected the login of user '{cvat.user}'") as e:
        CVATClient(cvat.url, (cvat.user, "not-the-password"))
    assert "not-the-password" not in str(e.value) and "not-the-password" not in repr(e.value)
    with pytest.raises(PermissionError) as e:                      # 2.23.1 has no personal access tokens (Bearer)
        CVATClient(cvat.url, token="bogus-token-123")
    assert "bogus-token-123" not in str(e.value) and "access tokens" in str(e.value)
    monkeypatch.setenv("CVAT_HOST", cvat.url)
    monkeypatch.setenv("CVAT_USER", cvat.user)
    monkeypatch.setenv("CVAT_PASSWORD", cvat.password)
    monkeypatch.delenv("CVAT_ACCESS_TOKEN", raising=False)
    c = CVATClient()
    assert c.user == cvat.user and cvat.password not in repr(c) and c.server_version == "2.23.1"
    with pytest.raises(TypeError, match="credentials must be a"):
        CVATClient(cvat.url, credentials="admin:pw")
    monkeypatch.delenv("CVAT_HOST")
    monkeypatch.delenv("CVAT_URL", raising=False)
    with pytest.raises(ValueError, match="host is required"):
        CVATClient()


def test_bad_predictions_formats_and_task_ids(client, cvat, tmp_path, caplog):
    task = new_task(client)
    images = make_images(tmp_path, [(f"img_{i}.png", (64, 48)) for i in range(3)])
    client.upload_images(task.id, images)
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
    with pytest.raises(LookupError, match="task 999999999 does not exist"):
        client.export_annotations(999_999_999, "COCO")
    with pytest.raises(ValueError, match="task_id must be a positive int"):
        client.task("7")
    with pytest.raises(ValueError, match="already exists outside any project with labels"):
        client.create_task(client.task(task.id).name, ["car"])
    with pytest.raises(CVATError, match="already holds 3 other images"):
        client.upload_images(task.id, images[:2])
    with pytest.raises(ValueError, match="images not found"):
        client.upload_images(task.id, [tmp_path / "nope.png"])
    with pytest.raises(TypeError, match="format must be a string"):
        cvat_format(3)
    assert cvat.password not in caplog.text and (cvat.lead_password or cvat.password) not in caplog.text


# --- the double: recorded answers, and the faults only it can give ------------------------------------------
PASSWORD = "double-pass-7f3a"
IMAGES = [GOLDEN / f"img_{i}.png" for i in range(3)]


@pytest.fixture
def double():
    d = CVATDouble({"admin": PASSWORD, "alice": "alice-pass-1"}).start()
    yield d
    d.stop()
    assert d.errors == [], d.errors


def double_client(double, tmp_path, **kw):
    return CVATClient(double.url, ("admin", PASSWORD), status_check_period=0.02, backoff=0.01, progress=False,
                      cache_dir=tmp_path / "cache", **kw)


# which recorded answer each SDK call the double serves must look like
RECORDED_FOR = {("ServerApi", "retrieve_about"): "server_about", ("AuthApi", "create_login"): "auth_login",
                ("UsersApi", "retrieve_self"): "users_self", ("TasksApi", "create"): "tasks_create",
                ("TasksApi", "list"): "tasks_list", ("LabelsApi", "list"): "labels_list",
                ("TasksApi", "retrieve_data_meta"): "tasks_retrieve_data_meta",
                ("TasksApi", "retrieve_annotations"): "tasks_retrieve_annotations",
                ("TasksApi", "partial_update_annotations"): "tasks_partial_update_annotations",
                ("JobsApi", "list"): "jobs_list", ("JobsApi", "retrieve"): "jobs_retrieve",
                ("JobsApi", "partial_update"): "jobs_partial_update", ("TasksApi", "create_data"): "tasks_create_data",
                ("TasksApi", "create_dataset_export"): "tasks_create_dataset_export",
                ("TasksApi", "create_annotations"): "tasks_create_annotations"}


def _same_fields(sent, real, where=""):
    "Field names equal at every level where both hold a value (null, an empty list or a string carry no fields)."
    if isinstance(sent, dict) and isinstance(real, dict):
        assert sorted(sent) == sorted(real), f"{where}: double {sorted(set(sent) ^ set(real))} differ from CVAT 2.23.1"
        for k in sent:
            _same_fields(sent[k], real[k], f"{where}.{k}")
    elif isinstance(sent, list) and isinstance(real, list) and sent and real:
        _same_fields(sent[0], real[0], f"{where}[0]")


def test_the_doubles_answers_have_the_recorded_field_sets(double, tmp_path):
    meta = json.loads((FIXTURES / "meta.json").read_text())
    assert meta["server"] == "2.23.1" and meta["by"] == "tests/record_cvat_fixtures.py"
    client = double_client(double, tmp_path)
    task = client.create_task(name(), ["cat", "dog"], subset="train", score_attribute=True)
    assert client.frame_names(task.id) == []                       # a task without data: no `size`, as on 2.23.1
    client.upload_with_annotations(task.id, IMAGES, TRUTH)
    client.export_annotations(task.id, "COCO")
    client.task(task.id).import_annotations("COCO 1.0", GOLDEN / "coco.zip")
    client.sdk.jobs.retrieve(client.task(task.id).get_jobs()[0].id).update({"state": "completed"})
    checked = set()
    for api, op, status, payload in double.sent:
        if (api, op) == ("TasksApi", "retrieve"):
            answer = "tasks_retrieve_with_data" if "size" in payload else "tasks_retrieve_without_data"
        elif (api, op) == ("RequestsApi", "retrieve"):
            answer = "requests_retrieve_export" if payload["result_url"] else "requests_retrieve_create"
        else:
            answer = RECORDED_FOR[(api, op)]
        real = recorded(answer)
        assert status == real["status"], (api, op, status, real["status"])
        _same_fields(field_tree(payload), field_tree(real["body"]), answer)
        checked.add(answer)
    assert {"tasks_retrieve_without_data", "tasks_retrieve_with_data", "server_about", "labels_list", "jobs_list",
            "tasks_retrieve_annotations", "tasks_create_dataset_export", "requests_retrieve_export",
            "tasks_create_annotations", "jobs_partial_update", "tasks_retrieve_data_meta"} <= checked
    assert "logo_url" not in recorded("server_about")["body"] and "size" not in \
        recorded("tasks_retrieve_without_data")["body"]


def test_the_doubles_rectangle_exports_equal_the_recorded_real_ones(double, tmp_path):
    "The recorded task's frames and rectangles, exported by the double, give the real 2.23.1's YOLO files."
    from record_cvat_fixtures import FRAMES, LABELS, images
    client = double_client(double, tmp_path)
    task = client.create_task(name(), LABELS, subset="train")
    folder = tmp_path / "rec"
    folder.mkdir()
    paths = []
    for n, data in images():
        paths.append(folder / n)
        paths[-1].write_bytes(data)
    real = read_export((FIXTURES / "exports" / "coco.zip").read_bytes(), "COCO")
    client.upload_images(task.id, paths, annotations=[Annotation(a.image, a.width, a.height, a.boxes, a.labels)
                                                      for a in real])
    got = zipfile.ZipFile(io.BytesIO(client.export_annotations(task.id, "YOLO", raw=True)))
    want = zipfile.ZipFile(FIXTURES / "exports" / "yolo.zip")
    assert sorted(got.namelist()) == sorted(want.namelist())
    assert all(got.read(n) == want.read(n) for n in want.namelist())
    for fmt in ("COCO", "PASCAL_VOC", "CVAT"):
        assert boxes_of(client.export_annotations(task.id, fmt)) == boxes_of(real), fmt
    assert [a.image for a in client.export_annotations(task.id, "VOC")] == [n for n, _ in FRAMES]


def test_a_5xx_in_the_middle_of_a_chunked_upload_is_retried_and_nothing_is_sent_twice(double, tmp_path):
    rng = np.random.default_rng(0)
    paths = []
    for i in range(40):
        p = tmp_path / f"big_{39 - i:02d}.png"
        Image.fromarray(rng.integers(0, 255, (120, 160, 3), dtype=np.uint8)).save(p)
        paths.append(p)
    preds = [Annotation(p.name, 160, 120, [[5, 5, 50, 60]], ["cat"], [0.9]) for p in paths]
    client = double_client(double, tmp_path)

    def data_calls():
        return sum(c == ("TasksApi", "create_data") for c in double.calls)
    clean = client.create_task(name(), ["cat", "dog"])
    n0 = data_calls()
    client.upload_images(clean.id, paths, chunk_mb=0.2)              # ~58 KB per image: several bulk requests
    n_clean = data_calls() - n0
    assert n_clean >= 2 + 40 * 58_000 // (0.2 * 2 ** 20)             # start, the bulk requests, finish
    task = client.create_task(name(), ["cat", "dog"])
    double.fail_parts = {double._parts + 3: 503}    # the third bulk request of this upload fails
    double.fail_next = [502]                        # and the next SDK call too (reading the task): retried
    n0 = data_calls()
    report = client.upload_images(task.id, paths, annotations=preds, chunk_mb=0.2)
    assert report.uploaded and report.shapes_added == 40 and double.fail_parts == {} and double.fail_next == []
    assert data_calls() - n0 == 4 + n_clean         # start + 3 bulk (the last failed), then the whole upload again
    assert client.frame_names(task.id) == [p.name for p in paths]
    assert len(client.task(task.id).get_annotations().shapes) == 40


def test_a_5xx_while_adding_shapes_does_not_add_them_twice(double, tmp_path):
    client = double_client(double, tmp_path)
    task = client.create_task(name(), ["cat", "dog"])
    client.upload_images(task.id, IMAGES)
    many = [Annotation(f"img_{k}.png", 64, 48, [[1 + i, 1, 5 + i, 5] for i in range(30)], ["cat"] * 30) for k in range(3)]
    real_patch = double.tasks_partial_update_annotations
    state = {"n": 0}

    def lands_then_fails(**kw):                     # the second chunk lands, but its answer is a 503
        state["n"] += 1
        result = real_patch(**kw)
        if state["n"] == 2:
            raise HttpError(503, {"detail": "injected after the write"})
        return result
    double.tasks_partial_update_annotations = lands_then_fails
    assert client.upload_annotations(task.id, many, chunk_size=25) == 90
    assert len(client.task(task.id).get_annotations().shapes) == 90


class _NotCVAT(BaseHTTPRequestHandler):
    body = b"<html><body>hello</body></html>"

    def do_GET(self):
        self.send_response(200)
        self.send_header("Content-Type", "text/html" if self.body.startswith(b"<") else "application/json")
        self.send_header("Content-Length", str(len(self.body)))
        self.end_headers()
        self.wfile.write(self.body)

    do_POST = do_GET

    def log_message(self, *a):
        pass


class _OldCVAT(_NotCVAT):
    body = json.dumps({"name": "Computer Vision Annotation Tool", "version": "1.7.0"}).encode()


def test_a_server_that_is_not_cvat_an_old_cvat_and_one_that_is_down():
    for handler, error, message in ((_NotCVAT, ConnectionError, "does not answer like a CVAT server"),
                                    (_OldCVAT, CVATError, "CVAT 1.7.0 .* is older than 2.0")):
        srv = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        t = threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
        t.start()
        try:
            with pytest.raises(error, match=message):
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


def test_a_server_that_dies_mid_session(double, tmp_path):
    client = double_client(double, tmp_path, retries=1)
    task = client.create_task(name(), ["cat"])
    double.stop()
    with pytest.raises(ConnectionError, match="cannot reach CVAT .* to read task"):
        client.upload_images(task.id, IMAGES)


def test_our_readers_read_the_golden_exports():
    sizes = {f"img_{i}.png": (64, 48) for i in range(3)}
    for fmt, zname in (("YOLO", "yolo"), ("COCO", "coco"), ("PASCAL_VOC", "voc")):
        got = read_export((GOLDEN / f"{zname}.zip").read_bytes(), fmt, sizes)
        assert [Path(a.image).name for a in got] == [f"img_{i}.png" for i in range(3)]
        assert boxes_of(got) == boxes_of(TRUTH), fmt
    with_images = read_export((GOLDEN / "yolo_with_images.zip").read_bytes(), "YOLO")   # sizes from the images
    assert boxes_of(with_images) == boxes_of(TRUTH)


def test_the_harness_fails_clearly_and_within_bounds(tmp_path, monkeypatch):
    "No server scripts: a clear error naming the way out; a CVAT home in use: refused after a bounded wait."
    import servers
    monkeypatch.setattr(servers, "CVAT_SERVER_DIR", str(tmp_path / "nowhere"))
    with pytest.raises(RuntimeError, match="the CVAT server scripts are not at .* CVAT_URL, CVAT_USER and CVAT_PASSWORD"):
        servers._script("status", str(tmp_path))
    home = str(tmp_path / "home")
    held = servers._lock(home, wait=0)
    try:
        start = time.monotonic()
        with pytest.raises(RuntimeError, match="is in use by"):
            servers._lock(home, wait=1)
        assert time.monotonic() - start < 10
    finally:
        held.close()
    monkeypatch.setenv("CVAT_URL", "cvat.example.com:8080")
    monkeypatch.setenv("CVAT_USER", "someone")
    monkeypatch.setenv("CVAT_PASSWORD", "pw-1")
    given = servers.cvat_from_environment()
    assert given.url == "http://cvat.example.com:8080" and not given.owned and "pw-1" not in repr(given)
    given.stop()                                    # a server from the environment is never stopped by the tests
