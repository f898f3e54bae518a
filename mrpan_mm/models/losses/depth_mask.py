"""Validity masks, masked means and mask-aware resizing of depth targets.

A ground-truth depth pixel is *valid* when it is finite and strictly
positive: 0 (no measurement, padding), negative and NaN/inf values are
invalid.  Masks are boolean tensors of shape (N, 1, H, W).
"""
from typing import Optional, Tuple

import torch
import torch.nn.functional as F
from torch import Tensor

from ..utils import resize_to

GT_RESIZE_MODES = ('bilinear', 'nearest')


def valid_depth_mask(depth: Tensor) -> Tensor:
    """Return a bool mask of the valid pixels of a depth map (same shape)."""
    return torch.isfinite(depth) & (depth > 0)


def zero_invalid(depth: Tensor, valid: Tensor) -> Tensor:
    """Replace invalid pixels by 0 so that no NaN/inf enters the graph."""
    return torch.where(valid, depth, torch.zeros_like(depth))


def sobel_valid_mask(valid: Tensor) -> Tensor:
    """Pixels whose whole 3x3 Sobel neighbourhood is valid.

    Out-of-image neighbours do not invalidate a pixel: the Sobel filter pads
    prediction and ground truth alike with zeros, so on a fully valid target
    the masked gradient and normal terms equal the reference (unmasked) ones.

    Args:
        valid (Tensor): Bool mask (N, 1, H, W).

    Returns:
        Tensor: Bool mask (N, 1, H, W), ``valid`` eroded by a 3x3 square.
    """
    invalid = (~valid).to(torch.float32)
    # max_pool2d pads with -inf, so the image border counts as valid.
    return F.max_pool2d(invalid, kernel_size=3, stride=1, padding=1) == 0


def masked_mean(values: Tensor, mask: Optional[Tensor]) -> Tensor:
    """Mean of ``values`` over the pixels where ``mask`` is True.

    All valid pixels of the batch are pooled (each pixel weighs the same, as
    in the reference's mean over the whole batch).  With no valid pixel the
    result is 0 and its gradient is 0, never NaN.

    Args:
        values (Tensor): Per-pixel values (N, 1, H, W), finite everywhere
            (masked-out pixels are multiplied by 0, so NaN would leak).
        mask (Tensor, optional): Bool mask (N, 1, H, W). None averages over
            every pixel.

    Returns:
        Tensor: Scalar.
    """
    if mask is None:
        return values.mean()
    weights = mask.to(values.dtype)
    return (values * weights).sum() / weights.sum().clamp(min=1)


def resize_depth_target(
        depth: Tensor,
        valid: Optional[Tensor],
        size: Tuple[int, int],
        mode: str = 'bilinear') -> Tuple[Tensor, Optional[Tensor]]:
    """Resize a ground-truth depth map (and its validity) to ``size``.

    ``bilinear`` uses ``align_corners=True`` as SARPN.  With a mask it is a
    normalised interpolation: ``interp(d * m) / interp(m)``, so invalid
    zeros never blend into valid depth; an output pixel is valid when at
    least one input pixel with a non-zero interpolation weight is valid, and
    its depth is the bilinear average re-normalised over those pixels.
    ``nearest`` copies depth and validity of the nearest input pixel.
    Without a mask (reference mode) the depth is interpolated as it is.

    Args:
        depth (Tensor): Depth (N, 1, H, W) in metres; invalid pixels must
            already be zero when ``valid`` is given.
        valid (Tensor, optional): Bool mask (N, 1, H, W), or None.
        size (tuple[int, int]): Output (h, w).
        mode (str): 'bilinear' or 'nearest'.

    Returns:
        tuple[Tensor, Tensor | None]: Depth (N, 1, h, w) with invalid
        pixels zero, and its bool mask (None when ``valid`` is None).
    """
    if mode not in GT_RESIZE_MODES:
        raise ValueError(f'gt resize mode must be one of {GT_RESIZE_MODES}, '
                         f'got {mode!r}')
    size = tuple(size)
    if tuple(depth.shape[-2:]) == size:
        return depth, valid
    align_corners = True if mode == 'bilinear' else None
    # Invalid pixels are zero, so interp(depth) is already interp(d * m).
    weighted_depth = resize_to(depth, size, mode, align_corners)
    if valid is None:
        return weighted_depth, None
    coverage = resize_to(valid.to(depth.dtype), size, mode, align_corners)
    resized_valid = coverage > 0
    resized_depth = weighted_depth / coverage.clamp(
        min=torch.finfo(coverage.dtype).tiny)
    return zero_invalid(resized_depth, resized_valid), resized_valid
