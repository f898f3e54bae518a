"""Segmentation on the demo rooms (issue #29): the class-map dataset, the
per-class IoU metric and the majority-class baseline against NumPy, the
panels, the head swap between the two demo configs, and the demo command
end to end at reduced size."""
import json
import os
import os.path as osp

import cv2
import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmseg.datasets.transforms import LoadAnnotations

from mrpan_mm.demo import (DemoRoomsSegDataset, majority_class_baseline,
                           make_demo_dataset)
from mrpan_mm.demo.labels import CLASSES, IGNORE_INDEX, PALETTE
from mrpan_mm.evaluation import ClassIoUMetric
from mrpan_mm.visualization import render_seg_panel
from tools_runner import run_tool

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
DEPTH_CONFIG = osp.join(REPO, 'configs', 'mrpan_demo_cpu.py')
SEG_CONFIG = osp.join(REPO, 'configs', 'mrpan_seg_demo_cpu.py')
SIZE = (48, 64)
#: What the segmentation demo config may change: head (and the segmentor
#: that runs it), loss (inside the head), data (dataset, pipelines, label
#: padding, evaluation, panels).
HEAD_LOSS_DATA = ('model.type', 'model.decode_head.', 'model.test_cfg.',
                  'model.data_preprocessor.seg_pad_val', 'dataset_type',
                  'train_pipeline', 'test_pipeline',
                  'train_dataloader.dataset.', 'val_dataloader.dataset.',
                  'test_dataloader.dataset.', 'val_evaluator.',
                  'test_evaluator.', 'visualizer.type', 'tta_model.type')


@pytest.fixture(scope='module')
def rooms(tmp_path_factory):
    root = str(tmp_path_factory.mktemp('seg_rooms'))
    make_demo_dataset(root, num_train=6, num_test=3, size=SIZE, seed=4)
    return root


def read_labels(root, split):
    folder = osp.join(root, 'seg_annotations', split)
    return [cv2.imread(osp.join(folder, name), cv2.IMREAD_UNCHANGED)
            for name in sorted(os.listdir(folder))]


def leaves(tree, prefix=''):
    """Flatten nested dicts to ``{'a.b.c': value}`` (lists are leaves)."""
    if not isinstance(tree, dict):
        return {prefix[:-1]: tree}
    flat = {}
    for key, value in tree.items():
        flat.update(leaves(value, f'{prefix}{key}.'))
    return flat


def test_demo_configs_differ_only_in_head_loss_and_data():
    depth = leaves(Config.fromfile(DEPTH_CONFIG).to_dict())
    seg = leaves(Config.fromfile(SEG_CONFIG).to_dict())
    changed = {key for key in depth.keys() | seg.keys()
               if depth.get(key, 'missing') != seg.get(key, 'missing')}
    assert 'model.decode_head.type' in changed
    assert not [key for key in changed if not key.startswith(HEAD_LOSS_DATA)]
    assert seg['model.decode_head.num_classes'] == len(CLASSES)
    assert any(key.startswith('model.neck.') for key in seg)


def test_dataset_reads_class_maps(rooms):
    dataset = DemoRoomsSegDataset(
        data_root=rooms,
        data_prefix=dict(img_path='images/test',
                         seg_map_path='seg_annotations/test'),
        pipeline=[LoadAnnotations()], test_mode=True)
    assert dataset.metainfo['classes'] == CLASSES
    assert len(dataset.metainfo['palette']) == len(CLASSES)
    assert len(dataset) == 3
    for i, labels in enumerate(read_labels(rooms, 'test')):
        assert np.array_equal(dataset[i]['gt_seg_map'], labels)


def numpy_iou(pairs, num_classes):
    """IoU per class of (prediction, ground truth) pairs, NaN if absent."""
    iou = []
    for c in range(num_classes):
        inter = union = 0
        for pred, gt in pairs:
            valid = gt != IGNORE_INDEX
            inter += np.sum(valid & (pred == c) & (gt == c))
            union += np.sum(valid & ((pred == c) | (gt == c)))
        iou.append(inter / union if union else np.nan)
    return np.array(iou)


