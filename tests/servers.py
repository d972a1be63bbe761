"""Real servers for tests, started on 127.0.0.1 and stopped by PID: PostgreSQL from Debian's package, Label Studio
1.23.2 from its own venv, CVAT 2.23.1 from ../shared/cvat-server."""
from __future__ import annotations

import fcntl
import glob
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from contextlib import contextmanager
from dataclasses import dataclass, field


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


# --- CVAT 2.23.1 (../shared/cvat-server) ----------------------------------------------------------------
# The real server, run from source by ../shared/cvat-server/cvat-server.sh: PostgreSQL, two redis, an OPA stand-in
# evaluating CVAT's own Rego rules, rq workers and uvicorn. Tests either reuse a server named by the environment
# (CVAT_URL, CVAT_USER, CVAT_PASSWORD; optionally CVAT_LEAD, CVAT_LEAD_PASSWORD for an ordinary user), or start one
# in CVAT_HOME (default <checkout>/.cvat-server) on free ports and stop it by the PIDs the script recorded.
#
#   python tests/servers.py cvat-start           # install once, start, print the environment to export (dev use)
#   python tests/servers.py cvat-stop | cvat-status
#   python tests/servers.py cvat-run -- CMD...   # CMD with CVAT_* set; the server is stopped afterwards, also on failure
CVAT_VERSION = "2.23.1"
CVAT_SERVER_DIR = os.environ.get("CVAT_SERVER_DIR", os.path.join(os.path.dirname(REPO), "shared", "cvat-server"))
CVAT_ADMIN, CVAT_ADMIN_PASSWORD = "admin", "cvat-live-pass1"
CVAT_LEAD, CVAT_LEAD_PASSWORD = "lead", "lead-live-pass1"        # an ordinary (non-admin) user, as a lead would have
CVAT_PORT_NAMES = ("CVAT_PORT", "PG_PORT", "REDIS_INMEM_PORT", "REDIS_ONDISK_PORT", "OPA_PORT")
CVAT_SERVICES = ("server", "rqscheduler", "worker-misc", "worker-chunks", "worker-annotation", "worker-export",
                 "worker-import", "opa", "redis-ondisk", "redis-inmem")


def cvat_home() -> str:
    return os.path.abspath(os.environ.get("CVAT_HOME") or os.path.join(REPO, ".cvat-server"))


@dataclass
class CVATServer:
    "A CVAT server the tests can use: its URL, an admin, maybe an ordinary user; `owned` if this process started it."
    url: str
    user: str
    password: str = field(repr=False)
    lead: str | None = None
    lead_password: str | None = field(default=None, repr=False)
    home: str | None = None
    owned: bool = False

    def env(self) -> dict:
        out = {"CVAT_URL": self.url, "CVAT_USER": self.user, "CVAT_PASSWORD": self.password}
        if self.lead and self.lead_password:
            out.update(CVAT_LEAD=self.lead, CVAT_LEAD_PASSWORD=self.lead_password)
        return out

    def version(self) -> str:
        with urllib.request.urlopen(self.url.rstrip("/") + "/api/server/about", timeout=10) as r:
            return json.load(r)["version"]

    @property
    def host(self) -> str:
        "'localhost:PORT' (what the specification's `CVATClient(host=...)` is given)."
        return self.url.split("://", 1)[1].rstrip("/").replace("127.0.0.1", "localhost")

    def stop(self) -> None:
        "Stop the server if this process started it (a server from the environment or `cvat-start` stays up)."
        if self.owned:
            cvat_stop(self.home)
            self.owned = False
            lock = getattr(self, "lock", None)
            if lock is not None:
                lock.close()


def cvat_from_environment() -> CVATServer | None:
    "The server named by CVAT_URL, CVAT_USER and CVAT_PASSWORD (a user's own CVAT, or the one `make test` started)."
    url, user, password = (os.environ.get(k) for k in ("CVAT_URL", "CVAT_USER", "CVAT_PASSWORD"))
    if not (url and user and password):
        return None
    url = url if "://" in url else f"http://{url}"
    return CVATServer(url, user, password, os.environ.get("CVAT_LEAD") or None,
                      os.environ.get("CVAT_LEAD_PASSWORD") or None)


