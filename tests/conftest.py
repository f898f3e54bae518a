"""Shared fixtures.  ``mrpan_mm`` is imported first so that the mmcv-lite
shim is in place before any test imports mmseg."""
import mrpan_mm  # noqa: F401

import pytest

from mrpan_mm.testing import make_nyu_fixture


@pytest.fixture(scope='session')
def nyu_root(tmp_path_factory):
    """A tiny NYU-layout dataset (4 train / 2 test, 64x80)."""
    root = tmp_path_factory.mktemp('nyu')
    make_nyu_fixture(str(root))
    return str(root)
