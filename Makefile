# Two entry points for a fresh machine (Python 3.11 and the package registries):
#   make demo   set up if needed, then train + evaluate the CPU demo
#   make test   set up if needed, then run the test suite
# Both are idempotent: setup re-runs only when a requirements file changes.
# The demo installs only what it runs (requirements/cpu.txt); the tests add
# requirements/tests.txt and requirements/deploy.txt.  Installs go through
# tools/install_requirements.py: uv with pip's package sources (pip if uv is
# unavailable).
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
INSTALL := $(PY) tools/install_requirements.py
CORE_STAMP := $(VENV)/.mrpan-setup-core
TEST_STAMP := $(VENV)/.mrpan-setup-tests
DEMO_WORK_DIR ?= work_dirs/mrpan_demo_cpu
# pytest-xdist: one worker per CPU (tests/conftest.py); `make test
# PYTEST_WORKERS=` runs in one process
PYTEST_WORKERS ?= -n auto --dist loadgroup

.PHONY: setup setup-tests demo test chromium

setup: $(CORE_STAMP)

setup-tests: $(TEST_STAMP)

$(CORE_STAMP): requirements/cpu.txt setup.cfg pyproject.toml \
		tools/install_requirements.py
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(INSTALL) -r requirements/cpu.txt
	$(INSTALL) --no-deps --no-build-isolation -e .
	touch $(CORE_STAMP)

$(TEST_STAMP): $(CORE_STAMP) requirements/tests.txt requirements/deploy.txt
	$(INSTALL) -r requirements/cpu.txt -r requirements/tests.txt \
		-r requirements/deploy.txt
	touch $(TEST_STAMP)

# Headless Chromium for the web page's browser test (Debian packages; as
# root only, never fatal: without it that test is skipped).
chromium:
	@if command -v chromium >/dev/null && command -v chromedriver >/dev/null; \
	then :; elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get \
		install -y -qq --no-install-recommends chromium chromium-driver) \
		|| echo "chromium: apt-get failed; the browser test will be skipped"; \
	else echo "chromium: not installed (needs root and apt-get); the" \
		"browser test will be skipped"; fi

demo: setup
	$(PY) tools/run_demo.py --work-dir $(DEMO_WORK_DIR)

test: setup-tests chromium
	PATH="$(CURDIR)/$(VENV)/bin:$$PATH" $(PY) -m pytest -q $(PYTEST_WORKERS)
