"""The three per-scale depth loss terms of Hu et al. (WACV 2019).

Every term takes a predicted depth ``pred`` and a ground truth ``target``,
both (N, 1, H, W) in metres, and an optional bool ``valid_mask`` of the
same shape, and returns a scalar.  A target pixel is *valid* when it is
finite and strictly positive.  With no mask given, invalid target pixels
are left out of the means (``ignore_invalid=True``, the default) or every
pixel counts, as in the reference code (``ignore_invalid=False``).
"""
from abc import ABCMeta, abstractmethod
from typing import Optional, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch import Tensor

from mmseg.registry import MODELS
from .sobel import sobel_gradients

# Offset inside the logarithm of l_depth and l_grad: ln(|e| + 0.5).
LOG_OFFSET = 0.5


def valid_depth_mask(depth: Tensor) -> Tensor:
    """Bool mask of the valid (finite, > 0) pixels of a depth map."""
    return torch.isfinite(depth) & (depth > 0)


def zero_invalid(depth: Tensor, valid: Tensor) -> Tensor:
    """``depth`` with the pixels outside ``valid`` set to 0, so that no
    NaN/inf enters the graph (a masked-out NaN still poisons gradients)."""
    return torch.where(valid, depth, torch.zeros_like(depth))


def masked_mean(values: Tensor, mask: Optional[Tensor]) -> Tensor:
    """Mean of ``values`` (N, 1, H, W) over the pixels where the bool
    ``mask`` (same shape) is True; None averages over every pixel.

    All valid pixels of the batch are pooled (each pixel weighs the same, as
    in the reference's mean over the whole batch).  With no valid pixel the
    result is 0 and its gradient 0, never NaN.  ``values`` must be finite
    everywhere: masked-out pixels are multiplied by 0.
    """
    if mask is None:
        return values.mean()
    weights = mask.to(values.dtype)
    return (values * weights).sum() / weights.sum().clamp(min=1)


def sobel_valid_mask(valid: Tensor) -> Tensor:
    """Pixels of the bool mask (N, 1, H, W) whose whole 3x3 neighbourhood
    is valid: ``valid`` eroded by a 3x3 square.

    Out-of-image neighbours do not invalidate a pixel: the Sobel filter pads
    prediction and target alike with zeros, so on a fully valid target the
    masked gradient and normal terms equal the reference (unmasked) ones.
    """
    invalid = (~valid).to(torch.float32)
    # max_pool2d pads with -inf, so the image border counts as valid.
    return F.max_pool2d(invalid, kernel_size=3, stride=1, padding=1) == 0


def log_abs_error(pred: Tensor, target: Tensor) -> Tensor:
    """Element-wise ln(|pred - target| + 0.5), the robust error of Hu et al."""
    return torch.log((pred - target).abs() + LOG_OFFSET)


class DepthTermLoss(nn.Module, metaclass=ABCMeta):
    """Configuration, input preparation and weighting of a depth term.

    :meth:`forward` prepares the inputs once (shape check, mask, zeroed
    invalid target, float32 or wider) and weighs the value of
    :meth:`term`, which each subclass defines.

    Args:
        loss_weight (float): Multiplier of the term. Defaults to 1.0.
        ignore_invalid (bool): Derive a validity mask from the target when
            none is given. Defaults to True.
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
        self._loss_name = loss_name or self.default_loss_name

    @property
    def loss_name(self) -> str:
        """Name of the loss item (mmseg convention)."""
        return self._loss_name

    def forward(self,
                pred: Tensor,
                target: Tensor,
                valid_mask: Optional[Tensor] = None) -> Tensor:
        """The weighted term.

        Args:
            pred (Tensor): Predicted depth (N, 1, H, W) in metres; half and
                bfloat16 predictions are upcast to float32.
            target (Tensor): Ground-truth depth (N, 1, H, W) in metres.
            valid_mask (Tensor, optional): Bool (N, 1, H, W) of the target
                pixels to use; None: see ``ignore_invalid``.

        Returns:
            Tensor: Scalar.
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
        pred = pred.to(torch.promote_types(pred.dtype, torch.float32))
        return self.loss_weight * self.term(pred, target.to(pred.dtype),
                                            valid_mask)

    @abstractmethod
    def term(self, pred: Tensor, target: Tensor,
             valid_mask: Optional[Tensor]) -> Tensor:
        """The unweighted term of prepared inputs (see :meth:`forward`):
        invalid target pixels are 0, ``valid_mask`` None means every pixel.
        """


