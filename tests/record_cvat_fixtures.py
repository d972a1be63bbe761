"""Record what a real CVAT answers, for the test double and the readers' tests: `tests/fixtures/cvat/`.

    .venv/bin/python tests/record_cvat_fixtures.py            # against CVAT_URL/CVAT_USER/CVAT_PASSWORD, or a CVAT
                                                              # 2.23.1 started here from ../shared/cvat-server
The calls are plain HTTP (requests), not the SDK, so the files hold the server's own JSON: every endpoint the client
uses (about, login, users, projects, tasks without and with data, labels, data meta, jobs, annotations, the export and
import requests and their background requests), a few error answers, and the export zips of one task in every format
the client reads. The task is what users make: subset "train", images named out of alphabetical order and of different
sizes, rectangles, a polygon, a mask and an empty frame. Volatile values stay as recorded (dates, ids); the server's
address is replaced by `{base}`, session keys by `<redacted>`.
"""
from __future__ import annotations

import base64
import datetime as dt
import io
import json
import os
import sys
import time
import uuid
from pathlib import Path

import numpy as np
import requests
from PIL import Image

HERE = Path(__file__).resolve().parent
OUT = HERE / "fixtures" / "cvat"
LABELS = ["car", "person", "bicycle"]
# (file name, (width, height)) in upload order: not alphabetical, sizes differ
FRAMES = [("zeta.png", (64, 48)), ("alpha.png", (80, 60)), ("mid_1.png", (50, 70)), ("beta.png", (40, 40))]


def images() -> list[tuple[str, bytes]]:
    "The recorded task's images: deterministic noise, PNG."
    out = []
    for k, (name, (w, h)) in enumerate(FRAMES):
        buf = io.BytesIO()
        Image.fromarray(np.random.default_rng(k).integers(0, 255, (h, w, 3), dtype=np.uint8)).save(buf, "PNG")
        out.append((name, buf.getvalue()))
    return out


def mask_bitmap() -> np.ndarray:
    "The car mask on frame 1 (alpha.png, 80x60): rows 10-19, columns 30-49."
    m = np.zeros((60, 80), bool)
    m[10:20, 30:50] = True
    return m


def shapes(label_ids: dict) -> list[dict]:
    "What the recorded task holds: two boxes on frame 0, a polygon and a mask on frame 1, nothing on 2, a box on 3."
    from cvat_sdk.masks import encode_mask
    return [{"type": "rectangle", "frame": 0, "label_id": label_ids["car"], "points": [10.0, 10.0, 30.0, 30.5]},
            {"type": "rectangle", "frame": 0, "label_id": label_ids["person"], "points": [35.0, 5.0, 60.0, 40.0]},
            {"type": "polygon", "frame": 1, "label_id": label_ids["person"], "points": [10.0, 10.0, 40.0, 10.0, 25.0, 40.0]},
            {"type": "mask", "frame": 1, "label_id": label_ids["car"], "points": encode_mask(mask_bitmap())},
            {"type": "rectangle", "frame": 3, "label_id": label_ids["bicycle"], "points": [1.0, 2.0, 20.0, 30.0]}]


