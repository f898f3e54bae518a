"""Zero-shot indoor test sets to the folder layout, depth in millimetres.

Each converter reads a release as it unpacks and writes, for
``DepthFolderDataset`` with ``LoadCheckedDepth(depth_rescale_factor=1e-3)``
(every pixel the release marks invalid stored as 0)::

    out_root/images/test/<name>.png        RGB (PNG copied, JPEG decoded)
    out_root/annotations/test/<name>.png   uint16 depth, mm
    out_root/edges/test/<name>.png         iBims-1 only: its edge map

* iBims-1 (Koch et al., ECCV-W 2018), ``ibims1_core_raw``:
  ``imagelist.txt``, ``rgb/<name>.png``, ``depth/<name>.png`` (uint16,
  metres = value * 50 / 65535), ``mask_invalid/`` and ``mask_transp/``
  (uint8, 0 = invalid / transparent: no depth there), ``edges/`` (the
  depth-boundary map of its DBE metric).  Millimetres round the release's
  0.76 mm step to 1 mm (at most 0.5 mm off).
* DIODE (Vasiljevic et al., 2019), ``val/indoors``: ``scene_<s>/scan_<c>/
  <name>.png`` with ``<name>_depth.npy`` (H x W x 1 float32, metres) and
  ``<name>_depth_mask.npy`` (H x W, 1 = valid); 768x1024.
* SUN RGB-D (Song et al., CVPR 2015): one folder per frame with
  ``image/<name>.jpg`` and ``depth/<name>.png`` (raw) or ``depth_bfx/``
  (filled); the 16-bit PNGs store the millimetres rotated left by 3 bits
  (the toolbox's ``read3dPoints.m`` undoes it with
  ``bitor(bitshift(d, -3), bitshift(d, 16 - 3))``), which
  :func:`sunrgbd_depth_mm` reverses.
"""
import glob
import os.path as osp
from typing import Iterable, Optional

import cv2
import numpy as np

from ...utils.depth_io import metres_to_mm
from .folder_layout import FolderLayoutWriter

SPLIT = 'test'
#: iBims-1 depth PNG: metres = value * IBIMS_DEPTH_SCALE.
IBIMS_DEPTH_SCALE = 50.0 / 65535


def _read(path: str, flag: int = cv2.IMREAD_UNCHANGED) -> np.ndarray:
    array = cv2.imread(path, flag) if osp.isfile(path) else None
    if array is None:
        raise FileNotFoundError(f'{path}: missing or not an image')
    return array


def _load_npy(path: str) -> np.ndarray:
    if not osp.isfile(path):
        raise FileNotFoundError(f'{path}: missing')
    return np.load(path, allow_pickle=False)


def convert_ibims1(root: str, out_root: str) -> FolderLayoutWriter:
    """iBims-1 ``ibims1_core_raw`` (see the module docstring)."""
    list_file = osp.join(root, 'imagelist.txt')
    if not osp.isfile(list_file):
        raise FileNotFoundError(f'{list_file}: missing; is {root} the '
                                'ibims1_core_raw folder?')
    with open(list_file) as handle:
        names = handle.read().split()
    writer = FolderLayoutWriter(out_root, 'iBims-1')
    for name in names:
        writer.start_sample(SPLIT, name, list_file)
        depth = _read(osp.join(root, 'depth', name + '.png'))
        if depth.dtype != np.uint16 or depth.ndim != 2:
            raise ValueError(f'{root}/depth/{name}.png: expected a 16-bit '
                             f'single-channel PNG, got {depth.dtype} '
                             f'{depth.shape}')
        valid = ((_read(osp.join(root, 'mask_invalid', name + '.png')) > 0)
                 & (_read(osp.join(root, 'mask_transp', name + '.png')) > 0))
        metres = np.where(valid, depth * IBIMS_DEPTH_SCALE, 0.0)
        writer.write('depth', SPLIT, name,
                     metres_to_mm(metres, f'{root}/depth/{name}.png'))
        writer.copy('image', SPLIT, name, osp.join(root, 'rgb', name + '.png'))
        writer.copy('edges', SPLIT, name,
                    osp.join(root, 'edges', name + '.png'))
    return writer


def convert_diode(root: str, out_root: str) -> FolderLayoutWriter:
    """DIODE ``val/indoors`` (or any DIODE split folder) at ``root``."""
    images = sorted(glob.glob(osp.join(root, 'scene_*', 'scan_*', '*.png')))
    if not images:
        raise FileNotFoundError(f'{root}: no scene_*/scan_*/*.png; is it '
                                "DIODE's val/indoors folder?")
    writer = FolderLayoutWriter(out_root, 'DIODE')
    for image in images:
        stem = image[:-len('.png')]
        depth = _load_npy(stem + '_depth.npy')
        mask = _load_npy(stem + '_depth_mask.npy')
        if depth.ndim == 3:
            depth = depth[..., 0]
        if depth.shape != mask.shape:
            raise ValueError(f'{stem}_depth_mask.npy: shape {mask.shape} '
                             f'differs from its depth {depth.shape}')
        name = osp.basename(stem)
        writer.start_sample(SPLIT, name, image)
        writer.write('depth', SPLIT, name,
                     metres_to_mm(np.where(mask > 0, depth, 0.0),
                                  stem + '_depth.npy'))
        writer.copy('image', SPLIT, name, image)
    return writer


def sunrgbd_depth_mm(stored: np.ndarray) -> np.ndarray:
    """SUN RGB-D depth PNG values -> uint16 millimetres (rotate right 3)."""
    stored = stored.astype(np.uint16)
    return (stored >> 3) | (stored << 13)


def convert_sunrgbd(root: str,
                    out_root: str,
                    frames: Optional[Iterable[str]] = None,
                    filled: bool = False) -> FolderLayoutWriter:
    """SUN RGB-D frame folders under ``root`` (or the listed ones).

    Args:
        root: The ``SUNRGBD`` folder.
        out_root: Output folder.
        frames: Frame folders relative to ``root`` (e.g. the 5050 of the
            official test split); default every folder with ``image/``.
        filled: Read ``depth_bfx/`` (the toolbox's filled depth) instead of
            the raw ``depth/``.
    """
    if frames is None:
        frames = sorted(
            osp.relpath(osp.dirname(path), root)
            for path in glob.glob(osp.join(root, '**', 'image'),
                                  recursive=True))
    frames = list(frames)
    if not frames:
        raise FileNotFoundError(f'{root}: no frame folder with image/')
    writer = FolderLayoutWriter(out_root, 'SUN RGB-D')
    depth_dir = 'depth_bfx' if filled else 'depth'
    for frame in frames:
        folder = osp.join(root, frame)
        image = sorted(glob.glob(osp.join(folder, 'image', '*.jpg')))
        depth = sorted(glob.glob(osp.join(folder, depth_dir, '*.png')))
        if len(image) != 1 or len(depth) != 1:
            raise FileNotFoundError(
                f'{folder}: expected one image/*.jpg and one '
                f'{depth_dir}/*.png, found {len(image)} and {len(depth)}')
        name = frame.strip('/').replace('/', '_')
        writer.start_sample(SPLIT, name, folder)
        stored = _read(depth[0])
        if stored.dtype != np.uint16 or stored.ndim != 2:
            raise ValueError(f'{depth[0]}: expected a 16-bit single-channel '
                             f'PNG, got {stored.dtype} {stored.shape}')
        writer.write('depth', SPLIT, name, sunrgbd_depth_mm(stored))
        writer.write('image', SPLIT, name, _read(image[0], cv2.IMREAD_COLOR))
    return writer
