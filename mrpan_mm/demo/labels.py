"""Semantic classes of the demo rooms, for the per-pixel class maps.

Class indices are what the label PNGs store (mmseg's convention without
``reduce_zero_label``): ``0..len(CLASSES) - 1``, and :data:`IGNORE_INDEX`
(255) for a pixel that sees no surface.  The room's faces are ``wall``,
``floor`` and ``ceiling``; a furniture box takes the kind of the piece it
belongs to (:data:`.furniture.BUILDERS`: ``table``, ``desk``, ...), except
the small objects (books, boxes, lamps: the boxes of the
:data:`SMALL_OBJECT_ROLES`), which are ``objects`` wherever they stand,
on a table or on a shelf.
"""
from typing import Tuple

import numpy as np

from .furniture import BUILDERS

ROOM_CLASSES = ('wall', 'floor', 'ceiling')
OBJECTS = 'objects'
#: Every class, in label order.
CLASSES: Tuple[str, ...] = ROOM_CLASSES + tuple(BUILDERS) + (OBJECTS, )
#: Label of pixels that see no surface (and of padding): ignored.
IGNORE_INDEX = 255
#: Material roles of the small objects (see :mod:`.furniture`).
SMALL_OBJECT_ROLES = frozenset({'books', 'decor_a', 'decor_b'})
#: Class of each room face id ``0..5`` (:func:`.raycast.intersect_room`):
#: the ``x`` walls, floor, ceiling, the ``z`` walls.
FACE_CLASSES = np.array([0, 0, 1, 2, 0, 0], dtype=np.uint8)
#: RGB colour of each class in the panels, distinct at a glance.
PALETTE: Tuple[Tuple[int, int, int], ...] = (
    (174, 199, 232), (152, 223, 138), (255, 255, 255), (140, 86, 75),
    (196, 156, 148), (227, 119, 194), (255, 127, 14), (31, 119, 180),
    (44, 160, 44), (214, 39, 40), (148, 103, 189), (188, 189, 34),
    (23, 190, 207), (127, 127, 127), (255, 187, 120))


def box_class(piece_kind: str, role: str) -> int:
    """Class index of a box of ``role`` in a piece of ``piece_kind``."""
    if role in SMALL_OBJECT_ROLES:
        return CLASSES.index(OBJECTS)
    return CLASSES.index(piece_kind)
