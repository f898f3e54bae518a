"""MACA: multi-scale attention context aggregation (MRPAN's neck)."""
from typing import List, Optional, Sequence, Tuple, Union

import torch
import torch.nn as nn
from mmcv.cnn import ConvModule
from mmengine.model import BaseModule
from mmseg.registry import MODELS
from mmseg.utils import ConfigType, OptMultiConfig
from torch import Tensor
from ..utils import resize_to
from .maca_attention import GlobalAttentionModule, SpatialAttentionModule
from .up_projection import UpProjection

PROJECTION_ORDERS = ('resize_first_factored', 'resize_first',
                     'lower_resolution')


class LevelAggregation(BaseModule):
    """Aggregate every backbone level into the fused map of one target level.

    Every input level is resized (bilinear) to the target size and projected
    by an :class:`UpProjection` to ``fuse_channels // S`` channels (S input
    levels); the optional :class:`GlobalAttentionModule` (GAM) weighs the S
    projected maps; they are concatenated and fused by a 3x3 conv-norm-act
    to ``out_channels``; the optional :class:`SpatialAttentionModule` (SAM)
    adds pixel context to the fused map.

    Args:
        in_channels (Sequence[int]): Channels of the S input levels.
        fuse_channels (int): Channels of the concatenation; must be divisible
            by S.
        out_channels (int): Channels of the fused map.
        gam_reduction (int, optional): MLP reduction of the GAM; None
            disables the GAM.
        sam_kv_stride (int, optional): Key/value pooling stride of the SAM;
            None disables the SAM.
        sam_qk_ratio (int): Query/key channel reduction of the SAM.
        norm_cfg (dict): Normalisation layer of the convolutions.
        act_cfg (dict): Activation layer of the convolutions.
        align_corners (bool): ``align_corners`` of the bilinear resizing.
        projection_order (str): ``'resize_first'``: SARPN's order, every
            level is resized to the target size, then projected, literally.
            ``'resize_first_factored'``: the same function, with the 5x5
            convolutions of an upsampled level computed exactly at the
            level's own size where that takes fewer multiply-adds (see
            :meth:`UpProjection.project_resized`).
            ``'lower_resolution'``: each level is projected at the smaller of
            its own and the target size (resize first when downsampling,
            project first when upsampling): a different function (BN, ReLU
            and the 3x3 convolution then also run at the low size), at a
            fraction of the FLOPs. Defaults to ``'resize_first_factored'``.
        init_cfg (dict, optional): Initialisation config. Defaults to None.
    """

    def __init__(self,
                 in_channels: Sequence[int],
                 fuse_channels: int,
                 out_channels: int,
                 gam_reduction: Optional[int],
                 sam_kv_stride: Optional[int],
                 sam_qk_ratio: int,
                 norm_cfg: ConfigType,
                 act_cfg: ConfigType,
                 align_corners: bool,
                 projection_order: str = 'resize_first_factored',
                 init_cfg: OptMultiConfig = None):
        super().__init__(init_cfg=init_cfg)
        num_levels = len(in_channels)
        if fuse_channels % num_levels:
            raise ValueError(
                f'fuse_channels ({fuse_channels}) must be divisible by the '
                f'number of input levels ({num_levels})')
        branch_channels = fuse_channels // num_levels
        if projection_order not in PROJECTION_ORDERS:
            raise ValueError(f'projection_order must be one of '
                             f'{PROJECTION_ORDERS}, got {projection_order!r}')
        self.align_corners = align_corners
        self.projection_order = projection_order
        self.projections = nn.ModuleList(
            UpProjection(c, branch_channels, norm_cfg, act_cfg)
            for c in in_channels)
        self.scale_attention = None if gam_reduction is None else \
            GlobalAttentionModule(
                branch_channels, gam_reduction, act_cfg=act_cfg)
        self.fuse = ConvModule(
            fuse_channels,
            out_channels,
            3,
            padding=1,
            norm_cfg=norm_cfg,
            act_cfg=act_cfg)
        self.spatial_attention = None if sam_kv_stride is None else \
            SpatialAttentionModule(out_channels, sam_qk_ratio, sam_kv_stride)

    def _project(self, feat: Tensor, projection: nn.Module,
                 size: torch.Size) -> Tensor:
        """One level projected and brought to ``size`` (see
        ``projection_order``)."""
        upsampling = feat.shape[-2] * feat.shape[-1] < size[0] * size[1]
        if upsampling and self.projection_order == 'lower_resolution':
            return resize_to(projection(feat), size,
                             align_corners=self.align_corners)
        return projection.project_resized(
            feat,
            size,
            self.align_corners,
            factored=self.projection_order == 'resize_first_factored')

    def forward(self, inputs: Sequence[Tensor], size: torch.Size) -> Tensor:
        """Fuse all levels at one size.

        Args:
            inputs (Sequence[Tensor]): The S levels, (N, in_channels[i], *, *).
            size (torch.Size): Target (H, W).

        Returns:
            Tensor: Fused map of shape (N, out_channels, H, W).
        """
        projected = [
            self._project(feat, projection, size)
            for feat, projection in zip(inputs, self.projections)
        ]
        x = torch.stack(projected, dim=1)
        if self.scale_attention is not None:
            x = self.scale_attention(x)
        x = self.fuse(x.flatten(1, 2))
        if self.spatial_attention is not None:
            x = self.spatial_attention(x)
        return x


