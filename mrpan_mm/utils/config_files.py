"""The configs shipped inside the package, found by name.

A wheel carries the repository's ``configs/`` folder as
``mrpan_mm/.mim/configs`` (the place MMSegmentation and ``mim`` use; in a
clone it is a link to ``configs/``), so a pip user loads a config without
a clone::

    from mmengine.config import Config
    from mrpan_mm import get_config_path
    cfg = Config.fromfile(get_config_path('mrpan_nyu.py'))
"""
import glob
import os.path as osp
from typing import List

CONFIG_DIR = osp.join(
    osp.dirname(osp.dirname(osp.abspath(__file__))), '.mim', 'configs')


def list_configs() -> List[str]:
    """Names of the top-level configs (``mrpan_nyu.py``, ...), sorted."""
    return sorted(
        osp.basename(path) for path in glob.glob(osp.join(CONFIG_DIR, '*.py')))


def get_config_path(name: str) -> str:
    """Path of the shipped config ``name`` (``'mrpan_nyu.py'``; the
    ``.py`` may be left out).

    Raises:
        FileNotFoundError: No such config; the message lists them all.
    """
    if not name.endswith('.py'):
        name += '.py'
    path = osp.join(CONFIG_DIR, name)
    if not osp.isfile(path):
        raise FileNotFoundError(
            f'no config {name!r} in {CONFIG_DIR}; shipped: '
            f'{", ".join(list_configs()) or "none"}')
    return path
