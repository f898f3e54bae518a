"""Sobel image gradients shared by the gradient and surface-normal losses."""
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch import Tensor

# Hu et al. (WACV 2019) / SARPN kernels, applied by ``conv2d``, i.e. as a
# cross-correlation: dx = kx (*) d, dy = ky (*) d.
SOBEL_KX = ((1., 0., -1.), (2., 0., -2.), (1., 0., -1.))
SOBEL_KY = ((1., 2., 1.), (0., 0., 0.), (-1., -2., -1.))


class SobelFilter(nn.Module):
    """Both Sobel derivatives of a one-channel map in a single convolution.

    The image is zero-padded by one pixel, as the reference code's
    ``nn.Conv2d(1, 2, 3, padding=1, bias=False)``, so the output has the size
    of the input.  The kernel is a non-persistent buffer: it follows the
    module across devices but never enters a checkpoint.
    """

    def __init__(self) -> None:
        super().__init__()
        kernel = torch.tensor((SOBEL_KX, SOBEL_KY)).unsqueeze(1)
        self.register_buffer('kernel', kernel, persistent=False)

    def forward(self, x: Tensor) -> Tensor:
        """Compute the horizontal and vertical derivatives.

        Args:
            x (Tensor): Maps of shape (N, 1, H, W), e.g. depth in metres.

        Returns:
            Tensor: Shape (N, 2, H, W); channel 0 is dx, channel 1 is dy, in
            the unit of ``x`` per pixel (times the Sobel gain of 8).
        """
        if x.dim() != 4 or x.size(1) != 1:
            raise ValueError('SobelFilter expects a (N, 1, H, W) tensor, '
                             f'got shape {tuple(x.shape)}')
        return F.conv2d(x, self.kernel.to(x.dtype), padding=1)
