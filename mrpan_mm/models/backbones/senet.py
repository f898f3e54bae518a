"""Squeeze-and-Excitation networks (Hu et al., CVPR 2018) as a five-level
MMSegmentation backbone.

Parameter names follow the ImageNet checkpoints that everybody uses for these
networks -- Cadene's ``pretrained-models.pytorch`` files (``senet154``,
``se_resnet50``, ``se_resnext50_32x4d``, ...) and timm's ``legacy_*`` models,
which share one key layout (``layer0.conv1.weight``,
``layer1.0.se_module.fc1.weight``, ``layer2.0.downsample.0.weight``, ...).
Those files therefore load without any key conversion; only their ImageNet
classifier (``last_linear.*``) is dropped. Supported files: Cadene's
(``senet154-c7b49a05.pth``, ``se_resnet50-ce0d4300.pth``, ...: bare state
dicts written by PyTorch < 0.4.1, without BatchNorm ``num_batches_tracked``
counters), timm's ``legacy_*`` state dicts, and MMEngine checkpoints of a
whole segmentor (keys under ``backbone.``) or from ``senet2mmseg.py``; they
are loaded strictly, see :mod:`.strict_pretrained`.

MMPretrain's ``SEResNet`` was not reused: its names (``stem.0``, ``norm1``,
``se_layer.conv1.conv``) and its stride placement differ from these
checkpoints, and it has no SENet-154 (grouped 64x4d bottleneck, 3x3
projection shortcuts), so reusing it would need a converter for every file.
"""
from collections import OrderedDict
from typing import Dict, Optional, Sequence, Tuple

import torch
import torch.nn as nn
import torch.utils.checkpoint as cp
from mmcv.cnn import build_conv_layer, build_norm_layer
from mmengine.model import BaseModule
from torch.nn.modules.batchnorm import _BatchNorm

from mmseg.registry import MODELS
from mmseg.utils import ConfigType, OptConfigType, OptMultiConfig
from .strict_pretrained import load_pretrained, pretrained_entry


