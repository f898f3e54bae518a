"""Shared fixtures.  ``mrpan_mm`` is imported first so that the mmcv-lite
shim is in place before any test imports mmseg."""
import mrpan_mm  # noqa: F401

import pytest

from mrpan_mm.testing import make_nyu_fixture
from tools_runner import TINY_CONFIG, data_root_options, run_tool


@pytest.fixture(scope='session')
def nyu_root(tmp_path_factory):
    """A tiny NYU-layout dataset (4 train / 2 test, 64x80)."""
    root = tmp_path_factory.mktemp('nyu')
    make_nyu_fixture(str(root))
    return str(root)


@pytest.fixture(scope='session')
def tiny_training(tmp_path_factory):
    """``tools/train.py`` on the tiny config for its two epochs (4 train / 2
    test images, 64x80), shared by the end-to-end tests that start from a
    trained run; returns (data root, work dir with epoch_{1,2}.pth)."""
    root = str(tmp_path_factory.mktemp('nyu_tiny_training'))
    make_nyu_fixture(root, num_train=4, num_test=2)
    work_dir = str(tmp_path_factory.mktemp('tiny_training'))
    run_tool('train.py', [TINY_CONFIG, '--work-dir', work_dir,
                          '--cfg-options', *data_root_options(root)])
    return root, work_dir