@MODELS.register_module()
class MACANeck(BaseModule):
    """Multi-scale attention context aggregation neck of MRPAN.

    With ``use_gam=False, use_sam=False`` this is SARPN's adaptive dense
    feature fusion (ADFF), MRPAN's "Baseline" row; with both attentions on it
    is the "+MACA" row.  For every target level t, all input levels are
    resized to the size of level t, projected by an up-projection block to
    ``fuse_channels[t] // L`` channels, optionally weighted by the global
    (scale) attention (GAM), concatenated, fused by a 3x3 conv-BN-ReLU to
    ``out_channels[t]`` and optionally refined by the spatial attention
    (SAM).  See :class:`LevelAggregation`.

    **Reconstructed** (the paper gives no layer details): the GAM layout
    (global average pool, shared MLP with reduction ``gam_reduction``, softmax
    across scales, per-channel weights, see :class:`GlobalAttentionModule`),
    the SAM layout (DANet-style position attention with key/value pooling, see
    :class:`SpatialAttentionModule`), where each attention sits (GAM on the
    projected maps before concatenation, SAM on the fused map) and which
    levels carry SAM.

    Output contract: a tuple of ``L + 1`` tensors, namely the fused levels
    ``0 .. L-1`` (shape ``(N, out_channels[t], H_t, W_t)``, the size of input
    level t, finest first) followed by the unchanged deepest input level
    ``(N, in_channels[-1], H_{L-1}, W_{L-1})``, which the residual pyramid
    head needs for its coarsest prediction.

    Args:
        in_channels (Sequence[int]): Channels of the L backbone levels, finest
            first, e.g. ``(128, 256, 512, 1024, 2048)`` for SENet-154.
        fuse_channels (Sequence[int]): Channels of the concatenation at each
            target level; each must be divisible by L.
            Defaults to SARPN's ``(80, 160, 320, 640, 1280)``.
        out_channels (Sequence[int]): Channels of each fused level.
            Defaults to SARPN's ``(64, 128, 256, 512, 1024)``.
        use_gam (bool): Add the global (scale) attention. Defaults to True.
        gam_reduction (int): MLP reduction of the GAM. Defaults to 16.
        use_sam (bool): Add the spatial attention. Defaults to True.
        sam_levels (Sequence[int]): Target levels that carry a SAM.
            Defaults to all five levels.
        sam_kv_stride (int | Sequence[int]): Key/value pooling stride of the
            SAM, one for all or one per entry of ``sam_levels``. Defaults to
            ``(2, 1, 1, 1, 1)``: level 0 (1/2 resolution) attends to keys
            pooled by 2.
        sam_qk_ratio (int): Query/key channel reduction of the SAM.
            Defaults to 8.
        norm_cfg (dict): Normalisation layer. Defaults to ``dict(type='BN')``.
        act_cfg (dict): Activation layer. Defaults to ``dict(type='ReLU')``.
        align_corners (bool): ``align_corners`` of the bilinear resizing
            (SARPN uses True). Defaults to True.
        projection_order (str): ``'resize_first'`` (SARPN: resize, then the
            5x5 up-projection at the target size, literally),
            ``'resize_first_factored'`` (the same function; the 5x5
            convolutions of upsampled levels computed exactly at the level's
            own size: SENet-154's baseline neck at 228x304 takes 55 instead
            of 226 GFLOPs) or
            ``'lower_resolution'`` (the whole block at the smaller of the
            level's and the target's size: a different function). Defaults
            to ``'resize_first_factored'``.
        init_cfg (dict, optional): Initialisation config. Defaults to None.
    """

    def __init__(self,
                 in_channels: Sequence[int],
                 fuse_channels: Sequence[int] = (80, 160, 320, 640, 1280),
                 out_channels: Sequence[int] = (64, 128, 256, 512, 1024),
                 use_gam: bool = True,
                 gam_reduction: int = 16,
                 use_sam: bool = True,
                 sam_levels: Sequence[int] = (0, 1, 2, 3, 4),
                 sam_kv_stride: Union[int, Sequence[int]] = (2, 1, 1, 1, 1),
                 sam_qk_ratio: int = 8,
                 norm_cfg: ConfigType = dict(type='BN'),
                 act_cfg: ConfigType = dict(type='ReLU'),
                 align_corners: bool = True,
                 projection_order: str = 'resize_first_factored',
                 init_cfg: OptMultiConfig = None):
        super().__init__(init_cfg=init_cfg)
        num_levels = len(in_channels)
        if len(fuse_channels) != num_levels or \
                len(out_channels) != num_levels:
            raise ValueError(
                'in_channels, fuse_channels and out_channels need one entry '
                f'per level, got {len(in_channels)}, {len(fuse_channels)} '
                f'and {len(out_channels)}')
        self.in_channels = tuple(in_channels)
        self.out_channels = tuple(out_channels)
        kv_strides = self._sam_strides(num_levels, use_sam, sam_levels,
                                       sam_kv_stride)
        self.levels = nn.ModuleList(
            LevelAggregation(
                in_channels,
                fuse_channels[t],
                out_channels[t],
                gam_reduction=gam_reduction if use_gam else None,
                sam_kv_stride=kv_strides[t],
                sam_qk_ratio=sam_qk_ratio,
                norm_cfg=norm_cfg,
                act_cfg=act_cfg,
                align_corners=align_corners,
                projection_order=projection_order)
            for t in range(num_levels))

    @staticmethod
    def _sam_strides(num_levels: int, use_sam: bool, sam_levels: Sequence[int],
                     sam_kv_stride: Union[int, Sequence[int]]
                     ) -> List[Optional[int]]:
        """Key/value stride of each level's SAM, None where it has none."""
        strides: List[Optional[int]] = [None] * num_levels
        if not use_sam:
            return strides
        if isinstance(sam_kv_stride, int):
            sam_kv_stride = [sam_kv_stride] * len(sam_levels)
        if len(sam_kv_stride) != len(sam_levels):
            raise ValueError(
                f'sam_kv_stride {tuple(sam_kv_stride)} needs one stride per '
                f'entry of sam_levels {tuple(sam_levels)}')
        for level, stride in zip(sam_levels, sam_kv_stride):
            if not 0 <= level < num_levels:
                raise ValueError(f'sam_levels entry {level} is not a level '
                                 f'in [0, {num_levels})')
            strides[level] = stride
        return strides

    def _check_inputs(self, inputs: Sequence[Tensor]) -> None:
        channels = tuple(x.size(1) for x in inputs)
        if channels != self.in_channels:
            raise ValueError(
                f'MACANeck expects {len(self.in_channels)} levels with '
                f'channels {self.in_channels}, got {len(inputs)} levels with '
                f'channels {channels}')

    def forward(self, inputs: Sequence[Tensor]) -> Tuple[Tensor, ...]:
        """Fuse the backbone pyramid.

        Args:
            inputs (Sequence[Tensor]): L backbone levels, finest first, level
                i of shape (N, in_channels[i], H_i, W_i).

        Returns:
            tuple[Tensor]: Fused levels 0..L-1, (N, out_channels[t], H_t,
            W_t), then the unchanged deepest input level.
        """
        self._check_inputs(inputs)
        fused = tuple(
            level(inputs, x.shape[-2:])
            for level, x in zip(self.levels, inputs))
        return fused + (inputs[-1], )
