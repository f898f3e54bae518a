"""The trivial reference a demo model must beat: the training-set mean."""
import glob
import os.path as osp
from typing import Dict, List

import cv2
import numpy as np


def _read_depths(root: str, split: str) -> List[np.ndarray]:
    """Valid depth values (metres) of every annotation PNG of a split."""
    paths = sorted(glob.glob(osp.join(root, 'annotations', split, '*.png')))
    if not paths:
        raise FileNotFoundError(
            f'{osp.join(root, "annotations", split)}: no depth PNGs')
    depths = []
    for path in paths:
        depth_mm = cv2.imread(path, cv2.IMREAD_UNCHANGED)
        depths.append(depth_mm[depth_mm > 0].astype(np.float64) / 1000.0)
    return depths


def mean_depth_baseline(root: str) -> Dict[str, float]:
    """Metrics of predicting the training-set mean depth everywhere.

    Metrics are computed per test image over its valid pixels and averaged
    over images, as :class:`NYUDepthMetric` does.

    Returns:
        ``mean_depth`` (m), ``abs_rel`` and ``d1`` (δ<1.25) on the test split.
    """
    train = _read_depths(root, 'train')
    mean_depth = float(np.concatenate(train).mean())
    abs_rel, d1 = [], []
    for gt in _read_depths(root, 'test'):
        abs_rel.append(np.mean(np.abs(mean_depth - gt) / gt))
        ratio = np.maximum(mean_depth / gt, gt / mean_depth)
        d1.append(np.mean(ratio < 1.25))
    return dict(
        mean_depth=mean_depth,
        abs_rel=float(np.mean(abs_rel)),
        d1=float(np.mean(d1)))
