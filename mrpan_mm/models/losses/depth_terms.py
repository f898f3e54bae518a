"""The three per-scale depth loss terms of Hu et al. (WACV 2019).

Every term takes a predicted depth ``pred`` and a ground truth ``target``,
both (N, 1, H, W) in metres, and returns a scalar.  By default invalid
target pixels (0, negative, NaN, inf) are left out of the means
(``ignore_invalid=True``); ``ignore_invalid=False`` averages over every
pixel, as the reference code does.
"""
from abc import ABCMeta, abstractmethod
from typing import Optional, Tuple

import torch
import torch.nn as nn
from torch import Tensor

from mmseg.registry import MODELS
from .depth_mask import (masked_mean, sobel_valid_mask, valid_depth_mask,
                         zero_invalid)
from .sobel import sobel_gradients

Gradients = Tuple[Tensor, Tensor]  # Sobel dx, dy, each (N, 1, H, W)

# Offset inside the logarithm of l_depth and l_grad: ln(|e| + 0.5).
LOG_OFFSET = 0.5


def upcast(x: Tensor) -> Tensor:
    """Half / bfloat16 to float32 (e.g. under autocast), so that the logs and
    means of the loss keep their precision; float32 and float64 unchanged."""
    return x.to(torch.promote_types(x.dtype, torch.float32))


def log_abs_error(pred: Tensor, target: Tensor) -> Tensor:
    """Element-wise ln(|pred - target| + 0.5), the robust error of Hu et al."""
    return torch.log((pred - target).abs() + LOG_OFFSET)


def normal_cosine(pred_grad: Gradients, target_grad: Gradients) -> Tensor:
    """Cosine similarity of the surface normals n = (-dx, -dy, 1).

    Written out in closed form, (1 + dx_p dx_t + dy_p dy_t) /
    sqrt((1 + dx_p^2 + dy_p^2) (1 + dx_t^2 + dy_t^2)): the same value as
    ``F.cosine_similarity(n_p, n_t, dim=1, eps=0)`` (both norms are >= 1, so
    eps never acts) without building the 3-channel normals, and ~10x faster
    on CPU than the channel-strided norms of ``cosine_similarity``.

    Args:
        pred_grad (tuple[Tensor, Tensor]): dx, dy of the prediction.
        target_grad (tuple[Tensor, Tensor]): dx, dy of the target.

    Returns:
        Tensor: Cosine (N, 1, H, W), in [-1, 1].
    """
    (pdx, pdy), (tdx, tdy) = pred_grad, target_grad
    dot = 1 + pdx * tdx + pdy * tdy
    return dot * torch.rsqrt(
        (1 + pdx * pdx + pdy * pdy) * (1 + tdx * tdx + tdy * tdy))


class BaseDepthTermLoss(nn.Module, metaclass=ABCMeta):
    """Shared configuration, input checks and call of the depth loss terms.

    Every term takes these arguments; each subclass sets
    :attr:`default_loss_name`, the name of its loss item, and defines
    :meth:`loss_from_depths`, which :meth:`forward` calls on the checked
    inputs.

    Args:
        loss_weight (float): Multiplier of the term. Defaults to 1.0.
        ignore_invalid (bool): Derive a validity mask from the target when
            none is given (mask invalid target pixels). Defaults to True.
        loss_name (str, optional): Name of the loss item; it must start with
            ``loss_`` for the item to be summed into the training loss.
            Defaults to the class's :attr:`default_loss_name`.
    """

    default_loss_name: str

    def __init__(self,
                 loss_weight: float = 1.0,
                 ignore_invalid: bool = True,
                 loss_name: Optional[str] = None) -> None:
        super().__init__()
        self.loss_weight = loss_weight
        self.ignore_invalid = ignore_invalid
        self._loss_name = (self.default_loss_name
                           if loss_name is None else loss_name)

    @property
    def loss_name(self) -> str:
        """Name of the loss item (mmseg convention)."""
        return self._loss_name

    def prepare_inputs(
        self, pred: Tensor, target: Tensor, valid_mask: Optional[Tensor]
    ) -> Tuple[Tensor, Tensor, Optional[Tensor]]:
        """Check shapes, upcast, and zero the invalid target pixels.

        Args:
            pred (Tensor): Predicted depth (N, 1, H, W).
            target (Tensor): Ground-truth depth (N, 1, H, W).
            valid_mask (Tensor, optional): Bool (N, 1, H, W). When None it
                is derived from ``target`` if ``ignore_invalid``.

        Returns:
            tuple[Tensor, Tensor, Tensor | None]: Prediction and target in
            the loss dtype (see :func:`upcast`), and the mask to average
            over (None: every pixel).
        """
        if pred.dim() != 4 or pred.size(1) != 1 or pred.shape != target.shape:
            raise ValueError(
                f'{type(self).__name__} expects pred and target of the same '
                f'shape (N, 1, H, W), got {tuple(pred.shape)} and '
                f'{tuple(target.shape)}')
        if valid_mask is None and self.ignore_invalid:
            valid_mask = valid_depth_mask(target)
        if valid_mask is not None:
            if valid_mask.shape != target.shape:
                raise ValueError(
                    f'{type(self).__name__}: valid_mask shape '
                    f'{tuple(valid_mask.shape)} differs from target shape '
                    f'{tuple(target.shape)}')
            target = zero_invalid(target, valid_mask)
        pred = upcast(pred)
        return pred, target.to(pred.dtype), valid_mask

    def forward(self,
                pred: Tensor,
                target: Tensor,
                valid_mask: Optional[Tensor] = None) -> Tensor:
        """Compute the weighted term from two depth maps.

        Args:
            pred (Tensor): Predicted depth (N, 1, H, W) in metres.
            target (Tensor): Ground-truth depth (N, 1, H, W) in metres.
            valid_mask (Tensor, optional): Bool (N, 1, H, W) of the valid
                target pixels; None: see ``ignore_invalid``.

        Returns:
            Tensor: Scalar.
        """
        return self.loss_from_depths(
            *self.prepare_inputs(pred, target, valid_mask))

    @abstractmethod
    def loss_from_depths(self, pred: Tensor, target: Tensor,
                         valid_mask: Optional[Tensor]) -> Tensor:
        """Weighted term from the output of :meth:`prepare_inputs`.

        Args:
            pred (Tensor): Predicted depth (N, 1, H, W), in the loss dtype.
            target (Tensor): Ground-truth depth (N, 1, H, W), invalid pixels
                zeroed.
            valid_mask (Tensor, optional): Bool (N, 1, H, W) of the pixels
                to average over; None: every pixel.

        Returns:
            Tensor: Scalar.
        """