def test_class_iou_metric_matches_numpy():
    rng = np.random.default_rng(0)
    classes = ('a', 'b', 'c', 'never')
    pairs = []
    for _ in range(3):
        gt = rng.integers(0, 3, (6, 7))
        gt[0, :3] = IGNORE_INDEX
        pairs.append((rng.integers(0, 3, (6, 7)), gt))
    metric = ClassIoUMetric()
    metric.dataset_meta = dict(classes=classes)
    metric.process({}, [
        dict(pred_sem_seg=dict(data=torch.from_numpy(pred)[None]),
             gt_sem_seg=dict(data=torch.from_numpy(gt)[None]))
        for pred, gt in pairs])
    metrics = metric.compute_metrics(metric.results)
    expected = numpy_iou(pairs, len(classes)) * 100
    np.testing.assert_allclose(
        [metrics[f'IoU.{name}'] for name in classes], expected, atol=0.005)
    assert metrics['mIoU'] == pytest.approx(np.nanmean(expected), abs=0.005)


def test_majority_class_baseline_matches_numpy(rooms):
    train = np.concatenate([m.ravel() for m in read_labels(rooms, 'train')])
    counts = np.bincount(train[train != IGNORE_INDEX])
    majority = int(np.argmax(counts))
    test = read_labels(rooms, 'test')
    expected = numpy_iou([(np.full_like(gt, majority), gt) for gt in test],
                         len(CLASSES)) * 100
    labelled = sum(np.sum(gt != IGNORE_INDEX) for gt in test)
    baseline = majority_class_baseline(rooms)
    assert baseline['majority_class'] == CLASSES[majority]
    np.testing.assert_allclose(
        [baseline['class_iou'][name] for name in CLASSES], expected,
        atol=0.005)
    assert baseline['mIoU'] == pytest.approx(np.nanmean(expected),
                                             abs=0.005)
    assert baseline['aAcc'] == pytest.approx(
        100 * sum(np.sum(gt == majority) for gt in test) / labelled,
        abs=0.005)


def test_seg_panel_colours_classes():
    image = np.full((4, 5, 3), 7, np.uint8)
    gt = np.zeros((4, 5), np.int64)
    gt[0, 0] = IGNORE_INDEX
    pred = np.full((4, 5), 2)
    panel = render_seg_panel(image, [('ground truth', gt),
                                     ('prediction', pred)], PALETTE, band=3)
    assert panel.shape == (7, 15, 3)
    assert panel[3:, :5].tolist() == image.tolist()
    assert panel[3, 5].tolist() == [0, 0, 0]  # ignored: black
    assert panel[4, 5].tolist() == list(PALETTE[0])
    assert panel[4, 10].tolist() == list(PALETTE[2])


#: Reduced demo: 160 training views, 8 test views, 6 epochs (60 steps).
#: mIoU minus the majority class's, measured 2026-12-03 with this command
#: (tools/run_demo.py --task seg, training seeds 0 and 1): +13.27 and
#: +11.62 points; the test asks for less than the worst seed.
REDUCED_MARGIN = 8.0


@pytest.mark.slow  # trains 60 steps through the tool (about a minute)
def test_run_demo_seg_beats_the_majority_class(tmp_path):
    data, work = tmp_path / 'rooms', tmp_path / 'work'
    proc = run_tool('run_demo.py', [
        '--task', 'seg', '--data-root', str(data), '--work-dir', str(work),
        '--num-train', '160', '--num-test', '8', '--cfg-options',
        'train_cfg.max_epochs=6', 'train_cfg.val_interval=6',
        'default_hooks.visualization.interval=1'
    ], timeout=600)
    with open(work / 'demo_summary.json') as f:
        summary = json.load(f)
    metrics, baseline = summary['metrics'], summary['majority_class_baseline']
    assert set(metrics['class_iou']) == set(CLASSES)
    assert summary['miou_margin'] == pytest.approx(
        metrics['mIoU'] - baseline['mIoU'])
    assert summary['miou_margin'] > REDUCED_MARGIN, proc.stdout
    assert len(summary['panels']) == 8
    panel = cv2.imread(summary['panels'][0])
    assert panel.shape[1] == 3 * 160  # RGB | ground truth | prediction
    assert "for predicting 'wall' everywhere" in proc.stdout
