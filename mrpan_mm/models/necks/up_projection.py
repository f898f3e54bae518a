"""The up-projection block of SARPN's feature fusion (after Laina et al.)."""
from typing import Sequence

import torch.nn as nn
from mmcv.cnn import ConvModule, build_activation_layer
from mmengine.model import BaseModule
from mmseg.utils import ConfigType, OptMultiConfig
from torch import Tensor
from ..utils import resize_to
from .resized_conv import resized_conv2d, resized_conv_macs


class UpProjection(BaseModule):
    """Two-branch projection of a (resized) feature map.

    ``act(bn(conv3x3(act(bn(conv5x5(x))))) + bn(conv5x5(x)))``: a main branch
    of a 5x5 and a 3x3 convolution and a shortcut branch of one 5x5
    convolution, summed before the final activation.  ``forward`` keeps the
    spatial size; :meth:`project_resized` projects a map resized to another
    size (SARPN's "resize, then project").

    Args:
        in_channels (int): Input channels.
        out_channels (int): Output channels.
        norm_cfg (dict): Normalisation layer. Defaults to ``dict(type='BN')``.
        act_cfg (dict): Activation layer. Defaults to ``dict(type='ReLU')``.
        init_cfg (dict, optional): Initialisation config. Defaults to None.
    """

    def __init__(self,
                 in_channels: int,
                 out_channels: int,
                 norm_cfg: ConfigType = dict(type='BN'),
                 act_cfg: ConfigType = dict(type='ReLU'),
                 init_cfg: OptMultiConfig = None):
        super().__init__(init_cfg=init_cfg)
        self.main = nn.Sequential(
            ConvModule(
                in_channels,
                out_channels,
                5,
                padding=2,
                norm_cfg=norm_cfg,
                act_cfg=act_cfg),
            ConvModule(
                out_channels,
                out_channels,
                3,
                padding=1,
                norm_cfg=norm_cfg,
                act_cfg=None))
        self.shortcut = ConvModule(
            in_channels,
            out_channels,
            5,
            padding=2,
            norm_cfg=norm_cfg,
            act_cfg=None)
        self.act = build_activation_layer(act_cfg)

    def forward(self, x: Tensor) -> Tensor:
        """(N, in_channels, H, W) -> (N, out_channels, H, W)."""
        return self.act(self.main(x) + self.shortcut(x))

    def project_resized(self,
                        x: Tensor,
                        size: Sequence[int],
                        align_corners: bool,
                        factored: bool = True) -> Tensor:
        """``self(resize(x, size))``: the block applied to the bilinearly
        resized map.

        With ``factored``, the two 5x5 convolutions of the resized map are
        computed exactly at x's own size by :func:`resized_conv2d` wherever
        that takes fewer multiply-adds (a wide map upsampled to a fine
        size); the rest of the block then runs at the target size as usual.

        Args:
            x (Tensor): (N, in_channels, h, w).
            size (Sequence[int]): Target (H, W).
            align_corners (bool): ``align_corners`` of the resize.
            factored (bool): Allow the factored form. Defaults to True.

        Returns:
            Tensor: (N, out_channels, H, W).
        """
        first, shortcut = self.main[0], self.shortcut
        if not (factored and self._factoring_pays(x, size)):
            return self(resize_to(x, size, align_corners=align_corners))
        first_out, shortcut_out = resized_conv2d(
            x, (first.conv, shortcut.conv), size, align_corners)
        main = self.main[1](self._norm_act(first, first_out))
        return self.act(main + self._norm_act(shortcut, shortcut_out))

    def _factoring_pays(self, x: Tensor, size: Sequence[int]) -> bool:
        """Whether the 5x5 convolutions of x resized to ``size`` take fewer
        multiply-adds factored than literally (never at x's own size)."""
        if tuple(x.shape[-2:]) == tuple(size):
            return False
        literal, factored = resized_conv_macs(
            x.shape[1], 2 * self.shortcut.conv.out_channels,
            self.shortcut.conv.kernel_size[0], x.shape[-2:], size)
        return factored < literal

    @staticmethod
    def _norm_act(block: ConvModule, x: Tensor) -> Tensor:
        """What ``block`` (conv, norm, act) does after its convolution."""
        if block.with_norm:
            x = block.norm(x)
        if block.with_activation:
            x = block.activate(x)
        return x
