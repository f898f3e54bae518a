"""End to end: train and evaluate MRPAN segmentation through tools/train.py
and tools/test.py on a generated NYU40-layout fixture, and train the ADE20K
config on an ADE20K-layout one (CPU, light encoder, tiny images)."""
import argparse
import glob
import os.path as osp
import re

import cv2
import numpy as np
import pytest
from mmengine.config import Config, DictAction
from mmseg.apis import inference_model, init_model

from mrpan_mm.testing.seg_fixture import (CLASS_COLOURS, make_seg_fixture,
                                          paint, synthetic_labels)
from mrpan_mm.utils import load_checkpoint_file
from tools_runner import run_tool

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
CONFIG = osp.join(REPO, 'configs', 'mrpan_seg_nyu40.py')
ADE_CONFIG = osp.join(REPO, 'configs', 'mrpan_seg_ade20k.py')
FUSED = '(16,16,32,32,64)'
def shrink_options(data_root):
    """--cfg-options for a 2-iteration run of the NYU40 config on the
    fixture: light encoder, narrow neck, 48x64 images, no workers."""
    options = {
        'model.backbone.arch': 'seresnext26_32x4d',
        'model.backbone.init_cfg': 'None',
        'model.neck.in_channels': '(64,256,512,1024,2048)',
        'model.neck.fuse_channels': '(20,20,40,40,80)',
        'model.neck.out_channels': FUSED,
        'model.decode_head.in_channels': FUSED,
        'model.decode_head.top_proj_channels': '32',
        'model.data_preprocessor.size': '(48,64)',
        # train pipeline: [load, annotations, RandomResize, RandomCrop, ...]
        'train_dataloader.dataset.pipeline.2.scale': '(64,48)',
        'train_dataloader.dataset.pipeline.3.crop_size': '(48,64)',
        'train_dataloader.batch_size': '2',
        'train_cfg.max_iters': '2',
        'train_cfg.val_interval': '2',
        'default_hooks.checkpoint.interval': '2',
        'default_hooks.logger.interval': '1',
    }
    for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        options[f'{loader}.dataset.data_root'] = data_root
        options[f'{loader}.num_workers'] = '0'
        options[f'{loader}.persistent_workers'] = 'False'
    return [f'{key}={value}' for key, value in options.items()]


@pytest.fixture(scope='module')
def seg_root(tmp_path_factory):
    root = str(tmp_path_factory.mktemp('nyu_seg'))
    make_seg_fixture(root, num_train=4, num_test=2, size=(48, 64))
    return root


def test_fixture_layout_and_colour_coding(seg_root):
    images = sorted(glob.glob(osp.join(seg_root, 'images', '*', '*.jpg')))
    assert len(images) == 6
    for img_path in images:
        label_path = img_path.replace('images', 'seg_annotations').replace(
            '.jpg', '.png')
        labels = cv2.imread(label_path, cv2.IMREAD_UNCHANGED)
        image = cv2.imread(img_path)
        assert labels.dtype == np.uint8 and labels.shape == (48, 64)
        assert labels[0].max() == 0 and labels[:, -1].max() == 0
        assert set(np.unique(labels)) <= {0, 1, 2, 3, 4}
        # Interior pixels carry their class colour (up to JPEG error).
        inner = labels[4:-4, 4:-4]
        error = np.abs(image[4:-4, 4:-4].astype(int) -
                       paint(inner).astype(int))
        assert np.median(error) <= 8
    assert paint(np.array([[0, 2]], np.uint8)).tolist() == [[
        list(CLASS_COLOURS[0]), list(CLASS_COLOURS[1])
    ]]


def test_configs_build_segmentation_models():
    nyu = Config.fromfile(CONFIG)
    ade = Config.fromfile(osp.join(REPO, 'configs', 'mrpan_seg_ade20k.py'))
    for cfg, classes, dataset in ((nyu, 40, 'NYU40SegDataset'),
                                  (ade, 150, 'ADE20KDataset')):
        assert cfg.model.type == 'EncoderDecoder'
        assert cfg.model.backbone.type == 'SENet'
        assert cfg.model.neck.type == 'MACANeck'
        assert cfg.model.decode_head.type == 'MRPANSegHead'
        assert cfg.model.decode_head.num_classes == classes
        assert 'min_depth' not in cfg.model.decode_head
        assert cfg.model.data_preprocessor.seg_pad_val == 255
        assert cfg.train_dataloader.dataset.type == dataset
        assert cfg.test_evaluator.type == 'IoUMetric'


