"""Per-level refinement blocks of the residual pyramid decoder.

Both blocks refine a prediction map of ``channels`` channels (1 for depth,
K for class logits) by adding a learned residual, and share one call
signature ``refine(pred, feat)`` so the decoder can use either.
"""
import torch
import torch.nn as nn
from mmcv.cnn import ConvModule
from mmengine.model import BaseModule
from mmseg.models.backbones.resnet import BasicBlock
from mmseg.utils import ConfigType, OptMultiConfig
from torch import Tensor


class BasicRefine(BaseModule):
    """SARPN's refinement: ``pred + convs(pred)``.

    ``convs`` is conv3x3(channels -> hidden)-norm-act,
    conv3x3(hidden -> hidden)-norm-act, conv3x3(hidden -> channels, bias).
    The block looks at the prediction only.

    Args:
        channels (int): Channels of the prediction (1 for depth).
        hidden_channels (int): Width of the hidden convolutions (SARPN uses
            half the level's fused channels).
        norm_cfg (dict): Normalisation layer. Defaults to ``dict(type='BN')``.
        act_cfg (dict): Activation layer. Defaults to ``dict(type='ReLU')``.
        init_cfg (dict, optional): Initialisation config. Defaults to None.
    """

    def __init__(self,
                 channels: int,
                 hidden_channels: int,
                 norm_cfg: ConfigType = dict(type='BN'),
                 act_cfg: ConfigType = dict(type='ReLU'),
                 init_cfg: OptMultiConfig = None):
        super().__init__(init_cfg=init_cfg)
        self.residual = nn.Sequential(
            ConvModule(
                channels,
                hidden_channels,
                3,
                padding=1,
                norm_cfg=norm_cfg,
                act_cfg=act_cfg),
            ConvModule(
                hidden_channels,
                hidden_channels,
                3,
                padding=1,
                norm_cfg=norm_cfg,
                act_cfg=act_cfg),
            nn.Conv2d(hidden_channels, channels, 3, padding=1))

    def forward(self, pred: Tensor, feat: Tensor) -> Tensor:
        """Refine a prediction.

        Args:
            pred (Tensor): Prediction, (N, channels, H, W).
            feat (Tensor): The level's fused features, (N, C, H, W); not used
                by this block (SARPN refines the prediction alone).

        Returns:
            Tensor: Refined prediction, (N, channels, H, W).
        """
        return pred + self.residual(pred)


class ResidualRefinementModule(BaseModule):
    """MRPAN's improved residual refinement module (RRM, reconstructed).

    Unlike :class:`BasicRefine` it sees the level's fused features too:
    ``pred + head(blocks(stem(concat(pred, feat))))`` where ``stem`` is a
    conv3x3-norm-act to ``hidden_channels``, ``blocks`` are two residual basic
    blocks (mmseg's ResNet :class:`BasicBlock`), the second with a dilated
    first convolution for a wider context, and ``head`` a conv3x3 (with bias)
    back to ``channels``.

    Args:
        channels (int): Channels of the prediction (1 for depth).
        feat_channels (int): Channels of the level's fused features.
        hidden_channels (int): Width of the residual blocks.
        dilation (int): Dilation of the second residual block. Defaults to 2.
        norm_cfg (dict): Normalisation layer. Defaults to ``dict(type='BN')``.
        act_cfg (dict): Activation of the stem. Defaults to
            ``dict(type='ReLU')`` (the basic blocks use ReLU).
        init_cfg (dict, optional): Initialisation config. Defaults to None.
    """

    def __init__(self,
                 channels: int,
                 feat_channels: int,
                 hidden_channels: int,
                 dilation: int = 2,
                 norm_cfg: ConfigType = dict(type='BN'),
                 act_cfg: ConfigType = dict(type='ReLU'),
                 init_cfg: OptMultiConfig = None):
        super().__init__(init_cfg=init_cfg)
        self.stem = ConvModule(
            channels + feat_channels,
            hidden_channels,
            3,
            padding=1,
            norm_cfg=norm_cfg,
            act_cfg=act_cfg)
        self.blocks = nn.Sequential(
            BasicBlock(hidden_channels, hidden_channels, norm_cfg=norm_cfg),
            BasicBlock(
                hidden_channels,
                hidden_channels,
                dilation=dilation,
                norm_cfg=norm_cfg))
        self.head = nn.Conv2d(hidden_channels, channels, 3, padding=1)

    def forward(self, pred: Tensor, feat: Tensor) -> Tensor:
        """Refine a prediction with the level's features.

        Args:
            pred (Tensor): Prediction, (N, channels, H, W).
            feat (Tensor): The level's fused features,
                (N, feat_channels, H, W).

        Returns:
            Tensor: Refined prediction, (N, channels, H, W).
        """
        x = self.stem(torch.cat([pred, feat], dim=1))
        return pred + self.head(self.blocks(x))
