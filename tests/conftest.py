"""Shared fixtures and the parallel-run settings.  ``mrpan_mm`` is imported
first so that the mmcv-lite shim is in place before any test imports mmseg.

``make test`` runs the suite in pytest-xdist workers (``-n auto``; setup.cfg
adds ``--dist loadscope --no-loadscope-reorder``): one worker per CPU, fewer
where memory is short, each test process and tool subprocess on one thread,
so the CPUs are shared rather than oversubscribed.  Each test module runs
whole on one worker (its module fixtures are built once), the modules
longest first (``tests/module_order.py``), so that the last ones to
finish are short.  ``--store-module-seconds=PATH`` writes that table from
the run."""
import json
import os
from collections import defaultdict

import mrpan_mm  # noqa: F401  (first: installs the mmcv-lite shim)

import pytest
import torch

from module_order import longest_modules_first, module_of, read_module_seconds
from mrpan_mm.testing import make_nyu_fixture
from once_per_run import once_per_run, run_folder
from tools_runner import TINY_CONFIG, data_root_options, run_tool

# peak memory of one worker with the tool subprocesses it starts (the
# reliability runs start eight at once; SENet-154's forward/backward peaks
# at about 6 GiB, issue #28); bounds the worker count
WORKER_MEMORY_GIB = 8
# seconds per test module in this run, for --store-module-seconds
MODULE_TIMES = defaultdict(float)


def pytest_addoption(parser):
    parser.addoption(
        '--store-module-seconds', metavar='PATH',
        help='write the seconds each test module took in this run (JSON), '
        'e.g. to refresh tests/module_seconds.json')


def pytest_xdist_auto_num_workers(config):
    """``-n auto``: one worker per usable CPU, at most one per
    ``WORKER_MEMORY_GIB`` of physical memory."""
    cpus = len(os.sched_getaffinity(0))
    memory_gib = os.sysconf('SC_PAGE_SIZE') * os.sysconf(
        'SC_PHYS_PAGES') / 2**30
    return max(1, min(cpus, int(memory_gib // WORKER_MEMORY_GIB)))


def pytest_configure(config):
    """In an xdist worker, torch gets this worker's share of the CPUs."""
    workers = int(os.environ.get('PYTEST_XDIST_WORKER_COUNT', 0))
    if workers:
        cpus = len(os.sched_getaffinity(0))
        torch.set_num_threads(max(1, cpus // workers))


def pytest_collection_modifyitems(config, items):
    """Modules longest first (``tests/module_order.py``)."""
    longest_modules_first(items, read_module_seconds())


def pytest_runtest_logreport(report):
    """Adds up each module's time in the process that reports (the xdist
    controller receives every worker's reports)."""
    MODULE_TIMES[module_of(report.nodeid)] += report.duration


def pytest_sessionfinish(session):
    """``--store-module-seconds``: written once, by the controller."""
    path = session.config.getoption('store_module_seconds')
    if path and not hasattr(session.config, 'workerinput'):
        modules = sorted(MODULE_TIMES, key=MODULE_TIMES.get, reverse=True)
        with open(path, 'w') as f:
            json.dump({module: round(MODULE_TIMES[module], 1)
                       for module in modules}, f, indent=0)
            f.write('\n')


@pytest.fixture(scope='session')
def nyu_root(tmp_path_factory):
    """A tiny NYU-layout dataset (4 train / 2 test, 64x80)."""
    root = tmp_path_factory.mktemp('nyu')
    make_nyu_fixture(str(root))
    return str(root)


@pytest.fixture(scope='session')
def tiny_training(tmp_path_factory):
    """``tools/train.py --tensorboard`` on the tiny config for its two epochs
    (4 train / 2 test images, 64x80), trained once per run and shared by
    all workers (:func:`once_per_run.once_per_run`) for the end-to-end
    tests that start from a trained run; returns (data root, work dir with
    epoch_{1,2}.pth and TensorBoard events).  Tests must not change it."""

    def train(folder):
        root, work_dir = str(folder / 'data'), str(folder / 'work_dir')
        make_nyu_fixture(root, num_train=4, num_test=2)
        run_tool('train.py', [
            TINY_CONFIG, '--work-dir', work_dir, '--tensorboard',
            '--cfg-options', *data_root_options(root)
        ])

    folder = once_per_run(run_folder(tmp_path_factory), 'tiny_training',
                          train)
    return str(folder / 'data'), str(folder / 'work_dir')