class Recorder:
    "A logged-in requests session that keeps each answer it is told to keep."

    def __init__(self, url: str, user: str, password: str):
        self.url, self.kept, self.s = url.rstrip("/"), {}, requests.Session()
        self.s.headers["Origin"] = self.url         # CVAT builds a TUS upload's Location from it (500 without)
        self.user, self.password = user, password

    def call(self, method: str, path: str, keep: str | None = None, expect=(200, 201, 202, 204), **kw):
        r = self.s.request(method, self.url + path, timeout=120, **kw)
        if r.status_code not in expect:
            raise RuntimeError(f"{method} {path}: {r.status_code} {r.text[:500]}")
        body = r.json() if r.content and "json" in r.headers.get("Content-Type", "") else None
        if keep:
            self.kept[keep] = {"method": method, "path": path.split("?")[0], "query": path.partition("?")[2],
                               "status": r.status_code, "body": body}
        return body if body is not None else r

    def login(self, keep: str | None = "auth_login"):
        self.call("POST", "/api/auth/login", keep, json={"username": self.user, "password": self.password})
        self.s.headers["X-CSRFToken"] = self.s.cookies.get("csrftoken", "")

    def wait(self, rq_id: str, keep: str | None = None, timeout: float = 300) -> dict:
        deadline = time.monotonic() + timeout
        while True:
            st = self.call("GET", f"/api/requests/{rq_id}")
            if st["status"] in ("finished", "failed") or time.monotonic() > deadline:
                break
            time.sleep(0.5)
        if st["status"] != "finished":
            raise RuntimeError(f"request {rq_id}: {st['status']} {st.get('message')}")
        if keep:
            self.call("GET", f"/api/requests/{rq_id}", keep)
        return st


def record(url: str, user: str, password: str, out: Path = OUT) -> dict:
    "Make the task, keep every answer, write the fixtures; returns {name: file}."
    rec = Recorder(url, user, password)
    rec.call("GET", "/api/server/about", "server_about")
    rec.call("POST", "/api/auth/login", "auth_login_refused", expect=(400,),
             json={"username": user, "password": "not-the-password"})
    rec.login()
    rec.call("GET", "/api/users/self", "users_self")
    rec.call("GET", "/api/users?page_size=100", "users_list")
    tag = uuid.uuid4().hex[:6]
    score = {"name": "score", "mutable": True, "input_type": "number", "values": ["0", "1", "0.0001"],
             "default_value": "1"}                  # what score_attribute=True makes
    label_specs = [{"name": n, "type": "any", "attributes": [score] if n == "car" else []} for n in LABELS]
    project = rec.call("POST", "/api/projects", "projects_create", json={"name": f"fixtures-project-{tag}",
                                                                        "labels": label_specs})
    rec.call("GET", f"/api/projects/{project['id']}", "projects_retrieve")
    rec.call("GET", f"/api/projects?name=fixtures-project-{tag}", "projects_list")
    rec.call("GET", f"/api/labels?project_id={project['id']}", "labels_list_project")
    in_project = rec.call("POST", "/api/tasks", "tasks_create_in_project",
                          json={"name": f"fixtures-in-project-{tag}", "project_id": project["id"], "subset": "train"})
    rec.call("GET", f"/api/labels?task_id={in_project['id']}", "labels_list_task_in_project")
    task = rec.call("POST", "/api/tasks", "tasks_create", json={"name": f"fixtures-{tag}", "subset": "train",
                                                                "labels": label_specs})
    tid = task["id"]
    rec.call("GET", f"/api/tasks/{tid}", "tasks_retrieve_without_data")
    rec.call("GET", f"/api/tasks?name=fixtures-{tag}", "tasks_list")
    rec.call("GET", "/api/tasks/999999999", "tasks_retrieve_missing", expect=(404,))
    labels = rec.call("GET", f"/api/labels?task_id={tid}&page_size=100", "labels_list")["results"]
    label_ids = {l["name"]: l["id"] for l in labels}
    fields = {"image_quality": 95, "sorting_method": "predefined"}
    for k, (name, _) in enumerate(FRAMES):
        fields[f"upload_file_order[{k}]"] = name
    files = [(f"client_files[{k}]", (name, data, "image/png")) for k, (name, data) in enumerate(images())]
    created = rec.call("POST", f"/api/tasks/{tid}/data", "tasks_create_data", data=fields, files=files)
    rec.wait(created["rq_id"], "requests_retrieve_create")
    rec.call("GET", f"/api/tasks/{tid}", "tasks_retrieve_with_data")
    rec.call("GET", f"/api/tasks/{tid}/data/meta", "tasks_retrieve_data_meta")
    jobs = rec.call("GET", f"/api/jobs?task_id={tid}", "jobs_list")["results"]
    rec.call("GET", f"/api/jobs/{jobs[0]['id']}", "jobs_retrieve")
    rec.call("PATCH", f"/api/tasks/{tid}/annotations?action=create", "tasks_partial_update_annotations",
             json={"shapes": shapes(label_ids), "tracks": [], "tags": []})
    rec.call("GET", f"/api/tasks/{tid}/annotations", "tasks_retrieve_annotations")
    rec.call("PATCH", f"/api/jobs/{jobs[0]['id']}", "jobs_partial_update", json={"state": "completed"})
    exports = {}
    for key, fmt in (("YOLO", "YOLO 1.1"), ("COCO", "COCO 1.0"), ("PASCAL_VOC", "PASCAL VOC 1.1"),
                     ("CVAT", "CVAT for images 1.1")):
        q = f"format={requests.utils.quote(fmt)}&save_images=false"
        started = rec.call("POST", f"/api/tasks/{tid}/dataset/export?{q}",
                           "tasks_create_dataset_export" if key == "YOLO" else None)
        st = rec.wait(started["rq_id"], "requests_retrieve_export" if key == "YOLO" else None)
        exports[key] = rec.s.get(st["result_url"], timeout=120).content
    # import: CVAT's own COCO export of the task back into it (the SDK's TUS protocol: start, file, finish)
    coco = exports["COCO"]
    rec.call("POST", f"/api/tasks/{tid}/annotations?format=COCO%201.0", headers={"Upload-Start": "true"})
    made = rec.call("POST", f"/api/tasks/{tid}/annotations/", headers={
        "Upload-Length": str(len(coco)), "Tus-Resumable": "1.0.0",
        "Upload-Metadata": "filename " + base64.b64encode(b"coco.zip").decode()})
    location = made.headers["Location"]
    rec.s.patch(location if "://" in location else url + location, data=coco, timeout=120, headers={
        "Tus-Resumable": "1.0.0", "Upload-Offset": "0", "Content-Type": "application/offset+octet-stream"})
    imported = rec.call("POST", f"/api/tasks/{tid}/annotations?format=COCO%201.0&filename=coco.zip",
                        "tasks_create_annotations", headers={"Upload-Finish": "true"})
    rec.wait(imported["rq_id"], "requests_retrieve_import")
    rec.call("DELETE", f"/api/tasks/{in_project['id']}")
    rec.call("DELETE", f"/api/projects/{project['id']}")
    rec.call("DELETE", f"/api/tasks/{tid}")
    return write(rec.kept, exports, url, out)


