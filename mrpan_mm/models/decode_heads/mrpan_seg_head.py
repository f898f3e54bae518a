"""MRPAN's residual pyramid as a semantic segmentation decode head."""
from typing import Dict, List, Optional, Sequence, Tuple

from mmseg.models.losses import accuracy
from mmseg.registry import MODELS
from mmseg.utils import ConfigType, OptConfigType, OptMultiConfig, SampleList
from torch import Tensor
from ..utils import resize_to
from .residual_pyramid_head import ResidualPyramidHead


@MODELS.register_module()
class MRPANSegHead(ResidualPyramidHead):
    """Residual pyramid segmentation head with deep supervision.

    The segmentation counterpart of :class:`MRPANHead`: it takes the output
    of :class:`MACANeck` as is (L fused levels, finest first, then the
    deepest backbone feature) and predicts class logits at every level with a
    :class:`ResidualPyramidDecoder` (``channels=num_classes``), coarse to
    fine: the coarsest logits come from the fused and projected deepest
    features, every finer level adds a residual to the upsampled coarser
    logits and refines the sum (RRM by default).

    Training (deep supervision): for level t with logits of size (H_t, W_t)
    the labels are resized to (H_t, W_t) by nearest neighbour (so
    ``ignore_index`` pixels stay ignored, classes are never blended) and

        ``loss = sum_t scale_weights[t] * loss_decode(logits_t, labels_t)``

    for each module of ``loss_decode`` (one ``loss_*`` entry per loss name).
    With mmseg's ``CrossEntropyLoss(avg_non_ignore=True)`` (the default)
    every scale's term is the mean over its non-ignored pixels.  A pixel
    ``sampler`` (e.g. OHEM) samples at each scale.  ``acc_seg`` is the pixel
    accuracy of the finest logits at the label resolution.

    Inference returns the finest logits resized bilinearly to the (padded)
    input, as mmseg's decode heads do; ``EncoderDecoder`` then crops and
    resizes them to the original image.

    ``BaseDecodeHead`` is set up by :class:`ResidualPyramidHead` (the same
    path as :class:`MRPANHead`).  Only softmax (multi-class) outputs are
    supported: ``out_channels`` equals ``num_classes``.

    Args:
        num_classes (int): Number of classes.
        in_channels, top_channels, top_proj_channels, refine: The pyramid,
            see :class:`ResidualPyramidHead`.
        scale_weights (Sequence[float], optional): Loss weight of each level,
            finest first, non-negative. Defaults to 1.0 for every level.
        loss_decode (dict | Sequence[dict]): Loss config(s), called as
            ``loss(logits, labels, weight=..., ignore_index=...)`` at each
            scale. Defaults to ``CrossEntropyLoss(avg_non_ignore=True)``.
        ignore_index (int): Label ignored by the loss and the accuracy.
            Defaults to 255.
        sampler (dict, optional): Pixel sampler config. Defaults to None.
        norm_cfg (dict): Normalisation layer. Defaults to ``dict(type='BN')``.
        act_cfg (dict): Activation layer. Defaults to ``dict(type='ReLU')``.
        align_corners (bool): ``align_corners`` of every bilinear resize
            (pyramid upsampling, resizing to the input). Defaults to True,
            as in SARPN's pyramid.
        init_cfg (dict, optional): Initialisation config. Defaults to None.
    """

    def __init__(self,
                 num_classes: int,
                 in_channels: Sequence[int] = (64, 128, 256, 512, 1024),
                 top_channels: int = 2048,
                 top_proj_channels: int = 1024,
                 refine: str = 'rrm',
                 scale_weights: Optional[Sequence[float]] = None,
                 loss_decode: ConfigType = dict(
                     type='CrossEntropyLoss',
                     use_sigmoid=False,
                     avg_non_ignore=True,
                     loss_weight=1.0),
                 ignore_index: int = 255,
                 sampler: OptConfigType = None,
                 norm_cfg: ConfigType = dict(type='BN'),
                 act_cfg: ConfigType = dict(type='ReLU'),
                 align_corners: bool = True,
                 init_cfg: OptMultiConfig = None):
        num_levels = len(in_channels)
        super().__init__(in_channels, top_channels, top_proj_channels, refine,
                         norm_cfg, act_cfg, align_corners, init_cfg,
                         num_classes=num_classes, out_channels=num_classes,
                         loss_decode=loss_decode, ignore_index=ignore_index,
                         sampler=sampler)
        if scale_weights is None:
            scale_weights = (1.0, ) * num_levels
        if len(scale_weights) != num_levels or min(scale_weights) < 0:
            raise ValueError(
                f'scale_weights needs {num_levels} non-negative weights (one '
                f'per level), got {tuple(scale_weights)}')
        self.scale_weights = tuple(float(w) for w in scale_weights)

    def extra_repr(self) -> str:
        return f'{super().extra_repr()}, scale_weights={self.scale_weights}'

    def loss_by_feat(self, seg_logits: List[Tensor],
                     batch_data_samples: SampleList) -> Dict[str, Tensor]:
        """Deep-supervision loss over all levels.

        Args:
            seg_logits (list[Tensor]): The L logit maps of :meth:`forward`,
                level t of shape (N, num_classes, H_t, W_t).
            batch_data_samples (list[SegDataSample]): Samples carrying
                ``gt_sem_seg`` (1, H, W), padded with ``ignore_index`` by the
                data preprocessor.

        Returns:
            dict[str, Tensor]: The scale-weighted sum of each loss module
            (keyed by its ``loss_name``) and ``acc_seg``.
        """
        seg_label = self._stack_batch_gt(batch_data_samples)
        losses = dict()
        for logits, scale_weight in zip(seg_logits, self.scale_weights):
            label = resize_to(
                seg_label.float(), logits.shape[2:], mode='nearest').long()
            weight = None if self.sampler is None else \
                self.sampler.sample(logits, label)
            label = label.squeeze(1)
            for loss_decode in self.loss_modules():
                value = scale_weight * loss_decode(
                    logits,
                    label,
                    weight=weight,
                    ignore_index=self.ignore_index)
                name = loss_decode.loss_name
                losses[name] = losses.get(name, 0) + value
        finest = resize_to(
            seg_logits[0],
            seg_label.shape[2:],
            align_corners=self.align_corners)
        losses['acc_seg'] = accuracy(
            finest, seg_label.squeeze(1), ignore_index=self.ignore_index)
        return losses

    def predict(self, inputs: Tuple[Tensor, ...], batch_img_metas: List[dict],
                test_cfg: ConfigType) -> Tensor:
        """Finest logits at the input size.

        Args:
            inputs (tuple[Tensor]): The neck's output, see :meth:`forward`.
            batch_img_metas (list[dict]): Image metas; the output size is
                ``pad_shape`` (or ``img_shape`` in sliding inference), see
                ``BaseDecodeHead.predict_by_feat``.
            test_cfg (dict): Test config (unused by this head).

        Returns:
            Tensor: Logits of shape (N, num_classes, H, W).
        """
        return self.predict_by_feat(self.forward(inputs)[0], batch_img_metas)
