"""Convolutions that skip the kernel taps which can only meet zero padding.

A stride-1 convolution with "same" zero padding ``p = (k - 1) / 2`` computes
output row ``i`` from input rows ``i - p .. i + p``. On a map of ``H`` rows,
a tap at vertical offset ``d`` (``|d| <= p``) can reach a real row only if
``|d| <= H - 1``: the taps farther out multiply zero padding for every output
pixel, and their gradient is zero. Convolving with the central
``(2 r + 1)`` taps, ``r = min(p, H - 1)``, and padding ``r`` therefore gives
the same output and the same gradients (zero for the skipped taps), with
fewer multiplications: a 7x7 depthwise kernel on a 1x1 map is one tap, on a
2x3 map 3x5 taps. ConvNeXt's last stages meet such maps at the CPU demo's
36x48 input (docs/demo.md).
"""
import torch
import torch.nn as nn
import torch.nn.functional as F


class PaddingTrimmedConv2d(nn.Conv2d):
    """``nn.Conv2d`` that drops the kernel taps reaching only zero padding.

    Same parameters and ``state_dict`` as ``nn.Conv2d``; valid for stride 1,
    dilation 1, zero padding ``(k - 1) / 2`` on each side (odd kernels),
    which :func:`convert_to_trimmed` checks before converting a layer. Input
    and output: (N, C, H, W), the output the size of the input.
    """

    def _conv_forward(self, input: torch.Tensor, weight: torch.Tensor,
                      bias) -> torch.Tensor:
        if torch.compiler.is_exporting() or torch.onnx.is_in_onnx_export():
            # an exported graph serves every input size (ONNX --dynamic):
            # the full kernel, whose result is the same
            return super()._conv_forward(input, weight, bias)
        pad_h, pad_w = self.padding
        reach_h = min(pad_h, input.size(-2) - 1)
        reach_w = min(pad_w, input.size(-1) - 1)
        if (reach_h, reach_w) != (pad_h, pad_w):
            weight = weight[..., pad_h - reach_h:pad_h + reach_h + 1,
                            pad_w - reach_w:pad_w + reach_w + 1]
        return F.conv2d(input, weight, bias, self.stride, (reach_h, reach_w),
                        self.dilation, self.groups)


def _is_trimmable(conv: nn.Conv2d) -> bool:
    """Stride 1, dilation 1, odd kernel with zero "same" padding."""
    if type(conv) is not nn.Conv2d or conv.padding_mode != 'zeros':
        return False
    if isinstance(conv.padding, str):
        return False
    kernel_h, kernel_w = conv.kernel_size
    return (conv.stride == (1, 1) and conv.dilation == (1, 1)
            and kernel_h % 2 == 1 and kernel_w % 2 == 1
            and conv.padding == ((kernel_h - 1) // 2, (kernel_w - 1) // 2)
            and (kernel_h, kernel_w) != (1, 1))


def convert_to_trimmed(module: nn.Module) -> int:
    """Make every eligible ``nn.Conv2d`` in ``module`` a
    :class:`PaddingTrimmedConv2d`, in place (same parameter objects).

    Returns:
        int: The number of layers converted.
    """
    convs = [m for m in module.modules() if _is_trimmable(m)]
    for conv in convs:
        conv.__class__ = PaddingTrimmedConv2d
    return len(convs)
