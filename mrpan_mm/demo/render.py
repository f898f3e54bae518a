"""Ray-cast rendering of a :class:`.scene.Scene`: a BGR image and z-depth.

Shading is Lambertian under one point light with inverse-square-like
falloff and hard shadows (furniture only; the convex room casts none), plus
an ambient term, on world-space procedural textures.  Colours are
supersampled and box-filtered; depth is ray-cast at the pixel centres, so it
is the exact z-depth of the surface seen through each pixel centre.
Internally rays and points are component-major (3, N) arrays.
"""
from dataclasses import dataclass
from typing import Tuple

import numpy as np

from .camera import (Camera, box_pixel_window, pixel_rays,
                     scaled_intrinsics)
from .labels import FACE_CLASSES
from .raycast import intersect_boxes, intersect_room, segments_blocked
from .scene import NUM_ROOM_FACES, Scene, sample_scene
from .textures import antialias_fade, pattern_values, surface_uv

GAMMA = 2.2
#: Offset (m) of shadow-ray origins along the surface normal.
_SHADOW_BIAS = 1e-3


@dataclass(frozen=True)
class Hits:
    """Nearest surface along N rays.

    Attributes:
        t: (N,) ray parameter of the hit (z-depth in metres).
        surface: (N,) surface id (0-5 room faces, 6 + i box i).
        axis: (N,) world axis of the surface normal.
        sign: (N,) +-1, direction of the normal along ``axis``.
    """
    t: np.ndarray
    surface: np.ndarray
    axis: np.ndarray
    sign: np.ndarray

    def normals(self) -> np.ndarray:
        """(3, N) unit surface normals, facing the rays' origin."""
        normals = np.zeros((3, len(self.t)))
        normals[self.axis, np.arange(len(self.t))] = self.sign
        return normals


