"""A CVAT test double for the one thing a real server cannot do on demand: fail. Every other test runs against a
real CVAT 2.23.1 (tests/servers.py, ../shared/cvat-server).

A small HTTP server on 127.0.0.1 driven by the REAL cvat-sdk client (never patched functions). Its routes come from the
SDK's own endpoint metadata (an endpoint it does not implement answers 501); its answers are the real server's: every
JSON body is built from what a real CVAT 2.23.1 answered for the same endpoint (`tests/fixtures/cvat/responses/`,
recorded by `tests/record_cvat_fixtures.py`), with only the values of this double's state put into the recorded fields —
a field the real server did not send cannot be sent (`_like` refuses it), and `tests/test_cvat.py` checks that the field
sets of everything it sent equal the recorded ones. Its exports are written the way 2.23.1 writes them for rectangles
(subset-named files, frame order), checked against the recorded real exports.

Faults: `fail_next` (status codes for the next SDK calls), `fail_parts` ({k: status}: the k-th bulk request of a chunked
image upload fails), and `stop()` (a dead server). Not done: organizations, projects, tracks, cloud storage, video,
polygons and masks in exports (rectangles only), permissions; background requests finish at once.
"""
from __future__ import annotations

import base64
import datetime as dt
import io
import json
import re
import secrets
import socket
import threading
import uuid
import zipfile
from email.parser import BytesParser
from email.policy import HTTP
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path, PurePosixPath
from urllib.parse import parse_qs, unquote, urlsplit

SDK_APIS = ("ServerApi", "AuthApi", "UsersApi", "TasksApi", "JobsApi", "LabelsApi", "RequestsApi", "ProjectsApi")
EXPORT_FORMATS = ("YOLO 1.1", "COCO 1.0", "PASCAL VOC 1.1", "CVAT for images 1.1")
IMPORT_FORMATS = ("YOLO 1.1", "COCO 1.0", "PASCAL VOC 1.1")


def sdk_endpoints() -> list[dict]:
    "Every endpoint the SDK knows: api, operation, http method, path template, path regex and response model."
    from cvat_sdk.api_client import ApiClient, Configuration, apis
    client = ApiClient(Configuration(host="http://127.0.0.1"))
    out = []
    for api_name in SDK_APIS:
        api = getattr(apis, api_name)(client)
        for attr in sorted(dir(api)):
            if not attr.endswith("_endpoint"):
                continue
            s = getattr(api, attr).settings
            path = s["endpoint_path"]
            regex = "^" + re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>[^/]+)", re.escape(path.rstrip("/"))) + "/?$"
            out.append({"api": api_name, "op": attr[: -len("_endpoint")], "method": s["http_method"], "path": path,
                        "regex": re.compile(regex), "response": s["response_schema"]})
    # fixed paths first (/api/tasks/backup/ must not be read as /api/tasks/{id})
    out.sort(key=lambda e: ("{" in e["path"], -len(e["path"])))
    return out


FIXTURES = Path(__file__).resolve().parent / "fixtures" / "cvat"


def recorded(name: str) -> dict:
    "What the real server answered for `name` (a file of tests/fixtures/cvat/responses): method, path, status, body."
    return json.loads((FIXTURES / "responses" / f"{name}.json").read_text())


def field_tree(value):
    "The field names of a JSON value, recursively: dicts -> {key: tree}, lists -> [tree of the first item], else None."
    if isinstance(value, dict):
        return {k: field_tree(v) for k, v in value.items()}
    if isinstance(value, list):
        return [field_tree(value[0])] if value else []
    return None


def _now() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat().replace("+00:00", "Z")


def voc_colormap(n: int) -> list[tuple[int, int, int]]:
    "The Pascal VOC colour map (index 0 is the background)."
    out = []
    for i in range(n):
        r = g = b = 0
        c = i
        for j in range(8):
            r |= ((c >> 0) & 1) << (7 - j)
            g |= ((c >> 1) & 1) << (7 - j)
            b |= ((c >> 2) & 1) << (7 - j)
            c >>= 3
        out.append((r, g, b))
    return out


class HttpError(Exception):
    def __init__(self, status: int, body):
        self.status, self.body = status, body


