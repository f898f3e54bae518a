"""The trivial references the demo models must beat: the training-set mean
depth and the training set's most frequent class."""
import glob
import os.path as osp
from typing import Dict, List, Union

import cv2
import numpy as np
import torch
from mmseg.evaluation import IoUMetric

from ..evaluation import NYUDepthMetric, class_iou
from ..utils.depth_io import read_depth_png
from .labels import CLASSES, IGNORE_INDEX

#: The demo config's evaluation: the whole 120x160 frame, (1e-3, 10) m.
DEMO_PROTOCOL = dict(type='eigen', crop=None)


def _annotation_paths(root: str, folder: str, split: str) -> List[str]:
    """PNGs of ``root/folder/split``, sorted."""
    paths = sorted(glob.glob(osp.join(root, folder, split, '*.png')))
    if not paths:
        raise FileNotFoundError(f'{osp.join(root, folder, split)}: no PNGs')
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
    for path in _annotation_paths(root, 'annotations', 'train'):
        gt = metric.protocol.gt_region(torch.from_numpy(read_depth_png(path)))
        train.append(gt[metric.protocol.valid_mask(gt)].double().numpy())
    mean_depth = float(np.concatenate(train).mean())
    scored = []
    for path in _annotation_paths(root, 'annotations', 'test'):
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


def _read_labels(path: str) -> np.ndarray:
    """(H, W) int64 class map of a label PNG."""
    return cv2.imread(path, cv2.IMREAD_UNCHANGED).astype(np.int64)


def majority_class_baseline(root: str) -> Dict:
    """Scores of predicting the most frequent training class everywhere.

    The class is the most frequent one over the training label maps'
    non-ignored pixels; the test maps are scored as ``ClassIoUMetric``
    scores the model (mmseg's per-class intersection and union summed over
    the test images; mIoU the mean over classes that occur in the ground
    truth or the prediction).

    Returns:
        ``majority_class`` (its name), ``mIoU`` and ``aAcc`` (%) on the test
        split, and ``class_iou``: the IoU (%) of every class (NaN where a
        class neither occurs nor is predicted).
    """
    num_classes = len(CLASSES)
    counts = np.zeros(num_classes, dtype=np.int64)
    for path in _annotation_paths(root, 'seg_annotations', 'train'):
        labels = _read_labels(path)
        counts += np.bincount(labels[labels != IGNORE_INDEX],
                              minlength=num_classes)[:num_classes]
    majority = int(counts.argmax())
    results = []
    for path in _annotation_paths(root, 'seg_annotations', 'test'):
        labels = torch.from_numpy(_read_labels(path))
        results.append(IoUMetric.intersect_and_union(
            torch.full_like(labels, majority), labels, num_classes,
            IGNORE_INDEX))
    iou = class_iou(results)
    labelled = sum(r[3] for r in results).sum().item()
    correct = sum(r[0] for r in results).sum().item()
    return dict(majority_class=CLASSES[majority],
                mIoU=float(np.round(np.nanmean(iou) * 100, 2)),
                aAcc=float(np.round(correct / labelled * 100, 2)),
                class_iou={name: float(np.round(v * 100, 2))
                           for name, v in zip(CLASSES, iou)})