def _scrub(obj, base: str):
    if isinstance(obj, dict):
        return {k: ("<redacted>" if k == "key" and isinstance(v, str) else _scrub(v, base)) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_scrub(v, base) for v in obj]
    if isinstance(obj, str):
        return obj.replace(base, "{base}")
    return obj


def write(kept: dict, exports: dict, url: str, out: Path) -> dict:
    about = kept["server_about"]["body"]
    (out / "responses").mkdir(parents=True, exist_ok=True)
    (out / "exports").mkdir(parents=True, exist_ok=True)
    written = {}
    for name, answer in sorted(kept.items()):
        path = out / "responses" / f"{name}.json"
        path.write_text(json.dumps(_scrub(answer, url.rstrip("/")), indent=1, sort_keys=True) + "\n")
        written[name] = path
    for key, data in exports.items():
        path = out / "exports" / f"{key.lower()}.zip"
        path.write_bytes(data)
        written[f"export:{key}"] = path
    (out / "meta.json").write_text(json.dumps({
        "server": about["version"], "recorded": dt.date.today().isoformat(),
        "by": "tests/record_cvat_fixtures.py", "frames": FRAMES, "labels": LABELS, "subset": "train"}, indent=1) + "\n")
    return written


def main() -> int:
    sys.path.insert(0, str(HERE))
    from servers import cvat_server
    with cvat_server() as server:
        written = record(server.url, server.user, server.password)
        print(f"recorded {len(written)} files from CVAT {server.version()} at {server.url} into {OUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