class CVATDouble:
    "The server state and the request handlers; `start()` serves it on a free 127.0.0.1 port in a thread."

    def __init__(self, users: dict | None = None, version: str = "2.23.1", chunk_size: int = 36):
        self.version, self.chunk_size = version, chunk_size
        self.users = {}
        for k, (name, password) in enumerate((users or {"admin": "admin-password"}).items(), start=1):
            self.users[name] = {"id": k, "username": name, "password": password}
        self.sessions, self.tokens = {}, {}
        self.tasks, self.labels, self.jobs, self.requests, self.uploads = {}, {}, {}, {}, {}
        self.errors, self.sent, self.calls = [], [], []
        self.fail_next: list[int] = []            # status codes to answer the next SDK calls with (fault injection)
        self.fail_parts: dict[int, int] = {}      # {k: status}: the k-th bulk request of an image upload fails
        self._parts = 0
        self._ids = {"task": 0, "label": 0, "job": 0, "shape": 0}
        self.lock = threading.RLock()
        self.endpoints = sdk_endpoints()
        self.server = self.thread = None
        self._connections = set()

    # --- life cycle --------------------------------------------------------------------------
    def start(self) -> "CVATDouble":
        double = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def setup(self):
                super().setup()
                double._connections.add(self.connection)

            def _any(self):
                double.handle(self)

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = _any

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
        self.thread.start()
        return self

    def stop(self) -> None:
        "A dead server: stop listening, and cut the keep-alive connections clients still hold."
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
            for conn in list(self._connections):
                try:
                    conn.shutdown(socket.SHUT_RDWR)
                    conn.close()
                except OSError:
                    pass
            self.thread.join(timeout=10)
            self.server = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    def add_token(self, username: str) -> str:
        "A personal access token for `username` (what CVAT's UI makes under Profile > Security)."
        token = secrets.token_urlsafe(24)
        self.tokens[token] = username
        return token

    def next_id(self, kind: str) -> int:
        self._ids[kind] += 1
        return self._ids[kind]

    def _like(self, answer: str, path: tuple = (), /, **values):
        """The real server's answer `answer` (or the part at `path` in it: keys and list positions), with `values` put into
        its fields; a field the real server does not send is refused: the double must not invent one."""
        body = recorded(answer)["body"]
        for k in path:
            body = body[k]
        body = json.loads(json.dumps(body).replace("{base}", self.url))
        unknown = set(values) - set(body)
        if unknown:
            raise AssertionError(f"the double would send {sorted(unknown)} in {answer}, which CVAT 2.23.1 does not send")
        body.update(values)
        return body

    # --- dispatch ------------------------------------------------------------------------------
    def handle(self, h: BaseHTTPRequestHandler) -> None:
        parts = urlsplit(h.path)
        path, query = parts.path, {k: v[-1] for k, v in parse_qs(parts.query, keep_blank_values=True).items()}
        length = int(h.headers.get("Content-Length") or 0)
        body = h.rfile.read(length) if length else b""
        method = h.command
        endpoint, params = None, {}
        for e in self.endpoints:
            m = e["regex"].match(path.rstrip("/") or "/")
            if m and e["method"] == method:
                endpoint, params = e, {k: unquote(v) for k, v in m.groupdict().items()}
                break
        status, payload, headers = 200, None, {}
        try:
            with self.lock:
                if endpoint is None:
                    status, payload, headers = self.extra_route(h, method, path, query, body)
                else:
                    self.calls.append((endpoint["api"], endpoint["op"]))
                    if self.fail_next:
                        raise HttpError(self.fail_next.pop(0), {"detail": "injected failure"})
                    fn = getattr(self, f"{endpoint['api'][:-3].lower()}_{endpoint['op']}", None)
                    if fn is None:
                        raise HttpError(501, {"detail": f"the CVAT test double does not implement "
                                                         f"{method} {endpoint['path']}"})
                    user = None if endpoint["api"] == "ServerApi" or endpoint["op"] == "create_login" else self.auth(h)
                    result = fn(h=h, user=user, query=query, body=body, **params)
                    status, payload, headers = (result + ({},))[:3] if isinstance(result, tuple) else (200, result, {})
                    if isinstance(payload, (dict, list)):
                        self.sent.append((endpoint["api"], endpoint["op"], status, payload))
        except HttpError as e:
            status, payload = e.status, e.body
        except Exception as e:                      # a bug in the double: 500 with the reason
            self.errors.append(f"{method} {path}: {type(e).__name__}: {e}")
            status, payload = 500, {"detail": f"{type(e).__name__}: {e}"}
        self.respond(h, status, payload, headers)

    def respond(self, h, status: int, payload, headers: dict) -> None:
        if isinstance(payload, (bytes, bytearray)):
            data, ctype = bytes(payload), headers.pop("Content-Type", "application/octet-stream")
        elif payload is None:
            data, ctype = b"", "application/json"
        else:
            data, ctype = json.dumps(payload).encode(), "application/json"
        h.send_response(status)
        h.send_header("Content-Type", ctype)
        h.send_header("Content-Length", str(len(data)))
        for k, v in headers.items():
            for one in (v if isinstance(v, list) else [v]):
                h.send_header(k, one)
        h.end_headers()
        if h.command != "HEAD":
            h.wfile.write(data)

    def auth(self, h) -> dict:
        cookies = {}
        for part in (h.headers.get("Cookie") or "").split(";"):
            if "=" in part:
                k, v = part.strip().split("=", 1)
                cookies[k] = v
        name = self.sessions.get(cookies.get("sessionid"))
        authz = h.headers.get("Authorization") or ""
        if name is None and authz.startswith("Bearer "):
            name = self.tokens.get(authz[7:])
            if name is None:
                raise HttpError(401, {"detail": "Invalid token."})
        if name is None:
            raise HttpError(401, {"detail": "Authentication credentials were not provided."})
        return self.users[name]

    # --- server, auth, users -------------------------------------------------------------------
    def server_retrieve_about(self, **_):
        return self._like("server_about", version=self.version)

    def auth_create_login(self, body, **_):
        data = json.loads(body or b"{}")
        user = self.users.get(data.get("username") or data.get("email"))
        if user is None or not secrets.compare_digest(str(data.get("password", "")), user["password"]):
            raise HttpError(400, recorded("auth_login_refused")["body"])
        sid, csrf = secrets.token_hex(16), secrets.token_hex(16)
        self.sessions[sid] = user["username"]
        return 200, self._like("auth_login", key=secrets.token_hex(20)), {"Set-Cookie": [f"csrftoken={csrf}; Path=/; SameSite=Lax",
                                                                    f"sessionid={sid}; HttpOnly; Path=/; SameSite=Lax"]}

    def auth_create_logout(self, h, **_):
        for part in (h.headers.get("Cookie") or "").split(";"):
            if part.strip().startswith("sessionid="):
                self.sessions.pop(part.strip()[10:], None)
        return {"detail": "Successfully logged out."}

    def _user_json(self, u) -> dict:
        return self._like("users_self", url=f"{self.url}/api/users/{u['id']}", id=u["id"], username=u["username"],
                          email=f"{u['username']}@example.com", last_login=_now(), date_joined=_now())

    def _basic_user(self, u) -> dict | None:
        return None if u is None else self._like("tasks_retrieve_with_data", ("owner",),
                                                 url=f"{self.url}/api/users/{u['id']}", id=u["id"],
                                                 username=u["username"])

    def users_retrieve_self(self, user, **_):
        return self._user_json(user)

    def users_list(self, query, **_):
        users = [u for u in self.users.values() if not query.get("username") or u["username"] == query["username"]]
        return self._page([self._user_json(u) for u in users], query)

    def users_retrieve(self, id, **_):
        u = next((u for u in self.users.values() if u["id"] == int(id)), None)
        if u is None:
            raise HttpError(404, {"detail": "Not found."})
        return self._user_json(u)

    def _page(self, results: list, query: dict) -> dict:
        size = int(query.get("page_size") or 10)
        page = int(query.get("page") or 1)
        chunk = results[(page - 1) * size: page * size]
        nxt = f"{self.url}/api/?page={page + 1}" if page * size < len(results) else None
        prev = f"{self.url}/api/?page={page - 1}" if page > 1 else None
        return self._like("tasks_list", count=len(results), next=nxt, previous=prev, results=chunk)

    # --- tasks ---------------------------------------------------------------------------------
    def _task(self, id) -> dict:
        try:
            return self.tasks[int(id)]
        except (KeyError, ValueError):
            raise HttpError(404, recorded("tasks_retrieve_missing")["body"]) from None

    def _task_json(self, t) -> dict:
        jobs = [j for j in self.jobs.values() if j["task_id"] == t["id"]]
        size = len(t["frames"])
        values = dict(url=f"{self.url}/api/tasks/{t['id']}", id=t["id"], name=t["name"], project_id=None,
                      mode="annotation" if size else "", owner=self._basic_user(t["owner"]), assignee=None,
                      created_date=t["created"], updated_date=t["updated"], segment_size=size, subset=t["subset"],
                      jobs=self._like("tasks_retrieve_with_data", ("jobs",), count=len(jobs),
                                      completed=sum(j["state"] == "completed" for j in jobs),
                                      url=f"{self.url}/api/jobs?task_id={t['id']}"),
                      labels={"url": f"{self.url}/api/labels?task_id={t['id']}"})
        if not size:                        # CVAT 2.23.1 leaves size, data and the chunk fields out
            return self._like("tasks_retrieve_without_data", **values)
        return self._like("tasks_retrieve_with_data", size=size, data=t["id"], data_chunk_size=self.chunk_size,
                          **values)

    def tasks_list(self, query, **_):
        tasks = list(self.tasks.values())
        if query.get("name"):
            tasks = [t for t in tasks if query["name"].lower() in t["name"].lower()]
        if query.get("search"):
            tasks = [t for t in tasks if query["search"].lower() in t["name"].lower()]
        return self._page([self._task_json(t) for t in tasks], query)

    def tasks_retrieve(self, id, **_):
        return self._task_json(self._task(id))

    def tasks_create(self, user, body, **_):
        data = json.loads(body or b"{}")
        if not data.get("name"):
            raise HttpError(400, {"name": ["This field is required."]})
        if not data.get("labels") and not data.get("project_id"):
            raise HttpError(400, {"labels": ["Label set must not be empty"]})
        names = [l.get("name") for l in data.get("labels", [])]
        if len(set(names)) != len(names):
            raise HttpError(400, {"labels": ["All label names must be unique"]})
        tid = self.next_id("task")
        t = {"id": tid, "name": data["name"], "subset": data.get("subset", ""), "owner": user, "frames": [],
             "shapes": [], "created": _now(), "updated": _now(), "version": 0}
        self.tasks[tid] = t
        for l in data.get("labels", []):
            lid = self.next_id("label")
            attrs = [self._like("labels_list", ("results", 0, "attributes", 0), id=self.next_id("label"),
                                name=a["name"], mutable=a.get("mutable", False), input_type=a["input_type"],
                                default_value=a.get("default_value", ""), values=a.get("values", []))
                     for a in l.get("attributes", [])]
            self.labels[lid] = self._like("labels_list", ("results", 0), id=lid, name=l["name"],
                                          color=l.get("color") or "#%06x" % (lid * 2654435 % 0xFFFFFF),
                                          type=l.get("type", "any"), attributes=attrs, task_id=tid)
        return 201, self._task_json(t)

    def tasks_partial_update(self, id, body, **_):
        t = self._task(id)
        data = json.loads(body or b"{}")
        for k in ("name", "subset"):
            if k in data:
                t[k] = data[k]
        t["updated"] = _now()
        return self._task_json(t)

    def tasks_destroy(self, id, **_):
        t = self._task(id)
        del self.tasks[t["id"]]
        for d in (self.labels, self.jobs):
            for k in [k for k, v in d.items() if v["task_id"] == t["id"]]:
                del d[k]
        return 204, None

    def labels_list(self, query, **_):
        labels = [l for l in self.labels.values() if "task_id" not in query or str(l["task_id"]) == query["task_id"]]
        return self._page(labels, query)

    def labels_retrieve(self, id, **_):
        if int(id) not in self.labels:
            raise HttpError(404, {"detail": "Not found."})
        return self.labels[int(id)]

    def _task_labels(self, t) -> dict:
        return {l["id"]: l for l in self.labels.values() if l["task_id"] == t["id"]}

    # --- jobs ----------------------------------------------------------------------------------
    def _job_json(self, j) -> dict:
        t = self.tasks[j["task_id"]]
        return self._like("jobs_retrieve", url=f"{self.url}/api/jobs/{j['id']}", id=j["id"], task_id=t["id"],
                          assignee=self._basic_user(j["assignee"]), status=j["status"], stage=j["stage"],
                          state=j["state"], frame_count=j["stop"] - j["start"] + 1, start_frame=j["start"],
                          stop_frame=j["stop"], data_chunk_size=self.chunk_size, created_date=j["created"],
                          updated_date=j["updated"],
                          issues={"count": 0, "url": f"{self.url}/api/issues?job_id={j['id']}"},
                          labels={"url": f"{self.url}/api/labels?job_id={j['id']}"})

    def jobs_list(self, query, **_):
        jobs = [j for j in self.jobs.values() if "task_id" not in query or str(j["task_id"]) == query["task_id"]]
        return self._page([self._job_json(j) for j in jobs], query)

    def jobs_retrieve(self, id, **_):
        if int(id) not in self.jobs:
            raise HttpError(404, {"detail": "Not found."})
        return self._job_json(self.jobs[int(id)])

    def jobs_partial_update(self, id, body, **_):
        if int(id) not in self.jobs:
            raise HttpError(404, {"detail": "Not found."})
        j, data = self.jobs[int(id)], json.loads(body or b"{}")
        if "assignee" in data:
            u = next((u for u in self.users.values() if u["id"] == data["assignee"]), None)
            if data["assignee"] is not None and u is None:
                raise HttpError(400, {"assignee": [f"Invalid pk \"{data['assignee']}\" - object does not exist."]})
            j["assignee"] = u
        for k in ("stage", "state"):
            if k in data:
                j[k] = data[k]
        j["updated"] = _now()
        return self._job_json(j)

    # --- data: the TUS-based upload the SDK uses, frames, chunks, meta -------------------------
    def tasks_create_data(self, h, id, query, body, **_):
        t = self._task(id)
        if h.headers.get("Upload-Start") is not None:
            if t["frames"]:
                raise HttpError(400, {"detail": "Adding more data is not supported"})
            self.uploads[("data", t["id"])] = []
            return 202, None
        if h.headers.get("Upload-Multiple") is not None:
            self._parts += 1
            if self._parts in self.fail_parts:      # a 5xx in the middle of a chunked upload (the files are lost)
                raise HttpError(self.fail_parts.pop(self._parts), {"detail": "injected failure"})
            msg = BytesParser(policy=HTTP).parsebytes(
                b"Content-Type: " + h.headers["Content-Type"].encode() + b"\r\n\r\n" + body)
            for part in msg.iter_parts():
                if part.get_filename():
                    # Django keeps only the base name of an uploaded file
                    self.uploads[("data", t["id"])].append((PurePosixPath(part.get_filename()).name,
                                                            part.get_payload(decode=True)))
            return 200, None
        if h.headers.get("Upload-Length") is not None:
            return self._tus_create(h, ("data", t["id"]), f"/api/tasks/{t['id']}/data/")
        if h.headers.get("Upload-Finish") is not None:
            fields = json.loads(body or b"{}")
            files = self.uploads.pop(("data", t["id"]), [])
            rq = self._finish_data(t, files, fields)
            return 202, self._like("tasks_create_data", rq_id=rq)
        raise HttpError(400, {"detail": "only local file uploads (client_files) are supported by the double"})

    def _tus_create(self, h, key, base) -> tuple:
        meta = dict(p.split(" ", 1) for p in h.headers.get("Upload-Metadata", "").split(",") if " " in p)
        name = base64.b64decode(meta.get("filename", "")).decode() or "file"
        fid = str(uuid.uuid4())
        self.uploads[("tus", fid)] = {"key": key, "name": PurePosixPath(name).name, "data": bytearray(),
                                      "length": int(h.headers["Upload-Length"])}
        return 201, None, {"Location": f"{self.url}{base}{fid}", "Upload-Filename": PurePosixPath(name).name,
                           "Tus-Resumable": "1.0.0"}

    def extra_route(self, h, method, path, query, body):
        "Routes that are not SDK endpoints: TUS chunks, the dataset download behind result_url."
        m = re.match(r"^/api/tasks/(\d+)/(data|annotations)/([0-9a-f-]{36})/?$", path)
        if m:
            self.auth(h)
            up = self.uploads.get(("tus", m.group(3)))
            if up is None:
                raise HttpError(404, {"detail": "upload not found"})
            if method == "HEAD":
                return 200, None, {"Upload-Offset": str(len(up["data"])), "Tus-Resumable": "1.0.0"}
            if method == "PATCH":
                if int(h.headers.get("Upload-Offset", -1)) != len(up["data"]):
                    raise HttpError(409, {"detail": "offset mismatch"})
                up["data"] += body
                if len(up["data"]) == up["length"]:
                    kind, tid = up["key"]
                    if kind == "data":
                        self.uploads.setdefault(("data", tid), []).append((up["name"], bytes(up["data"])))
                    else:
                        self.uploads[("file", tid, up["name"])] = bytes(up["data"])
                return 204, None, {"Upload-Offset": str(len(up["data"])), "Tus-Resumable": "1.0.0"}
        m = re.match(r"^/api/tasks/(\d+)/dataset/download/?$", path)
        if m and method == "GET":
            self.auth(h)
            rq = self.requests.get(query.get("rq_id"))
            if rq is None or "result" not in rq:
                raise HttpError(404, {"detail": "export not found"})
            return 200, rq["result"], {"Content-Type": "application/zip",
                                       "Content-Disposition": f'attachment; filename="{rq["filename"]}"'}
        raise HttpError(404, {"detail": f"no route for {method} {path} in the CVAT test double"})

    def _finish_data(self, t, files, fields) -> str:
        from PIL import Image
        if not files:
            raise HttpError(400, {"detail": "No media data found"})
        if str(fields.get("sorting_method", "lexicographical")) == "predefined" and fields.get("upload_file_order"):
            order = {n: k for k, n in enumerate(fields["upload_file_order"])}
            files = sorted(files, key=lambda f: order.get(f[0], len(order)))
        else:
            files = sorted(files, key=lambda f: f[0])
        frames = []
        for name, data in files:
            try:
                with Image.open(io.BytesIO(data)) as im:
                    w, h = im.size
            except Exception:
                return self._request("create:task", t, failed=f"{name} is not an image CVAT can read")
            frames.append({"name": name, "data": data, "width": w, "height": h})
        t["frames"], t["updated"] = frames, _now()
        jid = self.next_id("job")
        self.jobs[jid] = {"id": jid, "task_id": t["id"], "start": 0, "stop": len(frames) - 1, "assignee": None,
                          "status": "annotation", "stage": "annotation", "state": "new", "created": _now(),
                          "updated": _now()}
        return self._request("create:task", t)

    def tasks_retrieve_data_meta(self, id, **_):
        t = self._task(id)
        return self._like("tasks_retrieve_data_meta", chunks_updated_date=t["updated"], chunk_size=self.chunk_size,
                          size=len(t["frames"]), stop_frame=max(len(t["frames"]) - 1, 0),
                          frames=[self._like("tasks_retrieve_data_meta", ("frames", 0), name=f["name"],
                                             width=f["width"], height=f["height"]) for f in t["frames"]])

    def tasks_retrieve_data(self, id, query, **_):
        t = self._task(id)
        kind, number = query.get("type"), int(query.get("number", 0))
        if kind == "frame":
            if not 0 <= number < len(t["frames"]):
                raise HttpError(400, {"detail": f"Incorrect requested frame number: {number}"})
            return 200, t["frames"][number]["data"], {"Content-Type": "image/png"}
        if kind == "chunk":
            part = t["frames"][number * self.chunk_size:(number + 1) * self.chunk_size]
            if not part:
                raise HttpError(400, {"detail": f"Incorrect requested chunk number: {number}"})
            buf = io.BytesIO()
            with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as z:
                for k, f in enumerate(part):
                    z.writestr(f"{number * self.chunk_size + k:06d}{PurePosixPath(f['name']).suffix}", f["data"])
            return 200, buf.getvalue(), {"Content-Type": "application/zip"}
        raise HttpError(400, {"detail": "type must be frame or chunk"})

    # --- background requests -------------------------------------------------------------------
    def _request(self, op: str, t, failed: str | None = None, fmt: str | None = None, **extra) -> str:
        rid = f"{op}:task-{t['id']}-{uuid.uuid4().hex[:8]}"
        self.requests[rid] = {"id": rid, "status": "failed" if failed else "finished", "message": failed or "",
                              "operation": {"type": op, "target": "task", "project_id": None, "task_id": t["id"],
                                            "job_id": None, "format": fmt, "function_id": None},
                              "created": _now(), **extra}
        return rid

    def requests_retrieve(self, id, user, **_):
        rq = self.requests.get(id)
        if rq is None:
            raise HttpError(404, {"detail": "Not found."})
        kind = "export" if "result_url" in rq else "create"
        return self._like(f"requests_retrieve_{kind}", id=rq["id"], status=rq["status"], message=rq["message"],
                          operation=self._like("requests_retrieve_export", ("operation",), **rq["operation"]),
                          created_date=rq["created"], started_date=rq["created"], finished_date=_now(),
                          owner={"id": user["id"], "username": user["username"]}, result_url=rq.get("result_url"))

    # --- annotations ---------------------------------------------------------------------------
    def _check_shapes(self, t, shapes) -> list:
        labels = self._task_labels(t)
        out = []
        for s in shapes:
            if s.get("label_id") not in labels:
                raise HttpError(400, {"detail": f"label_id {s.get('label_id')} is not a label of task {t['id']}"})
            if not 0 <= int(s.get("frame", -1)) < len(t["frames"]):
                raise HttpError(400, {"detail": f"frame {s.get('frame')} is outside the task's frames"})
            if s.get("type") not in ("rectangle", "polygon", "polyline", "points", "ellipse", "cuboid", "mask",
                                     "skeleton"):
                raise HttpError(400, {"type": [f"\"{s.get('type')}\" is not a valid choice."]})
            known = {a["id"] for a in labels[s["label_id"]]["attributes"]}
            for a in s.get("attributes", []):
                if a["spec_id"] not in known:
                    raise HttpError(400, {"detail": f"attribute spec {a['spec_id']} is not an attribute of the label"})
            out.append(self._like("tasks_retrieve_annotations", ("shapes", 0), type=s["type"], frame=int(s["frame"]),
                                  label_id=s["label_id"], points=[float(p) for p in s.get("points", [])],
                                  occluded=bool(s.get("occluded", False)), z_order=int(s.get("z_order", 0)),
                                  rotation=float(s.get("rotation", 0.0)), group=s.get("group"),
                                  source=s.get("source", "manual"),
                                  attributes=[{"spec_id": a["spec_id"], "value": str(a["value"])}
                                              for a in s.get("attributes", [])]))
        return out

    def _labeled_data(self, t, shapes=None) -> dict:
        return self._like("tasks_retrieve_annotations", version=t["version"], tags=[], tracks=[],
                          shapes=t["shapes"] if shapes is None else shapes)

    def tasks_retrieve_annotations(self, id, **_):
        return self._labeled_data(self._task(id))

    def tasks_update_annotations(self, id, body, **_):
        t = self._task(id)
        shapes = self._check_shapes(t, json.loads(body or b"{}").get("shapes", []))
        for s in shapes:
            s["id"] = self.next_id("shape")
        t["shapes"], t["version"], t["updated"] = shapes, t["version"] + 1, _now()
        return self._labeled_data(t)

    def tasks_partial_update_annotations(self, id, query, body, **_):
        t = self._task(id)
        data = json.loads(body or b"{}")
        action = query.get("action")
        if action == "create":
            shapes = self._check_shapes(t, data.get("shapes", []))
            for s in shapes:
                s["id"] = self.next_id("shape")
            t["shapes"].extend(shapes)
        elif action == "delete":
            gone = {s.get("id") for s in data.get("shapes", [])}
            t["shapes"] = [s for s in t["shapes"] if s["id"] not in gone]
            shapes = []
        elif action == "update":
            shapes = self._check_shapes(t, data.get("shapes", []))
            by_id = {s["id"]: s for s in t["shapes"]}
            for new, old in zip(shapes, data.get("shapes", [])):
                if old.get("id") not in by_id:
                    raise HttpError(400, {"detail": f"shape {old.get('id')} does not exist"})
                new["id"] = old["id"]
                by_id[old["id"]].update(new)
        else:
            raise HttpError(400, {"detail": "action must be create, update or delete"})
        t["version"], t["updated"] = t["version"] + 1, _now()
        return self._labeled_data(t, shapes)

    def tasks_destroy_annotations(self, id, **_):
        t = self._task(id)
        t["shapes"], t["version"] = [], t["version"] + 1
        return 204, None

    def tasks_create_annotations(self, h, id, query, body, **_):
        "Annotation import: the CVAT-TUS protocol (start, TUS file, finish), then the file is parsed."
        t = self._task(id)
        if h.headers.get("Upload-Start") is not None:
            return 202, None
        if h.headers.get("Upload-Length") is not None:
            return self._tus_create(h, ("annotations", t["id"]), f"/api/tasks/{t['id']}/annotations/")
        if h.headers.get("Upload-Finish") is not None:
            fmt, name = query.get("format"), query.get("filename")
            data = self.uploads.pop(("file", t["id"], name), None)
            if fmt not in IMPORT_FORMATS:
                raise HttpError(400, {"detail": f"Unknown input format '{fmt}'"})
            if data is None:
                raise HttpError(400, {"detail": "No uploaded file"})
            try:
                shapes = import_dataset(t, self._task_labels(t), fmt, data)
            except Exception as e:
                return 202, self._like("tasks_create_annotations", rq_id=self._request(
                    "import:annotations", t, failed=f"{type(e).__name__}: {e}"))
            for s in shapes:
                s["id"] = self.next_id("shape")
            t["shapes"], t["version"], t["updated"] = shapes, t["version"] + 1, _now()
            return 202, self._like("tasks_create_annotations", rq_id=self._request("import:annotations", t, fmt=fmt))
        raise HttpError(400, {"detail": "use the CVAT-TUS upload protocol"})

    # --- export ------------------------------------------------------------------------------
    def tasks_create_dataset_export(self, id, query, **_):
        t = self._task(id)
        fmt = query.get("format")
        if fmt not in EXPORT_FORMATS:
            raise HttpError(400, {"detail": f"Unknown format specified for the request: {fmt}"})
        save_images = str(query.get("save_images", "false")).lower() == "true"
        data = export_dataset(t, self._task_labels(t), fmt, save_images)
        slug = re.sub(r"[^A-Za-z0-9_\-]+", "-", fmt.lower()).strip("-")
        rid = self._request("export", t, fmt=fmt)
        self.requests[rid].update(result=data, filename=f"task_{t['id']}_{slug}.zip",
                                  result_url=f"{self.url}/api/tasks/{t['id']}/dataset/download?rq_id={rid}")
        return 202, self._like("tasks_create_dataset_export", rq_id=rid)


