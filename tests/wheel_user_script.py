"""What a pip user runs, outside any clone: every shipped config loaded by
name and built (without weights, on the meta device where the model
allows it), then depth from an image with ``DepthInferencer``.

Run by tests/test_wheel.py in a fresh venv holding the built wheel; prints
one line per config and exits non-zero on any failure.
"""
import importlib.metadata
import os.path as osp
import sys

import mrpan_mm  # noqa: F401  (first: installs the mmcv-lite shim)

import cv2
import numpy as np
from mmengine.config import Config
from packaging.requirements import Requirement

from mrpan_mm import get_config_path, list_configs
from mrpan_mm.apis import DepthInferencer
from mrpan_mm.testing import build_weightless, save_random_checkpoint


def check_requirements(extras):
    """Every requirement of the installed mrpan-mm (with ``extras``) is met
    by an installed distribution, as ``pip check`` would say."""
    for line in importlib.metadata.requires('mrpan-mm'):
        req = Requirement(line)
        if req.marker and not any(
                req.marker.evaluate(dict(extra=e)) for e in extras + ['']):
            continue
        version = importlib.metadata.version(req.name)
        assert req.specifier.contains(version, prereleases=True), \
            f'{req.name} {version} does not meet {req}'


def main():
    assert mrpan_mm.__file__.startswith(sys.prefix), mrpan_mm.__file__
    check_requirements(['lite'])
    names = list_configs()
    assert 'mrpan_nyu.py' in names and 'mrpan_demo_cpu.py' in names, names
    for name in names:
        cfg = Config.fromfile(get_config_path(name))
        model = build_weightless(cfg)  # no weights are read
        params = sum(p.numel() for p in model.parameters())
        print(f'{name}: {type(model).__name__}, {params / 1e6:.1f} M')
    demo = get_config_path('mrpan_demo_cpu')
    save_random_checkpoint(demo, 'random.pth')
    image = np.random.default_rng(0).integers(0, 255, (60, 80, 3), np.uint8)
    cv2.imwrite('room.png', image)
    inferencer = DepthInferencer(demo, 'random.pth', 'cpu',
                                 show_progress=False)
    depth = inferencer(osp.abspath('room.png'))['predictions']
    assert depth.shape == (60, 80) and np.isfinite(depth).all()
    print(f'DepthInferencer: {depth.shape}, '
          f'{depth.min():.3f}..{depth.max():.3f} m')


if __name__ == '__main__':
    main()
