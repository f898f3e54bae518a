"""The one resize of MRPAN's models: mmseg's ``resize``, without its
alignment warning, skipped when the size already matches.

Every interpolation of feature maps, predictions, labels and depth targets
in :mod:`mrpan_mm.models` goes through :func:`resize_to`.  The sizes are
read from the encoder's levels (e.g. 57x76 -> 114x152), never chosen to be
``x+1 -> nx+1``, so mmseg's warning about ``align_corners=True`` alignment
would fire on every model and is switched off here.
"""
from typing import Optional, Sequence

from mmseg.models.utils import resize
from torch import Tensor


def resize_to(x: Tensor,
              size: Sequence[int],
              mode: str = 'bilinear',
              align_corners: Optional[bool] = None) -> Tensor:
    """``x`` (N, C, H, W) resized to ``size`` = (h, w); ``x`` itself if
    it already has that size (interpolating to the same size is the
    identity for ``bilinear`` and ``nearest``)."""
    if tuple(x.shape[-2:]) == tuple(size):
        return x
    return resize(x, size=tuple(size), mode=mode,
                  align_corners=align_corners, warning=False)
