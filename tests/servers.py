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
