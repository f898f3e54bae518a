"""MRPAN's training loss: Hu et al.'s three terms summed over scales."""
from typing import Dict, Mapping, Optional, Sequence, Tuple

import torch
import torch.nn as nn
from torch import Tensor

from mmseg.registry import MODELS
from ..utils import resize_to
from .depth_terms import (DepthLogL1Loss, SobelGradientLoss, SurfaceNormalLoss,
                          valid_depth_mask, zero_invalid)

TERM_NAMES = ('depth', 'grad', 'normal')
GT_RESIZE_MODES = ('bilinear', 'nearest')


def resize_depth_target(
        depth: Tensor,
        valid: Optional[Tensor],
        size: Tuple[int, int],
        mode: str = 'bilinear') -> Tuple[Tensor, Optional[Tensor]]:
    """Resize a ground-truth depth map (and its validity) to ``size``.

    ``bilinear`` uses ``align_corners=True`` as SARPN.  With a mask it is a
    normalised interpolation: ``interp(d * m) / interp(m)``, so invalid
    zeros never blend into valid depth; an output pixel is valid when at
    least one input pixel with a non-zero interpolation weight is valid, and
    its depth is the bilinear average re-normalised over those pixels.
    ``nearest`` copies depth and validity of the nearest input pixel.
    Without a mask (reference mode) the depth is interpolated as it is.

    Args:
        depth (Tensor): Depth (N, 1, H, W) in metres; invalid pixels must
            already be zero when ``valid`` is given.
        valid (Tensor, optional): Bool mask (N, 1, H, W), or None.
        size (tuple[int, int]): Output (h, w).
        mode (str): 'bilinear' or 'nearest'.

    Returns:
        tuple[Tensor, Tensor | None]: Depth (N, 1, h, w) with invalid
        pixels zero, and its bool mask (None when ``valid`` is None).
    """
    if mode not in GT_RESIZE_MODES:
        raise ValueError(f'gt resize mode must be one of {GT_RESIZE_MODES}, '
                         f'got {mode!r}')
    size = tuple(size)
    if tuple(depth.shape[-2:]) == size:
        return depth, valid
    align_corners = True if mode == 'bilinear' else None
    # Invalid pixels are zero, so interp(depth) is already interp(d * m).
    weighted_depth = resize_to(depth, size, mode, align_corners)
    if valid is None:
        return weighted_depth, None
    coverage = resize_to(valid.to(depth.dtype), size, mode, align_corners)
    resized_valid = coverage > 0
    resized_depth = weighted_depth / coverage.clamp(
        min=torch.finfo(coverage.dtype).tiny)
    return zero_invalid(resized_depth, resized_valid), resized_valid


