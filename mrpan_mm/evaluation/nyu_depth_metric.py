"""NYU Depth v2 metric with selectable protocol and boundary metrics."""
import csv
import json
import math
import os.path as osp
import warnings
from typing import Dict, List, Optional, Sequence, Union

from mmengine.logging import print_log
from mmseg.evaluation.metrics import DepthMetric
from mmseg.registry import METRICS
from prettytable import PrettyTable
from torch import Tensor

from .alignment import align_prediction, check_alignment
from .boundary import (canny_depth_edges, depth_boundary_errors,
                       edge_precision_recall_f1)
from .protocols import DepthEvalProtocol, build_protocol

TABLE_I_COLUMNS = (('abs_rel', 'AbsRel'), ('rmse', 'RMS'), ('log10', 'log10'),
                   ('d1', 'δ<1.25'), ('d2', 'δ<1.25²'), ('d3', 'δ<1.25³'))
PER_IMAGE_FILE = 'per_image_metrics'


def _depth_plane(sample: dict, field: str, img_path: str) -> Tensor:
    """``sample[field].data``, (1, H, W) or (H, W) -> (H, W) float64, CPU."""
    if field not in sample:
        raise KeyError(f'{img_path}: data sample has no {field!r} (keys: '
                       f'{sorted(sample)})')
    data = sample[field]['data']
    if data.dim() == 3 and data.shape[0] == 1:
        data = data[0]
    if data.dim() != 2:
        raise ValueError(f'{field} of {img_path} must have shape (1, H, W) '
                         f'or (H, W), got {tuple(data.shape)}')
    return data.detach().cpu().double()


