"""SARPN's residual pyramid decoder, generic in the predicted channels."""
from typing import List, Sequence

import torch
import torch.nn as nn
from mmcv.cnn import ConvModule
from mmengine.model import BaseModule
from mmseg.utils import ConfigType, OptMultiConfig
from torch import Tensor
from ..utils import resize_to
from .refine_modules import BasicRefine, ResidualRefinementModule

REFINE_TYPES = ('basic', 'rrm')


class ResidualPyramidDecoder(BaseModule):
    """Coarse-to-fine residual pyramid over L fused feature levels.

    Predictions have ``channels`` channels (1 for depth, K for class logits)
    and are raw (no output activation).  With fused levels F_0 (finest) ..
    F_{L-1} (coarsest) and the deepest backbone feature B:

    - level L-1: ``p = refine(branch(concat(act(norm(conv1x1(B))),
      F_{L-1})))``;
    - level t < L-1: ``p_t = refine(branch(F_t) + up(p_{t+1}))``, where
      ``up`` resizes bilinearly to the size of F_t (sizes are read from the
      features, never fixed) and ``branch`` is conv3x3-norm-act (width
      ``in_channels[t]``) followed by a conv3x3 to ``channels`` (no bias, as
      in SARPN).

    ``refine`` is :class:`BasicRefine` (``'basic'``, SARPN) or
    :class:`ResidualRefinementModule` (``'rrm'``, MRPAN); both use
    ``in_channels[t] // 2`` hidden channels, as SARPN's refine does.

    Args:
        in_channels (Sequence[int]): Channels of the fused levels, finest
            first.
        top_channels (int): Channels of the deepest backbone feature B.
        top_proj_channels (int): Channels B is projected to.
        channels (int): Channels of the predictions.
        refine (str): ``'basic'`` or ``'rrm'``.
        norm_cfg (dict): Normalisation layer.
        act_cfg (dict): Activation layer.
        align_corners (bool): ``align_corners`` of the upsampling
            (SARPN uses True).
        init_cfg (dict, optional): Initialisation config. Defaults to None.
    """

    def __init__(self,
                 in_channels: Sequence[int],
                 top_channels: int,
                 top_proj_channels: int,
                 channels: int,
                 refine: str,
                 norm_cfg: ConfigType,
                 act_cfg: ConfigType,
                 align_corners: bool,
                 init_cfg: OptMultiConfig = None):
        super().__init__(init_cfg=init_cfg)
        if refine not in REFINE_TYPES:
            raise ValueError(
                f'refine must be one of {REFINE_TYPES}, got {refine!r}')
        self.in_channels = tuple(in_channels)
        self.top_channels = top_channels
        self.channels = channels
        self.align_corners = align_corners
        self.top_proj = ConvModule(
            top_channels,
            top_proj_channels,
            1,
            norm_cfg=norm_cfg,
            act_cfg=act_cfg)
        branch_in = list(in_channels)
        branch_in[-1] += top_proj_channels
        self.branches = nn.ModuleList(
            nn.Sequential(
                ConvModule(
                    c_in, c, 3, padding=1, norm_cfg=norm_cfg,
                    act_cfg=act_cfg),
                nn.Conv2d(c, channels, 3, padding=1, bias=False))
            for c_in, c in zip(branch_in, in_channels))
        if refine == 'basic':
            self.refines = nn.ModuleList(
                BasicRefine(channels, c // 2, norm_cfg, act_cfg)
                for c in in_channels)
        else:
            self.refines = nn.ModuleList(
                ResidualRefinementModule(
                    channels, c, c // 2, norm_cfg=norm_cfg, act_cfg=act_cfg)
                for c in in_channels)

    def check_inputs(self, inputs: Sequence[Tensor], owner: str) -> None:
        """Check that a head received the neck output this decoder expects.

        Args:
            inputs (Sequence[Tensor]): L fused levels, level t of shape
                (N, in_channels[t], H_t, W_t), finest first, then the deepest
                backbone feature (N, top_channels, H_{L-1}, W_{L-1}).
            owner (str): Name of the calling head, for the error message.

        Raises:
            ValueError: If the number of inputs or their channels differ.
        """
        expected = self.in_channels + (self.top_channels, )
        channels = tuple(x.size(1) for x in inputs)
        if channels != expected:
            raise ValueError(
                f'{owner} expects {len(expected)} inputs (the fused levels '
                f'then the deepest backbone feature) with channels '
                f'{expected}, got {len(inputs)} with channels {channels}')

    def forward(self, fused: Sequence[Tensor], top: Tensor) -> List[Tensor]:
        """Predict at every level.

        Args:
            fused (Sequence[Tensor]): L fused levels, finest first, level t of
                shape (N, in_channels[t], H_t, W_t).
            top (Tensor): Deepest backbone feature,
                (N, top_channels, H_{L-1}, W_{L-1}).

        Returns:
            list[Tensor]: L raw predictions, finest first, level t of shape
            (N, channels, H_t, W_t).
        """
        coarsest = fused[-1]
        pred = self.refines[-1](
            self.branches[-1](torch.cat([self.top_proj(top), coarsest], 1)),
            coarsest)
        preds = [pred]
        for t in reversed(range(len(fused) - 1)):
            coarse = resize_to(
                pred, fused[t].shape[-2:], align_corners=self.align_corners)
            pred = self.refines[t](self.branches[t](fused[t]) + coarse,
                                   fused[t])
            preds.append(pred)
        return preds[::-1]
