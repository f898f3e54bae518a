"""Random indoor scenes: a box room, furniture, materials, a light, a camera.

Surfaces are numbered ``0..5`` for the room faces (see
:func:`.raycast.intersect_room`) and ``6 + i`` for box ``i``.  World
coordinates are metres with ``y`` up and the room spanning ``[0, size]``.
"""
import colorsys
from dataclasses import dataclass
from typing import Dict, List, Optional, Tuple

import numpy as np

from .camera import Camera
from .furniture import SCENE_FURNITURE, Piece, sample_pieces
from .labels import box_class
from .textures import CHECKER, PLAIN, PLANKS, STRIPES, TILES, Material

NUM_ROOM_FACES = 6
NOISE_TABLE_SIZE = 4096
#: Gap (m) kept between furniture footprints and from free pieces to walls.
FURNITURE_GAP = 0.05
FREE_MARGIN = 0.3


@dataclass(frozen=True)
class CameraRig:
    """How the camera is held: uniform ranges ``(low, high)``.

    Attributes:
        height: Camera height above the floor (m).
        pitch: Pitch (rad), negative looks down.
        roll: Roll (rad).
        yaw_jitter: Largest yaw (rad) away from facing straight into the room.
        clearance: Horizontal distance (m) kept free of furniture around the
            camera.
    """
    height: Tuple[float, float]
    pitch: Tuple[float, float]
    roll: Tuple[float, float]
    yaw_jitter: float
    clearance: float


#: ``handheld``: NYU-like views, 1.1-1.6 m high, pitched 0-26 degrees down,
#: slightly rolled.  ``tripod``: a fixed rig, 1.4 m high, pitched 11.5
#: degrees down, level, furniture at least 1.2 m away; with the camera's
#: height and tilt fixed, the floor's image position gives metric scale.
CAMERA_RIGS: Dict[str, CameraRig] = dict(
    handheld=CameraRig(height=(1.1, 1.6), pitch=(-0.45, 0.02),
                       roll=(-0.04, 0.04), yaw_jitter=0.45, clearance=0.7),
    tripod=CameraRig(height=(1.4, 1.4), pitch=(-0.2, -0.2), roll=(0.0, 0.0),
                     yaw_jitter=0.45, clearance=1.2),
)

#: The rig of the demo dataset and of every function that takes a rig.
DEFAULT_RIG = 'tripod'


@dataclass(frozen=True)
class Scene:
    """Everything the renderer needs, besides the camera.

    Attributes:
        kind: NYU scene type, e.g. ``'living_room'``.
        room_size: (3,) room extent (x, y = height, z) in metres.
        box_lo, box_hi: (B, 3) furniture box corners in metres.
        piece_offsets: (G + 1,) boxes of piece ``g`` are
            ``piece_offsets[g]:piece_offsets[g + 1]``.
        materials: the material table.
        face_materials: (6,) material index of each room face.
        box_materials: (B,) material index of each box.
        box_classes: (B,) class index of each box (:mod:`.labels`).
        light_position: (3,) point light in metres.
        light_color: (3,) RGB light tint around 1.
        light_power: direct irradiance at the light-falloff distance.
        light_falloff: distance (m) at which direct light halves.
        ambient: irradiance reaching every surface.
        noise_table: (4096,) random cell values of the textures.
    """
    kind: str
    room_size: np.ndarray
    box_lo: np.ndarray
    box_hi: np.ndarray
    piece_offsets: np.ndarray
    materials: Tuple[Material, ...]
    face_materials: np.ndarray
    box_materials: np.ndarray
    box_classes: np.ndarray
    light_position: np.ndarray
    light_color: np.ndarray
    light_power: float
    light_falloff: float
    ambient: float
    noise_table: np.ndarray


def _color(rng: np.random.Generator, hue: Tuple[float, float],
           saturation: Tuple[float, float],
           value: Tuple[float, float]) -> Tuple[float, float, float]:
    """An RGB colour drawn uniformly in an HSV box."""
    return colorsys.hsv_to_rgb(rng.uniform(*hue) % 1.0,
                               rng.uniform(*saturation), rng.uniform(*value))


def _wood(rng: np.random.Generator, value: Tuple[float, float]) -> Material:
    """Brown planks; ``value`` picks light or dark wood."""
    return Material(_color(rng, (0.05, 0.11), (0.35, 0.65), value), PLANKS,
                    rng.uniform(5.0, 9.0), rng.uniform(0.15, 0.3))


def _floor(rng: np.random.Generator) -> Material:
    """Wooden boards, ceramic tiles or carpet."""
    choice = rng.integers(3)
    if choice == 0:
        return _wood(rng, (0.4, 0.75))
    if choice == 1:
        return Material(_color(rng, (0.0, 1.0), (0.0, 0.15), (0.55, 0.85)),
                        CHECKER, rng.uniform(1.7, 3.3), rng.uniform(0.1, 0.2))
    return Material(_color(rng, (0.0, 1.0), (0.15, 0.45), (0.3, 0.6)), TILES,
                    rng.uniform(4.0, 8.0), rng.uniform(0.05, 0.12))