@MODELS.register_module()
class MultiScaleDepthLoss(nn.Module):
    """Sum over scales i of w_i * (l_depth^i + l_grad^i + l_normal^i).

    For every prediction the ground truth is resized to the prediction's
    size (see :func:`resize_depth_target`), then the three terms of
    :class:`DepthLogL1Loss`, :class:`SobelGradientLoss` and
    :class:`SurfaceNormalLoss` are computed against it.  Invalid ground
    truth (0, negative, NaN, inf) is excluded: it is zeroed before resizing
    and never blended into valid depth, the depth term averages over valid
    pixels, the Sobel terms over pixels whose 3x3 neighbourhood is valid,
    and a scale with no valid pixel contributes 0 (with a zero gradient).

    Args:
        scale_weights (Sequence[float], optional): w_i, one per prediction
            in the order the predictions are given. None weighs every scale
            1.0, whatever the number of predictions.
        term_weights (Mapping[str, float], optional): Weights of the terms
            under the keys 'depth', 'grad', 'normal'; missing keys are 1.0.
        gt_resize_mode (str): 'bilinear' (align_corners=True, as SARPN) or
            'nearest'. Defaults to 'bilinear'.
        reference_exact (bool): Reproduce the SARPN / Hu et al. reference
            code: bilinear resizing of the raw ground truth and means over
            every pixel, with no masking (invalid ground truth then enters
            the loss, and NaN ground truth gives a NaN loss). Defaults to
            False.
        loss_name (str): Prefix of the returned loss keys; must start with
            'loss'. Defaults to 'loss'.

    Returns of :meth:`forward` (dict of scalars):
        ``{loss_name}_depth``, ``{loss_name}_grad``, ``{loss_name}_normal``:
        the weighted terms summed over scales (summed by mmengine into the
        training loss).  ``{tag}s{i}_total``: the detached weighted total of
        scale i, for logging only; ``tag`` is ``loss_name`` without its
        leading 'loss' (e.g. 'aux_' for 'loss_aux'), so the key holds no
        'loss' and mmengine does not add it to the training loss twice.
    """

    def __init__(self,
                 scale_weights: Optional[Sequence[float]] = None,
                 term_weights: Optional[Mapping[str, float]] = None,
                 gt_resize_mode: str = 'bilinear',
                 reference_exact: bool = False,
                 loss_name: str = 'loss') -> None:
        super().__init__()
        if not loss_name.startswith('loss'):
            raise ValueError(
                f"loss_name must start with 'loss', got {loss_name!r}")
        if gt_resize_mode not in GT_RESIZE_MODES:
            raise ValueError(f'gt_resize_mode must be one of '
                             f'{GT_RESIZE_MODES}, got {gt_resize_mode!r}')
        if reference_exact and gt_resize_mode != 'bilinear':
            raise ValueError('reference_exact=True resizes the ground truth '
                             "bilinearly; it cannot be combined with "
                             f'gt_resize_mode={gt_resize_mode!r}')
        self.scale_weights = None if scale_weights is None else tuple(
            float(w) for w in scale_weights)
        self.gt_resize_mode = gt_resize_mode
        self.reference_exact = reference_exact
        self.loss_name = loss_name
        self.log_prefix = loss_name[len('loss'):].lstrip('_')
        if self.log_prefix:
            self.log_prefix += '_'

        weights = self._term_weights(term_weights)
        ignore_invalid = not reference_exact
        term_classes = (DepthLogL1Loss, SobelGradientLoss, SurfaceNormalLoss)
        self.terms = nn.ModuleList(
            cls(weights[name], ignore_invalid)
            for name, cls in zip(TERM_NAMES, term_classes))

    @staticmethod
    def _term_weights(
            term_weights: Optional[Mapping[str, float]]) -> Dict[str, float]:
        """Complete ``term_weights`` with 1.0 and reject unknown names."""
        term_weights = dict(term_weights or {})
        unknown = set(term_weights) - set(TERM_NAMES)
        if unknown:
            raise ValueError(f'unknown term_weights keys {sorted(unknown)}; '
                             f'valid keys are {TERM_NAMES}')
        return {
            name: float(term_weights.get(name, 1.0))
            for name in TERM_NAMES
        }

    def _weights_for(self, num_scales: int) -> Tuple[float, ...]:
        """Scale weights for ``num_scales`` predictions."""
        if self.scale_weights is None:
            return (1.0, ) * num_scales
        if len(self.scale_weights) != num_scales:
            raise ValueError(
                f'scale_weights has {len(self.scale_weights)} entries '
                f'{self.scale_weights} but {num_scales} predictions were '
                'given')
        return self.scale_weights

    @staticmethod
    def _check_inputs(preds: Sequence[Tensor], gt: Tensor) -> None:
        if gt.dim() != 4 or gt.size(1) != 1:
            raise ValueError('MultiScaleDepthLoss expects gt of shape '
                             f'(N, 1, H, W), got {tuple(gt.shape)}')
        if len(preds) == 0:
            raise ValueError('MultiScaleDepthLoss got no predictions')
        for i, pred in enumerate(preds):
            if pred.dim() != 4 or pred.size(1) != 1 or \
                    pred.size(0) != gt.size(0):
                raise ValueError(
                    f'prediction {i} has shape {tuple(pred.shape)}; '
                    f'expected ({gt.size(0)}, 1, h, w) to match gt '
                    f'{tuple(gt.shape)}')

    def _scale_terms(self, pred: Tensor, gt: Tensor,
                     valid: Optional[Tensor]) -> Dict[str, Tensor]:
        """The three weighted terms of one scale.

        Args:
            pred (Tensor): Depth (N, 1, h, w) in metres.
            gt (Tensor): Full-size depth (N, 1, H, W), invalid pixels 0.
            valid (Tensor, optional): Bool (N, 1, H, W); None = no masking.

        Returns:
            dict[str, Tensor]: Scalars under 'depth', 'grad', 'normal'.
        """
        target, mask = resize_depth_target(gt, valid, pred.shape[-2:],
                                           self.gt_resize_mode)
        return {
            name: term(pred, target, mask)
            for name, term in zip(TERM_NAMES, self.terms)
        }

    def forward(self, preds: Sequence[Tensor],
                gt: Tensor) -> Dict[str, Tensor]:
        """Compute the multi-scale loss.

        Args:
            preds (Sequence[Tensor]): Depth maps (N, 1, h_i, w_i) in metres,
                one per scale, in any order.
            gt (Tensor): Ground-truth depth (N, 1, H, W) in metres.

        Returns:
            dict[str, Tensor]: See the class docstring.
        """
        self._check_inputs(preds, gt)
        scale_weights = self._weights_for(len(preds))
        valid = None
        if not self.reference_exact:
            valid = valid_depth_mask(gt)
            gt = zero_invalid(gt, valid)

        summed = dict.fromkeys(TERM_NAMES, 0)
        log_vars = dict()
        for i, (pred, weight) in enumerate(zip(preds, scale_weights)):
            terms = self._scale_terms(pred, gt, valid)
            for name in TERM_NAMES:
                summed[name] = summed[name] + weight * terms[name]
            log_vars[f'{self.log_prefix}s{i}_total'] = (
                weight * sum(terms.values())).detach()

        losses = {
            f'{self.loss_name}_{name}': value
            for name, value in summed.items()
        }
        losses.update(log_vars)
        return losses
