"""End to end: train and evaluate MRPAN segmentation through tools/train.py
and tools/test.py on a generated NYU40-layout fixture (CPU, light encoder,
tiny images)."""
import glob
import os.path as osp
import re

import cv2
import numpy as np
import pytest
from mmengine.config import Config

from mrpan_mm.testing.seg_fixture import (CLASS_COLOURS, make_seg_fixture,
                                          paint)
from tools_runner import run_tool

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
CONFIG = osp.join(REPO, 'configs', 'mrpan_seg_nyu40.py')
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


@pytest.mark.slow  # tool subprocesses
def test_train_then_test_reports_miou(seg_root, tmp_path):
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
    assert 0.0 <= miou <= 100.0