@MODELS.register_module()
class DepthLogL1Loss(BaseDepthTermLoss):
    """l_depth = mean( ln(|d - g| + 0.5) ) over the valid pixels.

    Arguments: see :class:`BaseDepthTermLoss`; ``loss_name`` defaults to
    ``'loss_depth'``.
    """

    default_loss_name = 'loss_depth'

    def loss_from_depths(self, pred: Tensor, target: Tensor,
                         valid_mask: Optional[Tensor]) -> Tensor:
        # A scalar: the mean log of an error in metres.
        return self.loss_weight * masked_mean(log_abs_error(pred, target),
                                              valid_mask)


class SobelTermLoss(BaseDepthTermLoss):
    """A depth loss term computed from Sobel derivatives of both maps.

    A pixel counts only when its whole 3x3 neighbourhood in the target is
    valid (see :func:`sobel_valid_mask`): a derivative that touches an
    invalid pixel is meaningless.  Subclasses define
    :meth:`loss_from_gradients`, which :class:`MultiScaleDepthLoss` calls
    directly so that each map is filtered only once for both terms.
    """

    def loss_from_depths(self, pred: Tensor, target: Tensor,
                         valid_mask: Optional[Tensor]) -> Tensor:
        grad_mask = None if valid_mask is None else sobel_valid_mask(
            valid_mask)
        return self.loss_from_gradients(sobel_gradients(pred),
                                        sobel_gradients(target), grad_mask)

    @abstractmethod
    def loss_from_gradients(self, pred_grad: Gradients, target_grad: Gradients,
                            grad_mask: Optional[Tensor]) -> Tensor:
        """Weighted loss from Sobel derivatives.

        Args:
            pred_grad (tuple[Tensor, Tensor]): dx, dy of the prediction,
                each (N, 1, H, W).
            target_grad (tuple[Tensor, Tensor]): dx, dy of the target.
            grad_mask (Tensor, optional): Bool (N, 1, H, W) of the pixels
                whose 3x3 target neighbourhood is valid; None: all pixels.

        Returns:
            Tensor: Scalar.
        """


@MODELS.register_module()
class SobelGradientLoss(SobelTermLoss):
    """l_grad = mean( ln(|dx(d) - dx(g)| + 0.5) ) + mean( ln(|dy(d) - dy(g)|
    + 0.5) ), with Sobel derivatives (zero padding).

    Arguments: see :class:`BaseDepthTermLoss`; ``loss_name`` defaults to
    ``'loss_grad'``.
    """

    default_loss_name = 'loss_grad'

    def loss_from_gradients(self, pred_grad: Gradients, target_grad: Gradients,
                            grad_mask: Optional[Tensor]) -> Tensor:
        # Both means run over the same pixels, so summing the dx and dy errors
        # per pixel before one mean gives mean_dx + mean_dy.
        per_pixel = (log_abs_error(pred_grad[0], target_grad[0]) +
                     log_abs_error(pred_grad[1], target_grad[1]))
        return self.loss_weight * masked_mean(per_pixel, grad_mask)


@MODELS.register_module()
class SurfaceNormalLoss(SobelTermLoss):
    """l_normal = mean( 1 - cos(n_d, n_g) ), n = (-dx, -dy, 1) from Sobel
    derivatives; cosine similarity with eps 0 (the norms are >= 1).

    Arguments: see :class:`BaseDepthTermLoss`; ``loss_name`` defaults to
    ``'loss_normal'``.
    """

    default_loss_name = 'loss_normal'

    def loss_from_gradients(self, pred_grad: Gradients, target_grad: Gradients,
                            grad_mask: Optional[Tensor]) -> Tensor:
        cosine = normal_cosine(pred_grad, target_grad)
        return self.loss_weight * masked_mean(1 - cosine, grad_mask)
