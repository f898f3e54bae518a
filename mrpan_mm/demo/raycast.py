"""Vectorised ray casting against a box room and axis-aligned boxes.

Rays are stored component-major for speed: directions are (3, *S) for a
ray layout ``S`` (a flat list or an image grid), origins are either shared,
(3, 1, ...), or per ray, (3, *S).  Distances ``t`` are in units of the
direction length (z-depth in metres for camera rays, see :mod:`.camera`).
Boxes are given as corners ``lo, hi`` (B, 3) in metres.  Rays are only
tested against boxes they may hit: camera rays inside a box's screen-space
window, shadow rays once they meet the bounding box of a group of boxes.
"""
from typing import Iterator, Sequence, Tuple

import numpy as np

_EPS = 1e-12


def _inverse(dirs: np.ndarray) -> np.ndarray:
    """1 / dirs with exact zeros nudged so that slabs never yield NaN."""
    return 1.0 / np.where(np.abs(dirs) < _EPS, _EPS, dirs)


def intersect_room(origins: np.ndarray, dirs: np.ndarray,
                   size: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
    """Exit points of rays cast from inside the room ``[0, size]``.

    Returns:
        t: (*S) distance to the room surface.
        face: (*S) int face id ``2 * axis + (hit the far side)``: 0/1 the
            ``x = 0`` / ``x = size_x`` walls, 2 floor, 3 ceiling, 4/5 the
            ``z = 0`` / ``z = size_z`` walls.
    """
    far_side = dirs > 0
    size = size.reshape((3, ) + (1, ) * (dirs.ndim - 1))
    t_axes = (np.where(far_side, size, 0.0) - origins) * _inverse(dirs)
    axis = np.argmin(t_axes, axis=0)[None]
    t = np.take_along_axis(t_axes, axis, axis=0)[0]
    return t, 2 * axis[0] + np.take_along_axis(far_side, axis, axis=0)[0]


def _slabs(origins: np.ndarray, inv: np.ndarray, lo: np.ndarray,
           hi: np.ndarray) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Slab test of rays (``inv`` (3, *S) inverse directions) against the
    box ``[lo, hi]`` (each (3,)).

    Returns:
        entry: (3, *S) per-axis entry distances.
        near: (*S) entry distance of the box (max of ``entry``).
        far: (*S) exit distance of the box.
    """
    shape = (3, ) + (1, ) * (inv.ndim - 1)
    t1 = (lo.reshape(shape) - origins) * inv
    t2 = (hi.reshape(shape) - origins) * inv
    entry, exit_ = np.minimum(t1, t2), np.maximum(t1, t2)
    near = np.maximum(np.maximum(entry[0], entry[1]), entry[2])
    far = np.minimum(np.minimum(exit_[0], exit_[1]), exit_[2])
    return entry, near, far


def _entry_axis(entry: np.ndarray, near: np.ndarray) -> np.ndarray:
    """Axis along which rays enter a box (the argmax of ``entry``)."""
    return np.where(entry[0] == near, 0, np.where(entry[1] == near, 1, 2))


def intersect_boxes(origin: np.ndarray, dirs: np.ndarray, lo: np.ndarray,
                    hi: np.ndarray, t_max: np.ndarray,
                    windows: Sequence[Tuple]
                    ) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Nearest front-face hits of rays from one origin outside all boxes.

    Args:
        origin: (3, 1, ...) shared ray origin, broadcastable to ``dirs``.
        dirs: (3, *S) ray directions, any ray layout ``S``.
        t_max: (*S) hits at or beyond this distance are ignored (e.g. the
            room surface).
        windows: per box, an index into ``S`` (tuple of slices or index
            arrays) selecting the only rays that may hit it (e.g. from its
            screen-space bounds).

    Returns:
        t: (*S) distance of the nearest hit, ``t_max`` where none.
        box: (*S) index of the hit box, -1 where none.
        axis: (*S) axis of the hit face normal (undefined where none).
    """
    inv = _inverse(dirs)
    t = t_max.copy()
    box = np.full(t.shape, -1)
    axis = np.zeros(t.shape, dtype=np.int64)
    for i, window in enumerate(windows):
        entry, near, far = _slabs(origin, inv[(slice(None), ) + window],
                                  lo[i], hi[i])
        hit = (near <= far) & (near > 0) & (near < t[window])
        t[window] = np.where(hit, near, t[window])
        box[window] = np.where(hit, i, box[window])
        axis[window] = np.where(hit, _entry_axis(entry, near), axis[window])
    return t, box, axis


def _candidates(origins: np.ndarray, inv: np.ndarray, lo: np.ndarray,
                hi: np.ndarray, offsets: np.ndarray,
                clear: np.ndarray) -> Iterator[Tuple[int, int, np.ndarray]]:
    """Per group: ``(start, stop, ray indices)``: its boxes and the rays
    still ``clear`` (read per group: callers update it in place) whose
    segment ``(0, 1)`` meets its bounding box."""
    for start, stop in zip(offsets[:-1], offsets[1:]):
        _, near, far = _slabs(origins, inv, lo[start:stop].min(axis=0),
                              hi[start:stop].max(axis=0))
        hit = clear & (near <= far) & (far > 0) & (near < 1)
        yield start, stop, np.flatnonzero(hit)


def segments_blocked(origins: np.ndarray, spans: np.ndarray, lo: np.ndarray,
                     hi: np.ndarray, offsets: np.ndarray) -> np.ndarray:
    """Whether the segments ``origins + s * spans, s in (0, 1)`` hit a box.

    Used for shadow rays: ``origins`` (3, N) are surface points and
    ``spans`` (3, N) is ``light - origins``.  Rays are tested against the
    boxes of a group once they meet its bounding box; ``offsets`` (G + 1,)
    delimits the groups.

    Returns:
        (N,) bool.
    """
    inv = _inverse(spans)
    clear = np.ones(spans.shape[1], dtype=bool)
    for start, stop, idx in _candidates(origins, inv, lo, hi, offsets,
                                        clear):
        sub_origins, sub_inv = origins[:, idx], inv[:, idx]
        for i in range(start, stop):
            _, near, far = _slabs(sub_origins, sub_inv, lo[i], hi[i])
            clear[idx] &= ~((near <= far) & (far > 0) & (near < 1))
    return ~clear
