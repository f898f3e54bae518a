"""Sobel image gradients shared by the gradient and surface-normal losses
and the depth-edge metric (:mod:`mrpan_mm.evaluation.boundary`)."""
from typing import Tuple

import torch.nn.functional as F
from torch import Tensor


def sobel_gradients(x: Tensor) -> Tuple[Tensor, Tensor]:
    """Sobel derivatives of one-channel maps, zero-padded by one pixel.

    Gives exactly the output of the reference code's
    ``nn.Conv2d(1, 2, 3, padding=1, bias=False)`` holding Hu et al.'s kernels
    (``conv2d`` is a cross-correlation)::

        kx = [[1, 0, -1],      ky = [[ 1,  2,  1],
              [2, 0, -2],            [ 0,  0,  0],
              [1, 0, -1]]            [-1, -2, -1]]

    Both kernels are separable (a [1, 2, 1] smoothing times a [1, 0, -1]
    difference), so they are applied as shifted sums of one padded copy of
    ``x``.  On CPU this is ~60x faster forward and ~9x faster backward than
    a one-input-channel ``conv2d`` (measured at 8x1x114x152, float32).

    Args:
        x (Tensor): Maps (N, 1, H, W), e.g. depth in metres.

    Returns:
        tuple[Tensor, Tensor]: dx and dy, each (N, 1, H, W), in the unit of
        ``x`` per pixel times the Sobel gain of 8.
    """
    if x.dim() != 4 or x.size(1) != 1:
        raise ValueError('sobel_gradients expects a (N, 1, H, W) tensor, '
                         f'got shape {tuple(x.shape)}')
    padded = F.pad(x, (1, 1, 1, 1))
    # Smoothing across rows (N, 1, H, W + 2), then difference across columns.
    rows = padded[..., :-2, :] + 2 * padded[..., 1:-1, :] + padded[..., 2:, :]
    dx = rows[..., :-2] - rows[..., 2:]
    # Smoothing across columns (N, 1, H + 2, W), then difference across rows.
    cols = padded[..., :-2] + 2 * padded[..., 1:-1] + padded[..., 2:]
    dy = cols[..., :-2, :] - cols[..., 2:, :]
    return dx, dy
