"""The files of one depth prediction, written in one place.

Every caller that saves a prediction (``tools/infer.py``,
:class:`~mrpan_mm.apis.DepthInferencer`'s ``pred_out_dir`` /
``img_out_dir``, ``tools/test.py --save-pred``'s hook and the web page)
writes through :class:`PredictionFiles`, so the names and formats agree:

=========  ======================  ==========================================
kind       file                    content
=========  ======================  ==========================================
``npy``    ``<name>_depth.npy``    float32 metres (H, W), unclipped
``png``    ``<name>_depth.png``    uint16 millimetres, 0 = none, clipped at
                                   65.535 m (:mod:`mrpan_mm.utils.depth_io`)
``color``  ``<name>_color.png``    colour-mapped depth with its range bar
``ply``    ``<name>.ply``          coloured point cloud (needs the image and
                                   the intrinsics)
``input``  ``<name>_input.png``    the image the model saw
=========  ======================  ==========================================
"""
import os
import os.path as osp
from typing import Callable, Dict, List, Optional, Sequence, Tuple

import cv2
import numpy as np

from ..visualization import render_depth_colormap
from .depth_io import write_depth_png
from .point_cloud import write_ply

#: File name suffix of each kind (appended to the prediction's name).
SUFFIXES = dict(npy='_depth.npy', png='_depth.png', color='_color.png',
                ply='.ply', input='_input.png')
#: (H, W) of a depth map -> (fx, fy, cx, cy) in pixels.
IntrinsicsFn = Callable[[Tuple[int, int]], Sequence[float]]


class PredictionFiles:
    """Write chosen kinds of files for each prediction into one folder.

    Args:
        out_dir: Folder (created).
        kinds: Which of :data:`SUFFIXES` to write.
        cmap: Matplotlib colour map of the ``color`` file.
        intrinsics: Required for ``ply``: the depth map's shape (H, W) to
            (fx, fy, cx, cy), pixels.
        suffixes: Overrides of :data:`SUFFIXES`, e.g. ``{'png': '.png'}``
            to name a depth PNG like the annotation it is scored against.

    Attributes:
        clipped: Paths of the depth PNGs whose depth was clipped.
    """

    def __init__(self,
                 out_dir: str,
                 kinds: Sequence[str] = ('npy', 'png', 'color'),
                 cmap: str = 'magma_r',
                 intrinsics: Optional[IntrinsicsFn] = None,
                 suffixes: Optional[Dict[str, str]] = None) -> None:
        unknown = set(kinds) - set(SUFFIXES)
        if unknown:
            raise ValueError(f'unknown prediction file kinds {sorted(unknown)}'
                             f'; choose from {sorted(SUFFIXES)}')
        if 'ply' in kinds and intrinsics is None:
            raise ValueError("the 'ply' kind needs the camera intrinsics")
        self.out_dir, self.kinds, self.cmap = out_dir, tuple(kinds), cmap
        self.intrinsics = intrinsics
        self.suffixes = {**SUFFIXES, **(suffixes or {})}
        self.clipped: List[str] = []
        os.makedirs(out_dir, exist_ok=True)

    def write(self, name: str, depth: np.ndarray,
              image: Optional[np.ndarray] = None) -> Dict[str, str]:
        """Write the files of one prediction.

        Args:
            name: File name stem.
            depth: (H, W) float depth in metres.
            image: (H, W, 3) BGR uint8 input; needed by ``ply``/``input``.

        Returns:
            The path written for each kind.
        """
        paths = {kind: osp.join(self.out_dir, name + self.suffixes[kind])
                 for kind in self.kinds}
        if 'npy' in paths:
            np.save(paths['npy'], depth.astype(np.float32, copy=False))
        if 'png' in paths and write_depth_png(paths['png'], depth):
            self.clipped.append(paths['png'])
        if 'color' in paths:
            colour = render_depth_colormap(depth, cmap=self.cmap)
            cv2.imwrite(paths['color'], colour[..., ::-1])
        if ('ply' in paths or 'input' in paths) and image is None:
            raise ValueError(f'{name}: the ply and input files need the '
                             'image')
        if 'input' in paths:
            cv2.imwrite(paths['input'], image)
        if 'ply' in paths:
            write_ply(paths['ply'], depth, image[..., ::-1],
                      self.intrinsics(depth.shape))
        return paths
