"""Small generated copies of depth releases, laid out as the real ones
unpack, for the tests of the converters and the configs that read them."""
import os
import os.path as osp
from typing import Dict, Sequence, Tuple

import cv2
import numpy as np

from ..datasets.converters.kitti import KITTI_DEPTH_SCALE

#: (line prefix, drive, frame, has depth, annotated-depth sub-folder[,
#: camera folder, image_02 if absent])
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
    for prefix, drive, frame, has_depth, subset, *camera in frames:
        camera = camera[0] if camera else 'image_02'
        name = f'{frame:010d}.png'
        image = rng.integers(0, 255, size + (3, ), dtype=np.uint8)
        _write_png(
            osp.join(raw_root, drive[:10], drive, camera, 'data', name),
            image)
        depth_rel = f'{drive}/proj_depth/groundtruth/{camera}/{name}'
        if has_depth:
            _write_png(osp.join(depth_root, subset, depth_rel),
                       sparse_lidar_depth(rng, size))
        lines.append(f'{prefix}{drive}/{camera}/data/{name} '
                     f'{depth_rel if has_depth else "None"} 721.5377')
    split_file = osp.join(root, 'split.txt')
    with open(split_file, 'w') as handle:
        handle.write('\n'.join(lines) + '\n')
    return dict(raw_root=raw_root, depth_root=depth_root,
                split_file=split_file)


def smooth_room_depth(size: Tuple[int, int], near: float = 1.0,
                      far: float = 6.0) -> np.ndarray:
    """float64 metres (H, W): a ramp from ``near`` (bottom) to ``far``."""
    rows = np.linspace(far, near, size[0])[:, None]
    cols = np.linspace(0.0, 0.5, size[1])[None]
    return rows + cols


def make_ibims1_release(root: str,
                        names: Sequence[str] = ('corridor_01', 'office_02'),
                        size: Tuple[int, int] = (48, 64),
                        seed: int = 0) -> str:
    """``ibims1_core_raw``: imagelist, rgb, depth (v * 50 / 65535 m),
    mask_invalid, mask_transp, edges.  Returns ``root``."""
    rng = np.random.default_rng(seed)
    for name in names:
        depth = np.round(smooth_room_depth(size) * 65535 / 50.0)
        invalid, transp = (np.full(size, 255, np.uint8) for _ in range(2))
        invalid[:4] = 0
        transp[:, :4] = 0
        edges = np.zeros(size, np.uint8)
        edges[size[0] // 2] = 255
        for folder, array in (('rgb', rng.integers(0, 255, size + (3, ),
                                                   dtype=np.uint8)),
                              ('depth', depth.astype(np.uint16)),
                              ('mask_invalid', invalid),
                              ('mask_transp', transp), ('edges', edges)):
            _write_png(osp.join(root, folder, name + '.png'), array)
    with open(osp.join(root, 'imagelist.txt'), 'w') as handle:
        handle.write('\n'.join(names) + '\n')
    return root


def make_diode_release(root: str, size: Tuple[int, int] = (48, 64),
                       seed: int = 0) -> str:
    """DIODE ``val/indoors``: two scans, depth .npy (H, W, 1) + mask."""
    rng = np.random.default_rng(seed)
    for scene, scan in ((19, 183), (20, 185)):
        folder = osp.join(root, f'scene_{scene:05d}', f'scan_{scan:05d}')
        stem = osp.join(folder, f'{scene:05d}_{scan:05d}_indoors_000_010')
        _write_png(stem + '.png',
                   rng.integers(0, 255, size + (3, ), dtype=np.uint8))
        depth = smooth_room_depth(size).astype(np.float32)
        mask = np.ones(size, np.float32)
        mask[-3:] = 0  # e.g. a window: its depth values are not valid
        depth[-3:] = 99.0
        np.save(stem + '_depth.npy', depth[..., None])
        np.save(stem + '_depth_mask.npy', mask)
    return root


def make_sunrgbd_release(root: str, size: Tuple[int, int] = (48, 64),
                         seed: int = 0) -> str:
    """SUN RGB-D: two frame folders (kv1 and kv2 style) with image/*.jpg,
    depth/*.png and depth_bfx/*.png, millimetres rotated left 3 bits."""
    rng = np.random.default_rng(seed)
    for frame in ('kv1/NYUdata/NYU0001', 'kv2/kinect2data/000002_2014'):
        folder = osp.join(root, frame)
        name = osp.basename(frame)
        mm = np.round(smooth_room_depth(size) * 1000).astype(np.uint16)
        mm[:2] = 0
        stored = (mm << 3) | (mm >> 13)
        _write_png(osp.join(folder, 'image', name + '.jpg'),
                   rng.integers(0, 255, size + (3, ), dtype=np.uint8))
        _write_png(osp.join(folder, 'depth', name + '.png'), stored)
        _write_png(osp.join(folder, 'depth_bfx', name + '.png'),
                   (stored | np.uint16(8)))
    return root
