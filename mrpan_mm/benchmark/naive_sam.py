"""Naive reference of MRPAN's spatial attention (SAM), for benchmarks only.

:class:`NaiveSpatialAttention` computes exactly what
:class:`~mrpan_mm.models.necks.maca_attention.SpatialAttentionModule`
computes, but materialises the (HW x HW') affinity
``softmax(Q^T K / sqrt(C_qk))`` as a tensor, as DANet's position attention
does.  Its memory grows with the
*square* of the number of pixels; the efficient module (SDPA, fused kernel)
grows linearly.  It lives in the benchmark package only: the model code never
uses it.
"""
import torch
import torch.nn.functional as F
from torch import Tensor

from mrpan_mm.models.necks.maca_attention import SpatialAttentionModule


class NaiveSpatialAttention(SpatialAttentionModule):
    """SAM with an explicit affinity matrix (same parameters, same output).

    Args: as :class:`SpatialAttentionModule`.
    """

    def attention(self, x: Tensor) -> Tensor:
        n, c, h, w = x.shape
        kv_input = x
        if self.kv_stride > 1:
            kv_input = F.avg_pool2d(
                x, self.kv_stride, self.kv_stride, ceil_mode=True)
        query = self.query(x).flatten(2)  # (N, Cqk, HW)
        key = self.key(kv_input).flatten(2)  # (N, Cqk, HW')
        value = self.value(kv_input).flatten(2)  # (N, C, HW')
        affinity = torch.bmm(query.transpose(1, 2), key)  # (N, HW, HW')
        affinity = (affinity * self.qk_channels**-0.5).softmax(dim=-1)
        out = torch.bmm(value, affinity.transpose(1, 2))  # (N, C, HW)
        return out.reshape(n, c, h, w)

    @classmethod
    def from_efficient(
            cls, module: SpatialAttentionModule) -> 'NaiveSpatialAttention':
        """A naive copy of ``module`` sharing no storage, same weights."""
        naive = cls(module.channels, kv_stride=module.kv_stride)
        # qk_ratio only matters through qk_channels: rebuild the projections
        # if the ratio differs from the default.
        if naive.qk_channels != module.qk_channels:
            naive = cls(
                module.channels,
                qk_ratio=module.channels // module.qk_channels,
                kv_stride=module.kv_stride)
        naive.load_state_dict(module.state_dict())
        return naive


def sam_flops(n: int, channels: int, qk_channels: int, h: int, w: int,
              kv_stride: int = 1, padded: bool = True) -> int:
    """Multiply-add FLOPs (x2) of one SAM forward, projections included.

    Args:
        n, channels, qk_channels, h, w, kv_stride: the module's shape.
        padded (bool): count Q and K zero-padded to ``channels`` as the
            efficient module executes them (True), or at ``qk_channels``.
    """
    hk = -(-h // kv_stride)
    wk = -(-w // kv_stride)
    q_pix, kv_pix = h * w, hk * wk
    proj = 2 * n * channels * (qk_channels * q_pix +
                               (qk_channels + channels) * kv_pix)
    head = channels if padded else qk_channels
    attn = 2 * n * q_pix * kv_pix * (head + channels)
    return proj + attn