def _wall(rng: np.random.Generator) -> Material:
    """Pale paint, sometimes a faintly striped wallpaper."""
    color = _color(rng, (0.0, 1.0), (0.03, 0.25), (0.7, 0.95))
    if rng.random() < 0.3:
        return Material(color, STRIPES, rng.uniform(3.0, 6.0),
                        rng.uniform(0.05, 0.12))
    return Material(color)


def _role_materials(rng: np.random.Generator) -> Dict[str, Material]:
    """One material per furniture role (see :mod:`.furniture`)."""
    def tinted(sat, val, pattern=PLAIN, freq=1.0, contrast=0.0):
        """A material of random hue with saturation/value in the ranges."""
        return Material(_color(rng, (0.0, 1.0), sat, val), pattern, freq,
                        contrast)

    return dict(
        wood=_wood(rng, (0.35, 0.75)),
        wood_dark=_wood(rng, (0.15, 0.35)),
        painted=tinted((0.0, 0.3), (0.5, 0.95), TILES, 3.0, 0.03),
        fabric=tinted((0.2, 0.7), (0.25, 0.75), TILES, 12.0, 0.08),
        bedding=tinted((0.1, 0.5), (0.6, 0.95), STRIPES, rng.uniform(3, 6),
                       0.2),
        metal=tinted((0.0, 0.05), (0.2, 0.6)),
        stone=tinted((0.0, 0.15), (0.3, 0.8), TILES, 6.0, 0.15),
        decor_a=tinted((0.4, 0.9), (0.3, 0.9)),
        decor_b=tinted((0.4, 0.9), (0.3, 0.9)),
        books=tinted((0.4, 0.8), (0.3, 0.8), TILES, rng.uniform(20, 30),
                     0.6),
        door=_wood(rng, (0.3, 0.7)),
        art=tinted((0.3, 0.9), (0.3, 0.9), CHECKER, rng.uniform(3, 8), 0.6),
    )


def _rotate_xz(points: np.ndarray, quarter_turns: int) -> np.ndarray:
    """Rotate (N, 3) points about ``y`` by ``quarter_turns * 90`` degrees,
    mapping the local ``+z`` (a piece's front) to the camera-yaw direction
    of the same number of quarter turns (0: +z, 1: +x, 2: -z, 3: -x)."""
    x, y, z = points[:, 0], points[:, 1], points[:, 2]
    xz = [(x, z), (z, -x), (-x, -z), (-z, x)][quarter_turns % 4]
    return np.stack([xz[0], y, xz[1]], axis=1)


def _place(rng: np.random.Generator, piece: Piece,
           room: np.ndarray) -> Optional[Tuple[np.ndarray, np.ndarray]]:
    """Random pose of ``piece`` in the room.

    Wall pieces get their back on a random wall; free pieces a random
    quarter-turn anywhere ``FREE_MARGIN`` from the walls.

    Returns:
        (B, 3) world box corners ``lo, hi``, or None when it cannot fit.
    """
    turns = int(rng.integers(4))
    corners = [_rotate_xz(np.array([b[0] for b in piece.boxes]), turns),
               _rotate_xz(np.array([b[1] for b in piece.boxes]), turns)]
    lo, hi = np.minimum(*corners), np.maximum(*corners)
    low_corner, size = lo.min(axis=0), hi.max(axis=0) - lo.min(axis=0)
    margin = 0.01 if piece.against_wall else FREE_MARGIN
    upper = room - margin - size
    if np.any(upper[[0, 2]] < margin):
        return None
    corner = np.array([rng.uniform(margin, upper[0]), 0.0,
                       rng.uniform(margin, upper[2])])
    if piece.against_wall:
        axis = 2 if turns % 2 == 0 else 0
        corner[axis] = margin if turns < 2 else upper[axis]
    shift = corner - low_corner * np.array([1.0, 0.0, 1.0])
    return lo + shift, hi + shift


def _footprint_distance(point: np.ndarray, lo: np.ndarray,
                        hi: np.ndarray) -> float:
    """Horizontal distance (m) from ``point`` to the ``x-z`` rectangle."""
    gap = np.maximum(np.maximum(lo - point, point - hi), 0.0)[[0, 2]]
    return float(np.hypot(*gap))


def _fits(lo: np.ndarray, hi: np.ndarray, taken: List[np.ndarray],
          camera: np.ndarray, clearance: float) -> bool:
    """Whether the bounding box ``[lo, hi]`` stays ``clearance`` metres from
    the camera and avoids the bounding boxes ``taken`` (each (2, 3)) of the
    pieces placed so far."""
    if _footprint_distance(camera, lo, hi) < clearance:
        return False
    pad = np.array([FURNITURE_GAP, 0.0, FURNITURE_GAP])
    return not any(
        np.all(lo - pad < other[1]) and np.all(other[0] < hi + pad)
        for other in taken)


