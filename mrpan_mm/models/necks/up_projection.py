"""The up-projection block of SARPN's feature fusion (after Laina et al.)."""
import torch.nn as nn
from mmcv.cnn import ConvModule, build_activation_layer
from mmengine.model import BaseModule
from mmseg.utils import ConfigType, OptMultiConfig
from torch import Tensor


class UpProjection(BaseModule):
    """Two-branch projection of a (resized) feature map.

    ``act(bn(conv3x3(act(bn(conv5x5(x))))) + bn(conv5x5(x)))``: a main branch
    of a 5x5 and a 3x3 convolution and a shortcut branch of one 5x5
    convolution, summed before the final activation.  Resizing to the target
    size is the caller's job; this block keeps the spatial size.

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
