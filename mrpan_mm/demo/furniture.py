"""Furniture-like pieces built from axis-aligned boxes.

A piece lives in a local frame: ``x`` in ``[0, width]`` along its back,
``y`` up from the floor, ``z`` in ``[0, depth]`` away from its back (the
wall side).  Every box carries a material *role* (``'wood'``, ``'fabric'``
...); the scene assigns one material per role so that a room looks
consistent.  All sizes are in metres.
"""
from dataclasses import dataclass, replace
from typing import Callable, Dict, List, Optional, Tuple

import numpy as np

Box = Tuple[np.ndarray, np.ndarray, str]


@dataclass(frozen=True)
class Piece:
    """A furniture item.

    Attributes:
        boxes: ``(lo, hi, role)`` triples, corners (3,) in the local frame.
        against_wall: whether it is placed with its back on a wall.
        kind: its name in :data:`BUILDERS` (set by :func:`sample_pieces`),
            the class of its boxes in the label maps (:mod:`.labels`).
    """
    boxes: Tuple[Box, ...]
    against_wall: bool
    kind: str = ''

    def extent(self) -> Tuple[np.ndarray, np.ndarray]:
        """(3,) lower and upper corners of the local bounding box."""
        return (np.min([b[0] for b in self.boxes], axis=0),
                np.max([b[1] for b in self.boxes], axis=0))


def _box(x0: float, y0: float, z0: float, x1: float, y1: float, z1: float,
         role: str) -> Box:
    """One box from its corner coordinates."""
    return np.array([x0, y0, z0]), np.array([x1, y1, z1]), role


def _legs(width: float, depth: float, height: float, role: str,
          thickness: float = 0.05) -> List[Box]:
    """Four square legs of ``height`` at the corners of the footprint."""
    return [
        _box(x, 0.0, z, x + thickness, height, z + thickness, role)
        for x in (0.02, width - thickness - 0.02)
        for z in (0.02, depth - thickness - 0.02)
    ]


def _clutter(rng: np.random.Generator, width: float, depth: float,
             top: float) -> List[Box]:
    """0-3 small objects (books, boxes, a lamp) standing on a surface."""
    items = []
    for _ in range(rng.integers(0, 4)):
        w, d = rng.uniform(0.1, 0.35), rng.uniform(0.1, 0.3)
        h = rng.uniform(0.05, 0.4)
        x = rng.uniform(0.0, max(width - w, 0.0))
        z = rng.uniform(0.0, max(depth - d, 0.0))
        role = ('decor_a', 'decor_b', 'books')[rng.integers(3)]
        items.append(_box(x, top, z, x + w, top + h, z + d, role))
    return items


def table(rng: np.random.Generator, against_wall: bool = False,
          height: Optional[float] = None) -> Piece:
    """A table top on four legs, possibly with objects on it."""
    w, d = rng.uniform(0.9, 1.8), rng.uniform(0.6, 1.0)
    h = rng.uniform(0.70, 0.78) if height is None else height
    boxes = [_box(0, h - 0.04, 0, w, h, d, 'wood')]
    boxes += _legs(w, d, h - 0.04, 'wood_dark')
    boxes += _clutter(rng, w, d, h)
    return Piece(tuple(boxes), against_wall)


def desk(rng: np.random.Generator) -> Piece:
    """A table against a wall."""
    return table(rng, against_wall=True)


def coffee_table(rng: np.random.Generator) -> Piece:
    """A low free-standing table."""
    return table(rng, height=rng.uniform(0.38, 0.5))


def chair(rng: np.random.Generator) -> Piece:
    """Seat, backrest and legs; free-standing."""
    w, seat = rng.uniform(0.4, 0.5), rng.uniform(0.42, 0.48)
    boxes = [_box(0, seat - 0.05, 0, w, seat, w, 'wood'),
             _box(0, seat, 0, w, seat + rng.uniform(0.35, 0.5), 0.05, 'wood')]
    boxes += _legs(w, w, seat - 0.05, 'metal', thickness=0.035)
    return Piece(tuple(boxes), False)


def cabinet(rng: np.random.Generator) -> Piece:
    """A closed cabinet or wardrobe, from waist to head height."""
    w, d, h = rng.uniform(0.5, 1.4), rng.uniform(0.4, 0.6), rng.uniform(
        0.8, 2.1)
    boxes = [_box(0, 0.08, 0, w, h, d, 'painted'),
             _box(0.03, 0, 0.03, w - 0.03, 0.08, d - 0.03, 'wood_dark')]
    if h < 1.3:
        boxes += _clutter(rng, w, d, h)
    return Piece(tuple(boxes), True)


def counter(rng: np.random.Generator) -> Piece:
    """A kitchen base cabinet with a stone top."""
    w, d = rng.uniform(1.0, 2.5), rng.uniform(0.55, 0.65)
    boxes = [_box(0, 0, 0, w, 0.86, d - 0.03, 'painted'),
             _box(0, 0.86, 0, w, 0.9, d, 'stone')]
    boxes += _clutter(rng, w, d - 0.1, 0.9)
    return Piece(tuple(boxes), True)