# --- exports as CVAT 2.23.1 (datumaro) writes them ------------------------------------------------
def _items(t, labels):
    "(item id, file name, frame, rectangles [(label name, x1, y1, x2, y2, shape)]) per frame, in frame order."
    for k, f in enumerate(t["frames"]):
        stem = PurePosixPath(f["name"]).stem
        rects = [(labels[s["label_id"]]["name"], *s["points"][:4], s) for s in t["shapes"]
                 if s["frame"] == k and s["type"] == "rectangle"]
        yield stem, f["name"], k, f, rects


def _custom_attrs(s, labels) -> list[tuple[str, str]]:
    specs = {a["id"]: a for a in labels[s["label_id"]]["attributes"]}
    return [(specs[a["spec_id"]]["name"], a["value"]) for a in s["attributes"] if a["spec_id"] in specs]


def _attr_value(spec_type: str, value: str):
    if spec_type == "number":
        return float(value)
    if spec_type == "checkbox":
        return value.lower() == "true"
    return value


def export_dataset(t, labels: dict, fmt: str, save_images: bool) -> bytes:
    ordered = [labels[k] for k in sorted(labels)]
    files: list[tuple[str, bytes]] = []
    items = list(_items(t, labels))
    subset = t["subset"] or "default"                  # CVAT names its files after the task's subset
    if fmt == "YOLO 1.1":
        index = {l["name"]: i for i, l in enumerate(ordered)}
        sub = "train" if subset == "default" else subset
        files.append((f"{sub}.txt", "".join(f"data/obj_{sub}_data/{name}\n" for _, name, *_ in items).encode()))
        files.append(("obj.data", f"classes = {len(ordered)}\n{sub} = data/{sub}.txt\nnames = data/obj.names\n"
                                  f"backup = backup/\n".encode()))
        files.append(("obj.names", "".join(f"{l['name']}\n" for l in ordered).encode()))
        for stem, name, k, f, rects in items:
            if save_images:
                files.append((f"obj_{sub}_data/{name}", f["data"]))
            lines = []
            for label, x1, y1, x2, y2, _ in rects:
                w, h = f["width"], f["height"]
                lines.append(f"{index[label]} {(x1 + x2) / 2 / w:.6f} {(y1 + y2) / 2 / h:.6f} "
                             f"{(x2 - x1) / w:.6f} {(y2 - y1) / h:.6f}\n")
            files.append((f"obj_{sub}_data/{stem}.txt", "".join(lines).encode()))
    elif fmt == "COCO 1.0":
        images, anns = [], []
        cat = {l["name"]: i + 1 for i, l in enumerate(ordered)}
        for img_id, (stem, name, k, f, rects) in enumerate(items, start=1):
            images.append({"id": img_id, "width": f["width"], "height": f["height"], "file_name": name, "license": 0,
                           "flickr_url": "", "coco_url": "", "date_captured": 0})
            for label, x1, y1, x2, y2, s in rects:
                specs = {a["id"]: a for a in labels[s["label_id"]]["attributes"]}
                attrs = {specs[a["spec_id"]]["name"]: _attr_value(specs[a["spec_id"]]["input_type"], a["value"])
                         for a in s["attributes"] if a["spec_id"] in specs}
                attrs.update({"occluded": s["occluded"], "rotation": s["rotation"]})
                anns.append({"id": len(anns) + 1, "image_id": img_id, "category_id": cat[label], "segmentation": [],
                             "area": (x2 - x1) * (y2 - y1), "bbox": [x1, y1, x2 - x1, y2 - y1], "iscrowd": 0,
                             "attributes": attrs})
        doc = {"licenses": [{"name": "", "id": 0, "url": ""}],
               "info": {"contributor": "", "date_created": "", "description": "", "url": "", "version": "", "year": ""},
               "categories": [{"id": i + 1, "name": l["name"], "supercategory": ""} for i, l in enumerate(ordered)],
               "images": images, "annotations": anns}
        files.append((f"annotations/instances_{subset}.json", json.dumps(doc, separators=(",", ":")).encode()))
        if save_images:
            files += [(f"images/{subset}/{name}", f["data"]) for _, name, _, f, _ in items]
    elif fmt == "PASCAL VOC 1.1":
        colors = voc_colormap(len(ordered) + 1)
        files.append(("labelmap.txt", ("# label:color_rgb:parts:actions\nbackground:0,0,0::\n" + "".join(
            f"{l['name']}:{','.join(map(str, colors[i + 1]))}::\n" for i, l in enumerate(ordered))).encode()))
        files.append((f"ImageSets/Main/{subset}.txt", "".join(f"{stem}\n" for stem, *_ in items).encode()))
        for stem, name, k, f, rects in items:
            folder = stem[:stem.find("_")] if "_" in stem else ""      # datumaro: the item id up to its first "_"
            x = [f"<annotation>\n  <folder>{folder}</folder>\n  <filename>{name}</filename>\n  <source>\n"
                 "    <database>Unknown</database>\n    <annotation>Unknown</annotation>\n    <image>Unknown</image>\n"
                 f"  </source>\n  <size>\n    <width>{f['width']}</width>\n    <height>{f['height']}</height>\n"
                 "    <depth></depth>\n  </size>\n  <segmented>0</segmented>\n"]
            for label, x1, y1, x2, y2, s in rects:
                attrs = _custom_attrs(s, labels) + [("rotation", repr(float(s["rotation"])))]
                x.append(f"  <object>\n    <name>{label}</name>\n    <truncated>0</truncated>\n"
                         f"    <occluded>{int(s['occluded'])}</occluded>\n    <difficult>0</difficult>\n"
                         f"    <bndbox>\n      <xmin>{x1!r}</xmin>\n      <ymin>{y1!r}</ymin>\n"
                         f"      <xmax>{x2!r}</xmax>\n      <ymax>{y2!r}</ymax>\n    </bndbox>\n    <attributes>\n" +
                         "".join(f"      <attribute>\n        <name>{n}</name>\n        <value>{v}</value>\n"
                                 f"      </attribute>\n" for n, v in attrs) + "    </attributes>\n  </object>\n")
            x.append("</annotation>\n")
            files.append((f"Annotations/{stem}.xml", "".join(x).encode()))
            if save_images:
                files.append((f"JPEGImages/{name}", f["data"]))
    elif fmt == "CVAT for images 1.1":
        x = ["<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<annotations>\n  <version>1.1</version>\n  <meta>\n"
             f"    <task>\n      <id>{t['id']}</id>\n      <name>{t['name']}</name>\n      <size>{len(items)}</size>\n"
             "      <labels>\n" + "".join(f"        <label>\n          <name>{l['name']}</name>\n"
                                          f"          <type>{l['type']}</type>\n        </label>\n" for l in ordered) +
             "      </labels>\n    </task>\n  </meta>\n"]
        for stem, name, k, f, rects in items:
            x.append(f"  <image id=\"{k}\" name=\"{name}\" width=\"{f['width']}\" height=\"{f['height']}\">\n")
            for label, x1, y1, x2, y2, s in rects:
                x.append(f"    <box label=\"{label}\" source=\"{s['source']}\" occluded=\"{int(s['occluded'])}\" "
                         f"xtl=\"{x1:.2f}\" ytl=\"{y1:.2f}\" xbr=\"{x2:.2f}\" ybr=\"{y2:.2f}\" z_order=\"{s['z_order']}\">\n"
                         + "".join(f"      <attribute name=\"{n}\">{v}</attribute>\n" for n, v in _custom_attrs(s, labels))
                         + "    </box>\n")
            x.append("  </image>\n")
        x.append("</annotations>\n")
        files.append(("annotations.xml", "".join(x).encode()))
        if save_images:
            files += [(f"images/{name}", f["data"]) for _, name, _, f, _ in items]
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as z:
        for name, data in files:
            z.writestr(name, data)
    return buf.getvalue()


