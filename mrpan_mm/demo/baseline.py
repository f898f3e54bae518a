"""The trivial reference a demo model must beat: the training-set mean."""
import glob
import os.path as osp
from typing import Dict, List, Union

import numpy as np
import torch

from ..evaluation import NYUDepthMetric
from ..utils.depth_io import read_depth_png

#: The demo config's evaluation: the whole 120x160 frame, (1e-3, 10) m.
DEMO_PROTOCOL = dict(type='eigen', crop=None)


def _depth_paths(root: str, split: str) -> List[str]:
    """Annotation PNGs of a split, sorted."""
    paths = sorted(glob.glob(osp.join(root, 'annotations', split, '*.png')))
    if not paths:
        raise FileNotFoundError(
            f'{osp.join(root, "annotations", split)}: no depth PNGs')
    return paths


def mean_depth_baseline(
        root: str,
        protocol: Union[str, dict] = DEMO_PROTOCOL) -> Dict[str, float]:
    """Metrics of predicting the training-set mean depth everywhere.

    The mean is taken over the training pixels inside the protocol's valid
    depth range; the test images are scored by :class:`NYUDepthMetric`
    with the same ``protocol`` (region, range, per-image averaging), as the
    model is.

    Returns:
        ``mean_depth`` (m), ``abs_rel`` and ``d1`` (δ<1.25) on the test split.
    """
    metric = NYUDepthMetric(protocol=protocol, prefix='mean_depth_baseline')
    train = []
    for path in _depth_paths(root, 'train'):
        gt = metric.protocol.gt_region(torch.from_numpy(read_depth_png(path)))
        train.append(gt[metric.protocol.valid_mask(gt)].double().numpy())
    mean_depth = float(np.concatenate(train).mean())
    scored = []
    for path in _depth_paths(root, 'test'):
        gt = torch.from_numpy(read_depth_png(path))[None]
        record = metric.evaluate_sample(
            dict(img_path=path,
                 gt_depth_map=dict(data=gt),
                 pred_depth_map=dict(data=torch.full_like(gt, mean_depth))))
        if record['valid_pixels']:
            scored.append(record)
    metrics = metric.protocol.aggregate(scored, ('abs_rel', 'd1'))
    return dict(mean_depth=mean_depth, abs_rel=metrics['abs_rel'],
                d1=metrics['d1'])
