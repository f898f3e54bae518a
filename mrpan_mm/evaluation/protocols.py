"""NYU Depth v2 evaluation protocols: where to evaluate, how to average.

A protocol owns three decisions that differ between papers reporting on the
654 NYU test images:

* the evaluation region: which pixels of the prediction and of the ground
  truth are compared, at which resolution;
* the valid depth range ``(min_depth, max_depth)`` in metres: ground truth
  outside it is ignored and predictions are clamped into it;
* how per-image metrics become dataset metrics.

:func:`build_protocol` makes one from config, e.g.
``dict(type='hu2019', crop_size=(228, 304))``, ``dict(type='eigen',
crop=None)`` or the name alone; :data:`DEPTH_EVAL_PROTOCOLS` maps the two
names to their classes.
"""
import math
from typing import Dict, List, Optional, Sequence, Tuple

from torch import Tensor


class DepthEvalProtocol:
    """Base class: valid range, same-size comparison, per-image averaging.

    A protocol compares prediction and ground truth pixel for pixel inside
    the window :meth:`gt_region` returns (the whole map here).

    Args:
        min_depth: Smallest valid depth in metres (exclusive for the ground
            truth, inclusive lower clamp for predictions).
        max_depth: Largest valid depth in metres (exclusive / upper clamp).
    """

    def __init__(self, min_depth: float = 1e-3, max_depth: float = 10.0):
        if not 0 < min_depth < max_depth:
            raise ValueError('depth range must satisfy 0 < min_depth < '
                             f'max_depth, got ({min_depth}, {max_depth})')
        self.min_depth = min_depth
        self.max_depth = max_depth

    #: Name of the protocol in configs and error messages.
    name = ''

    def gt_region(self, gt: Tensor) -> Tensor:
        """Ground-truth-like map (H, W) -> evaluation region (h, w).

        Used for the depth ground truth and for boundary maps.
        """
        return self._window(gt)

    def pred_region(self, pred: Tensor, gt_shape: Tuple[int, int]) -> Tensor:
        """Prediction (H, W), metres -> evaluation region (h, w), clamped.

        Args:
            pred: Predicted depth in metres, at the ground truth's size.
            gt_shape: Shape (H, W) of the ground truth it is compared with.

        Raises:
            ValueError: if ``pred`` is not of size ``gt_shape``.
        """
        if tuple(pred.shape) != tuple(gt_shape):
            raise ValueError(
                f'prediction {tuple(pred.shape)} and ground truth '
                f'{tuple(gt_shape)} differ in size; the {self.name} protocol '
                'compares them pixel for pixel')
        return self.clamp(self._window(pred))

    def _window(self, x: Tensor) -> Tensor:
        """The evaluation window of a full-size map (all of it here)."""
        return x

    def valid_mask(self, gt: Tensor) -> Tensor:
        """Boolean mask of ground-truth pixels with min < gt < max."""
        return (gt > self.min_depth) & (gt < self.max_depth)

    def clamp(self, pred: Tensor) -> Tensor:
        """Clamp a prediction into the valid range [min, max] in metres."""
        return pred.clamp(self.min_depth, self.max_depth)

    def aggregate(self, per_image: Sequence[Dict[str, float]],
                  keys: Sequence[str]) -> Dict[str, float]:
        """Mean over images of each per-image metric in ``keys``.

        Per-image values that are NaN (a metric undefined for that image,
        e.g. a boundary metric without boundary annotation) are left out of
        the mean; a metric undefined for every image is NaN.
        """
        result = {}
        for key in keys:
            values = [
                rec[key] for rec in per_image
                if key in rec and not math.isnan(rec[key])
            ]
            result[key] = sum(values) / len(values) if values else math.nan
        return result


def _check_frame(shape: Tuple[int, int], frame: Tuple[int, int],
                 name: str) -> None:
    if tuple(shape) != tuple(frame):
        raise ValueError(
            f'the {name} protocol is defined on {frame[0]}x{frame[1]} '
            f'ground truth, got {shape[0]}x{shape[1]}; feed full NYU frames '
            'or set crop=None')


class EigenProtocol(DepthEvalProtocol):
    """Eigen et al.'s NYU protocol, as mmseg's ``DepthMetric`` implements it.

    Evaluation on the full-resolution 480x640 frame (the prediction must be
    at the ground truth's size: ``DepthEstimator.predict`` resizes it to
    ``ori_shape``), restricted to the Eigen crop rows 45:471, columns 41:601,
    depth range (1e-3, 10) m. Every metric is computed per image over its
    valid pixels and averaged over images.

    Args:
        crop: (top, bottom, left, right) of the evaluation window, end
            exclusive, or None for the whole frame.
        frame: Ground-truth size (H, W) that ``crop`` refers to.
        min_depth, max_depth: See :class:`DepthEvalProtocol`.
    """

    name = 'eigen'

    def __init__(self,
                 crop: Optional[Sequence[int]] = (45, 471, 41, 601),
                 frame: Sequence[int] = (480, 640),
                 min_depth: float = 1e-3,
                 max_depth: float = 10.0):
        super().__init__(min_depth, max_depth)
        self.crop = tuple(crop) if crop is not None else None
        self.frame = tuple(frame)

    def _window(self, x: Tensor) -> Tensor:
        if self.crop is None:
            return x
        _check_frame(x.shape[-2:], self.frame, 'eigen')
        top, bottom, left, right = self.crop
        return x[top:bottom, left:right]


