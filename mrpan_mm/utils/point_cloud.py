"""Back-projection of a depth map to a coloured point cloud (PLY)."""
from typing import Sequence

import numpy as np

PLY_VERTEX = np.dtype([('x', '<f4'), ('y', '<f4'), ('z', '<f4'),
                       ('red', 'u1'), ('green', 'u1'), ('blue', 'u1')])


def depth_to_points(depth: np.ndarray,
                    intrinsics: Sequence[float]) -> np.ndarray:
    """Camera-frame points (N, 3), metres, of the pixels with depth > 0.

    Pinhole model with pixel centres at integer (u, v): x = (u - cx) z / fx,
    y = (v - cy) z / fy, z = depth (x right, y down, z forward); points are
    in row-major pixel order.

    Args:
        depth: Depth (H, W) in metres along the optical axis.
        intrinsics: (fx, fy, cx, cy) in pixels of this depth map.
    """
    fx, fy, cx, cy = intrinsics
    rows, cols = np.nonzero(np.isfinite(depth) & (depth > 0))
    z = depth[rows, cols].astype(np.float64)
    return np.stack([(cols - cx) * z / fx, (rows - cy) * z / fy, z], axis=1)


def write_ply(path: str, depth: np.ndarray, rgb: np.ndarray,
              intrinsics: Sequence[float]) -> int:
    """Write the coloured points of ``depth`` as binary little-endian PLY.

    Args:
        path: Output ``.ply`` file.
        depth: Depth (H, W), metres; pixels <= 0 or NaN are left out.
        rgb: Colours (H, W, 3), uint8, RGB.
        intrinsics: (fx, fy, cx, cy), pixels.

    Returns:
        The number of points written.
    """
    valid = np.isfinite(depth) & (depth > 0)
    vertices = np.empty(int(valid.sum()), dtype=PLY_VERTEX)
    points = depth_to_points(depth, intrinsics)
    for axis, name in enumerate('xyz'):
        vertices[name] = points[:, axis]
    for channel, name in enumerate(('red', 'green', 'blue')):
        vertices[name] = rgb[..., channel][valid]
    header = ('ply\nformat binary_little_endian 1.0\n'
              f'element vertex {len(vertices)}\n'
              'property float x\nproperty float y\nproperty float z\n'
              'property uchar red\nproperty uchar green\nproperty uchar blue\n'
              'end_header\n')
    with open(path, 'wb') as handle:
        handle.write(header.encode('ascii'))
        handle.write(vertices.tobytes())
    return len(vertices)
