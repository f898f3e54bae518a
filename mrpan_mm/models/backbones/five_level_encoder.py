"""Any four-level encoder (strides 4-32) as MRPAN's five-level encoder."""
from typing import Sequence, Tuple

import torch
import torch.nn as nn
from mmcv.cnn import ConvModule
from mmengine.model import BaseModule

from mmseg.registry import MODELS
from mmseg.utils import ConfigType, OptMultiConfig
from .strict_pretrained import load_pretrained, pretrained_entry
from .trimmed_conv import convert_to_trimmed

NUM_ENCODER_LEVELS = 4


@MODELS.register_module()
class FiveLevelEncoder(BaseModule):
    """A four-level encoder plus a light stride-2 stem: the five levels
    (strides 2, 4, 8, 16, 32) that :class:`MACANeck` and the residual pyramid
    heads (:class:`MRPANHead`, :class:`MRPANSegHead`) take.

    MRPAN's neck fuses, and its head predicts at, five levels whose finest is
    at 1/2 resolution: SENet's stem output before the max-pool. Most
    ImageNet encoders expose four levels at strides 4-32 (MMSegmentation's
    ``ResNetV1c``, MMPretrain's ``ConvNeXt`` and ``SwinTransformer``, timm
    models through ``TIMMBackbone``). Rather than predicting at 1/4 and
    upsampling 4x, this wrapper keeps MRPAN's 1/2-resolution output by adding
    level 0 from a small convolution stem applied to the image, trained from
    scratch: a stack of 3x3 conv-norm-act layers whose first has stride 2.
    The pretrained encoder is used unchanged for levels 1-4, so the neck and
    head need no change and any registered backbone works.

    Level sizes: level 0 is ``ceil(H / 2) x ceil(W / 2)``; levels 1-4 are what
    the encoder gives (its rounding may differ, e.g. 28 vs 29 rows for a
    57-row level 1 halved: the neck and head resize by the sizes they read).

    The encoder's outputs must be ``(N, C, H, W)``: MMPretrain's ConvNeXt
    needs ``gap_before_final_norm=False`` and ``out_indices=(0, 1, 2, 3)``
    (each level then gets its own LayerNorm: ``norm0``-``norm2`` are not in
    the ImageNet checkpoint, see ``new_keys`` below), MMPretrain's Swin
    ``out_indices=(0, 1, 2, 3)``; a timm model whose features are
    channels-last (``(N, H, W, C)``, e.g. timm's Swin) needs
    ``output_fmt='NCHW'`` or ``channels_last_outputs=True`` here. A level of
    the wrong number of channels is reported with a hint.

    Args:
        encoder (dict): Config of any registered backbone returning four
            levels at strides 4, 8, 16, 32, finest first, e.g.
            ``dict(type='mmpretrain.ConvNeXt', arch='tiny', ...)``. It keeps
            its own norm layers (BN, LayerNorm, ...).
        encoder_channels (Sequence[int]): Channels of the encoder's four
            levels, e.g. ``(96, 192, 384, 768)`` for ConvNeXt-T.
        stem_channels (Sequence[int]): Output channels of each stem layer;
            the first layer has stride 2, the last width is level 0's
            channels. Default: (32, 64).
        channels_last_outputs (bool): The encoder returns ``(N, H, W, C)``
            levels; they are permuted to ``(N, C, H, W)``. Default: False.
        trim_padding_taps (bool): Make the encoder's stride-1 "same"
            convolutions skip the kernel taps that can only meet zero
            padding on small maps (:mod:`.trimmed_conv`): the same outputs
            and gradients, cheaper when a level is smaller than a kernel
            (ConvNeXt's 7x7 on the 2x3 and 1x1 maps of a 36x48 input).
            Default: False.
        norm_cfg (dict): Norm layer of the stem. Default: BN.
        act_cfg (dict): Activation of the stem. Default: ReLU.
        init_cfg (dict | list[dict], optional): A ``dict(type='Pretrained',
            checkpoint=PATH, ...)`` entry loads the encoder's ImageNet
            weights **strictly** (see :mod:`.strict_pretrained` for
            ``prefix``, ``ignore_keys``, ``new_keys``), after the stem and
            encoder have their default initialisation; ``submodule`` (str)
            names the part of the encoder the file holds, e.g.
            ``'timm_model.model'`` for a ``TIMMBackbone`` with
            ``feature_cls='getter'``. A file that does not match is refused
            with the differing keys listed. Default: None.

    Example:
        >>> model = FiveLevelEncoder(
        ...     encoder=dict(type='ResNetV1c', depth=18,
        ...                  out_indices=(0, 1, 2, 3)),
        ...     encoder_channels=(64, 128, 256, 512))
        >>> [tuple(f.shape[1:]) for f in model(torch.rand(1, 3, 64, 96))]
        [(64, 32, 48), (64, 16, 24), (128, 8, 12), (256, 4, 6), (512, 2, 3)]
    """

    def __init__(self,
                 encoder: ConfigType,
                 encoder_channels: Sequence[int],
                 stem_channels: Sequence[int] = (32, 64),
                 channels_last_outputs: bool = False,
                 trim_padding_taps: bool = False,
                 norm_cfg: ConfigType = dict(type='BN', requires_grad=True),
                 act_cfg: ConfigType = dict(type='ReLU'),
                 init_cfg: OptMultiConfig = None):
        super().__init__(init_cfg)
        if len(encoder_channels) != NUM_ENCODER_LEVELS:
            raise ValueError(
                f'FiveLevelEncoder: encoder_channels needs the channels of '
                f'the encoder\'s {NUM_ENCODER_LEVELS} levels, got '
                f'{tuple(encoder_channels)}')
        if not stem_channels:
            raise ValueError('FiveLevelEncoder: stem_channels needs at least '
                             'one layer')
        self.encoder_channels = tuple(encoder_channels)
        self.channels_last_outputs = channels_last_outputs
        self.out_channels: Tuple[int, ...] = (
            stem_channels[-1], ) + self.encoder_channels
        self.stem = nn.Sequential(*(ConvModule(
            c_in,
            c_out,
            3,
            stride=2 if i == 0 else 1,
            padding=1,
            norm_cfg=norm_cfg,
            act_cfg=act_cfg) for i, (c_in, c_out) in enumerate(
                zip((3, ) + tuple(stem_channels[:-1]), stem_channels))))
        self.encoder = MODELS.build(encoder)
        if trim_padding_taps:
            convert_to_trimmed(self.encoder)
        self.encoder_type = encoder['type']

    def init_weights(self):
        """Default initialisation, then, with a ``Pretrained`` entry, the
        encoder's weights from the file (strict; mmengine's own loader would
        only warn about a mismatching file)."""
        entry = pretrained_entry(self.init_cfg)
        if entry is None:
            super().init_weights()
            return
        # The stem's ConvModules are initialised when built.
        self.encoder.init_weights()
        submodule = entry.get('submodule')
        target = self.encoder.get_submodule(submodule) if submodule \
            else self.encoder
        name = self.encoder_type + (f'.{submodule}' if submodule else '')
        load_pretrained(target, entry, target=name)
        self._is_init = True

    def _check_levels(self, levels: Sequence[torch.Tensor]) -> None:
        channels = tuple(x.size(1) for x in levels)
        if channels == self.encoder_channels:
            return
        hint = ''
        if tuple(x.size(-1) for x in levels) == self.encoder_channels:
            hint = (' (the levels look channels-last, (N, H, W, C): set '
                    'channels_last_outputs=True or make the encoder '
                    'return (N, C, H, W))')
        raise ValueError(
            f'FiveLevelEncoder: {self.encoder_type} should give '
            f'{NUM_ENCODER_LEVELS} levels with channels '
            f'{self.encoder_channels} (encoder_channels), got {len(levels)} '
            f'of shapes {[tuple(x.shape) for x in levels]}{hint}')

    def forward(self, x: torch.Tensor) -> Tuple[torch.Tensor, ...]:
        """(N, 3, H, W) -> five levels, finest first: the stem's
        (N, stem_channels[-1], ~H/2, ~W/2), then the encoder's level i
        (N, encoder_channels[i], ~H/2**(i+2), ~W/2**(i+2))."""
        levels = tuple(self.encoder(x))
        if self.channels_last_outputs:
            levels = tuple(lv.permute(0, 3, 1, 2) for lv in levels)
        self._check_levels(levels)
        return (self.stem(x), ) + levels