def independent_miou(config, options, checkpoint, data_root,
                     num_classes=40):
    """mIoU (%) of ``checkpoint`` on the fixture's test images, computed
    here: mmseg's ``inference_model`` per image, labels read from the PNGs
    (0 = unlabelled, k -> class k - 1), intersections and unions summed
    over the images, averaged over the classes that occur."""
    parser = argparse.ArgumentParser()
    parser.add_argument('--options', nargs='+', action=DictAction)
    cfg = Config.fromfile(config)
    cfg.merge_from_dict(parser.parse_args(['--options', *options]).options)
    model = init_model(cfg, checkpoint, 'cpu')
    intersection = np.zeros(num_classes)
    union = np.zeros(num_classes)
    for image in sorted(glob.glob(osp.join(data_root, 'images/test/*'))):
        label_path = image.replace('images', 'seg_annotations').replace(
            '.jpg', '.png')
        label = cv2.imread(label_path, cv2.IMREAD_UNCHANGED).astype(int) - 1
        pred = inference_model(model, image).pred_sem_seg.data[0].numpy()
        valid = label >= 0
        for c in range(num_classes):
            is_pred, is_label = (pred == c) & valid, label == c
            intersection[c] += (is_pred & is_label).sum()
            union[c] += (is_pred | is_label).sum()
    present = union > 0
    return 100 * (intersection[present] / union[present]).mean()


@pytest.mark.slow  # tool subprocesses
def test_train_then_test_reports_miou(seg_root, tmp_path):
    """tools/test.py's mIoU equals an mIoU computed here from the trained
    checkpoint's own predictions and the label PNGs: a test that scores
    another model (e.g. ignores the checkpoint), a wrong label mapping
    (reduce_zero_label) or a wrong IoU formula fails."""
    work_dir = str(tmp_path / 'work')
    options = shrink_options(seg_root)
    proc = run_tool('train.py', [CONFIG, '--work-dir', work_dir,
                                 '--cfg-options', *options])
    output = proc.stdout + proc.stderr
    assert 'decode.loss_ce' in output
    checkpoint = osp.join(work_dir, 'iter_2.pth')
    assert osp.isfile(checkpoint)
    # Validation after iteration 2 ran IoUMetric over the 40 NYU classes.
    assert re.search(r'mIoU: [\d.]+', output)

    proc = run_tool('test.py', [CONFIG, checkpoint, '--work-dir',
                                str(tmp_path / 'test'), '--cfg-options',
                                *options])
    output = proc.stdout + proc.stderr
    assert re.search(r'\|\s+wall\s+\|', output)  # NYU40 class table
    miou = float(re.search(r'mIoU: ([\d.]+)', output).group(1))
    expected = independent_miou(CONFIG, options, checkpoint, seg_root)
    assert miou == pytest.approx(expected, abs=0.006)  # logged to 0.01


@pytest.fixture(scope='module')
def ade_root(tmp_path_factory):
    """A tiny ADE20K-layout dataset, 2 training / 1 validation image
    (48x64): ``images/<split>/<name>.jpg`` and ``annotations/<split>/
    <name>.png`` (uint8, 0 = other, classes from 1)."""
    root = tmp_path_factory.mktemp('ade20k')
    rng = np.random.default_rng(0)
    for split, count in (('training', 2), ('validation', 1)):
        for folder in ('images', 'annotations'):
            (root / folder / split).mkdir(parents=True)
        for index in range(count):
            labels = synthetic_labels(48, 64, num_classes=4, num_rects=3,
                                      border=2, rng=rng)
            name = f'ADE_{split}_{index:08d}'
            cv2.imwrite(str(root / 'images' / split / f'{name}.jpg'),
                        paint(labels))
            cv2.imwrite(str(root / 'annotations' / split / f'{name}.png'),
                        labels)
    return str(root)


@pytest.mark.slow  # tool subprocess
def test_ade20k_config_trains_through_the_tool(ade_root, tmp_path):
    """``tools/train.py configs/mrpan_seg_ade20k.py`` (mmseg's ADE20K
    dataset, pipeline and 160k schedule; light encoder, 2 iterations, the
    validation image kept at its size) trains, validates over the 150
    ADE classes and saves a checkpoint with 150 class outputs.  Catches a
    config that only builds: a dataset layout, pipeline or class count
    that breaks when data flows."""
    work_dir = str(tmp_path / 'work')
    options = shrink_options(ade_root) + [
        f'{loader}.dataset.pipeline.1.scale=(64,48)'  # Resize (2048, 512)
        for loader in ('val_dataloader', 'test_dataloader')
    ]
    proc = run_tool('train.py', [ADE_CONFIG, '--work-dir', work_dir,
                                 '--cfg-options', *options])
    output = proc.stdout + proc.stderr
    assert 'decode.loss_ce' in output
    assert re.search(r'\|\s+wall\s+\|', output)  # ADE20K's class table
    assert re.search(r'mIoU: [\d.]+', output)
    state = load_checkpoint_file(osp.join(work_dir, 'iter_2.pth'),
                                 map_location='cpu')['state_dict']
    assert any(value.dim() == 4 and value.shape[0] == 150
               for key, value in state.items()
               if key.startswith('decode_head.'))  # class-logit convs
