"""The KITTI protocol's crops and range and the scale alignments of
NYUDepthMetric, against hand-computed values and NumPy."""
import numpy as np
import pytest
import torch
from mmseg.registry import METRICS

from mrpan_mm.evaluation import KITTIProtocol, align_prediction
from test_metrics import KEYS, np_metrics, sample


def test_garg_and_eigen_windows_of_the_kitti_frame():
    # 375x1242 (the 2011_09_26 frame), by hand:
    # Garg rows int(0.40810811*375)=153 .. int(0.99189189*375)=371,
    # cols int(0.03594771*1242)=44 .. int(0.96405229*1242)=1197;
    # Eigen rows int(0.3324324*375)=124 .. int(0.91351351*375)=342.
    assert KITTIProtocol('garg').window((375, 1242)) == (153, 371, 44, 1197)
    assert KITTIProtocol('eigen').window((375, 1242)) == (124, 342, 44, 1197)
    assert KITTIProtocol(None).window((375, 1242)) == (0, 375, 0, 1242)


def test_window_inside_a_kb_crop_is_shifted_into_the_crop():
    # KBCrop of 375x1242: top 375-352=23, left (1242-1216)//2=13
    meta = dict(frame_shape=(375, 1242), crop_offset=(23, 13))
    assert KITTIProtocol('garg').window((352, 1216), meta) == \
        (153 - 23, 371 - 23, 44 - 13, 1197 - 13)
    with pytest.raises(ValueError, match='leaves the evaluated 100x1216'):
        KITTIProtocol('garg').window((100, 1216), meta)


def test_kitti_range_keeps_80_m_drops_0_and_beyond():
    gt = torch.tensor([[0.0, 1e-3, 0.5, 80.0, 80.5]])
    assert KITTIProtocol(None).valid_mask(gt).tolist() == \
        [[False, False, True, True, False]]
    capped = KITTIProtocol(None, max_depth=50.0)
    assert capped.clamp(torch.tensor([60.0])).item() == 50.0


def test_kitti_metric_equals_numpy_on_the_garg_window():
    rng = np.random.default_rng(0)
    gt = rng.uniform(1.0, 90.0, (375, 1242))
    gt[rng.random(gt.shape) < 0.7] = 0.0  # sparse LiDAR
    pred = rng.uniform(0.5, 95.0, gt.shape)
    metric = METRICS.build(
        dict(type='NYUDepthMetric', protocol=dict(type='kitti')))
    metric.process({}, [sample(pred, gt, 'a.png')])
    got = metric.compute_metrics(metric.results)
    win_gt = gt[153:371, 44:1197].astype(np.float32).astype(np.float64)
    win_pred = np.clip(pred[153:371, 44:1197].astype(np.float32), 1e-3, 80)
    valid = (win_gt > 1e-3) & (win_gt <= 80)
    want = np_metrics(win_pred[valid], win_gt[valid])
    for key in KEYS:
        assert got[key] == pytest.approx(want[key], rel=1e-6), key


def test_alignments_by_hand():
    gt = torch.tensor([[2.0, 4.0, 6.0, 0.0]])
    valid = gt > 0
    pred = torch.tensor([[1.0, 5.0, 2.0, 7.0]])
    # median: median(gt)=4, median(pred)=2 (means 4 and 8/3 would give
    # x1.5) -> x2, applied to every pixel, the unfitted one too
    assert align_prediction(pred, gt, valid, 'median').tolist() == \
        [[2.0, 10.0, 4.0, 14.0]]
    # scale: (1*2+5*4+2*6)/(1+25+4) = 34/30
    np.testing.assert_allclose(
        align_prediction(pred, gt, valid, 'scale').numpy(),
        pred.numpy() * 34 / 30)
    # scale-shift recovers an exact affine relation gt = 2 pred + 1
    exact = torch.tensor([[3.0, 11.0, 5.0, 0.0]])
    np.testing.assert_allclose(
        align_prediction(pred, exact, valid, 'scale_shift').numpy(),
        [[3.0, 11.0, 5.0, 15.0]])
    assert align_prediction(pred, gt, valid, None) is pred


def test_scale_shift_equals_numpy_lstsq_and_metric_uses_it():
    rng = np.random.default_rng(1)
    gt = rng.uniform(1.0, 9.0, (40, 50))
    pred = 0.3 * gt + 2.0 + rng.normal(0, 0.2, gt.shape)
    a = np.stack([pred.ravel(), np.ones(pred.size)], 1)
    (scale, shift), *_ = np.linalg.lstsq(a, gt.ravel(), rcond=None)
    metric = METRICS.build(
        dict(type='NYUDepthMetric', protocol=dict(type='eigen', crop=None),
             scale_alignment='scale_shift'))
    metric.process({}, [sample(pred, gt, 'a.png')])
    got = metric.compute_metrics(metric.results)
    gt32 = gt.astype(np.float32).astype(np.float64)
    pred32 = pred.astype(np.float32).astype(np.float64)
    a = np.stack([pred32.ravel(), np.ones(pred.size)], 1)
    (scale, shift), *_ = np.linalg.lstsq(a, gt32.ravel(), rcond=None)
    want = np_metrics(np.clip(scale * pred32 + shift, 1e-3, 10).ravel(),
                      gt32.ravel())
    for key in KEYS:
        assert got[key] == pytest.approx(want[key], rel=1e-6), key


def test_unknown_alignment_and_crop_are_refused():
    with pytest.raises(KeyError, match="scale alignment 'mean'"):
        METRICS.build(dict(type='NYUDepthMetric', scale_alignment='mean'))
    with pytest.raises(KeyError, match="unknown KITTI crop 'gargg'"):
        KITTIProtocol('gargg')
