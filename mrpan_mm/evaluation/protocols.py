"""Depth evaluation protocols: where to evaluate, how to average.

A protocol owns three decisions that differ between papers reporting on the
654 NYU test images (and on KITTI's 652 Eigen test images):

* the evaluation region: which pixels of the prediction and of the ground
  truth are compared, at which resolution;
* the valid depth range ``(min_depth, max_depth)`` in metres: ground truth
  outside it is ignored and predictions are clamped into it;
* how per-image metrics become dataset metrics.

Each protocol is a class registered in :data:`DEPTH_EVAL_PROTOCOLS` under
its config name; :func:`build_protocol` makes one from config, e.g.
``dict(type='hu2019', crop_size=(228, 304))``, ``dict(type='eigen',
crop=None)``, ``dict(type='kitti', crop='garg')`` or the name alone.

The region methods take an optional ``meta`` dict, the data sample's
metainfo: a protocol whose region depends on where the evaluated map lies
in the original frame (``kitti`` after ``KBCrop``) reads it there.
"""
import math
from typing import Dict, List, Optional, Sequence, Tuple, Union

from mmengine.registry import Registry
from torch import Tensor

#: Registry of the evaluation protocols, by config name (``'hu2019'``).
DEPTH_EVAL_PROTOCOLS = Registry('depth evaluation protocol')


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

    def gt_region(self, gt: Tensor, meta: Optional[dict] = None) -> Tensor:
        """Ground-truth-like map (H, W) -> evaluation region (h, w).

        Used for the depth ground truth and for boundary maps; ``meta`` is
        the sample's metainfo (see the module docstring).
        """
        return self._window(gt, meta)

    def pred_window(self,
                    pred: Tensor,
                    gt_shape: Tuple[int, int],
                    meta: Optional[dict] = None) -> Tensor:
        """Prediction (H, W), metres -> evaluation region (h, w), unclamped.

        Args:
            pred: Predicted depth in metres, at the ground truth's size.
            gt_shape: Shape (H, W) of the ground truth it is compared with.
            meta: The sample's metainfo, as for :meth:`gt_region`.

        Raises:
            ValueError: if ``pred`` is not of size ``gt_shape``.
        """
        if tuple(pred.shape) != tuple(gt_shape):
            raise ValueError(
                f'prediction {tuple(pred.shape)} and ground truth '
                f'{tuple(gt_shape)} differ in size; {type(self).__name__} '
                'compares them pixel for pixel')
        return self._window(pred, meta)

    def pred_region(self,
                    pred: Tensor,
                    gt_shape: Tuple[int, int],
                    meta: Optional[dict] = None) -> Tensor:
        """:meth:`pred_window`, clamped into the valid range."""
        return self.clamp(self.pred_window(pred, gt_shape, meta))

    def _window(self, x: Tensor, meta: Optional[dict] = None) -> Tensor:
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


@DEPTH_EVAL_PROTOCOLS.register_module(name='eigen')
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

    def __init__(self,
                 crop: Optional[Sequence[int]] = (45, 471, 41, 601),
                 frame: Sequence[int] = (480, 640),
                 min_depth: float = 1e-3,
                 max_depth: float = 10.0):
        super().__init__(min_depth, max_depth)
        self.crop = tuple(crop) if crop is not None else None
        self.frame = tuple(frame)

    def _window(self, x: Tensor, meta: Optional[dict] = None) -> Tensor:
        if self.crop is None:
            return x
        _check_frame(x.shape[-2:], self.frame, 'eigen')
        top, bottom, left, right = self.crop
        return x[top:bottom, left:right]


@DEPTH_EVAL_PROTOCOLS.register_module(name='hu2019')
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
       (``align_corners=True``, as SARPN's ``evaluate.py`` and as Hu's
       ``test.py`` under the PyTorch 0.3.1 it declares, whose bilinear
       ``upsample`` aligned corners). ``DepthEstimator``'s
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

    def __init__(self,
                 crop_size: Sequence[int] = (228, 304),
                 min_depth: float = 1e-3,
                 max_depth: float = 10.0):
        super().__init__(min_depth, max_depth)
        self.crop_size = tuple(crop_size)

    def gt_region(self, gt: Tensor, meta: Optional[dict] = None) -> Tensor:
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


#: Evaluation windows of KITTI papers as fractions (top, bottom, left,
#: right) of the full camera frame: Garg et al. (ECCV 2016) and Eigen et
#: al. (NeurIPS 2014), the values of BTS' and AdaBins' ``eval.py``.
KITTI_CROPS = {
    'garg': (0.40810811, 0.99189189, 0.03594771, 0.96405229),
    'eigen': (0.3324324, 0.91351351, 0.0359477, 0.96405229),
}


