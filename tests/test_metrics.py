"""NYUDepthMetric, its protocols and boundary metrics vs. NumPy/SciPy."""
import csv
import json
import math

import numpy as np
import pytest
import torch
from mmseg.evaluation.metrics import DepthMetric
from mmseg.registry import METRICS
from scipy import ndimage

from mrpan_mm.evaluation import (DEPTH_EVAL_PROTOCOLS, DepthEvalProtocol,
                                 Hu2019Protocol, canny_depth_edges,
                                 depth_boundary_errors,
                                 edge_precision_recall_f1)

KEYS = ('d1', 'd2', 'd3', 'abs_rel', 'sq_rel', 'rmse', 'rmse_log', 'log10',
        'silog')


def np_metrics(pred, gt):
    """Textbook definitions on 1-D arrays of valid pixels."""
    ratio = np.maximum(pred / gt, gt / pred)
    log_diff = np.log(pred) - np.log(gt)
    return dict(
        d1=np.mean(ratio < 1.25),
        d2=np.mean(ratio < 1.25**2),
        d3=np.mean(ratio < 1.25**3),
        abs_rel=np.mean(np.abs(pred - gt) / gt),
        sq_rel=np.mean((pred - gt)**2 / gt),
        rmse=np.sqrt(np.mean((pred - gt)**2)),
        mse=np.mean((pred - gt)**2),
        rmse_log=np.sqrt(np.mean(log_diff**2)),
        log10=np.mean(np.abs(np.log10(pred) - np.log10(gt))),
        silog=np.sqrt(np.mean(log_diff**2) - 0.5 * np.mean(log_diff)**2))


def random_pair(rng, shape, holes=True, clampable=True):
    gt = rng.uniform(0.5, 9.0, shape)
    pred = np.clip(gt * rng.uniform(0.6, 1.5, shape), 0.01, 9.99)
    if holes:
        gt[rng.random(shape) < 0.1] = 0.0
        gt[rng.random(shape) < 0.02] = 12.0  # beyond max_depth
    if clampable:
        pred[rng.random(shape) < 0.02] = 0.0
        pred[rng.random(shape) < 0.02] = 15.0
    return pred, gt


def sample(pred, gt, name, **extra):
    return dict(img_path=name,
                pred_depth_map=dict(data=torch.from_numpy(pred)[None].float()),
                gt_depth_map=dict(data=torch.from_numpy(gt)[None].float()),
                **extra)


def evaluate(metric, samples):
    metric.process({}, samples)
    return metric.compute_metrics(metric.results)


def f32(x):
    return x.astype(np.float32).astype(np.float64)


def test_eigen_matches_numpy():
    rng = np.random.default_rng(0)
    pairs = [random_pair(rng, (480, 640)) for _ in range(2)]
    metric = METRICS.build(dict(type='NYUDepthMetric', protocol='eigen'))
    result = evaluate(
        metric, [sample(p, g, f'{i}.png') for i, (p, g) in enumerate(pairs)])
    per_image = []
    for pred, gt in pairs:
        pred, gt = f32(pred)[45:471, 41:601], f32(gt)[45:471, 41:601]
        valid = (gt > 1e-3) & (gt < 10)
        per_image.append(np_metrics(np.clip(pred, 1e-3, 10)[valid], gt[valid]))
    for key in KEYS:
        expected = np.mean([m[key] for m in per_image])
        assert result[key] == pytest.approx(expected, rel=1e-6, abs=1e-6)


def test_eigen_agrees_with_mmseg_depth_metric():
    rng = np.random.default_rng(1)
    samples = [
        sample(*random_pair(rng, (480, 640), clampable=False), f'{i}.png')
        for i in range(2)
    ]
    ours = evaluate(METRICS.build(dict(type='NYUDepthMetric')), samples)
    reference = DepthMetric(min_depth_eval=1e-3,
                            max_depth_eval=10,
                            crop_type='nyu_crop')
    theirs = evaluate(reference, samples)
    for key in KEYS:
        assert ours[key] == pytest.approx(theirs[key], rel=1e-5, abs=1e-6)


