"""Small generated copies of depth releases, laid out as the real ones
unpack, for the tests of the converters and the configs that read them."""
import os
import os.path as osp
from typing import Dict, Sequence, Tuple

import cv2
import numpy as np

from ..datasets.converters.kitti import KITTI_DEPTH_SCALE

#: (line prefix, drive, frame, has depth, annotated-depth sub-folder)
KITTI_FRAMES = (
    ('2011_09_26/', '2011_09_26_drive_0002_sync', 69, True, 'train'),
    ('', '2011_09_26_drive_0002_sync', 75, False, 'train'),
    ('', '2011_09_30_drive_0016_sync', 11, True, 'val'),
)


def _write_png(path: str, array: np.ndarray) -> None:
    os.makedirs(osp.dirname(path), exist_ok=True)
    if not cv2.imwrite(path, array):
        raise OSError(f'could not write {path}')


def sparse_lidar_depth(rng: np.random.Generator, size: Tuple[int, int],
                       max_m: float = 85.0) -> np.ndarray:
    """uint16 depth as KITTI stores it (metres x 256), 70 % empty, the
    top third empty (no LiDAR above the horizon), some beyond 80 m."""
    metres = rng.uniform(2.0, max_m, size)
    metres[rng.random(size) < 0.7] = 0.0
    metres[:size[0] // 3] = 0.0
    return np.round(metres * KITTI_DEPTH_SCALE).astype(np.uint16)


def make_kitti_release(root: str,
                       size: Tuple[int, int] = (102, 330),
                       frames: Sequence[tuple] = KITTI_FRAMES,
                       seed: int = 0) -> Dict[str, str]:
    """KITTI raw + annotated depth + a BTS-style split file under ``root``.

    Returns:
        ``raw_root``, ``depth_root`` and ``split_file`` paths.
    """
    rng = np.random.default_rng(seed)
    raw_root, depth_root = osp.join(root, 'raw'), osp.join(root, 'depth')
    lines = []
    for prefix, drive, frame, has_depth, subset in frames:
        name = f'{frame:010d}.png'
        image = rng.integers(0, 255, size + (3, ), dtype=np.uint8)
        _write_png(
            osp.join(raw_root, drive[:10], drive, 'image_02', 'data', name),
            image)
        depth_rel = f'{drive}/proj_depth/groundtruth/image_02/{name}'
        if has_depth:
            _write_png(osp.join(depth_root, subset, depth_rel),
                       sparse_lidar_depth(rng, size))
        lines.append(f'{prefix}{drive}/image_02/data/{name} '
                     f'{depth_rel if has_depth else "None"} 721.5377')
    split_file = osp.join(root, 'split.txt')
    with open(split_file, 'w') as handle:
        handle.write('\n'.join(lines) + '\n')
    return dict(raw_root=raw_root, depth_root=depth_root,
                split_file=split_file)