class Hu2019Protocol(DepthEvalProtocol):
    """Hu et al. (WACV 2019) / SARPN protocol, used for MRPAN's Table I.

    The evaluation region is prepared by the test pipeline, exactly as Hu's
    ``loaddata.getTestingData`` + ``test.py`` and SARPN's ``evaluate.py``
    (``configs/_base_/datasets/nyu.py``, ``test_pipeline``):

    1. ``PillowResize(short_side=240)``: the 640x480 RGB frame to 320x240
       with Pillow's BILINEAR, the 640x480 depth with Pillow's NEAREST
       (rows and columns 1, 3, 5, ...: Hu's ``Scale(240)``).
    2. ``CenterCropDepth(crop_size=(228, 304), crop_is_ori_shape=True)``:
       columns 8:312, rows 6:234 of both (Hu's ``CenterCrop([304, 228],
       [304, 228])``); the depth crop is the ground truth, 228x304.
    3. The network sees the 228x304 crop; its finest output, 114x152, is
       upsampled once, bilinearly, to 228x304 by ``MRPANHead.predict``
       (``align_corners=True`` as SARPN's ``evaluate.py``; Hu's ``test.py``
       used the ``upsample`` default, False). ``DepthEstimator``'s
       post-processing "resizes" it to ``ori_shape``, which step 2 set to
       the crop's size: no further resampling.
    4. This protocol compares the two 228x304 maps pixel for pixel.

    It refuses ground truth of any other size than ``crop_size`` and a
    prediction of another size than the ground truth, instead of
    resampling them: a full-frame test pipeline (e.g. for ``eigen``) would
    otherwise give numbers that are not Hu's.

    Averaging follows Hu's reference ``evaluateError``: every metric is a
    per-image mean averaged over images, except RMSE, which is the square
    root of the mean per-image MSE. Hu's code masks no depth range and counts
    ``ratio <= 1.25`` for the deltas; we keep mmseg's ``min < gt < max`` mask
    (needed for the raw, unfilled NYU depth) and strict ``<``.

    Args:
        crop_size: Size (h, w) of the evaluation window the pipeline crops.
        min_depth, max_depth: See :class:`DepthEvalProtocol`.
    """

    name = 'hu2019'

    def __init__(self,
                 crop_size: Sequence[int] = (228, 304),
                 min_depth: float = 1e-3,
                 max_depth: float = 10.0):
        super().__init__(min_depth, max_depth)
        self.crop_size = tuple(crop_size)

    def gt_region(self, gt: Tensor) -> Tensor:
        if tuple(gt.shape) != self.crop_size:
            raise ValueError(
                f'the hu2019 protocol evaluates the {self.crop_size[0]}x'
                f'{self.crop_size[1]} centre crop of the resized frame, got '
                f'ground truth of {gt.shape[0]}x{gt.shape[1]}; use the test '
                'pipeline of configs/_base_/datasets/nyu.py (PillowResize + '
                'CenterCropDepth with crop_is_ori_shape=True)')
        return gt

    def aggregate(self, per_image: Sequence[Dict[str, float]],
                  keys: Sequence[str]) -> Dict[str, float]:
        """Per-image means, RMSE as sqrt(mean of per-image MSE)."""
        result = super().aggregate(per_image, list(keys) + ['mse'])
        if 'rmse' in keys:
            result['rmse'] = math.sqrt(result['mse'])
        if 'mse' not in keys:
            result.pop('mse')
        return result


#: The protocols :func:`build_protocol` knows, by name.
DEPTH_EVAL_PROTOCOLS = {
    cls.name: cls
    for cls in (EigenProtocol, Hu2019Protocol)
}


def build_protocol(cfg) -> DepthEvalProtocol:
    """Build a protocol from a name (``'eigen'``), a dict
    (``dict(type='eigen', crop=None)``) or an instance (returned as is)."""
    if isinstance(cfg, DepthEvalProtocol):
        return cfg
    args = dict(type=cfg) if isinstance(cfg, str) else dict(cfg)
    name = args.pop('type', None)
    known = DEPTH_EVAL_PROTOCOLS
    if name not in known:
        raise KeyError(f'unknown depth evaluation protocol {name!r}; '
                       f'choose one of {sorted(known)}')
    return known[name](**args)


__all__: List[str] = [
    'DEPTH_EVAL_PROTOCOLS', 'DepthEvalProtocol', 'EigenProtocol',
    'Hu2019Protocol', 'build_protocol'
]