def test_hu2019_averages_rmse_over_per_image_mse():
    rng = np.random.default_rng(2)
    pairs = [random_pair(rng, (228, 304)) for _ in range(3)]
    pairs[1] = (pairs[1][0] * 2, pairs[1][1])  # make per-image MSE differ
    metric = METRICS.build(dict(type='NYUDepthMetric', protocol='hu2019'))
    result = evaluate(
        metric, [sample(p, g, f'{i}.png') for i, (p, g) in enumerate(pairs)])
    per_image = []
    for pred, gt in pairs:
        pred, gt = f32(pred), f32(gt)
        valid = (gt > 1e-3) & (gt < 10)
        per_image.append(np_metrics(np.clip(pred, 1e-3, 10)[valid], gt[valid]))
    rmse = math.sqrt(np.mean([m['mse'] for m in per_image]))
    assert result['rmse'] == pytest.approx(rmse, rel=1e-6)
    assert rmse != pytest.approx(np.mean([m['rmse'] for m in per_image]),
                                 rel=1e-3)
    for key in set(KEYS) - {'rmse'}:
        expected = np.mean([m[key] for m in per_image])
        assert result[key] == pytest.approx(expected, rel=1e-6, abs=1e-6)


def test_hu2019_refuses_to_resample():
    """The test pipeline crops; full frames or a prediction of another size
    are refused, not resampled (tests/test_hu2019_chain.py: the chain)."""
    rng = np.random.default_rng(3)
    metric = METRICS.build(dict(type='NYUDepthMetric', protocol='hu2019'))
    pred, gt = random_pair(rng, (480, 640))
    with pytest.raises(ValueError, match='228x304 centre crop .* 480x640'):
        metric.process({}, [sample(pred, gt, 'full.png')])
    pred, gt = random_pair(rng, (228, 304))
    with pytest.raises(ValueError, match='differ in size'):
        metric.process({}, [sample(pred[:114, :152].copy(), gt, 'half.png')])


def test_empty_image_is_skipped_and_reported(tmp_path):
    rng = np.random.default_rng(4)
    pred, gt = random_pair(rng, (228, 304))
    metric = METRICS.build(
        dict(type='NYUDepthMetric',
             protocol='hu2019',
             output_dir=str(tmp_path)))
    with pytest.warns(UserWarning, match='empty_0007.png'):
        result = evaluate(metric, [
            sample(pred, gt, 'good.png'),
            sample(pred, np.zeros_like(gt), 'empty_0007.png')
        ])
    alone = evaluate(
        METRICS.build(dict(type='NYUDepthMetric', protocol='hu2019')),
        [sample(pred, gt, 'good.png')])
    assert result == pytest.approx(alone)
    assert all(math.isfinite(v) for v in result.values())
    with open(tmp_path / 'per_image_metrics.csv') as handle:
        rows = list(csv.DictReader(handle))
    assert [r['img_path'] for r in rows] == ['good.png', 'empty_0007.png']
    assert rows[1]['valid_pixels'] == '0' and rows[1]['abs_rel'] == ''
    assert float(rows[0]['abs_rel']) == pytest.approx(result['abs_rel'])
    records = json.loads((tmp_path / 'per_image_metrics.json').read_text())
    assert records[0]['rmse'] == pytest.approx(result['rmse'])


def test_protocols_are_registered_classes():
    """Configs name a protocol by its registered name; a class registered
    by a user builds through NYUDepthMetric's config like ours."""
    assert DEPTH_EVAL_PROTOCOLS.get('hu2019') is Hu2019Protocol

    @DEPTH_EVAL_PROTOCOLS.register_module(name='test_whole_frame_5m')
    class WholeFrame5m(DepthEvalProtocol):

        def __init__(self):
            super().__init__(max_depth=5.0)

    try:
        metric = METRICS.build(
            dict(type='NYUDepthMetric',
                 protocol=dict(type='test_whole_frame_5m')))
        assert type(metric.protocol) is WholeFrame5m
        assert metric.protocol.max_depth == 5.0
    finally:
        DEPTH_EVAL_PROTOCOLS.module_dict.pop('test_whole_frame_5m')


