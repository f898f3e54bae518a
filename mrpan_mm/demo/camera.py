"""Pinhole camera with NYU Depth v2 intrinsics and its primary rays.

Frames: the world has ``y`` up; rooms span ``[0, size]`` on every axis.
The camera frame is ``x`` right, ``y`` up, ``z`` forward, and maps onto the
world axes when yaw = pitch = roll = 0 (the demo scenes have no handedness,
so the mirror this frame choice implies is irrelevant).  Ray directions are
kept with a camera-frame ``z`` component of exactly 1, so the ray parameter
``t`` of a hit *is* its z-depth (distance along the optical axis, as NYU's).
"""
from dataclasses import dataclass
from typing import Optional, Tuple

import numpy as np

from ..utils.intrinsics import scaled_intrinsics

@dataclass(frozen=True)
class Camera:
    """Camera pose in the world frame.

    Attributes:
        position: (3,) optical centre in metres.
        yaw: rotation about world ``y`` in radians; 0 looks along ``+z``,
            pi/2 along ``+x``.
        pitch: elevation of the optical axis in radians (negative = down).
        roll: rotation about the optical axis in radians.
    """
    position: np.ndarray
    yaw: float = 0.0
    pitch: float = 0.0
    roll: float = 0.0

    def rotation(self) -> np.ndarray:
        """(3, 3) camera-to-world rotation ``R_yaw @ R_pitch @ R_roll``."""
        cy, sy = np.cos(self.yaw), np.sin(self.yaw)
        cp, sp = np.cos(self.pitch), np.sin(self.pitch)
        cr, sr = np.cos(self.roll), np.sin(self.roll)
        r_yaw = np.array([[cy, 0, sy], [0, 1, 0], [-sy, 0, cy]])
        r_pitch = np.array([[1, 0, 0], [0, cp, sp], [0, -sp, cp]])
        r_roll = np.array([[cr, -sr, 0], [sr, cr, 0], [0, 0, 1]])
        return r_yaw @ r_pitch @ r_roll


def pixel_rays(camera: Camera,
               height: int,
               width: int,
               supersample: int = 1) -> np.ndarray:
    """World-frame ray directions through a regular grid of sub-pixels.

    Each of the ``height`` x ``width`` pixels is split into
    ``supersample`` x ``supersample`` sub-pixels whose centres are the ray
    sample points (with ``supersample=1`` the pixel centres themselves).

    Returns:
        (height * s, width * s, 3) float64 directions whose camera-frame
        ``z`` component is 1 (``t`` along them is z-depth in metres).
    """
    fx, fy, cx, cy = scaled_intrinsics(height, width)
    offsets = (np.arange(supersample) + 0.5) / supersample - 0.5
    us = (np.arange(width)[:, None] + offsets).ravel()
    vs = (np.arange(height)[:, None] + offsets).ravel()
    x = np.broadcast_to((us - cx) / fx, (vs.size, us.size))
    y = np.broadcast_to(-(vs[:, None] - cy) / fy, (vs.size, us.size))
    cam_dirs = np.stack([x, y, np.ones_like(x)], axis=-1)
    return cam_dirs @ camera.rotation().T


def box_pixel_window(camera: Camera, lo: np.ndarray, hi: np.ndarray,
                     height: int, width: int,
                     supersample: int = 1) -> Optional[Tuple[slice, slice]]:
    """Rows and columns of the sub-pixel grid of :func:`pixel_rays` whose
    rays can hit the box ``[lo, hi]`` (corners (3,), metres).

    The projection of a box in front of the camera lies in the bounding
    rectangle of its projected corners; the window is that rectangle
    widened by one sub-pixel and clipped to the image.

    Returns:
        ``(rows, cols)`` slices (possibly empty), or None when a corner is
        not in front of the camera (then every ray must be tested).
    """
    corners = np.stack(np.meshgrid(*zip(lo, hi), indexing='ij'),
                       axis=-1).reshape(-1, 3)
    cam = (corners - camera.position) @ camera.rotation()
    if np.any(cam[:, 2] <= 1e-6):
        return None
    fx, fy, cx, cy = scaled_intrinsics(height, width)
    us = cx + fx * cam[:, 0] / cam[:, 2]
    vs = cy - fy * cam[:, 1] / cam[:, 2]
    return (_grid_span(vs, height, supersample),
            _grid_span(us, width, supersample))


def _grid_span(coords: np.ndarray, size: int, supersample: int) -> slice:
    """Sub-pixel indices covering pixel coordinates ``coords`` +- 1 sample.

    Sub-pixel ``j`` sits at pixel coordinate ``(j + 0.5) / s - 0.5``.
    """
    lo = np.floor((coords.min() + 0.5) * supersample - 0.5) - 1
    hi = np.ceil((coords.max() + 0.5) * supersample - 0.5) + 2
    limit = size * supersample
    return slice(int(np.clip(lo, 0, limit)), int(np.clip(hi, 0, limit)))