class SEModule(BaseModule):
    """Channel attention: global average pool, bottleneck MLP, sigmoid gate.

    The MLP is made of 1x1 convolutions named ``fc1``/``fc2`` (with bias), as
    in the ImageNet checkpoints.

    Args:
        channels (int): Channels C of the gated feature map.
        reduction (int): The hidden layer has ``C // reduction`` channels.
    """

    def __init__(self, channels: int, reduction: int, init_cfg=None):
        super().__init__(init_cfg)
        self.fc1 = nn.Conv2d(channels, channels // reduction, kernel_size=1)
        self.relu = nn.ReLU(inplace=True)
        self.fc2 = nn.Conv2d(channels // reduction, channels, kernel_size=1)
        self.sigmoid = nn.Sigmoid()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(N, C, H, W) -> (N, C, H, W): ``x`` scaled per channel by (0, 1)."""
        gate = x.mean((2, 3), keepdim=True)
        gate = self.sigmoid(self.fc2(self.relu(self.fc1(gate))))
        return x * gate


class SEBottleneck(BaseModule):
    """Bottleneck residual block whose residual branch is gated by SE.

    ``conv1`` (1x1, in -> mid) -> ``conv2`` (3x3, mid -> inner, grouped) ->
    ``conv3`` (1x1, inner -> out) -> SE, plus the shortcut, then ReLU. The
    three SENet flavours differ only in widths and where the stride goes:

    * SENet-154: mid = 2p, inner = 4p, groups 64, stride in ``conv2``;
    * SE-ResNet: mid = inner = p, groups 1, stride in ``conv1`` (Caffe);
    * SE-ResNeXt 32x4d: mid = inner = 2p, groups 32, stride in ``conv2``;

    with p the stage's base width (64, 128, 256, 512) and out = 4p.

    Args:
        in_channels (int): Input channels.
        mid_channels (int): Output channels of ``conv1``.
        inner_channels (int): Output channels of ``conv2``.
        out_channels (int): Output channels of ``conv3`` and of the block.
        groups (int): Groups of the 3x3 convolution.
        reduction (int): SE reduction ratio.
        stride (int): Spatial stride of the block. Default: 1.
        stride_in_1x1 (bool): Put the stride in ``conv1`` instead of
            ``conv2``. Default: False.
        downsample (nn.Module, optional): Shortcut projection; identity when
            None.
        with_cp (bool): Recompute the block in the backward pass (gradient
            checkpointing) to save memory. Default: False.
        conv_cfg (dict, optional): Convolution config. Default: None (Conv2d).
        norm_cfg (dict): Normalization config. Default: BN.
    """

    def __init__(self,
                 in_channels: int,
                 mid_channels: int,
                 inner_channels: int,
                 out_channels: int,
                 groups: int,
                 reduction: int,
                 stride: int = 1,
                 stride_in_1x1: bool = False,
                 downsample: Optional[nn.Module] = None,
                 with_cp: bool = False,
                 conv_cfg: OptConfigType = None,
                 norm_cfg: ConfigType = dict(type='BN'),
                 init_cfg: OptMultiConfig = None):
        super().__init__(init_cfg)
        stride_1x1, stride_3x3 = (stride, 1) if stride_in_1x1 else (1, stride)
        self.conv1 = build_conv_layer(
            conv_cfg,
            in_channels,
            mid_channels,
            kernel_size=1,
            stride=stride_1x1,
            bias=False)
        self.bn1 = build_norm_layer(norm_cfg, mid_channels)[1]
        self.conv2 = build_conv_layer(
            conv_cfg,
            mid_channels,
            inner_channels,
            kernel_size=3,
            stride=stride_3x3,
            padding=1,
            groups=groups,
            bias=False)
        self.bn2 = build_norm_layer(norm_cfg, inner_channels)[1]
        self.conv3 = build_conv_layer(
            conv_cfg, inner_channels, out_channels, kernel_size=1, bias=False)
        self.bn3 = build_norm_layer(norm_cfg, out_channels)[1]
        self.relu = nn.ReLU(inplace=True)
        self.se_module = SEModule(out_channels, reduction)
        self.downsample = downsample
        self.with_cp = with_cp

    def _residual_sum(self, x: torch.Tensor) -> torch.Tensor:
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        out = self.se_module(self.bn3(self.conv3(out)))
        shortcut = x if self.downsample is None else self.downsample(x)
        return out + shortcut

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(N, in, H, W) -> (N, out, ceil(H / stride), ceil(W / stride))."""
        if self.with_cp and x.requires_grad:
            out = cp.checkpoint(self._residual_sum, x, use_reentrant=False)
        else:
            out = self._residual_sum(x)
        return self.relu(out)


@MODELS.register_module()
class SENet(BaseModule):
    """SENet-154 / SE-ResNet / SE-ResNeXt backbone with five output levels.

    Level 0 is the stem output before the max-pool (stride 2); levels 1..4
    are ``layer1``..``layer4`` (strides 4, 8, 16, 32). Any input size works
    (odd sizes included): the stem gives h0 = ceil(H / 2), the 3x3/s2
    max-pool (``ceil_mode=True``, as in the Caffe originals) h1 =
    ceil((h0 - 1) / 2), and each later stage halves the size, rounding up.

    Output channels (``self.out_channels``, one per level):

    * ``senet154``: (128, 256, 512, 1024, 2048)
    * ``seresnet{50,101,152}``, ``seresnext{26,50,101}_32x4d``:
      (64, 256, 512, 1024, 2048)

    Args:
        arch (str): One of ``SENet.arch_settings``. Default: 'senet154'.
        in_channels (int): Input image channels. Default: 3.
        reduction (int): SE reduction ratio. Default: 16.
        out_indices (Sequence[int]): Levels to return, strictly increasing
            values in 0..4. Default: (0, 1, 2, 3, 4).
        frozen_stages (int): -1 freezes nothing, 0 the stem, i >= 1 the stem
            and ``layer1``..``layer{i}`` (parameters and norm statistics).
            Default: -1.
        norm_eval (bool): Keep every BN layer in eval mode (frozen running
            statistics) while training. Default: False.
        with_cp (bool): Gradient checkpointing in every block. Default: False.
        conv_cfg (dict, optional): Convolution config. Default: None.
        norm_cfg (dict): Normalization config, e.g. ``dict(type='SyncBN',
            requires_grad=True)``. Default: ``dict(type='BN',
            requires_grad=True)``.
        init_cfg (dict | list[dict], optional): Initialization config. With
            ``dict(type='Pretrained', checkpoint=PATH)`` every tensor is read
            from a Cadene/timm ImageNet file or an MMEngine checkpoint (keys
            under ``prefix``, default ``'backbone.'`` when present) and must
            match the architecture exactly, else a ValueError lists the
            missing, unexpected and mis-shaped keys. Default: Kaiming-normal
            convolutions and unit BN.

    Example:
        >>> model = SENet('seresnet50')
        >>> feats = model(torch.rand(1, 3, 65, 81))
        >>> [tuple(f.shape[1:]) for f in feats]
        [(64, 33, 41), (256, 16, 20), (512, 8, 10), (1024, 4, 5), (2048, 2, 3)]
    """

    # ``widths``: (conv1, conv2) widths of a bottleneck as multiples of the
    # stage base width 64 * 2**i; blocks always output 4x the base width.
    arch_settings: Dict[str, dict] = {
        'senet154':
        dict(
            stage_blocks=(3, 8, 36, 3),
            groups=64,
            widths=(2, 4),
            stride_in_1x1=False,
            deep_stem=True,
            stem_channels=128,
            shortcut_kernel_size=3),
        'seresnet50':
        dict(
            stage_blocks=(3, 4, 6, 3),
            groups=1,
            widths=(1, 1),
            stride_in_1x1=True,
            deep_stem=False,
            stem_channels=64,
            shortcut_kernel_size=1),
        'seresnext50_32x4d':
        dict(
            stage_blocks=(3, 4, 6, 3),
            groups=32,
            widths=(2, 2),
            stride_in_1x1=False,
            deep_stem=False,
            stem_channels=64,
            shortcut_kernel_size=1),
    }
    arch_settings.update({
        'seresnet101':
        dict(arch_settings['seresnet50'], stage_blocks=(3, 4, 23, 3)),
        'seresnet152':
        dict(arch_settings['seresnet50'], stage_blocks=(3, 8, 36, 3)),
        'seresnext26_32x4d':
        dict(arch_settings['seresnext50_32x4d'], stage_blocks=(2, 2, 2, 2)),
        'seresnext101_32x4d':
        dict(arch_settings['seresnext50_32x4d'], stage_blocks=(3, 4, 23, 3)),
    })

    num_levels = 5
    # The ImageNet classifier of the checkpoints, not loaded.
    classifier_keys = (r'last_linear\.', )
    deep_stem_width = 64
    base_widths = (64, 128, 256, 512)
    expansion = 4

    def __init__(self,
                 arch: str = 'senet154',
                 in_channels: int = 3,
                 reduction: int = 16,
                 out_indices: Sequence[int] = (0, 1, 2, 3, 4),
                 frozen_stages: int = -1,
                 norm_eval: bool = False,
                 with_cp: bool = False,
                 conv_cfg: OptConfigType = None,
                 norm_cfg: ConfigType = dict(type='BN', requires_grad=True),
                 init_cfg: OptMultiConfig = None):
        if init_cfg is None:
            init_cfg = [
                dict(type='Kaiming', layer='Conv2d'),
                dict(type='Constant', val=1, layer=['_BatchNorm', 'GroupNorm'])
            ]
        super().__init__(init_cfg)
        if arch not in self.arch_settings:
            raise KeyError(f'SENet: unknown arch {arch!r}; choose one of '
                           f'{sorted(self.arch_settings)}')
        out_indices = tuple(out_indices)
        valid_levels = range(self.num_levels)
        if (not out_indices or list(out_indices) != sorted(set(out_indices))
                or not set(out_indices) <= set(valid_levels)):
            raise ValueError(f'SENet: out_indices must be strictly increasing '
                             f'levels in 0..{self.num_levels - 1}, got '
                             f'{out_indices}')
        if not -1 <= frozen_stages < self.num_levels:
            raise ValueError(f'SENet: frozen_stages must be in -1..'
                             f'{self.num_levels - 1}, got {frozen_stages}')
        setting = self.arch_settings[arch]
        self.arch = arch
        self.out_indices = out_indices
        self.frozen_stages = frozen_stages
        self.norm_eval = norm_eval
        self.conv_cfg = conv_cfg
        self.norm_cfg = norm_cfg

        stem_channels = setting['stem_channels']
        self.layer0 = self._make_stem(in_channels, stem_channels,
                                      setting['deep_stem'])
        self.pool0 = nn.MaxPool2d(3, stride=2, ceil_mode=True)

        self.res_layers = []
        channels = stem_channels
        for i, num_blocks in enumerate(setting['stage_blocks']):
            layer = self._make_res_layer(
                in_channels=channels,
                base_width=self.base_widths[i],
                num_blocks=num_blocks,
                stride=1 if i == 0 else 2,
                shortcut_kernel_size=1
                if i == 0 else setting['shortcut_kernel_size'],
                groups=setting['groups'],
                widths=setting['widths'],
                stride_in_1x1=setting['stride_in_1x1'],
                reduction=reduction,
                with_cp=with_cp)
            name = f'layer{i + 1}'
            self.add_module(name, layer)
            self.res_layers.append(name)
            channels = self.base_widths[i] * self.expansion
        self.out_channels: Tuple[int, ...] = (stem_channels, ) + tuple(
            w * self.expansion for w in self.base_widths)
        self._freeze_stages()

    def _conv_bn_relu(self, index: int, in_channels: int, out_channels: int,
                      kernel_size: int, stride: int):
        """``conv{index}``, ``bn{index}``, ``relu{index}`` of the stem."""
        conv = build_conv_layer(
            self.conv_cfg,
            in_channels,
            out_channels,
            kernel_size=kernel_size,
            stride=stride,
            padding=kernel_size // 2,
            bias=False)
        return [(f'conv{index}', conv),
                (f'bn{index}', build_norm_layer(self.norm_cfg,
                                                out_channels)[1]),
                (f'relu{index}', nn.ReLU(inplace=True))]

    def _make_stem(self, in_channels: int, stem_channels: int,
                   deep_stem: bool) -> nn.Sequential:
        """Three 3x3 convs (the first stride 2) or one 7x7/s2 conv, each
        followed by BN and ReLU."""
        if deep_stem:
            width = self.deep_stem_width
            modules = (
                self._conv_bn_relu(1, in_channels, width, 3, 2) +
                self._conv_bn_relu(2, width, width, 3, 1) +
                self._conv_bn_relu(3, width, stem_channels, 3, 1))
        else:
            modules = self._conv_bn_relu(1, in_channels, stem_channels, 7, 2)
        return nn.Sequential(OrderedDict(modules))

    def _make_res_layer(self, in_channels: int, base_width: int,
                        num_blocks: int, stride: int,
                        shortcut_kernel_size: int, widths: Tuple[int, int],
                        **block_kwargs) -> nn.Sequential:
        """A stage: a first block with a conv+BN projection shortcut (the
        ImageNet checkpoints have one in every stage), then identity
        shortcuts."""
        out_channels = base_width * self.expansion
        downsample = nn.Sequential(
            build_conv_layer(
                self.conv_cfg,
                in_channels,
                out_channels,
                kernel_size=shortcut_kernel_size,
                stride=stride,
                padding=shortcut_kernel_size // 2,
                bias=False),
            build_norm_layer(self.norm_cfg, out_channels)[1])
        blocks = []
        for i in range(num_blocks):
            blocks.append(
                SEBottleneck(
                    in_channels=in_channels if i == 0 else out_channels,
                    mid_channels=base_width * widths[0],
                    inner_channels=base_width * widths[1],
                    out_channels=out_channels,
                    stride=stride if i == 0 else 1,
                    downsample=downsample if i == 0 else None,
                    conv_cfg=self.conv_cfg,
                    norm_cfg=self.norm_cfg,
                    **block_kwargs))
        return nn.Sequential(*blocks)

    def _freeze_stages(self):
        """Freeze parameters and norm statistics of the first stages."""
        for i in range(self.frozen_stages + 1):
            stage = getattr(self, f'layer{i}')
            stage.eval()
            for param in stage.parameters():
                param.requires_grad = False

    def init_weights(self):
        """Initialise from ``init_cfg``. A ``Pretrained`` entry sets every
        tensor through a strict load, so it replaces the other entries; a
        file that does not match the architecture is refused."""
        entry = pretrained_entry(self.init_cfg)
        if entry is None:
            super().init_weights()
            return
        load_pretrained(
            self,
            entry,
            target=f'SENet({self.arch})',
            ignore_keys=self.classifier_keys)
        self._is_init = True

    def forward(self, x: torch.Tensor) -> Tuple[torch.Tensor, ...]:
        """(N, in_channels, H, W) -> tuple of the ``out_indices`` levels,
        level l of shape (N, out_channels[l], ~H / 2**(l+1), ~W / 2**(l+1))."""
        x = self.layer0(x)
        outs = [x] if 0 in self.out_indices else []
        x = self.pool0(x)
        for level, name in enumerate(self.res_layers, start=1):
            x = getattr(self, name)(x)
            if level in self.out_indices:
                outs.append(x)
        return tuple(outs)

    def train(self, mode: bool = True):
        """Switch mode, keeping frozen stages (and, with ``norm_eval``, every
        BN layer) in eval mode."""
        super().train(mode)
        self._freeze_stages()
        if mode and self.norm_eval:
            for m in self.modules():
                if isinstance(m, _BatchNorm):
                    m.eval()
        return self
