"""Training/evaluation pipelines of configs/_base_/datasets/nyu.py."""
import copy
import os.path as osp

import cv2
import numpy as np
import pytest
import torch
from mmengine import Config
from mmengine.registry import init_default_scope
from mmseg.registry import DATASETS, TRANSFORMS

from mrpan_mm.datasets import NYUDepthDataset
from mrpan_mm.datasets.transforms import LoadCheckedDepth, LoadCheckedImage
from mrpan_mm.testing import make_nyu_fixture

CONFIG = osp.join(
    osp.dirname(osp.dirname(osp.abspath(__file__))), 'configs', '_base_',
    'datasets', 'nyu.py')
GEOMETRIC = ('PillowResize', 'RandomFlip', 'RandomRotate', 'CenterCropDepth')


@pytest.fixture(scope='module')
def cfg():
    init_default_scope('mmseg')
    return Config.fromfile(CONFIG)


def block_frame(rng):
    """A 480x640 frame of 32x32 blocks: image code == depth code, holes 0.

    Returns image (uint8, channel 0 = code), depth (float32 m, code / 40).
    """
    codes = rng.integers(40, 250, (15, 20)).astype(np.uint8)
    code_map = np.kron(codes, np.ones((32, 32), np.uint8))
    image = np.stack([code_map] * 3, axis=-1)
    depth = code_map.astype(np.float32) / 40.0
    depth[rng.random(depth.shape) < 0.1] = 0.0  # sensor holes
    return image, depth


def test_geometric_steps_keep_depth_values_and_alignment(cfg):
    steps = [
        TRANSFORMS.build(step) for step in cfg.train_pipeline
        if step['type'] in GEOMETRIC
    ]
    assert [type(s).__name__ for s in steps] == list(GEOMETRIC)
    rng = np.random.default_rng(0)
    flips = set()
    for seed in range(6):
        np.random.seed(seed)
        image, depth = block_frame(rng)
        results = dict(img=image, gt_depth_map=depth.copy(),
                       seg_fields=['gt_depth_map'], img_shape=(480, 640))
        for step in steps:
            results = step(results)
        out_img, out_depth = results['img'], results['gt_depth_map']
        flips.add(results['flip'])
        assert out_img.shape == (228, 304, 3)
        assert out_depth.shape == (114, 152)  # Hu's 152x114 loss target
        assert out_depth.dtype == np.float32
        # Nearest everywhere: only measured values or 0, never a blend of
        # a valid depth with a hole, nor the 255 of a rotation border.
        assert set(np.unique(out_depth)) <= set(np.unique(depth)) | {0.0}
        # Image and depth moved together: the 114x152 depth samples the odd
        # rows/columns of the crop. Pillow's antialiased bilinear blurs the
        # block edges, so compare with a misaligned (shifted) pairing.
        codes = out_img[1::2, 1::2, 0].astype(float)
        valid = out_depth > 0
        agree = codes[valid] == np.rint(out_depth[valid] * 40)
        shifted = codes[:, 4:][valid[:, :-4]] == np.rint(
            out_depth[:, :-4][valid[:, :-4]] * 40)
        assert agree.mean() > 0.6 and agree.mean() > shifted.mean() + 0.3, (
            agree.mean(), shifted.mean())
    assert flips == {True, False}


def test_rotation_pads_depth_with_invalid_zero(cfg):
    rotate_cfg = next(s for s in cfg.train_pipeline
                      if s['type'] == 'RandomRotate')
    rotate = TRANSFORMS.build(dict(rotate_cfg, degree=(5.0, 5.0)))
    depth = np.full((240, 320), 3.0, np.float32)
    results = rotate(dict(img=np.full((240, 320, 3), 200, np.uint8),
                          gt_depth_map=depth, seg_fields=['gt_depth_map']))
    corner = results['gt_depth_map'][:3, :3]
    np.testing.assert_array_equal(corner, 0.0)
    assert set(np.unique(results['gt_depth_map'])) == {0.0, 3.0}
    assert (results['img'][:3, :3] == 0).all()


def test_checked_loaders_read_metres(nyu_root):
    img_path = osp.join(nyu_root, 'images', 'train', 'kitchen_00001.jpg')
    depth_path = osp.join(nyu_root, 'annotations', 'train',
                          'kitchen_00001.png')
    results = LoadCheckedImage()(dict(img_path=img_path))
    results = LoadCheckedDepth()(
        dict(results, depth_map_path=depth_path, seg_fields=[]))
    np.testing.assert_array_equal(results['img'], cv2.imread(img_path))
    expected = cv2.imread(depth_path, cv2.IMREAD_UNCHANGED) / 1000.0
    np.testing.assert_allclose(results['gt_depth_map'], expected, rtol=1e-6)
    assert results['gt_depth_map'].dtype == np.float32
    assert results['seg_fields'] == ['gt_depth_map']
    assert results['ori_shape'] == (64, 80)
    assert 'expected_dtype' in repr(LoadCheckedDepth())


def build_split(cfg, dataloader, nyu_root):
    dataset_cfg = copy.deepcopy(cfg[dataloader].dataset)
    dataset_cfg.data_root = nyu_root
    return DATASETS.build(dataset_cfg)


@pytest.fixture(scope='module')
def nyu_vga_root(tmp_path_factory):
    """NYU layout with 640x480 frames (4 train / 2 test)."""
    root = str(tmp_path_factory.mktemp('nyu_vga'))
    make_nyu_fixture(root, size=(480, 640))
    return root


def test_config_train_pipeline(cfg, nyu_vga_root):
    assert cfg.train_dataloader.batch_size == 4
    assert cfg.val_dataloader.batch_size == 1
    assert cfg.train_dataloader.persistent_workers
    assert cfg.test_evaluator == dict(
        type='NYUDepthMetric',
        protocol=dict(type='hu2019', crop_size=(228, 304)),
        boundary_metrics=True)
    dataset = build_split(cfg, 'train_dataloader', nyu_vga_root)
    assert isinstance(dataset, NYUDepthDataset) and len(dataset) == 4
    np.random.seed(0)
    for index in range(len(dataset)):
        sample = dataset[index]
        inputs = sample['inputs']
        depth = sample['data_samples'].gt_depth_map.data
        # Lighting and colour jitter give unclipped floats in 0..255 units.
        assert inputs.shape == (3, 228, 304) and inputs.dtype == torch.float32
        assert depth.shape == (1, 114, 152) and depth.dtype == torch.float32
        valid = depth[depth > 0]
        # The fixture's depth lies in 1.0 .. 6.0 m: metres, not mm.
        assert valid.numel() > 0.8 * depth.numel()
        assert 0.9 < valid.min() and valid.max() < 6.1
        meta = sample['data_samples'].metainfo
        assert meta['depth_map_path'].endswith(
            osp.basename(meta['img_path'])[:-4] + '.png')


def test_config_test_pipeline_refuses_frames_without_room_for_the_crop(
        cfg, nyu_root):
    """Hu's Scale(240) makes a 64x80 frame 240x300: no 228x304 window."""
    dataset = build_split(cfg, 'test_dataloader', nyu_root)
    with pytest.raises(ValueError,
                       match='crop 228x304 does not fit in the 240x300'):
        dataset[0]
