"""mmseg's IoU metric, with each class's IoU among the returned metrics."""
from typing import Dict, Sequence

import numpy as np
from mmseg.evaluation import IoUMetric
from mmseg.registry import METRICS


def class_iou(results: Sequence[tuple]) -> np.ndarray:
    """Per-class IoU from :meth:`IoUMetric.intersect_and_union` results.

    Args:
        results: ``(intersect, union, pred_area, label_area)`` per image,
            each a (num_classes,) tensor of pixel counts.

    Returns:
        (num_classes,) intersection over union of the summed counts, in
        [0, 1]; NaN for a class neither predicted nor in the ground truth
        (left out of mIoU, as by ``IoUMetric``).
    """
    intersect = sum(r[0] for r in results).double().numpy()
    union = sum(r[1] for r in results).double().numpy()
    with np.errstate(invalid='ignore', divide='ignore'):
        return intersect / union


@METRICS.register_module()
class ClassIoUMetric(IoUMetric):
    """``IoUMetric`` that also returns ``IoU.<class>`` (%) for every class.

    mmseg's metric prints the per-class table but returns only the
    averages; the runner logs what is returned (``val/IoU.wall``, ...), so
    tools can read each class's IoU from the message hub.  Arguments as
    ``IoUMetric``.
    """

    def compute_metrics(self, results: list) -> Dict[str, float]:
        """mmseg's metrics plus ``IoU.<class>`` in percent."""
        metrics = super().compute_metrics(results)
        for name, iou in zip(self.dataset_meta['classes'],
                             class_iou(results)):
            metrics[f'IoU.{name}'] = float(np.round(iou * 100, 2))
        return metrics
