"""Depth-boundary quality: Hu et al.'s edge F1 and iBims-1's DBE.

Edge precision / recall / F1 (Hu et al., WACV 2019, Sec. 5)
    Edges of a depth map D (metres) are the pixels where the Sobel gradient
    magnitude ``sqrt(gx^2 + gy^2)`` exceeds a threshold t (0.25, 0.5 or 1.0),
    with ``kx = [[1,0,-1],[2,0,-2],[1,0,-1]]``, ``ky = kx^T`` (up to sign)
    and zero padding 1, as in Hu's code. Definition chosen here: only pixels
    whose whole 3x3 neighbourhood lies inside the evaluation region and has
    valid ground truth are scored (this drops the fake edges that zero
    padding and depth holes create; Hu's filled ground truth had no holes,
    but his scores include the one-pixel frame border). With E_p, E_g the
    predicted and ground-truth edge sets, P = |E_p & E_g| / |E_p|,
    R = |E_p & E_g| / |E_g|, F = 2PR / (P + R). An empty E_p gives P = 1
    (no false edge), an empty E_g gives R = 1, and P + R = 0 gives F = 0.

Depth boundary errors (Koch et al., iBims-1, ECCV-W 2018)
    Predicted edges are Canny edges of the prediction min-max normalised to
    [0, 1] (Gaussian sigma sqrt(2), hysteresis thresholds 0.1 / 0.2 on the
    Sobel gradient magnitude, as iBims' scikit-image call; computed here with
    OpenCV). With d_g / d_p the Euclidean distance to the nearest ground
    truth / predicted edge pixel, truncated at ``max_dist`` = 10 px:
    accuracy = mean of d_g over predicted edges that lie closer than
    ``max_dist`` to a ground-truth edge; completeness = (sum of d_g over
    predicted edges + sum of d_p over ground-truth edges) / (|E_p| + |E_g|).
    Both are ``max_dist`` if no predicted edge is near the ground truth, and
    NaN if the ground-truth boundary map is empty.
"""
import math
from typing import Tuple

import cv2
import numpy as np
import torch.nn.functional as F
from scipy import ndimage
from torch import Tensor

from ..models.losses.sobel import sobel_gradients

def sobel_magnitude(depth: Tensor) -> Tensor:
    """Sobel gradient magnitude (H, W) of a depth map (H, W), zero padded,
    with the kernels of the gradient loss (:func:`sobel_gradients`)."""
    dx, dy = sobel_gradients(depth[None, None])
    return (dx.pow(2) + dy.pow(2)).sqrt()[0, 0]


def interior_mask(valid: Tensor) -> Tensor:
    """Pixels (H, W) whose full 3x3 neighbourhood is valid and in frame."""
    invalid = (~valid).float()[None, None]
    padded = F.pad(invalid, (1, 1, 1, 1), value=1.0)
    return F.max_pool2d(padded, 3, stride=1)[0, 0] == 0


def _ratio(numerator: int, denominator: int, empty: float) -> float:
    return numerator / denominator if denominator else empty


def edge_precision_recall_f1(pred: Tensor, gt: Tensor, valid: Tensor,
                             threshold: float) -> Tuple[float, float, float]:
    """Hu et al.'s depth-edge precision, recall and F1 for one image.

    Args:
        pred: Predicted depth (H, W), metres.
        gt: Ground-truth depth (H, W), metres.
        valid: Boolean mask (H, W) of valid ground-truth pixels.
        threshold: Sobel-magnitude threshold defining an edge.

    Returns:
        (precision, recall, f1), each in [0, 1].
    """
    scored = interior_mask(valid)
    pred_edges = (sobel_magnitude(pred) > threshold) & scored
    gt_edges = (sobel_magnitude(gt) > threshold) & scored
    hits = int((pred_edges & gt_edges).sum())
    precision = _ratio(hits, int(pred_edges.sum()), 1.0)
    recall = _ratio(hits, int(gt_edges.sum()), 1.0)
    f1 = _ratio(2 * precision * recall, precision + recall, 0.0)
    return precision, recall, f1


def canny_depth_edges(depth: np.ndarray,
                      sigma: float = math.sqrt(2.0),
                      low: float = 0.1,
                      high: float = 0.2) -> np.ndarray:
    """Canny edges (H, W, bool) of a depth map normalised to [0, 1].

    Args:
        depth: Depth map (H, W) in any unit.
        sigma: Standard deviation of the Gaussian smoothing, pixels.
        low, high: Hysteresis thresholds on the Sobel gradient magnitude of
            the smoothed, normalised map.
    """
    depth = depth.astype(np.float32)
    span = float(depth.max() - depth.min())
    if span == 0:
        return np.zeros(depth.shape, dtype=bool)
    normalised = (depth - depth.min()) / span
    smooth = cv2.GaussianBlur(normalised, (0, 0), sigma)
    # cv2.Canny takes int16 gradients: scale [0, 1] so that the largest
    # possible 3x3 Sobel magnitude (4 * sqrt(2)) stays in range.
    scale = 4000.0
    grad_x = cv2.Sobel(smooth, cv2.CV_32F, 1, 0, ksize=3) * scale
    grad_y = cv2.Sobel(smooth, cv2.CV_32F, 0, 1, ksize=3) * scale
    edges = cv2.Canny(np.round(grad_x).astype(np.int16),
                      np.round(grad_y).astype(np.int16),
                      low * scale,
                      high * scale,
                      L2gradient=True)
    return edges > 0


def depth_boundary_errors(pred_edges: np.ndarray,
                          gt_edges: np.ndarray,
                          max_dist: float = 10.0) -> Tuple[float, float]:
    """iBims-1 depth boundary errors (accuracy, completeness), in pixels.

    Args:
        pred_edges: Predicted edge map (H, W, bool).
        gt_edges: Ground-truth boundary map (H, W, bool).
        max_dist: Truncation distance in pixels.
    """
    if not gt_edges.any():
        return math.nan, math.nan
    dist_to_gt = np.minimum(ndimage.distance_transform_edt(~gt_edges),
                            max_dist)
    near = pred_edges & (dist_to_gt < max_dist)
    if not near.any():
        return max_dist, max_dist
    accuracy = float(dist_to_gt[near].mean())
    dist_to_pred = np.minimum(ndimage.distance_transform_edt(~pred_edges),
                              max_dist)
    completeness = float(
        (dist_to_gt[pred_edges].sum() + dist_to_pred[gt_edges].sum()) /
        (pred_edges.sum() + gt_edges.sum()))
    return accuracy, completeness
