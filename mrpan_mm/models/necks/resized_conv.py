"""Convolutions of a bilinearly resized map, computed at the map's own size.

Bilinear resizing treats every channel alike: per channel, the resized map
is ``R_h @ x @ R_w.T`` with the 1-D interpolation matrices ``R_h`` (H, h) and
``R_w`` (W, w).  A KxK convolution with "same" zero padding p = K // 2 is
the sum over its K² taps (i, j) of a 1x1 channel mixing ``W_ij``, shifted by
(i - p, j - p) with zero fill.  Channel mixing commutes with the resizing,
and a zero-filled row shift of ``R_h @ y`` is ``(S_i @ R_h) @ y``, so::

    conv(resize(x))[o] = sum_ij (S_i R_h) (W_ij x)[o] (S_j R_w).T + bias[o]

The right-hand side needs the K² projections ``W_ij x`` at the low input
resolution and two small matrix products: the wide input is never resized
nor convolved at the target size.  The zero fill of the shifts is the
convolution's zero padding of the *resized* map, so the identity is exact,
borders included (equal up to floating-point rounding).
"""
from typing import List, Sequence, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch import Tensor


def shifted_interpolation(in_size: int, out_size: int, kernel_size: int,
                          align_corners: bool, dtype: torch.dtype,
                          device: torch.device) -> Tensor:
    """The K row-shifted 1-D bilinear interpolation matrices ``S_i R``.

    Args:
        in_size (int): Input length h.
        out_size (int): Resized length H.
        kernel_size (int): K, odd; tap i shifts by i - K // 2.
        align_corners (bool): As in :func:`torch.nn.functional.interpolate`.
        dtype (torch.dtype): Dtype of the result.
        device (torch.device): Device of the result.

    Returns:
        Tensor: (K, H, h); row y of slice i holds the interpolation weights
        of position y + i - K // 2 of the resized signal, zeros where that
        position lies outside [0, H).
    """
    # column c of the resized identity is the resize of the unit vector e_c:
    # torch's own weights, whatever its rounding of the source positions
    eye = torch.eye(in_size, dtype=torch.float64, device=device)
    interp = F.interpolate(
        eye[None], size=out_size, mode='linear',
        align_corners=align_corners)[0].T
    pad = kernel_size // 2
    padded = F.pad(interp, (0, 0, pad, pad))
    shifted = torch.stack(
        [padded[i:i + out_size] for i in range(kernel_size)])
    return shifted.to(dtype)


def _check_same_conv(conv: nn.Conv2d, kernel_size: int) -> None:
    """Only stride-1, ungrouped, "same" zero-padded square convolutions of
    one kernel size factor this way."""
    k = conv.kernel_size
    same = (k == (kernel_size, kernel_size) and kernel_size % 2 == 1
            and conv.padding == (kernel_size // 2, ) * 2
            and conv.stride == (1, 1) and conv.dilation == (1, 1)
            and conv.groups == 1 and conv.padding_mode == 'zeros')
    if not same:
        raise ValueError(
            f'resized_conv2d needs stride-1, ungrouped, undilated convs with '
            f'an odd {kernel_size}x{kernel_size} kernel and zero padding '
            f'{kernel_size // 2}, got {conv}')


def resized_conv2d(x: Tensor, convs: Sequence[nn.Conv2d],
                   size: Sequence[int], align_corners: bool) -> List[Tensor]:
    """``[conv(resize(x, size)) for conv in convs]``, computed at x's size.

    The convolutions share one 1x1 projection of their K² taps.

    Args:
        x (Tensor): (N, C, h, w).
        convs (Sequence[nn.Conv2d]): Convolutions with C input channels and
            the same odd kernel size K, stride 1, padding K // 2.
        size (Sequence[int]): Target (H, W) of the bilinear resize.
        align_corners (bool): ``align_corners`` of the resize.

    Returns:
        list[Tensor]: One (N, conv.out_channels, H, W) map per conv.
    """
    k = convs[0].kernel_size[0]
    for conv in convs:
        _check_same_conv(conv, k)
    weight = torch.cat([conv.weight for conv in convs])  # (O, C, K, K)
    out_channels = weight.shape[0]
    n, _, h, w = x.shape
    out_h, out_w = size
    # the K² tap projections at the low resolution: (N, O, K_i, K_j, h, w)
    taps = F.conv2d(
        x,
        weight.permute(0, 2, 3, 1).reshape(out_channels * k * k, -1, 1, 1))
    taps = taps.unflatten(1, (out_channels, k, k))
    rows = shifted_interpolation(h, out_h, k, align_corners, taps.dtype,
                                 x.device)
    cols = shifted_interpolation(w, out_w, k, align_corners, taps.dtype,
                                 x.device)
    # columns: sum over (j, b) of taps[..., i, j, a, b] * cols[j, x, b]
    taps = taps.permute(0, 1, 2, 4, 3, 5).reshape(n, out_channels, k, h,
                                                  k * w)
    wide = taps @ cols.permute(0, 2, 1).reshape(k * w, out_w)
    # rows: sum over (i, a) of rows[i, y, a] * wide[..., i, a, x]
    out = rows.permute(1, 0, 2).reshape(out_h, k * h) @ wide.reshape(
        n, out_channels, k * h, out_w)
    if x.is_contiguous(memory_format=torch.channels_last) and \
            not x.is_contiguous():
        out = out.contiguous(memory_format=torch.channels_last)
    outs = list(out.split([conv.out_channels for conv in convs], dim=1))
    for i, conv in enumerate(convs):
        if conv.bias is not None:
            outs[i] = outs[i] + conv.bias[:, None, None]
    return outs


def resized_conv_macs(in_channels: int, out_channels: int, kernel_size: int,
                      in_size: Sequence[int],
                      out_size: Sequence[int]) -> Tuple[int, int]:
    """Multiply-adds per image of ``conv(resize(x))``, literal vs factored.

    Counts the convolutions and matrix products only; the literal order's
    resize of the (wide) input is left out, which only favours it.

    Args:
        in_channels (int): C.
        out_channels (int): O, all the convolutions sharing the input.
        kernel_size (int): K.
        in_size (Sequence[int]): (h, w).
        out_size (Sequence[int]): (H, W).

    Returns:
        tuple[int, int]: (literal, factored) multiply-adds.
    """
    (h, w), (out_h, out_w) = in_size, out_size
    taps = out_channels * kernel_size**2
    literal = out_h * out_w * in_channels * taps
    factored = (h * w * in_channels * taps + taps * h * out_w * w +
                out_channels * out_h * out_w * kernel_size * h)
    return literal, factored