@DEPTH_EVAL_PROTOCOLS.register_module(name='kitti')
class KITTIProtocol(DepthEvalProtocol):
    """KITTI's Eigen-split protocol: Garg's or Eigen's crop, (1e-3, 80] m.

    The window is a fraction of the full camera frame (H, W) (about
    375x1242): rows ``int(top * H)`` to ``int(bottom * H)``, columns
    ``int(left * W)`` to ``int(right * W)``, end exclusive, as BTS and
    AdaBins compute it.  When the test pipeline has cropped the frame
    (``KBCrop``: the bottom 352 rows, the centre 1216 columns, which contain
    both windows), the evaluated maps are that crop and ``meta`` carries
    ``frame_shape`` (H, W) and ``crop_offset`` (top, left): the window is
    taken in frame coordinates and shifted into the crop.  Without them the
    maps are the frame itself.

    Ground truth counts where ``min_depth < gt <= max_depth`` (the
    projected LiDAR of Uhrig et al.: 0 = no point), predictions are clamped
    into ``[min_depth, max_depth]``, metrics are averaged over images.
    ``max_depth=50`` is the 50 m cap of Garg et al.'s tables.

    Args:
        crop: ``'garg'``, ``'eigen'``, fractions (top, bottom, left, right)
            or None for the whole frame.
        min_depth, max_depth: See :class:`DepthEvalProtocol`.
    """

    def __init__(self,
                 crop: Union[str, Sequence[float], None] = 'garg',
                 min_depth: float = 1e-3,
                 max_depth: float = 80.0):
        super().__init__(min_depth, max_depth)
        if isinstance(crop, str):
            if crop not in KITTI_CROPS:
                raise KeyError(f'unknown KITTI crop {crop!r}; choose one of '
                               f'{sorted(KITTI_CROPS)}, fractions or None')
            crop = KITTI_CROPS[crop]
        self.crop = tuple(crop) if crop is not None else None

    def window(self, map_shape: Tuple[int, int],
               meta: Optional[dict] = None) -> Tuple[int, int, int, int]:
        """(top, bottom, left, right) of the window in a map of
        ``map_shape`` placed in the frame as ``meta`` says."""
        height, width = map_shape
        if self.crop is None:
            return 0, height, 0, width
        meta = meta or {}
        frame_h, frame_w = meta.get('frame_shape', map_shape)
        off_y, off_x = meta.get('crop_offset', (0, 0))
        top, bottom, left, right = self.crop
        rows = (int(top * frame_h) - off_y, int(bottom * frame_h) - off_y)
        cols = (int(left * frame_w) - off_x, int(right * frame_w) - off_x)
        if rows[0] < 0 or cols[0] < 0 or rows[1] > height or \
                cols[1] > width:
            raise ValueError(
                f'the kitti window rows {rows[0]}:{rows[1]}, columns '
                f'{cols[0]}:{cols[1]} (frame {frame_h}x{frame_w}) leaves the '
                f'evaluated {height}x{width} map; crop the test frame with '
                'KBCrop, which records frame_shape and crop_offset')
        return rows + cols

    def _window(self, x: Tensor, meta: Optional[dict] = None) -> Tensor:
        top, bottom, left, right = self.window(tuple(x.shape[-2:]), meta)
        return x[top:bottom, left:right]

    def valid_mask(self, gt: Tensor) -> Tensor:
        """Boolean mask of ground-truth pixels with min < gt <= max."""
        return (gt > self.min_depth) & (gt <= self.max_depth)


def build_protocol(cfg) -> DepthEvalProtocol:
    """Build a protocol from a name (``'eigen'``), a dict
    (``dict(type='eigen', crop=None)``) or an instance (returned as is)."""
    if isinstance(cfg, DepthEvalProtocol):
        return cfg
    args = dict(type=cfg) if isinstance(cfg, str) else dict(cfg)
    name = args.pop('type', None)
    protocol_class = DEPTH_EVAL_PROTOCOLS.get(name) if isinstance(
        name, str) else None
    if protocol_class is None:
        known = sorted(DEPTH_EVAL_PROTOCOLS.module_dict)
        raise KeyError(f'unknown depth evaluation protocol {name!r}; '
                       f'choose one of {known}')
    return protocol_class(**args)


__all__: List[str] = [
    'DEPTH_EVAL_PROTOCOLS', 'DepthEvalProtocol', 'EigenProtocol',
    'Hu2019Protocol', 'KITTIProtocol', 'KITTI_CROPS', 'build_protocol'
]
