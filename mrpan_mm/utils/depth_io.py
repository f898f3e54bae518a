"""Depth maps on disk: 16-bit PNG in millimetres, float32 ``.npy`` in metres.

The PNG format is NYU's (and mmseg's ``LoadDepthAnnotation``'s): uint16,
millimetres, 0 = no depth.  Its range is 0.001-65.535 m.  This module is the
one place that converts metres to millimetres: :func:`depth_to_mm` for
predictions (deeper values are clipped to 65535 and counted, so that callers
can warn once per run), :func:`metres_to_mm` for datasets (anything that
does not fit is an error naming the source).
"""
import os.path as osp
from typing import Tuple

import cv2
import numpy as np

MM_PER_METRE = 1000.0
MAX_DEPTH_MM = int(np.iinfo(np.uint16).max)
MAX_PNG_DEPTH = MAX_DEPTH_MM / MM_PER_METRE  # 65.535 m


def depth_to_mm(depth: np.ndarray) -> Tuple[np.ndarray, int]:
    """Depth (H, W) in metres -> (uint16 millimetres (H, W), clipped count).

    Values are rounded to the nearest millimetre; NaN, -inf and negative
    values become 0 (no depth); values above 65.535 m (+inf included) become
    65535 and are counted in the second return value.
    """
    depth = np.asarray(depth, dtype=np.float64)
    mm = np.round(
        np.nan_to_num(depth, nan=0.0, posinf=np.inf, neginf=0.0) *
        MM_PER_METRE)
    clipped = int(np.count_nonzero(mm > MAX_DEPTH_MM))
    return np.clip(mm, 0, MAX_DEPTH_MM).astype(np.uint16), clipped


def metres_to_mm(depth: np.ndarray, source: str) -> np.ndarray:
    """Depth (H, W) in metres -> uint16 millimetres (H, W), nothing clipped.

    The rounding of :func:`depth_to_mm`; 0 stays 0 (no depth).

    Raises:
        ValueError: naming ``source`` for NaN/inf, negative values or
            values beyond 65.535 m.
    """
    if not np.isfinite(depth).all():
        raise ValueError(f'{source}: depth has NaN or infinite values')
    if depth.min() < 0:
        raise ValueError(f'{source}: depth has negative values '
                         f'(min {depth.min()} m)')
    depth_mm, clipped = depth_to_mm(depth)
    if clipped:
        raise ValueError(f'{source}: depth up to {depth.max()} m does not '
                         f'fit a 16-bit millimetre PNG (max {MAX_PNG_DEPTH} '
                         'm)')
    return depth_mm


def write_depth_png(path: str, depth: np.ndarray) -> int:
    """Write depth (H, W, metres) as a uint16 millimetre PNG.

    Returns:
        The number of pixels clipped at 65.535 m.
    """
    mm, clipped = depth_to_mm(depth)
    if not cv2.imwrite(path, mm):
        raise OSError(f'cannot write depth PNG {path}')
    return clipped


def read_depth_png(path: str) -> np.ndarray:
    """Read a uint16 millimetre PNG as float32 metres (H, W), 0 = none.

    Raises:
        FileNotFoundError: ``path`` does not exist.
        ValueError: The file is not a single-channel 16-bit image.
    """
    if not osp.isfile(path):
        raise FileNotFoundError(f'no such depth file: {path}')
    mm = cv2.imread(path, cv2.IMREAD_UNCHANGED)
    if mm is None:
        raise ValueError(f'{path}: not an image, or corrupt')
    if mm.dtype != np.uint16 or mm.ndim != 2:
        raise ValueError(f'{path}: expected a single-channel 16-bit PNG '
                         f'(millimetres), got dtype {mm.dtype} with shape '
                         f'{mm.shape}')
    return mm.astype(np.float32) / MM_PER_METRE