@METRICS.register_module()
class NYUDepthMetric(DepthMetric):
    """Depth metrics of NYU Depth v2 papers, protocol chosen by config.

    Input: the model's ``data_samples`` (as dicts, which is what MMEngine's
    evaluator passes) with ``pred_depth_map.data`` (1, H, W) in metres at the
    ground truth's size (``DepthEstimator.predict`` resizes to ``ori_shape``),
    ``gt_depth_map.data`` (1, H, W) in metres (0 = no measurement),
    ``img_path``, and for the boundary errors optionally a boundary map
    (1, H, W), non-zero on depth boundaries, under ``boundary_key``
    (``gt_edge_map``, which ``LoadBoundaryMap`` fills from a folder of PNGs
    and mmseg's ``PackSegInputs`` packs).

    Per image, the protocol picks the evaluation region, the ground truth is
    masked to ``min_depth < gt < max_depth`` and the prediction is clamped to
    ``[min_depth, max_depth]`` (mmseg's ``DepthMetric`` does neither clamp
    nor skip, and returns NaN for a zero prediction or an image without
    valid pixels). An image without valid pixels is skipped with a warning
    naming its file, and kept in the per-image output with
    ``valid_pixels = 0``. The metric formulas are mmseg's
    (``DepthMetric._calc_all_metrics``, computed in float64): d1, d2, d3,
    abs_rel, sq_rel, rmse, rmse_log, log10 and silog (lambda 0.5, no x100).

    MRPAN's Table I (654 NYU test images) uses Hu et al.'s protocol:
    ``protocol='hu2019'``. ``protocol='eigen'`` is the Eigen crop on the
    480x640 frame with per-image averaging, identical to mmseg's
    ``DepthMetric(crop_type='nyu_crop', min_depth_eval=1e-3,
    max_depth_eval=10)`` up to the prediction clamp. See
    :mod:`mrpan_mm.evaluation.protocols`.

    With ``boundary_metrics=True`` it adds Hu et al.'s depth-edge precision,
    recall and F1 (keys ``edge_p_<t>``, ``edge_r_<t>``, ``edge_f1_<t>`` for
    every threshold t) and, for images carrying a boundary map, iBims-1's
    ``dbe_acc`` and ``dbe_comp`` in pixels; definitions in
    :mod:`mrpan_mm.evaluation.boundary`.

    With ``scale_alignment`` each prediction is first fitted to its ground
    truth on the valid pixels of the region (``'median'``, ``'scale'``,
    ``'scale_shift'``; :mod:`mrpan_mm.evaluation.alignment`), then clamped:
    the zero-shot evaluation of scale- or affine-invariant models.

    Args:
        protocol: Protocol name (``'eigen'``, ``'hu2019'``, ``'kitti'``),
            config dict (e.g. ``dict(type='kitti', crop='eigen')``) or
            instance.
        scale_alignment: None (metric depth, the default), ``'median'``,
            ``'scale'`` or ``'scale_shift'``.
        boundary_metrics: Whether to compute the boundary metrics.
        edge_thresholds: Sobel-magnitude thresholds of the edge F1.
        boundary_key: Data-sample field holding the ground-truth boundary
            map for the depth boundary errors (``LoadBoundaryMap``'s
            ``gt_edge_map``).
        dbe_max_dist: Truncation distance (pixels) of the boundary errors.
        output_dir: If set, per-image metrics are written to
            ``<output_dir>/per_image_metrics.csv`` and ``.json``.
        format_only: Score nothing and return no metrics: for test images
            without ground truth whose predictions are only saved (mmseg's
            ``format_only``; ``tools/test.py --save-pred DIR --format-only``).
        collect_device: Device used to gather results across ranks.
        prefix: Prefix of the metric names in the logs.
    """

    def __init__(self,
                 protocol: Union[str, dict, DepthEvalProtocol] = 'eigen',
                 scale_alignment: Optional[str] = None,
                 boundary_metrics: bool = False,
                 edge_thresholds: Sequence[float] = (0.25, 0.5, 1.0),
                 boundary_key: str = 'gt_edge_map',
                 dbe_max_dist: float = 10.0,
                 output_dir: Optional[str] = None,
                 format_only: bool = False,
                 collect_device: str = 'cpu',
                 prefix: Optional[str] = None) -> None:
        self.protocol = build_protocol(protocol)
        super().__init__(min_depth_eval=self.protocol.min_depth,
                         max_depth_eval=self.protocol.max_depth,
                         output_dir=output_dir,
                         collect_device=collect_device,
                         prefix=prefix)
        self.scale_alignment = check_alignment(scale_alignment)
        self.boundary_metrics = boundary_metrics
        self.edge_thresholds = tuple(edge_thresholds)
        self.boundary_key = boundary_key
        self.dbe_max_dist = dbe_max_dist
        self.format_only = format_only

    def process(self, data_batch: dict, data_samples: Sequence[dict]) -> None:
        """Compute and store the per-image metrics of a batch."""
        for sample in data_samples:
            if self.format_only:
                self.results.append(dict(img_path=sample.get('img_path')))
                continue
            self.results.append(self.evaluate_sample(sample))

    def evaluate_sample(self, sample: dict) -> Dict[str, Union[str, float]]:
        """Per-image metrics of one data sample (see the class docstring)."""
        img_path = sample.get('img_path') or f'<sample {len(self.results)}>'
        if 'gt_depth_map' not in sample:
            raise ValueError(
                f'{img_path}: no ground-truth depth (the test dataset names '
                'no depth folder); to only save predictions, set '
                'format_only=True (tools/test.py --save-pred DIR '
                '--format-only)')
        gt_full = _depth_plane(sample, 'gt_depth_map', img_path)
        gt = self.protocol.gt_region(gt_full, sample)
        pred = self.protocol.pred_window(
            _depth_plane(sample, 'pred_depth_map', img_path),
            tuple(gt_full.shape), sample)
        valid = self.protocol.valid_mask(gt)
        record = dict(img_path=img_path, valid_pixels=int(valid.sum()))
        if not record['valid_pixels']:
            warnings.warn(f'{img_path}: no ground-truth depth in '
                          f'({self.protocol.min_depth}, '
                          f'{self.protocol.max_depth}) m inside the '
                          'evaluation region; image skipped')
            return record
        pred = self.protocol.clamp(
            align_prediction(pred, gt, valid, self.scale_alignment))
        record.update(self._calc_all_metrics(gt[valid], pred[valid]))
        record['mse'] = float((pred - gt)[valid].pow(2).mean())
        if self.boundary_metrics:
            record.update(self._edge_scores(pred, gt, valid))
            if self.boundary_key in sample:
                record.update(self._boundary_errors(pred, sample, img_path))
        return record

    def _edge_scores(self, pred: Tensor, gt: Tensor,
                     valid: Tensor) -> Dict[str, float]:
        scores = {}
        for threshold in self.edge_thresholds:
            precision, recall, f1 = edge_precision_recall_f1(
                pred, gt, valid, threshold)
            scores[f'edge_p_{threshold:g}'] = precision
            scores[f'edge_r_{threshold:g}'] = recall
            scores[f'edge_f1_{threshold:g}'] = f1
        return scores

    def _boundary_errors(self, pred: Tensor, sample: dict,
                         img_path: str) -> Dict[str, float]:
        gt_edges = self.protocol.gt_region(
            _depth_plane(sample, self.boundary_key, img_path), sample)
        accuracy, completeness = depth_boundary_errors(
            canny_depth_edges(pred.numpy()),
            gt_edges.numpy() > 0, self.dbe_max_dist)
        return dict(dbe_acc=accuracy, dbe_comp=completeness)

    def compute_metrics(self, results: List[dict]) -> Dict[str, float]:
        """Average the per-image metrics as the protocol prescribes.

        Logs a table with the columns of MRPAN's Table I and one with the
        remaining metrics; writes the per-image metrics if ``output_dir``.
        With ``format_only`` it returns no metrics.
        """
        if self.format_only:
            print_log(f'format_only: {len(results)} predictions not scored',
                      logger='current')
            return {}
        scored = [rec for rec in results if rec['valid_pixels']]
        if not scored:
            raise ValueError('no evaluated image has valid ground-truth '
                             'depth; check gt_depth_map and the depth range')
        extra = []
        for rec in scored:
            extra += [
                key for key in rec
                if key.startswith(('edge_', 'dbe_')) and key not in extra
            ]
        metrics = self.protocol.aggregate(scored, list(self.metrics) + extra)
        self._log_tables(metrics, len(scored), len(results))
        if self.output_dir:
            self._write_per_image(results, ['img_path', 'valid_pixels'] +
                                  list(self.metrics) + ['mse'] + extra)
        return metrics

    def _log_tables(self, metrics: Dict[str, float], num_scored: int,
                    num_images: int) -> None:
        protocol = type(self.protocol).__name__
        table = PrettyTable()
        aligned = (f', {self.scale_alignment} alignment'
                   if self.scale_alignment else '')
        table.title = (f'Depth ({protocol}{aligned}, {num_scored} of '
                       f'{num_images} images)')
        for key, header in TABLE_I_COLUMNS:
            table.add_column(header, [f'{metrics[key]:.4f}'])
        others = PrettyTable()
        for key in metrics:
            if key not in dict(TABLE_I_COLUMNS):
                others.add_column(key, [f'{metrics[key]:.4f}'])
        print_log('\n' + table.get_string(), logger='current')
        print_log('\n' + others.get_string(), logger='current')

    def _write_per_image(self, results: List[dict],
                         columns: List[str]) -> None:
        path = osp.join(self.output_dir, PER_IMAGE_FILE)
        with open(path + '.csv', 'w', newline='') as handle:
            writer = csv.DictWriter(handle,
                                    fieldnames=columns,
                                    restval='',
                                    extrasaction='ignore')
            writer.writeheader()
            writer.writerows(results)
        with open(path + '.json', 'w') as handle:
            json.dump([_json_safe(rec) for rec in results], handle, indent=1)
        print_log(f'per-image metrics written to {path}.csv/.json',
                  logger='current')


def _json_safe(record: dict) -> dict:
    """NaN (a metric undefined for the image) -> JSON null."""
    return {
        key: None if isinstance(val, float) and math.isnan(val) else val
        for key, val in record.items()
    }
