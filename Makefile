# Two entry points for a fresh machine (Python 3.11 and the package registries):
#   make demo   set up if needed, then train + evaluate the CPU demo
#   make test   set up if needed, then run the test suite
# Both are idempotent: setup re-runs only when a requirements file changes.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.mrpan-setup-done
DEMO_WORK_DIR ?= work_dirs/mrpan_demo_cpu

.PHONY: setup demo test

setup: $(STAMP)

$(STAMP): requirements/cpu.txt requirements/tests.txt setup.cfg pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -r requirements/cpu.txt -r requirements/tests.txt
	$(PY) -m pip install --no-deps --no-build-isolation -e .
	touch $(STAMP)

demo: setup
	$(PY) tools/run_demo.py --work-dir $(DEMO_WORK_DIR)

test: setup
	PATH="$(CURDIR)/$(VENV)/bin:$$PATH" $(PY) -m pytest -q