def cast_from_camera(scene: Scene, camera: Camera, height: int, width: int,
                     supersample: int) -> Tuple[np.ndarray, Hits]:
    """Cast the rays of :func:`.camera.pixel_rays`.

    Returns:
        dirs: (3, N) ray directions, row-major over the sub-pixel grid.
        hits: their first hits.
    """
    dirs = np.ascontiguousarray(
        np.moveaxis(pixel_rays(camera, height, width, supersample), -1, 0))
    origin = np.asarray(camera.position, dtype=np.float64)[:, None, None]
    t_room, face = intersect_room(origin, dirs, scene.room_size)
    windows = [
        box_pixel_window(camera, lo, hi, height, width, supersample)
        or (slice(None), slice(None))
        for lo, hi in zip(scene.box_lo, scene.box_hi)
    ]
    t, box, box_axis = intersect_boxes(origin, dirs, scene.box_lo,
                                       scene.box_hi, t_room, windows)
    dirs, t, face, box, box_axis = (a.reshape(a.shape[:-2] + (-1, ))
                                    for a in (dirs, t, face, box, box_axis))
    on_box = box >= 0
    axis = np.where(on_box, box_axis, face // 2)
    sign = -np.sign(dirs[axis, np.arange(len(t))])
    surface = np.where(on_box, NUM_ROOM_FACES + box, face)
    return dirs, Hits(t, surface, axis, sign)


def _albedo(scene: Scene, hits: Hits, points: np.ndarray,
            footprint: np.ndarray) -> np.ndarray:
    """(3, N) textured RGB albedo in [0, 1] of the hit ``points`` (3, N)."""
    material = np.concatenate([scene.face_materials,
                               scene.box_materials])[hits.surface]
    mats = scene.materials
    color = np.array([m.color for m in mats]).T[:, material]
    pattern = np.array([m.pattern for m in mats])[material]
    frequency = np.array([m.frequency for m in mats])[material]
    contrast = np.array([m.contrast for m in mats])[material]
    u, v = surface_uv(points, hits.axis)
    p = pattern_values(pattern, u, v, frequency, hits.surface,
                       scene.noise_table)
    gain = contrast * antialias_fade(footprint, frequency)
    return np.clip(color * (1.0 + 2.0 * gain * (p - 0.5)), 0.0, 1.0)


def _irradiance(scene: Scene, points: np.ndarray,
                normals: np.ndarray) -> np.ndarray:
    """(N,) ambient plus shadowed, attenuated Lambertian light at
    ``points`` (3, N) with ``normals`` (3, N)."""
    to_light = scene.light_position[:, None] - points
    distance = np.sqrt(np.sum(to_light**2, axis=0))
    cosine = np.maximum(np.sum(normals * to_light, axis=0) / distance, 0.0)
    lit = np.flatnonzero(cosine > 0)
    blocked = segments_blocked(
        points[:, lit] + _SHADOW_BIAS * normals[:, lit], to_light[:, lit],
        scene.box_lo, scene.box_hi, scene.piece_offsets)
    cosine[lit[blocked]] = 0.0
    falloff = 1.0 + (distance / scene.light_falloff)**2
    return scene.ambient + scene.light_power * cosine / falloff


def shade(scene: Scene, origin: np.ndarray, dirs: np.ndarray, hits: Hits,
          focal: float) -> np.ndarray:
    """(3, N) display RGB in [0, 1] of the ``hits`` of rays ``dirs``.

    Args:
        focal: focal length in output pixels, to size texture footprints.
    """
    points = origin + hits.t * dirs
    normals = hits.normals()
    ray_length = np.sqrt(np.sum(dirs**2, axis=0))
    cos_view = np.abs(np.sum(normals * dirs, axis=0)) / ray_length
    footprint = hits.t * ray_length / (focal * np.maximum(cos_view, 0.05))
    linear = _albedo(scene, hits, points, footprint)**GAMMA
    radiance = linear * scene.light_color[:, None] * _irradiance(
        scene, points, normals)
    return np.clip(radiance, 0.0, 1.0)**(1.0 / GAMMA)


def _colour(scene: Scene, camera: Camera, height: int, width: int,
            supersample: int) -> np.ndarray:
    """(height, width, 3) uint8 BGR image of ``scene``, supersampled."""
    origin = np.asarray(camera.position, dtype=np.float64)[:, None]
    focal = scaled_intrinsics(height, width)[0]
    rgb = shade(scene, origin,
                *cast_from_camera(scene, camera, height, width, supersample),
                focal)
    rgb = rgb.T.reshape(height, supersample, width, supersample, 3)
    return np.rint(rgb.mean(axis=(1, 3))[..., ::-1] * 255).astype(np.uint8)


def render_view(scene: Scene,
                camera: Camera,
                height: int,
                width: int,
                supersample: int = 2) -> Tuple[np.ndarray, np.ndarray]:
    """Render ``scene`` from ``camera``.

    Args:
        supersample: colour samples per pixel along each axis.

    Returns:
        bgr: (height, width, 3) uint8 image.
        depth: (height, width) float32 z-depth in metres.
    """
    bgr, depth, _ = render_labelled_view(scene, camera, height, width,
                                         supersample)
    return bgr, depth


def render_labelled_view(
        scene: Scene,
        camera: Camera,
        height: int,
        width: int,
        supersample: int = 2) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
    """:func:`render_view` plus the class of the surface at each pixel
    centre (where the depth is taken).

    Returns:
        bgr: (height, width, 3) uint8 image.
        depth: (height, width) float32 z-depth in metres.
        labels: (height, width) uint8 class indices of :mod:`.labels`.
    """
    hits = cast_from_camera(scene, camera, height, width, 1)[1]
    classes = np.concatenate([FACE_CLASSES, scene.box_classes])
    return (_colour(scene, camera, height, width, supersample),
            hits.t.reshape(height, width).astype(np.float32),
            classes[hits.surface].reshape(height, width))


def render_scene(rng: np.random.Generator, height: int,
                 width: int) -> Tuple[np.ndarray, np.ndarray]:
    """Sample a random room and camera with ``rng`` and render it.

    Returns:
        bgr: (height, width, 3) uint8 image.
        depth: (height, width) float32 z-depth in metres (about 0.5-10).
    """
    return render_view(*sample_scene(rng), height, width)