def bookcase(rng: np.random.Generator) -> Piece:
    """Open shelves (sides, back, boards) filled with rows of books."""
    w, d, h = rng.uniform(0.6, 1.2), rng.uniform(0.28, 0.4), rng.uniform(
        1.2, 2.2)
    boxes = [_box(0, 0, 0, w, h, 0.02, 'wood'),
             _box(0, 0, 0, 0.03, h, d, 'wood'),
             _box(w - 0.03, 0, 0, w, h, d, 'wood')]
    levels = np.linspace(0.0, h - 0.03, int(h / 0.35) + 1)
    for y in levels:
        boxes.append(_box(0.03, y, 0, w - 0.03, y + 0.03, d, 'wood'))
    for y, y_next in zip(levels[:-1], levels[1:]):
        top = y + 0.03 + rng.uniform(0.6, 0.9) * (y_next - y - 0.03)
        books_w = rng.uniform(0.4, 1.0) * (w - 0.06)
        boxes.append(_box(0.03, y + 0.03, 0.02, 0.03 + books_w, top,
                          d - rng.uniform(0.02, 0.08), 'books'))
    return Piece(tuple(boxes), True)


def bed(rng: np.random.Generator) -> Piece:
    """Frame, mattress, pillow and headboard; the head is on the wall."""
    w, length = rng.uniform(0.9, 1.8), rng.uniform(1.9, 2.1)
    top = rng.uniform(0.45, 0.6)
    boxes = [_box(0, 0, 0, w, 0.3, length, 'wood'),
             _box(0.02, 0.3, 0.06, w - 0.02, top, length, 'bedding'),
             _box(0.1, top, 0.1, w - 0.1, top + 0.12, 0.45, 'fabric'),
             _box(0, 0, 0, w, rng.uniform(0.9, 1.2), 0.06, 'wood_dark')]
    return Piece(tuple(boxes), True)


def sofa(rng: np.random.Generator) -> Piece:
    """Seat, backrest and two arms in one fabric."""
    w, d = rng.uniform(1.4, 2.4), rng.uniform(0.8, 0.95)
    arm = rng.uniform(0.12, 0.22)
    boxes = [_box(0, 0, 0, w, 0.42, d, 'fabric'),
             _box(0, 0.42, 0, w, rng.uniform(0.75, 0.9), 0.22, 'fabric'),
             _box(0, 0.42, 0, arm, 0.62, d, 'fabric'),
             _box(w - arm, 0.42, 0, w, 0.62, d, 'fabric')]
    return Piece(tuple(boxes), True)


def door(rng: np.random.Generator) -> Piece:
    """A door leaf slightly proud of the wall."""
    w, h = rng.uniform(0.8, 0.95), rng.uniform(2.0, 2.1)
    return Piece((_box(0, 0, 0, w, h, 0.04, 'door'), ), True)


def picture(rng: np.random.Generator) -> Piece:
    """A framed picture hung on the wall."""
    w, h = rng.uniform(0.4, 1.2), rng.uniform(0.3, 0.8)
    bottom = rng.uniform(1.1, 1.5)
    return Piece((_box(0, bottom, 0, w, bottom + h, 0.03, 'art'), ), True)


#: Piece builders by name.
BUILDERS: Dict[str, Callable[[np.random.Generator], Piece]] = dict(
    table=table, desk=desk, coffee_table=coffee_table, chair=chair,
    cabinet=cabinet, counter=counter, bookcase=bookcase, bed=bed,
    sofa=sofa, door=door, picture=picture)

#: What each (NYU) scene type contains: ``(piece, min count, max count)``
#: with the large pieces first so that they are placed first.
SCENE_FURNITURE: Dict[str, Tuple[Tuple[str, int, int], ...]] = {
    'bedroom': (('bed', 1, 1), ('cabinet', 1, 3), ('desk', 0, 1),
                ('chair', 0, 2), ('bookcase', 0, 1), ('picture', 1, 3),
                ('door', 0, 1)),
    'living_room': (('sofa', 1, 2), ('coffee_table', 1, 1),
                    ('bookcase', 1, 3), ('cabinet', 0, 2), ('chair', 0, 2),
                    ('picture', 1, 3), ('door', 0, 1)),
    'dining_room': (('table', 1, 2), ('chair', 3, 6), ('cabinet', 1, 3),
                    ('picture', 1, 3), ('door', 0, 1)),
    'office': (('desk', 2, 4), ('chair', 2, 4), ('cabinet', 1, 3),
               ('bookcase', 0, 2), ('picture', 0, 1), ('door', 0, 1)),
    'kitchen': (('counter', 2, 5), ('cabinet', 1, 2), ('table', 0, 1),
                ('chair', 0, 3), ('door', 0, 1)),
    'study': (('desk', 1, 2), ('chair', 1, 2), ('bookcase', 2, 4),
              ('cabinet', 0, 1), ('picture', 0, 2), ('door', 0, 1)),
}


def sample_pieces(rng: np.random.Generator, kind: str) -> List[Piece]:
    """The furniture of one room of scene type ``kind``, largest first."""
    return [
        replace(BUILDERS[name](rng), kind=name)
        for name, low, high in SCENE_FURNITURE[kind]
        for _ in range(rng.integers(low, high + 1))
    ]