def import_dataset(t, labels: dict, fmt: str, data: bytes) -> list[dict]:
    "Shapes from an uploaded YOLO 1.1, COCO 1.0 or PASCAL VOC 1.1 zip (rectangles; CVAT replaces the task's shapes)."
    import xml.etree.ElementTree as ET
    by_name = {l["name"]: l["id"] for l in labels.values()}
    frame_of = {PurePosixPath(f["name"]).stem: k for k, f in enumerate(t["frames"])}
    z = zipfile.ZipFile(io.BytesIO(data))
    shapes = []

    def add(stem, label, box):
        if stem not in frame_of:
            raise ValueError(f"image {stem!r} is not in the task")
        if label not in by_name:
            raise ValueError(f"label {label!r} is not in the task")
        shapes.append({"type": "rectangle", "frame": frame_of[stem], "label_id": by_name[label],
                       "points": [float(v) for v in box], "occluded": False, "outside": False, "z_order": 0,
                       "rotation": 0.0, "group": 0, "source": "file", "attributes": [], "elements": []})

    if fmt == "COCO 1.0":
        name = next(n for n in z.namelist() if n.endswith(".json"))
        doc = json.loads(z.read(name))
        cats = {c["id"]: c["name"] for c in doc["categories"]}
        imgs = {i["id"]: PurePosixPath(i["file_name"]).stem for i in doc["images"]}
        for a in doc["annotations"]:
            x, y, w, h = a["bbox"]
            add(imgs[a["image_id"]], cats[a["category_id"]], [x, y, x + w, y + h])
    elif fmt == "YOLO 1.1":
        names = [l for l in z.read("obj.names").decode().splitlines() if l]
        for n in z.namelist():
            if re.match(r"obj_[^/]+_data/", n) and n.endswith(".txt"):
                stem = PurePosixPath(n).stem
                f = t["frames"][frame_of[stem]]
                for row in z.read(n).decode().split("\n"):
                    if row.strip():
                        c, cx, cy, w, h = row.split()
                        cx, cy, w, h = (float(cx) * f["width"], float(cy) * f["height"], float(w) * f["width"],
                                        float(h) * f["height"])
                        add(stem, names[int(c)], [cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2])
    else:
        for n in z.namelist():
            if n.startswith("Annotations/") and n.endswith(".xml"):
                root = ET.fromstring(z.read(n))
                for o in root.findall("object"):
                    b = o.find("bndbox")
                    add(PurePosixPath(n).stem, o.findtext("name"),
                        [float(b.findtext(k)) for k in ("xmin", "ymin", "xmax", "ymax")])
    return shapes
