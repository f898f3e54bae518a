"""Procedural surface textures defined in world space.

A pattern is a scalar field ``p(u, v) in [0, 1]`` with mean 0.5 over the
surface plane, where ``(u, v)`` are world coordinates in metres along the
surface (see :func:`surface_uv`) and the frequency is in cycles per metre.
Because frequency is fixed in world units, projected texture density grows
with distance, a monocular depth cue.  Patterns are faded towards 0.5 where
one pixel covers a large part of a period (cheap anti-aliasing).
"""
from dataclasses import dataclass
from typing import Tuple

import numpy as np

PLAIN, CHECKER, STRIPES, PLANKS, TILES = range(5)

#: World axis used as ``u`` / ``v`` for a surface whose normal is along
#: x, y, z: walls get (horizontal, vertical), floors and ceilings (x, z).
_U_AXIS = np.array([2, 0, 0])
_V_AXIS = np.array([1, 2, 1])

#: Planks are this many times longer (along ``v``) than wide.
_PLANK_ASPECT = 4.0


@dataclass(frozen=True)
class Material:
    """Appearance of a surface.

    Attributes:
        color: (3,) RGB albedo in [0, 1] (display-referred).
        pattern: one of PLAIN, CHECKER, STRIPES, PLANKS, TILES.
        frequency: pattern frequency in cycles per metre.
        contrast: albedo is scaled by ``1 + 2 * contrast * (p - 0.5)``.
    """
    color: Tuple[float, float, float]
    pattern: int = PLAIN
    frequency: float = 1.0
    contrast: float = 0.0


def surface_uv(points: np.ndarray,
               normal_axis: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
    """Texture coordinates (metres) of (3, N) points on faces whose normals
    lie along world axis ``normal_axis`` (N,)."""
    cols = np.arange(points.shape[1])
    return (points[_U_AXIS[normal_axis], cols],
            points[_V_AXIS[normal_axis], cols])


def _cell_hash(iu: np.ndarray, iv: np.ndarray, salt: np.ndarray,
               table: np.ndarray) -> np.ndarray:
    """Pseudo-random value in [0, 1) per integer lattice cell."""
    key = (iu.astype(np.int64) * 73856093) ^ (iv.astype(np.int64) * 19349663)
    key ^= salt.astype(np.int64) * 83492791
    return table[key & (len(table) - 1)]


def pattern_values(pattern: np.ndarray, u: np.ndarray, v: np.ndarray,
                   frequency: np.ndarray, salt: np.ndarray,
                   table: np.ndarray) -> np.ndarray:
    """Evaluate per-sample patterns.

    Args:
        pattern, frequency, salt: (N,) pattern id, cycles per metre and a
            per-surface integer decorrelating the random cells.
        u, v: (N,) surface coordinates in metres.
        table: (2**k,) random values in [0, 1) for the cell hash.

    Returns:
        (N,) pattern values in [0, 1].
    """
    fu, fv = u * frequency, v * frequency
    iu, iv = np.floor(fu), np.floor(fv)
    out = np.full(len(u), 0.5)
    checker = pattern == CHECKER
    out[checker] = (iu[checker] + iv[checker]) % 2
    stripes = pattern == STRIPES
    out[stripes] = 0.5 + 0.5 * np.sin(2 * np.pi * fu[stripes])
    planks = pattern == PLANKS
    out[planks] = _cell_hash(iu[planks],
                             np.floor(fv[planks] / _PLANK_ASPECT),
                             salt[planks], table)
    tiles = pattern == TILES
    out[tiles] = _cell_hash(iu[tiles], iv[tiles], salt[tiles], table)
    return out


def antialias_fade(pixel_footprint: np.ndarray,
                   frequency: np.ndarray) -> np.ndarray:
    """Contrast kept (N,) in [0, 1]: 1 when a period spans many pixels,
    falling linearly to 0 at the Nyquist limit of half a cycle per pixel.

    Args:
        pixel_footprint: (N,) size in metres of one pixel on the surface.
        frequency: (N,) cycles per metre.
    """
    cycles_per_pixel = pixel_footprint * frequency
    return np.clip(1.0 - cycles_per_pixel / 0.5, 0.0, 1.0)