def _script(cmd: str, home: str, env: dict | None = None, timeout: float = 600) -> subprocess.CompletedProcess:
    script = os.path.join(CVAT_SERVER_DIR, "cvat-server.sh")
    if not os.path.exists(script):
        raise RuntimeError(f"the CVAT server scripts are not at {CVAT_SERVER_DIR} (set CVAT_SERVER_DIR), or point the "
                           f"tests at a running CVAT with CVAT_URL, CVAT_USER and CVAT_PASSWORD")
    full = dict(os.environ, CVAT_HOME=home, **(env or {}))
    try:
        return subprocess.run(["bash", script, cmd], env=full, cwd=home, capture_output=True, text=True,
                              timeout=timeout, stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired as e:
        raise RuntimeError(f"cvat-server.sh {cmd} did not finish within {timeout:.0f} s:\n{(e.stdout or '')[-3000:]}")


def cvat_installed(home: str) -> bool:
    return os.path.exists(os.path.join(home, f".installed-{CVAT_VERSION}"))


def cvat_install(home: str | None = None, timeout: float = 1500) -> None:
    "Install once (apt packages, sources, CVAT's venv: about 3 min cold); a marker file makes later calls free."
    home = home or cvat_home()
    if cvat_installed(home):
        return
    if os.geteuid() != 0:
        raise RuntimeError("installing the CVAT test server needs root (apt-get, and PostgreSQL runs as user "
                           "postgres); run make test as root, or set CVAT_URL/CVAT_USER/CVAT_PASSWORD to your CVAT")
    os.makedirs(home, exist_ok=True)
    t0 = time.monotonic()
    r = _script("install", home, timeout=timeout)
    if r.returncode != 0:
        raise RuntimeError(f"cvat-server.sh install failed ({r.returncode}):\n{(r.stdout + r.stderr)[-4000:]}")
    with open(os.path.join(home, f".installed-{CVAT_VERSION}"), "w") as f:
        f.write(f"installed in {time.monotonic() - t0:.0f} s\n")


def _env_file(home: str) -> str:
    return os.path.join(home, "run", "server.json")


def _healthy(url: str, timeout: float = 5) -> bool:
    try:
        with urllib.request.urlopen(url.rstrip("/") + "/api/server/about", timeout=timeout) as r:
            return r.status == 200 and "version" in json.load(r)
    except (OSError, ValueError):
        return False


def _can_log_in(url: str, user: str, password: str) -> bool:
    request = urllib.request.Request(url.rstrip("/") + "/api/auth/login", method="POST",
                                     data=json.dumps({"username": user, "password": password}).encode(),
                                     headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=30) as r:
            return r.status == 200
    except OSError:
        return False


def cvat_running(home: str | None = None) -> CVATServer | None:
    "The server started in `home` by `cvat-start` (or by another run still going), if it answers."
    path = _env_file(home or cvat_home())
    try:
        with open(path) as f:
            info = json.load(f)
    except (OSError, ValueError):
        return None
    server = CVATServer(info["url"], info["user"], info["password"], info.get("lead"), info.get("lead_password"),
                        home or cvat_home())
    return server if _healthy(server.url) else None


def _lock(home: str, wait: float):
    "An exclusive lock on `home` for as long as the returned file stays open (released when the process dies)."
    os.makedirs(home, exist_ok=True)
    f = open(os.path.join(home, ".lock"), "a+")
    deadline = time.monotonic() + wait
    while True:
        try:
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return f
        except BlockingIOError:
            if time.monotonic() > deadline:
                f.seek(0)
                holder = f.read().strip() or "another process"
                f.close()
                raise RuntimeError(f"the CVAT server in {home} is in use by {holder}; wait for it to finish, stop it "
                                   f"with `python tests/servers.py cvat-stop`, or use another CVAT_HOME")
            time.sleep(1)


def cvat_stop(home: str | None = None, timeout: float = 180) -> str:
    "Stop what cvat-server.sh started in `home`, by its recorded PIDs (and its PostgreSQL cluster)."
    home = home or cvat_home()
    try:
        os.remove(_env_file(home))
    except FileNotFoundError:
        pass
    if not os.path.isdir(os.path.join(home, "run")):
        return ""
    r = _script("stop", home, timeout=timeout)
    return r.stdout + r.stderr


def cvat_start(home: str | None = None, timeout: float = 600, owner: int | None = None) -> CVATServer:
    """Install if needed and start the server in `home` on free ports; healthy within `timeout` or a RuntimeError with
    the server's log. `owner`: a PID whose death stops the server (a watchdog process), None to keep it up."""
    home = home or cvat_home()
    cvat_install(home)
    lock = _lock(home, wait=120)
    try:
        cvat_stop(home)                            # leftovers of a run that was killed: nothing else uses this home
        ports = {}
        while len(set(ports.values())) < len(CVAT_PORT_NAMES):
            ports = {name: str(free_port()) for name in CVAT_PORT_NAMES}
        env = dict(ports, CVAT_ADMIN=CVAT_ADMIN, CVAT_ADMIN_PASSWORD=CVAT_ADMIN_PASSWORD, CVAT_LEAD=CVAT_LEAD,
                   CVAT_LEAD_PASSWORD=CVAT_LEAD_PASSWORD)
        t0 = time.monotonic()
        r = _script("start", home, env, timeout=timeout)
        log = (r.stdout + r.stderr)[-4000:]
        url = f"http://127.0.0.1:{ports['CVAT_PORT']}"
        if r.returncode != 0 or not _healthy(url):
            cvat_stop(home)
            raise RuntimeError(f"CVAT {CVAT_VERSION} did not start in {home} (exit {r.returncode}):\n{log}\n"
                               f"(logs: {home}/run/logs/)")
        down = [n for n in CVAT_SERVICES if not _pid_alive(home, n)]
        if down:                                   # e.g. a port taken between choosing it and binding it
            cvat_stop(home)
            raise RuntimeError(f"CVAT started but {down} exited (see {home}/run/logs/); run again")
        server = CVATServer(url, CVAT_ADMIN, CVAT_ADMIN_PASSWORD, CVAT_LEAD, CVAT_LEAD_PASSWORD, home, owned=True)
        for user, password in ((server.user, server.password), (server.lead, server.lead_password)):
            if not _can_log_in(url, user, password):   # users are created once, with the first run's passwords
                cvat_stop(home)
                raise RuntimeError(f"CVAT in {home} started, but user {user!r} cannot log in with the test password: "
                                   f"its database was made with other settings; remove {home}/run/pg to start empty")
        info = dict(url=url, user=server.user, password=server.password, lead=server.lead,
                    lead_password=server.lead_password, ports=ports, owner=owner,
                    started_s=round(time.monotonic() - t0, 1))
        with open(_env_file(home), "w") as f:
            json.dump(info, f)
        lock.seek(0), lock.truncate(), lock.write(f"pid {os.getpid()}"), lock.flush()
        if owner is not None:
            subprocess.Popen([sys.executable, os.path.abspath(__file__), "cvat-watchdog", home, str(owner)],
                             start_new_session=True, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL)
        server.lock = lock                         # held until stopped (or this process dies)
        return server
    except BaseException:
        lock.close()
        raise


def _pid_alive(home: str, name: str) -> bool:
    try:
        with open(os.path.join(home, "run", "pids", f"{name}.pid")) as f:
            os.kill(int(f.read().strip()), 0)
        return True
    except (OSError, ValueError):
        return False


def _watchdog(home: str, owner: int) -> None:
    "Stop the server once `owner` is gone, unless it was stopped already (or restarted by someone else)."
    while True:
        try:
            os.kill(owner, 0)
        except ProcessLookupError:
            break
        except PermissionError:
            pass
        time.sleep(2)
    lock = _lock(home, wait=600)
    try:
        with open(_env_file(home)) as f:
            mine = json.load(f).get("owner") == owner
        if mine:
            cvat_stop(home)
    except (OSError, ValueError):
        pass                                       # stopped already: nothing recorded any more
    finally:
        lock.close()


def cvat_person(server: CVATServer, username: str, password: str) -> tuple[str, str]:
    """An ordinary user who signs up through CVAT's REST API, as a person would (kept if already there): for chapters
    and tests that need a second person, e.g. a reviewer. Returns (username, password)."""
    if _can_log_in(server.url, username, password):
        return username, password
    request = urllib.request.Request(server.url.rstrip("/") + "/api/auth/register", method="POST",
                                     data=json.dumps({"username": username, "email": f"{username}@example.com",
                                                      "password1": password, "password2": password}).encode(),
                                     headers={"Content-Type": "application/json"})
    try:
        urllib.request.urlopen(request, timeout=60).close()
    except OSError as e:
        raise RuntimeError(f"could not sign up user {username!r} on {server.url} (is registration open?): {e}") from None
    return username, password


def cvat_test_server(timeout: float = 600) -> CVATServer:
    """A CVAT for tests and chapters: the environment's (CVAT_URL...), else the one running in CVAT_HOME, else one
    started now (install once ~3 min, start ~1-2 min) that `stop()` ends, and that stops by itself if this process dies."""
    return cvat_from_environment() or cvat_running() or cvat_start(timeout=timeout, owner=os.getpid())


@contextmanager
def cvat_server(timeout: float = 600):
    "`cvat_test_server()` for a `with` block: a server started here is stopped at the end, also on errors."
    server = cvat_test_server(timeout)
    try:
        yield server
    finally:
        server.stop()


def _cvat_main(argv: list[str]) -> int:
    cmd = argv[0] if argv else "cvat-status"
    if cmd == "cvat-watchdog":
        _watchdog(argv[1], int(argv[2]))
        return 0
    if cmd == "cvat-start":
        running = cvat_running()
        server = running or cvat_start()
        print(("already running" if running else f"started CVAT {server.version()}") + f" in {server.home}; export:")
        print(" ".join(f"{k}={v}" for k, v in server.env().items()))
        return 0
    if cmd == "cvat-stop":
        print(cvat_stop().strip() or "nothing to stop")
        return 0
    if cmd == "cvat-status":
        s = cvat_from_environment() or cvat_running()
        print(f"CVAT {s.version()} at {s.url}" if s else f"no CVAT running in {cvat_home()} and no CVAT_URL set")
        return 0 if s else 1
    if cmd == "cvat-run":
        command = argv[argv.index("--") + 1:] if "--" in argv else argv[1:]
        t0 = time.monotonic()
        with cvat_server() as server:
            how = "started" if server.owned else "reusing"
            print(f"[cvat] {how} CVAT {server.version()} at {server.url} ({time.monotonic() - t0:.0f} s)", flush=True)
            child = subprocess.Popen(command, env=dict(os.environ, **server.env()))

            def forward(signum, frame):            # Ctrl-C / kill: pass it on, then stop the server in `finally`
                child.send_signal(signum)
            for s in (signal.SIGINT, signal.SIGTERM):
                signal.signal(s, forward)
            rc = child.wait()
            if server.owned:
                print(f"[cvat] stopping the CVAT server started for this run (pids in {server.home}/run/pids)",
                      flush=True)
        return rc
    raise SystemExit(f"unknown command {cmd!r}: cvat-start | cvat-stop | cvat-status | cvat-run -- CMD...")


if __name__ == "__main__":
    sys.exit(_cvat_main(sys.argv[1:]))