def test_bad_config_and_input_raise():
    with pytest.raises(KeyError, match='unknown depth evaluation protocol'):
        METRICS.build(dict(type='NYUDepthMetric', protocol='kitty'))
    metric = METRICS.build(dict(type='NYUDepthMetric', protocol='eigen'))
    pred, gt = random_pair(np.random.default_rng(5), (60, 80))
    with pytest.raises(ValueError, match='480x640'):
        metric.process({}, [sample(pred, gt, 'small.png')])
    no_gt = dict(img_path='nogt.png', pred_depth_map=dict(data=pred))
    with pytest.raises(ValueError,
                       match='nogt.png: no ground-truth depth.*format_only'):
        metric.process({}, [no_gt])
    format_only = METRICS.build(dict(type='NYUDepthMetric',
                                     format_only=True))
    format_only.process({}, [no_gt])
    assert format_only.compute_metrics(format_only.results) == {}
    with pytest.raises(ValueError, match='no evaluated image'):
        metric.compute_metrics([dict(img_path='x', valid_pixels=0)])


def np_edges(depth, threshold):
    kx = np.array([[1, 0, -1], [2, 0, -2], [1, 0, -1]], float)
    gx = ndimage.correlate(depth, kx, mode='constant')
    gy = ndimage.correlate(depth, kx.T, mode='constant')
    return np.hypot(gx, gy) > threshold


@pytest.mark.parametrize('threshold', [0.25, 0.5, 1.0])
def test_edge_prf_matches_numpy(threshold):
    rng = np.random.default_rng(6)
    gt = np.cumsum(rng.uniform(0, 0.2, (24, 32)), axis=1) + 1.0
    gt[8:16, 10:20] = 0.8
    pred = gt + rng.normal(0, 0.05, gt.shape)
    valid = gt > 0
    valid[3, 5] = False
    scored = ndimage.binary_erosion(valid, np.ones((3, 3)), border_value=0)
    pe, ge = np_edges(pred, threshold) & scored, np_edges(gt,
                                                          threshold) & scored
    p, r = (pe & ge).sum() / pe.sum(), (pe & ge).sum() / ge.sum()
    ours = edge_precision_recall_f1(torch.from_numpy(pred),
                                    torch.from_numpy(gt),
                                    torch.from_numpy(valid), threshold)
    assert ours == pytest.approx((p, r, 2 * p * r / (p + r)), abs=1e-12)
    perfect = edge_precision_recall_f1(torch.from_numpy(gt),
                                       torch.from_numpy(gt),
                                       torch.from_numpy(valid), threshold)
    assert perfect == (1.0, 1.0, 1.0)


def test_depth_boundary_errors_on_shifted_line():
    gt_edges = np.zeros((40, 40), bool)
    gt_edges[:, 10] = True
    pred_edges = np.zeros_like(gt_edges)
    pred_edges[:, 13] = True
    assert depth_boundary_errors(pred_edges, gt_edges) == pytest.approx(
        (3.0, 3.0))
    far = np.zeros_like(gt_edges)
    far[:, 30] = True
    assert depth_boundary_errors(far, gt_edges) == (10.0, 10.0)
    assert all(
        map(math.isnan, depth_boundary_errors(pred_edges, ~np.ones_like(far))))


def test_canny_finds_depth_step_and_metric_reports_dbe():
    depth = np.full((40, 48), 3.0)
    depth[:, 24:] = 1.0
    edges = canny_depth_edges(depth)
    assert edges.any() and set(np.nonzero(edges)[1]) <= {22, 23, 24, 25}
    boundary = np.zeros_like(depth)
    boundary[:, 23] = 1
    metric = METRICS.build(
        dict(type='NYUDepthMetric',
             protocol=dict(type='hu2019', crop_size=(40, 48)),
             boundary_metrics=True))
    result = evaluate(metric, [
        sample(depth,
               depth,
               'a.png',
               gt_edge_map=dict(data=torch.from_numpy(boundary)[None]))
    ])
    assert result['dbe_acc'] < 1.0 and result['dbe_comp'] < 1.0
    assert result['edge_f1_0.25'] == 1.0 and result['abs_rel'] == 0.0
