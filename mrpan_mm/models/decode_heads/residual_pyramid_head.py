"""The mmseg side shared by MRPAN's depth and segmentation heads."""
import warnings
from typing import List, Sequence, Tuple

import torch.nn as nn
from mmseg.models.decode_heads.decode_head import BaseDecodeHead
from mmseg.utils import ConfigType, OptMultiConfig
from torch import Tensor
from .residual_pyramid_decoder import ResidualPyramidDecoder


class ResidualPyramidHead(BaseDecodeHead):
    """mmseg's ``BaseDecodeHead`` around a :class:`ResidualPyramidDecoder`.

    Both MRPAN heads are built through this one path: ``BaseDecodeHead``
    is initialised with ``input_transform='multiple_select'`` over all
    L + 1 inputs (the neck's L fused levels, finest first, then the deepest
    backbone feature), its ``channels`` is ``top_proj_channels`` (the head
    has no single hidden width) and its 1x1 ``conv_seg`` is removed: the
    pyramid predicts ``out_channels`` maps itself.

    ``out_channels = 1`` is a depth head here, not a binary segmenter, so
    mmseg's warning about a missing binary ``threshold`` is not raised for
    it (nothing reads the threshold of a depth head).

    Args:
        in_channels (Sequence[int]): Channels of the neck's fused levels,
            finest first (both heads default to SENet-154/SARPN's
            ``(64, 128, 256, 512, 1024)``).
        top_channels (int): Channels of the deepest backbone feature
            (default 2048).
        top_proj_channels (int): Its 1x1 projection width (default 1024).
        refine (str): ``'rrm'`` (MRPAN's residual refinement module, the
            default) or ``'basic'`` (SARPN's refine block).
        norm_cfg (dict): Normalisation layer.
        act_cfg (dict): Activation layer.
        align_corners (bool): ``align_corners`` of every bilinear resize
            (pyramid upsampling, resizing to the input).
        init_cfg (dict, optional): Initialisation config.
        **decode_head_args: ``num_classes``, ``out_channels``,
            ``loss_decode`` and, for segmentation, ``ignore_index`` and
            ``sampler``: passed to ``BaseDecodeHead``.
    """

    def __init__(self, in_channels: Sequence[int], top_channels: int,
                 top_proj_channels: int, refine: str, norm_cfg: ConfigType,
                 act_cfg: ConfigType, align_corners: bool,
                 init_cfg: OptMultiConfig, **decode_head_args):
        num_levels = len(in_channels)
        with warnings.catch_warnings():
            if decode_head_args.get('out_channels') == 1:
                warnings.filterwarnings(
                    'ignore', message='threshold is not defined')
            super().__init__(
                in_channels=tuple(in_channels) + (top_channels, ),
                channels=top_proj_channels,
                dropout_ratio=0,
                norm_cfg=norm_cfg,
                act_cfg=act_cfg,
                in_index=tuple(range(num_levels + 1)),
                input_transform='multiple_select',
                align_corners=align_corners,
                init_cfg=init_cfg,
                **decode_head_args)
        del self.conv_seg
        self.decoder = ResidualPyramidDecoder(
            in_channels,
            top_channels,
            top_proj_channels,
            channels=self.out_channels,
            refine=refine,
            norm_cfg=norm_cfg,
            act_cfg=act_cfg,
            align_corners=align_corners)

    def loss_modules(self) -> List[nn.Module]:
        """The modules of ``loss_decode``: one config or a list of them,
        mmseg's convention."""
        if isinstance(self.loss_decode, nn.ModuleList):
            return list(self.loss_decode)
        return [self.loss_decode]

    def forward(self, inputs: Tuple[Tensor, ...]) -> List[Tensor]:
        """The decoder's L raw predictions (class logits of the segmentation
        head), finest first.

        Args:
            inputs (tuple[Tensor]): The neck's output: L fused levels, level t
                of shape (N, in_channels[t], H_t, W_t), finest first, then the
                deepest backbone feature (N, top_channels, H_{L-1}, W_{L-1}).

        Returns:
            list[Tensor]: Element t has shape (N, out_channels, H_t, W_t);
            element 0 is the output.
        """
        self.decoder.check_inputs(inputs, type(self).__name__)
        inputs = self._transform_inputs(inputs)
        return self.decoder(inputs[:-1], inputs[-1])
