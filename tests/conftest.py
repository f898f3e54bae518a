"""Shared fixtures and the parallel-run settings.  ``mrpan_mm`` is imported
first so that the mmcv-lite shim is in place before any test imports mmseg.

``make test`` runs the suite in pytest-xdist workers (``-n auto --dist
loadgroup``): one worker per CPU, fewer where memory is short, each test
process and tool subprocess on one thread, so the CPUs are shared rather
than oversubscribed."""
import os

import mrpan_mm  # noqa: F401  (first: installs the mmcv-lite shim)

import pytest
import torch

from mrpan_mm.testing import make_nyu_fixture
from tools_runner import TINY_CONFIG, data_root_options, run_tool

# peak memory of one worker with the tool subprocesses it starts (the
# reliability runs start eight at once); bounds the worker count
WORKER_MEMORY_GIB = 4


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


@pytest.hookimpl(tryfirst=True)  # before xdist reads the groups
def pytest_collection_modifyitems(config, items):
    """Tests that start from ``tiny_training`` share one worker (``--dist
    loadgroup``), so the run is trained once."""
    for item in items:
        if 'tiny_training' in item.fixturenames:
            item.add_marker(pytest.mark.xdist_group('tiny_training'))


@pytest.fixture(scope='session')
def nyu_root(tmp_path_factory):
    """A tiny NYU-layout dataset (4 train / 2 test, 64x80)."""
    root = tmp_path_factory.mktemp('nyu')
    make_nyu_fixture(str(root))
    return str(root)


@pytest.fixture(scope='session')
def tiny_training(tmp_path_factory):
    """``tools/train.py --tensorboard`` on the tiny config for its two epochs
    (4 train / 2 test images, 64x80), shared by the end-to-end tests that
    start from a trained run; returns (data root, work dir with
    epoch_{1,2}.pth and TensorBoard events)."""
    root = str(tmp_path_factory.mktemp('nyu_tiny_training'))
    make_nyu_fixture(root, num_train=4, num_test=2)
    work_dir = str(tmp_path_factory.mktemp('tiny_training'))
    run_tool('train.py', [TINY_CONFIG, '--work-dir', work_dir, '--tensorboard',
                          '--cfg-options', *data_root_options(root)])
    return root, work_dir
