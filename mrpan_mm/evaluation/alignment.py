"""Per-image alignment of a prediction to the ground truth before scoring.

Zero-shot evaluations compare models whose outputs are known only up to a
scale (self-supervised and relative-depth models) or up to a scale and a
shift (MiDaS-style affine-invariant models).  Each image's prediction is
fitted to its ground truth on the valid pixels of the evaluation region,
then clamped and scored as usual:

* ``'median'``: ``s * pred`` with ``s = median(gt) / median(pred)``, the
  median scaling of Zhou et al. (CVPR 2017) and Monodepth2;
* ``'scale'``: ``s * pred`` with the least-squares
  ``s = sum(pred * gt) / sum(pred ** 2)``;
* ``'scale_shift'``: ``s * pred + t`` minimising ``sum((s * pred + t -
  gt) ** 2)``, the least-squares fit of MiDaS (Ranftl et al., TPAMI 2022)
  and the affine-invariant evaluation ZoeDepth (Bhat et al., 2023) reports
  for relative models.  MiDaS fits in inverse depth, for models that
  predict disparity; here the fit is in depth, the unit every model of this
  package predicts.

All fits run in float64 on the pixels ``valid`` selects; metric-depth
models are scored without alignment (``None``), as in the papers' tables.
"""
from typing import Callable, Dict, Optional, Tuple

from torch import Tensor

Fit = Tuple[Tensor, Tensor]


def median_scale(pred: Tensor, gt: Tensor) -> Fit:
    """``(median(gt) / median(pred), 0)`` of 1-D values."""
    return gt.median() / pred.median(), pred.new_zeros(())


def least_squares_scale(pred: Tensor, gt: Tensor) -> Fit:
    """``(s, 0)`` with the ``s`` minimising ``sum((s pred - gt)^2)``."""
    return (pred * gt).sum() / (pred * pred).sum(), pred.new_zeros(())


def least_squares_scale_shift(pred: Tensor, gt: Tensor) -> Fit:
    """``(s, t)`` minimising ``sum((s pred + t - gt)^2)``: the 2x2 normal
    equations, solved in closed form."""
    n = pred.numel()
    sum_p, sum_g = pred.sum(), gt.sum()
    det = n * (pred * pred).sum() - sum_p * sum_p
    scale = (n * (pred * gt).sum() - sum_p * sum_g) / det
    return scale, (sum_g - scale * sum_p) / n


#: The alignment modes of :func:`align_prediction`, by config name: each
#: maps valid (prediction, ground truth) values to a (scale, shift).
ALIGNMENTS: Dict[str, Callable[[Tensor, Tensor], Fit]] = {
    'median': median_scale,
    'scale': least_squares_scale,
    'scale_shift': least_squares_scale_shift,
}


def check_alignment(mode: Optional[str]) -> Optional[str]:
    """Return ``mode`` if it names an alignment (or is None), else raise."""
    if mode is not None and mode not in ALIGNMENTS:
        raise KeyError(f'unknown scale alignment {mode!r}; choose None or '
                       f'one of {sorted(ALIGNMENTS)}')
    return mode


def align_prediction(pred: Tensor, gt: Tensor, valid: Tensor,
                     mode: Optional[str]) -> Tensor:
    """Fit ``pred`` to ``gt`` on the ``valid`` pixels; map the whole of it.

    Args:
        pred: Prediction (h, w), metres (or any unit for scale-free models).
        gt: Ground truth (h, w), metres.
        valid: Boolean mask (h, w) of the pixels the fit uses (at least
            one; two distinct prediction values for ``'scale_shift'``).
        mode: A key of :data:`ALIGNMENTS`, or None for no alignment.

    Returns:
        ``scale * pred + shift`` (h, w), float64, not clamped; ``pred``
        itself if ``mode`` is None.
    """
    if mode is None:
        return pred
    pred = pred.double()
    fit = ALIGNMENTS[check_alignment(mode)]
    scale, shift = fit(pred[valid], gt[valid].double())
    return scale * pred + shift
