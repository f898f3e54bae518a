# Two entry points for a fresh machine (Python 3.11 and the package registries):
#   make demo   set up if needed, then train + evaluate the CPU demo
#   make test   set up if needed, then run the test suite
# Both are idempotent: setup re-runs only when a requirements file changes.
# The demo installs only what it runs (requirements/cpu.lock); the tests
# install requirements/tests.lock (cpu + tests + deploy).  The locks pin
# every package with the SHA-256 of its PyPI files (`make locks` writes them
# from requirements/*.txt).  Installs go through
# tools/install_requirements.py: a pinned uv with pip's package sources (pip
# if uv is unavailable), every file checked against the lock's hashes.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
INSTALL := $(PY) tools/install_requirements.py
LOCK := $(PY) tools/install_requirements.py -r
# One platform: CPython 3.11 on x86-64 Linux, files from PyPI only.
UV_COMPILE := $(PY) -m uv pip compile --quiet --generate-hashes --no-config \
	--index-url https://pypi.org/simple --python-version 3.11 \
	--python-platform x86_64-manylinux_2_28 --custom-compile-command \
	'make locks'
CORE_STAMP := $(VENV)/.mrpan-setup-core
TEST_STAMP := $(VENV)/.mrpan-setup-tests
DEMO_WORK_DIR ?= work_dirs/mrpan_demo_cpu
# pytest-xdist: one worker per CPU (tests/conftest.py; setup.cfg gives the
# scheduling); `make test PYTEST_WORKERS=` runs in one process
PYTEST_WORKERS ?= -n auto

.PHONY: setup setup-tests demo test chromium locks

setup: $(CORE_STAMP)

setup-tests: $(TEST_STAMP)

$(CORE_STAMP): requirements/cpu.lock requirements/installer.lock setup.cfg \
		pyproject.toml tools/install_requirements.py
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(LOCK) requirements/cpu.lock
	$(INSTALL) --no-deps --no-build-isolation -e .
	touch $(CORE_STAMP)

$(TEST_STAMP): $(CORE_STAMP) requirements/tests.lock
	$(LOCK) requirements/tests.lock
	touch $(TEST_STAMP)

# Rewrite the locks after a change to requirements/*.txt (needs `make setup`
# first, for uv); the tests lock is the union, the others follow its pins.
locks: setup
	$(UV_COMPILE) -o requirements/tests.lock requirements/cpu.txt \
		requirements/tests.txt requirements/deploy.txt
	$(UV_COMPILE) -c requirements/tests.lock -o requirements/cpu.lock \
		requirements/cpu.txt
	$(UV_COMPILE) -c requirements/tests.lock -o requirements/deploy.lock \
		requirements/cpu.txt requirements/deploy.txt
	echo 'uv==0.13.9' | $(UV_COMPILE) -o requirements/installer.lock -

# Headless Chromium for the web page's browser test (Debian packages, as
# root).  The suite requires it: where it is missing and cannot be installed
# here, `make test` stops and says so (no test is skipped for a missing
# piece).
chromium:
	@if command -v chromium >/dev/null && command -v chromedriver >/dev/null; \
	then :; elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get \
		install -y -qq --no-install-recommends chromium chromium-driver; \
	else echo "chromium: not installed, and installing it needs root and" \
		"apt-get: install chromium and chromium-driver (Debian) and run" \
		"make test again" >&2; exit 1; fi

demo: setup
	$(PY) tools/run_demo.py --work-dir $(DEMO_WORK_DIR)

test: setup-tests chromium
	PATH="$(CURDIR)/$(VENV)/bin:$$PATH" $(PY) -m pytest -q $(PYTEST_WORKERS)