def sobel_pair(pred: Tensor, target: Tensor, valid_mask: Optional[Tensor]
               ) -> Tuple[Tuple[Tensor, Tensor], Tuple[Tensor, Tensor],
                          Optional[Tensor]]:
    """Sobel dx, dy of prediction and target, and the pixels whose 3x3
    target neighbourhood is valid (None: every pixel): a derivative that
    touches an invalid pixel is meaningless."""
    grad_mask = None if valid_mask is None else sobel_valid_mask(valid_mask)
    return sobel_gradients(pred), sobel_gradients(target), grad_mask


@MODELS.register_module()
class DepthLogL1Loss(DepthTermLoss):
    """l_depth = mean( ln(|d - g| + 0.5) ) over the valid pixels.

    Arguments: see :class:`DepthTermLoss`; ``loss_name`` defaults to
    ``'loss_depth'``.
    """

    default_loss_name = 'loss_depth'

    def term(self, pred: Tensor, target: Tensor,
             valid_mask: Optional[Tensor]) -> Tensor:
        return masked_mean(log_abs_error(pred, target), valid_mask)


@MODELS.register_module()
class SobelGradientLoss(DepthTermLoss):
    """l_grad = mean( ln(|dx(d) - dx(g)| + 0.5) ) + mean( ln(|dy(d) - dy(g)|
    + 0.5) ), with Sobel derivatives (zero padding), over the pixels whose
    3x3 target neighbourhood is valid.

    Arguments: see :class:`DepthTermLoss`; ``loss_name`` defaults to
    ``'loss_grad'``.
    """

    default_loss_name = 'loss_grad'

    def term(self, pred: Tensor, target: Tensor,
             valid_mask: Optional[Tensor]) -> Tensor:
        (pdx, pdy), (tdx, tdy), grad_mask = sobel_pair(pred, target,
                                                       valid_mask)
        # Both means run over the same pixels, so summing the dx and dy errors
        # per pixel before one mean gives mean_dx + mean_dy.
        return masked_mean(
            log_abs_error(pdx, tdx) + log_abs_error(pdy, tdy), grad_mask)


@MODELS.register_module()
class SurfaceNormalLoss(DepthTermLoss):
    """l_normal = mean( 1 - cos(n_d, n_g) ), n = (-dx, -dy, 1) from Sobel
    derivatives, over the pixels whose 3x3 target neighbourhood is valid.

    The cosine is written out in closed form, (1 + dx_d dx_g + dy_d dy_g) /
    sqrt((1 + dx_d^2 + dy_d^2) (1 + dx_g^2 + dy_g^2)): the value of
    ``F.cosine_similarity(n_d, n_g, dim=1, eps=0)`` (both norms are >= 1, so
    eps never acts) without building the 3-channel normals, and ~10x faster
    on CPU than the channel-strided norms of ``cosine_similarity``.

    Arguments: see :class:`DepthTermLoss`; ``loss_name`` defaults to
    ``'loss_normal'``.
    """

    default_loss_name = 'loss_normal'

    def term(self, pred: Tensor, target: Tensor,
             valid_mask: Optional[Tensor]) -> Tensor:
        (pdx, pdy), (tdx, tdy), grad_mask = sobel_pair(pred, target,
                                                       valid_mask)
        cosine = (1 + pdx * tdx + pdy * tdy) * torch.rsqrt(
            (1 + pdx * pdx + pdy * pdy) * (1 + tdx * tdx + tdy * tdy))
        return masked_mean(1 - cosine, grad_mask)
