"""Shared fixtures: real data (scikit-learn's digits) and a fitted model."""
import numpy as np
import pytest
from sklearn.datasets import load_digits
from sklearn.linear_model import LogisticRegression


@pytest.fixture(scope="session")
def digits():
    X, y = load_digits(return_X_y=True)
    return (X / 16.0).astype(np.float64), y


@pytest.fixture(scope="session")
def fitted(digits):
    X, y = digits
    return LogisticRegression(max_iter=1000).fit(X[:300], y[:300])


# --- label stores on both back ends ------------------------------------------------------------
import itertools
import os

from servers import create_database, postgres_server

_db_counter = itertools.count()


@pytest.fixture(scope="session")
def postgres_base_url():
    "One PostgreSQL server for the session (from Debian's package, on 127.0.0.1, stopped by PID at the end)."
    with postgres_server() as url:
        yield url


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request, tmp_path):
    "A fresh store location on each back end: an SQLite file, or a new PostgreSQL database."
    if request.param == "sqlite":
        return str(tmp_path / "labels.sqlite")
    base = request.getfixturevalue("postgres_base_url")
    return create_database(base, f"t{os.getpid()}_{next(_db_counter)}")


@pytest.fixture(scope="session")
def label_studio():
    "A real Label Studio 1.23.2 on 127.0.0.1 for the session (its own venv; started and stopped by PID)."
    from servers import label_studio_server
    with label_studio_server() as server:
        yield server


# --- CVAT ----------------------------------------------------------------------------------------------
@pytest.fixture(scope="session")
def cvat():
    """A real CVAT 2.23.1 for the session: the one CVAT_URL/CVAT_USER/CVAT_PASSWORD name (`make test` starts one and
    sets them), else the one `python tests/servers.py cvat-start` left running, else one started here and stopped at
    the end (install once ~3 min, start ~1-2 min; root needed)."""
    from servers import cvat_server
    with cvat_server() as server:
        yield server