def _furnish(rng: np.random.Generator, pieces: List[Piece], room: np.ndarray,
             camera: np.ndarray, clearance: float,
             tries: int = 20) -> List[Tuple]:
    """Place pieces one by one by rejection sampling (pieces that find no
    free spot in ``tries`` attempts are dropped).

    Returns:
        ``(lo, hi, roles, classes)`` per placed piece: corners (B, 3) in
        metres, material role and class index of each box.
    """
    placed, taken = [], []
    for piece in pieces:
        for _ in range(tries):
            pose = _place(rng, piece, room)
            if pose is None:
                break
            bounds = np.stack([pose[0].min(axis=0), pose[1].max(axis=0)])
            if _fits(bounds[0], bounds[1], taken, camera, clearance):
                taken.append(bounds)
                placed.append((*pose, [b[2] for b in piece.boxes],
                               [box_class(piece.kind, b[2])
                                for b in piece.boxes]))
                break
    return placed


def sample_camera(rng: np.random.Generator, room: np.ndarray,
                  rig: CameraRig) -> Camera:
    """A view from 0.3-1.0 m in front of the middle part of a random wall,
    looking into the room (yaw within ``rig.yaw_jitter``), with the rig's
    height, pitch and roll."""
    turns = int(rng.integers(4))
    position = np.array([0.0, rng.uniform(*rig.height), 0.0])
    across, along = (2, 0) if turns % 2 == 0 else (0, 2)
    inset = rng.uniform(0.3, 1.0)
    position[across] = inset if turns < 2 else room[across] - inset
    position[along] = rng.uniform(0.2, 0.8) * room[along]
    return Camera(position,
                  yaw=turns * np.pi / 2 +
                  rng.uniform(-rig.yaw_jitter, rig.yaw_jitter),
                  pitch=rng.uniform(*rig.pitch),
                  roll=rng.uniform(*rig.roll))


def _assemble(kind: str, room: np.ndarray, placed: List[Tuple],
              rng: np.random.Generator) -> Scene:
    """Materials, light and box arrays of a furnished room."""
    roles = _role_materials(rng)
    role_names = list(roles)
    wall = _wall(rng)
    ceiling = Material(_color(rng, (0.0, 1.0), (0.0, 0.05), (0.85, 0.95)))
    materials = (wall, _floor(rng), ceiling) + tuple(roles.values())
    box_lo = np.concatenate([p[0] for p in placed] or [np.zeros((0, 3))])
    box_hi = np.concatenate([p[1] for p in placed] or [np.zeros((0, 3))])
    box_roles = [role for p in placed for role in p[2]]
    return Scene(
        kind=kind,
        room_size=room,
        box_lo=box_lo,
        box_hi=box_hi,
        piece_offsets=np.cumsum([0] + [len(p[2]) for p in placed]),
        materials=materials,
        face_materials=np.array([0, 0, 1, 2, 0, 0]),
        box_materials=np.array([3 + role_names.index(r) for r in box_roles],
                               dtype=np.int64),
        box_classes=np.array([c for p in placed for c in p[3]],
                             dtype=np.uint8),
        light_position=np.array([
            rng.uniform(0.25, 0.75) * room[0], room[1] - 0.3,
            rng.uniform(0.25, 0.75) * room[2]
        ]),
        light_color=np.array(_color(rng, (0.05, 0.15), (0.0, 0.2),
                                    (1.0, 1.0))),
        light_power=rng.uniform(1.0, 1.5),
        light_falloff=rng.uniform(2.5, 4.0),
        ambient=rng.uniform(0.25, 0.4),
        noise_table=rng.random(NOISE_TABLE_SIZE),
    )


def sample_scene(rng: np.random.Generator,
                 rig: str = DEFAULT_RIG) -> Tuple[Scene, Camera]:
    """A random furnished room of a random NYU scene type and a camera in
    it, held as ``CAMERA_RIGS[rig]``.  Rooms are 3-6.5 m wide, 3.5-7.5 m
    deep and 2.5-3 m high; with the camera placement of
    :func:`sample_camera` every visible point is less than
    ``hypot(7.2, 5.2, 2.0) = 9.1`` m away, so z-depth stays below 10 m."""
    if rig not in CAMERA_RIGS:
        raise KeyError(f'unknown camera rig {rig!r}; choose one of '
                       f'{sorted(CAMERA_RIGS)}')
    held = CAMERA_RIGS[rig]
    kind = list(SCENE_FURNITURE)[rng.integers(len(SCENE_FURNITURE))]
    room = np.array([rng.uniform(3.0, 6.5), rng.uniform(2.5, 3.0),
                     rng.uniform(3.5, 7.5)])
    camera = sample_camera(rng, room, held)
    placed = _furnish(rng, sample_pieces(rng, kind), room, camera.position,
                      held.clearance)
    return _assemble(kind, room, placed, rng), camera
