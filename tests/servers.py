"""Real servers for tests, started on 127.0.0.1 and stopped by PID: PostgreSQL from Debian's package."""
from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
import time
from contextlib import contextmanager


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def postgres_bindir() -> str | None:
    "The newest Debian PostgreSQL server's bin folder (/usr/lib/postgresql/<major>/bin), if installed."
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/postgres"), key=lambda p: int(p.split("/")[-3]))
    return os.path.dirname(found[-1]) if found else None


@contextmanager
def postgres_server(timeout: float = 60.0):
    "Start a throw-away PostgreSQL cluster on 127.0.0.1 (trust auth, user `al`); yields its base URL."
    bindir = postgres_bindir()
    if bindir is None:
        raise RuntimeError("PostgreSQL server is not installed; on Debian: apt-get install -y postgresql "
                           "(make test does this)")
    root = tempfile.mkdtemp(prefix="al-pg-")
    os.chmod(root, 0o755)
    data = os.path.join(root, "data")
    as_user = []
    if os.geteuid() == 0:                         # postgres refuses to run as root: drop to the postgres user
        import pwd
        pw = pwd.getpwnam("postgres")
        os.makedirs(data, mode=0o700)
        os.chown(data, pw.pw_uid, pw.pw_gid)
        os.chown(root, pw.pw_uid, pw.pw_gid)
        as_user = ["setpriv", f"--reuid={pw.pw_uid}", f"--regid={pw.pw_gid}", "--clear-groups", "--"]
    subprocess.run(as_user + [f"{bindir}/initdb", "-D", data, "-A", "trust", "-U", "al", "-E", "UTF8", "--no-sync"],
                   check=True, capture_output=True, timeout=timeout)
    port = free_port()
    log = open(os.path.join(root, "server.log"), "wb")
    proc = subprocess.Popen(as_user + [f"{bindir}/postgres", "-D", data, "-p", str(port), "-h", "127.0.0.1",
                                       "-k", root, "-c", "max_connections=100"], stdout=log, stderr=log)
    url = f"postgresql://al@127.0.0.1:{port}"
    try:
        import psycopg
        deadline = time.monotonic() + timeout
        while True:
            try:
                psycopg.connect(url + "/postgres", connect_timeout=2).close()
                break
            except psycopg.OperationalError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"PostgreSQL did not start: {open(os.path.join(root, 'server.log')).read()}")
                time.sleep(0.2)
        yield url
    finally:
        proc.terminate()                          # SIGTERM to our PID: postgres' "smart" shutdown
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)
        log.close()
        shutil.rmtree(root, ignore_errors=True)


def create_database(base_url: str, name: str) -> str:
    "A fresh, empty database on the server; returns its URL."
    import psycopg
    with psycopg.connect(base_url + "/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')
    return f"{base_url}/{name}"


# --- Label Studio ---------------------------------------------------------------------------------------
REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LS_VENV = os.environ.get("AUTO_LABELING_LS_VENV", os.path.join(REPO, ".venv-ls"))
LS_TOKEN = "auto-labeling-test-token-0123456789"


class LabelStudioServer:
    "A real Label Studio (from its own venv) on 127.0.0.1, with a preset admin and legacy API token; stop by PID."

    def __init__(self, root: str, port: int | None = None):
        self.root, self.port = root, port or free_port()
        self.data, self.files = os.path.join(root, "data"), os.path.join(root, "files")
        os.makedirs(self.files, exist_ok=True)
        self.url, self.token, self.proc = f"http://127.0.0.1:{self.port}", LS_TOKEN, None

    def env(self) -> dict:
        return dict(os.environ, LABEL_STUDIO_BASE_DATA_DIR=self.data, LABEL_STUDIO_USERNAME="admin@example.com",
                    LABEL_STUDIO_PASSWORD="admin-test-password", LABEL_STUDIO_USER_TOKEN=self.token,
                    LABEL_STUDIO_ENABLE_LEGACY_API_TOKEN="true", LABEL_STUDIO_DISABLE_SIGNUP_WITHOUT_LINK="true",
                    LABEL_STUDIO_LATEST_VERSION_CHECK="false", LABEL_STUDIO_COLLECT_ANALYTICS="false",
                    SENTRY_DSN="", FRONTEND_SENTRY_DSN="", LABEL_STUDIO_SSRF_PROTECTION_ENABLED="false",
                    LABEL_STUDIO_ML_BLOCK_LOCAL_IP="false", LABEL_STUDIO_LOCAL_FILES_SERVING_ENABLED="true",
                    LABEL_STUDIO_LOCAL_FILES_DOCUMENT_ROOT=self.files)

    def start(self, timeout: float = 180.0) -> "LabelStudioServer":
        import urllib.request
        exe = os.path.join(LS_VENV, "bin", "label-studio")
        if not os.path.exists(exe):
            raise RuntimeError(f"Label Studio is not installed in {LS_VENV}; run `make test` (it installs 1.23.2 there)")
        with socket.socket() as s:                         # it silently moves to port+1 when busy: refuse instead
            if s.connect_ex(("127.0.0.1", self.port)) == 0:
                raise RuntimeError(f"port {self.port} is busy")
        self.log = open(os.path.join(self.root, "server.log"), "ab")
        self.proc = subprocess.Popen([exe, "start", "--no-browser", "--internal-host", "127.0.0.1", "--port",
                                      str(self.port)], env=self.env(), stdout=self.log, stderr=self.log)
        deadline = time.monotonic() + timeout
        while True:
            try:
                with urllib.request.urlopen(self.url + "/health", timeout=2) as r:
                    if r.status == 200:
                        return self
            except OSError:
                pass
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError("Label Studio did not become healthy:\n" +
                                   open(os.path.join(self.root, "server.log")).read()[-3000:])
            time.sleep(0.3)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()                          # SIGTERM to our PID
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        self.proc = None


@contextmanager
def label_studio_server():
    "A migrated Label Studio data dir is cached in the LS venv; each session starts from a copy of it."
    template = os.path.join(LS_VENV, "data-template")
    if not os.path.exists(os.path.join(template, "data", "label_studio.sqlite3")):
        shutil.rmtree(template, ignore_errors=True)
        os.makedirs(template)
        LabelStudioServer(template).start().stop()           # migrations run once (about 25 s)
    root = tempfile.mkdtemp(prefix="al-ls-")
    shutil.copytree(os.path.join(template, "data"), os.path.join(root, "data"))
    server = LabelStudioServer(root).start()
    try:
        yield server
    finally:
        server.stop()
        shutil.rmtree(root, ignore_errors=True)
