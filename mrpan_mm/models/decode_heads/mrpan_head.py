"""MRPAN's depth decode head for mmseg's ``DepthEstimator``."""
from typing import Dict, List, Sequence, Tuple

import torch
import torch.nn as nn
from mmseg.registry import MODELS
from mmseg.utils import ConfigType, OptMultiConfig, SampleList
from torch import Tensor
from .residual_pyramid_head import ResidualPyramidHead

OUTPUT_ACTIVATIONS = dict(
    identity=nn.Identity, relu=nn.ReLU, softplus=nn.Softplus)


@MODELS.register_module()
class MRPANHead(ResidualPyramidHead):
    """Residual pyramid depth head of MRPAN (SARPN's decoder + RRM).

    Takes the output of :class:`MACANeck`: L fused levels (finest first)
    followed by the deepest backbone feature, and predicts depth in metres at
    every level with a :class:`ResidualPyramidDecoder` (coarse to fine).  An
    output activation is applied to every level's prediction (the pyramid
    itself carries raw values).  Training passes all L depths to
    ``loss_decode``; inference returns the finest depth resized to the
    (padded) input and clamped to ``[min_depth, max_depth]``.

    ``BaseDecodeHead`` is set up by :class:`ResidualPyramidHead`, with
    ``num_classes = out_channels = 1`` and ``align_corners`` as
    ``DepthEstimator`` reads them.

    Args:
        in_channels, top_channels, top_proj_channels, refine: The pyramid,
            see :class:`ResidualPyramidHead`.
        out_act (str): Output activation, ``'identity'`` (SARPN), ``'relu'``
            or ``'softplus'``. Defaults to ``'identity'``.
        min_depth (float): Lower clamp of predicted depth at inference, in
            metres. Defaults to 1e-3.
        max_depth (float): Upper clamp, in metres. Defaults to 10.
        depth_offset (float): Constant depth in metres added to every raw
            prediction before the output activation, so that an untrained
            network starts near a typical depth (e.g. the training set's mean)
            instead of 0 and the pyramid learns residuals around it. SARPN
            has none: 0. Defaults to 0.
        loss_decode (dict | Sequence[dict]): Config(s) of the multi-scale
            loss, each called as ``loss(preds, gt)`` with the L depth maps
            and the ground truth (N, 1, H, W) and returning a dict of
            scalars; the dicts are summed key by key (mmseg's list
            convention). Defaults to ``dict(type='MultiScaleDepthLoss')``.
        norm_cfg (dict): Normalisation layer. Defaults to ``dict(type='BN')``.
        act_cfg (dict): Activation layer. Defaults to ``dict(type='ReLU')``.
        align_corners (bool): ``align_corners`` of every bilinear resize
            (pyramid upsampling, resizing to the input). Defaults to True.
        init_cfg (dict, optional): Initialisation config. Defaults to None.
    """

    def __init__(self,
                 in_channels: Sequence[int] = (64, 128, 256, 512, 1024),
                 top_channels: int = 2048,
                 top_proj_channels: int = 1024,
                 refine: str = 'rrm',
                 out_act: str = 'identity',
                 min_depth: float = 1e-3,
                 max_depth: float = 10.0,
                 depth_offset: float = 0.0,
                 loss_decode: ConfigType = dict(type='MultiScaleDepthLoss'),
                 norm_cfg: ConfigType = dict(type='BN'),
                 act_cfg: ConfigType = dict(type='ReLU'),
                 align_corners: bool = True,
                 init_cfg: OptMultiConfig = None):
        if out_act not in OUTPUT_ACTIVATIONS:
            raise ValueError(f'out_act must be one of '
                             f'{tuple(OUTPUT_ACTIVATIONS)}, got {out_act!r}')
        if not 0 < min_depth < max_depth:
            raise ValueError('need 0 < min_depth < max_depth, got '
                             f'min_depth={min_depth}, max_depth={max_depth}')
        super().__init__(in_channels, top_channels, top_proj_channels, refine,
                         norm_cfg, act_cfg, align_corners, init_cfg,
                         num_classes=1, out_channels=1,
                         loss_decode=loss_decode)
        self.min_depth = min_depth
        self.max_depth = max_depth
        self.depth_offset = depth_offset
        self.out_act = OUTPUT_ACTIVATIONS[out_act]()

    def extra_repr(self) -> str:
        return (f'min_depth={self.min_depth}, max_depth={self.max_depth}, '
                f'depth_offset={self.depth_offset}, '
                f'align_corners={self.align_corners}')

    def forward(self, inputs: Tuple[Tensor, ...]) -> List[Tensor]:
        """Depth in metres at every pyramid level, finest first: the
        pyramid's maps (N, 1, H_t, W_t) of the base class's ``forward``
        plus ``depth_offset``, through the output activation."""
        return [
            self.out_act(pred + self.depth_offset)
            for pred in super().forward(inputs)
        ]

    def _stack_batch_gt(self, batch_data_samples: SampleList) -> Tensor:
        """Ground-truth depth (N, 1, H, W) in metres from ``gt_depth_map``."""
        return torch.stack([
            data_sample.gt_depth_map.data for data_sample in batch_data_samples
        ])

    def loss_by_feat(self, depths: List[Tensor],
                     batch_data_samples: SampleList) -> Dict[str, Tensor]:
        """Multi-scale depth loss.

        Args:
            depths (list[Tensor]): The L depth maps of :meth:`forward`.
            batch_data_samples (list[SegDataSample]): Samples carrying
                ``gt_depth_map`` (1, H, W), padded by the data preprocessor
                (0 = invalid).

        Returns:
            dict[str, Tensor]: The loss modules' outputs, summed key by key
            (``loss_*`` keys are summed by the runner).
        """
        gt = self._stack_batch_gt(batch_data_samples)
        losses = dict()
        for loss_decode in self.loss_modules():
            for name, value in loss_decode(depths, gt).items():
                losses[name] = losses.get(name, 0) + value
        return losses

    def predict(self, inputs: Tuple[Tensor, ...], batch_img_metas: List[dict],
                test_cfg: ConfigType) -> Tensor:
        """Finest depth at the input size, clamped to the depth range.

        Args:
            inputs (tuple[Tensor]): The neck's output, see :meth:`forward`.
            batch_img_metas (list[dict]): Image metas; the output size is
                ``pad_shape`` (or ``img_shape`` when that is a
                ``torch.Size``, as ``DepthEstimator``'s sliding inference
                sets it), as in mmseg's decode heads.
            test_cfg (dict): Test config (unused by this head).

        Returns:
            Tensor: Depth in metres, (N, 1, H, W).
        """
        depth = self.predict_by_feat(self.forward(inputs)[0], batch_img_metas)
        return depth.clamp(self.min_depth, self.max_depth)
