"""Pinhole intrinsics of the NYU Depth v2 Kinect colour camera.

Used where a depth map without its own calibration is back-projected
(``tools/infer.py --ply``, the web page's point cloud) and by the demo
renderer, whose rooms are seen through the same camera.
"""
from typing import Tuple

#: fx, fy, cx, cy of the NYU Depth v2 Kinect colour camera at 640 x 480 px.
NYU_INTRINSICS = (518.8579, 519.4696, 325.5824, 253.7362)
NYU_SIZE = (480, 640)


def scaled_intrinsics(height: int,
                      width: int) -> Tuple[float, float, float, float]:
    """NYU intrinsics resized to a ``height`` x ``width`` image.

    Pixel centres are at integer coordinates, so the principal point is
    rescaled about the pixel-edge origin: ``c' = (c + 0.5) * s - 0.5``.

    Returns:
        (fx, fy, cx, cy) in pixels of the resized image.
    """
    fx, fy, cx, cy = NYU_INTRINSICS
    sy, sx = height / NYU_SIZE[0], width / NYU_SIZE[1]
    return fx * sx, fy * sy, (cx + 0.5) * sx - 0.5, (cy + 0.5) * sy - 0.5
