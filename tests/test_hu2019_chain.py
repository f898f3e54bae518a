"""Hu et al.'s (WACV 2019) training recipe and Table I test chain, as the
paper configs run them, against independent NumPy computations."""
import copy
import os
import os.path as osp

import cv2
import numpy as np
import pytest
import torch
import torch.nn.functional as F
from mmengine import Config
from mmengine.registry import init_default_scope
from mmseg.registry import DATASETS, METRICS, MODELS, TRANSFORMS

from mrpan_mm.datasets import NYUDataError
from mrpan_mm.datasets.transforms import (CenterCropDepth, PCALighting,
                                          PillowResize,
                                          RandomOrderColorJitter)
from mrpan_mm.testing import make_nyu_fixture

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
PAPER_CONFIG = osp.join(REPO, 'configs', 'mrpan_nyu.py')
IBIMS_CONFIG = osp.join(REPO, 'configs', 'mrpan_nyu_test_ibims1.py')
# Hu et al.'s loaddata.py, RGB, 0..1 scale.
EIGVAL = np.array([0.2175, 0.0188, 0.0045])
EIGVEC = np.array([[-0.5675, 0.7192, 0.4009], [-0.5808, -0.0045, -0.8140],
                   [-0.5836, -0.6948, 0.4203]])
MEAN, STD = np.array([0.485, 0.456, 0.406]), np.array([0.229, 0.224, 0.225])


@pytest.fixture(scope='module')
def cfg():
    init_default_scope('mmseg')
    return Config.fromfile(PAPER_CONFIG)


@pytest.fixture(scope='module')
def nyu_vga(tmp_path_factory):
    """NYU layout, 640x480 frames: 2 train / 2 test."""
    root = str(tmp_path_factory.mktemp('nyu_vga'))
    make_nyu_fixture(root, num_train=2, num_test=2, size=(480, 640))
    return root


def build_split(cfg, dataloader, root, **dataset_args):
    dataset_cfg = copy.deepcopy(cfg[dataloader].dataset)
    dataset_cfg.update(data_root=root, **dataset_args)
    return DATASETS.build(dataset_cfg)


# ------------------------------------------------------------ Pillow resize
def np_pillow_bilinear_taps(in_size, out_size):
    """Pillow's BILINEAR coefficients (ImagingResample.c, precompute_coeffs
    + normalize_coeffs_8bpc): triangle of support 1 widened by the
    downscale factor, normalised, in 22-bit fixed point."""
    scale = in_size / out_size
    filterscale = max(scale, 1.0)
    taps = []
    for out in range(out_size):
        centre = (out + 0.5) * scale
        first = max(int(centre - filterscale + 0.5), 0)
        stop = min(int(centre + filterscale + 0.5), in_size)
        index = np.arange(first, stop)
        weight = np.maximum(
            1 - np.abs((index - centre + 0.5) / filterscale), 0)
        weight = weight / weight.sum()
        taps.append((index, np.trunc(weight * (1 << 22) + 0.5).astype(
            np.int64)))
    return taps


def np_pillow_pass(img, out_size, axis):
    """One separable uint8 pass, rounded (+2^21) and clipped like Pillow."""
    img = np.moveaxis(img.astype(np.int64), axis, 0)
    out = np.empty((out_size, ) + img.shape[1:], np.int64)
    for row, (index, weight) in enumerate(
            np_pillow_bilinear_taps(img.shape[0], out_size)):
        acc = np.tensordot(weight, img[index], axes=1) + (1 << 21)
        out[row] = np.clip(acc >> 22, 0, 255)
    return np.moveaxis(out, 0, axis).astype(np.uint8)


def np_pillow_bilinear(img, height, width):
    """Pillow's Image.resize(BILINEAR): horizontal pass, then vertical."""
    return np_pillow_pass(np_pillow_pass(img, width, 1), height, 0)


@pytest.mark.parametrize('in_hw, short_side, out_hw',
                         [((480, 640), 240, (240, 320)),
                          ((37, 50), 24, (24, 32)),
                          ((50, 37), 24, (32, 24)),
                          ((20, 30), 28, (28, 42))])
def test_pillow_resize_matches_numpy(in_hw, short_side, out_hw):
    rng = np.random.default_rng(0)
    img = rng.integers(0, 256, in_hw + (3, ), dtype=np.uint8)
    depth = rng.uniform(0.5, 9, in_hw).astype(np.float32)
    results = PillowResize(short_side)(
        dict(img=img, gt_depth_map=depth, seg_fields=['gt_depth_map']))
    assert results['img_shape'] == out_hw
    np.testing.assert_array_equal(results['img'],
                                  np_pillow_bilinear(img, *out_hw))
    # NEAREST: the input pixel under the output pixel's centre.
    rows = np.floor((np.arange(out_hw[0]) + 0.5) * in_hw[0] / out_hw[0])
    cols = np.floor((np.arange(out_hw[1]) + 0.5) * in_hw[1] / out_hw[1])
    expected = depth[rows.astype(int)[:, None], cols.astype(int)]
    np.testing.assert_array_equal(results['gt_depth_map'], expected)
    assert results['gt_depth_map'].dtype == np.float32


def test_halving_is_not_what_opencv_and_torch_nearest_do():
    rng = np.random.default_rng(1)
    img = rng.integers(0, 256, (480, 640, 3), dtype=np.uint8)
    depth = rng.uniform(0.5, 9, (480, 640)).astype(np.float32)
    results = PillowResize(240)(
        dict(img=img, gt_depth_map=depth, seg_fields=['gt_depth_map']))
    # Pillow keeps the odd rows/columns = torch's 'nearest-exact' ...
    np.testing.assert_array_equal(results['gt_depth_map'], depth[1::2, 1::2])
    exact = F.interpolate(torch.from_numpy(depth)[None, None], (240, 320),
                          mode='nearest-exact')[0, 0].numpy()
    np.testing.assert_array_equal(results['gt_depth_map'], exact)
    # ... OpenCV's INTER_NEAREST (mmseg's Resize) the even ones.
    cv_nearest = cv2.resize(depth, (320, 240), interpolation=cv2.INTER_NEAREST)
    np.testing.assert_array_equal(cv_nearest, depth[::2, ::2])
    # Pillow's bilinear is antialiased: OpenCV's differs on noise.
    cv_linear = cv2.resize(img, (320, 240), interpolation=cv2.INTER_LINEAR)
    assert np.abs(cv_linear.astype(int) - results['img']).max() > 10


def test_centre_crop_follows_hu_rounding_and_resizes_depth():
    img = np.arange(11 * 14 * 3, dtype=np.uint8).reshape(11, 14, 3)
    depth = np.arange(11 * 14, dtype=np.float32).reshape(11, 14)
    crop = CenterCropDepth(crop_size=(6, 9), depth_size=(3, 3))
    results = crop(dict(img=img, gt_depth_map=depth, ori_shape=(11, 14),
                        seg_fields=['gt_depth_map']))
    # x1 = int(round(5 / 2.)) = 2 (banker's rounding), y1 = round(2.5) = 2
    assert results['crop_bbox'] == (2, 2, 11, 8)
    np.testing.assert_array_equal(results['img'], img[2:8, 2:11])
    window = depth[2:8, 2:11]
    np.testing.assert_array_equal(results['gt_depth_map'],
                                  window[[1, 3, 5]][:, [1, 4, 7]])
    assert results['img_shape'] == (6, 9) and results['ori_shape'] == (11, 14)
    test_crop = CenterCropDepth((6, 9), crop_is_ori_shape=True)
    assert test_crop(dict(img=img, seg_fields=[]))['ori_shape'] == (6, 9)
    with pytest.raises(ValueError, match='does not fit in the 11x14 image'):
        CenterCropDepth((12, 9))(dict(img=img, seg_fields=[]))


# ---------------------------------------------------------------- colours
def hu_lighting(chw, alpha):
    """Hu's Lighting on an RGB 0..1 (3, H, W) array."""
    rgb = (EIGVEC * alpha[None, :] * EIGVAL[None, :]).sum(1)
    return chw + rgb[:, None, None]


def hu_gray(chw):
    gray = 0.299 * chw[0] + 0.587 * chw[1] + 0.114 * chw[2]
    return np.stack([gray] * 3)


def hu_color_jitter(chw, order, alphas):
    """Hu's ColorJitter: [Brightness, Contrast, Saturation] in ``order``,
    each ``img.lerp(target, alpha)``."""
    targets = (lambda x: np.zeros_like(x),
               lambda x: np.full_like(x, hu_gray(x).mean()), hu_gray)
    for index, alpha in zip(order, alphas):
        chw = chw + alpha * (targets[index](chw) - chw)
    return chw


def hu_draws(seed, var=0.4):
    """The draws our transforms make, in their order, from ``seed``."""
    np.random.seed(seed)
    light = np.random.normal(0, 0.1, 3)
    order = np.random.permutation(3)
    alphas = [np.random.uniform(-var, var) for _ in order]
    return light, order, alphas


def bgr_to_chw01(img):
    return img[..., ::-1].transpose(2, 0, 1).astype(np.float64) / 255.0


@pytest.mark.parametrize('seed', [0, 1, 2, 3])
def test_lighting_and_jitter_match_hu(seed):
    rng = np.random.default_rng(seed)
    bgr = rng.integers(0, 256, (9, 12, 3), dtype=np.uint8)
    light, order, alphas = hu_draws(seed)
    np.random.seed(seed)
    lit = PCALighting()(dict(img=bgr))['img']
    jittered = RandomOrderColorJitter()(dict(img=lit.copy()))['img']
    assert lit.dtype == jittered.dtype == np.float32
    expected_lit = hu_lighting(bgr_to_chw01(bgr), light)
    np.testing.assert_allclose(bgr_to_chw01(lit), expected_lit, atol=1e-6)
    expected = hu_color_jitter(expected_lit, order, alphas)
    np.testing.assert_allclose(bgr_to_chw01(jittered), expected, atol=2e-6)
    rgb = RandomOrderColorJitter(channel_order='rgb')
    np.random.seed(seed)
    np.random.normal(0, 0.1, 3)  # the lighting draw
    rgb_out = rgb(dict(img=lit[..., ::-1].copy()))['img']
    np.testing.assert_allclose(rgb_out, jittered[..., ::-1], atol=1e-4)


def test_jitter_steps_and_errors():
    img = np.full((2, 2, 3), 100, np.uint8)
    img[0, 0] = (10, 200, 50)
    only_brightness = RandomOrderColorJitter(contrast=0, saturation=0)
    np.random.seed(0)
    np.random.permutation(1)
    alpha = np.random.uniform(-0.4, 0.4)
    np.random.seed(0)
    out = only_brightness(dict(img=img))['img']
    np.testing.assert_allclose(out, img * (1 - alpha), rtol=1e-6)
    with pytest.raises(ValueError, match='saturation must be >= 0'):
        RandomOrderColorJitter(saturation=-0.1)
    with pytest.raises(ValueError, match='channel_order'):
        PCALighting(channel_order='hsv')


def test_training_pipeline_equals_hu_normalised_tensor(cfg, nyu_vga):
    """Paper config, end to end: dataset -> pipeline -> data preprocessor
    equals Hu's Normalize(ColorJitter(Lighting(ToTensor(crop))))."""
    dataset = build_split(cfg, 'train_dataloader', nyu_vga)
    preprocessor = MODELS.build(cfg.model.data_preprocessor)
    pipeline = cfg.train_pipeline
    assert [step['type'] for step in pipeline] == [
        'LoadCheckedImage', 'LoadCheckedDepth', 'PillowResize', 'RandomFlip',
        'RandomRotate', 'CenterCropDepth', 'PCALighting',
        'RandomOrderColorJitter', 'PackSegInputs'
    ]
    # Geometry off (no flip, 0 degree rotation) to compare the colours.
    steps = [TRANSFORMS.build(step) for step in pipeline]
    steps[3] = TRANSFORMS.build(dict(pipeline[3], prob=0.0))
    steps[4] = TRANSFORMS.build(dict(pipeline[4], degree=(0.0, 0.0)))
    info = dataset.get_data_info(0)
    bgr = cv2.imread(info['img_path'])
    stored = cv2.imread(info['depth_map_path'], cv2.IMREAD_UNCHANGED)
    for seed in (0, 5):
        results = copy.deepcopy(info)
        for step in steps[:6]:
            results = step(results)
        light, order, alphas = hu_draws(seed)
        np.random.seed(seed)
        for step in steps[6:]:
            results = step(results)
        batch = preprocessor(
            dict(inputs=[results['inputs']],
                 data_samples=[results['data_samples']]), True)
        crop = np_pillow_bilinear(bgr, 240, 320)[6:234, 8:312]
        hu = hu_color_jitter(hu_lighting(bgr_to_chw01(crop), light), order,
                             alphas)
        hu = (hu - MEAN[:, None, None]) / STD[:, None, None]
        np.testing.assert_allclose(batch['inputs'][0].numpy(), hu,
                                   atol=2e-5)
        # Loss ground truth: Hu's 152x114 nearest resize of the depth crop.
        gt = batch['data_samples'][0].gt_depth_map.data[0].numpy()
        window = stored[1::2, 1::2][6:234, 8:312]
        np.testing.assert_allclose(gt, window[1::2, 1::2] / 1000.0,
                                   rtol=1e-6)


def test_training_gt_reaches_the_loss_at_152x114(cfg, nyu_vga):
    """Every scale's target is resized from the 114x152 ground truth, as
    SARPN's ``adjust_gt`` (that resize and the loss terms are checked
    against a transcription of SARPN's code in tests/test_losses.py)."""
    dataset = build_split(cfg, 'train_dataloader', nyu_vga)
    preprocessor = MODELS.build(cfg.model.data_preprocessor)
    np.random.seed(0)
    samples = [dataset[i] for i in range(2)]
    batch = preprocessor(
        dict(inputs=[s['inputs'] for s in samples],
             data_samples=[s['data_samples'] for s in samples]), True)
    assert batch['inputs'].shape == (2, 3, 228, 304)
    with torch.device('meta'):  # the paper head's weights are not needed
        head = MODELS.build(cfg.model.decode_head)
    gt = head._stack_batch_gt(batch['data_samples'])
    assert gt.shape == (2, 1, 114, 152)


# ----------------------------------------------------------- test chain
def test_test_pipeline_input_and_gt_equal_hu(cfg, nyu_vga):
    dataset = build_split(cfg, 'test_dataloader', nyu_vga)
    for index in range(len(dataset)):
        sample = dataset[index]
        meta = sample['data_samples'].metainfo
        bgr = cv2.imread(meta['img_path'])
        crop = np_pillow_bilinear(bgr, 240, 320)[6:234, 8:312]
        np.testing.assert_array_equal(
            sample['inputs'].numpy(), crop.transpose(2, 0, 1))
        stored = cv2.imread(meta['depth_map_path'], cv2.IMREAD_UNCHANGED)
        gt = sample['data_samples'].gt_depth_map.data[0].numpy()
        np.testing.assert_allclose(
            gt, stored[1::2, 1::2][6:234, 8:312] / 1000.0, rtol=1e-6)
        assert meta['ori_shape'] == meta['img_shape'] == (228, 304)
        assert meta['crop_bbox'] == (8, 6, 312, 234)


def test_prediction_is_upsampled_once_to_the_crop(cfg, nyu_vga, monkeypatch):
    """DepthEstimator returns the finest output bilinearly upsampled to
    228x304 once, compared with the ground-truth crop as it is."""
    demo = Config.fromfile(osp.join(REPO, 'configs', 'mrpan_demo_cpu.py'))
    model_cfg = demo.model
    model_cfg.data_preprocessor = cfg.model.data_preprocessor
    model_cfg.test_cfg = dict(mode='whole')
    model = MODELS.build(model_cfg).eval()
    dataset = build_split(cfg, 'test_dataloader', nyu_vga)
    sample = dataset[0]
    batch = model.data_preprocessor(
        dict(inputs=[sample['inputs']], data_samples=[sample['data_samples']]))
    outputs = []  # the head's five depths, recorded during predict
    forward = model.decode_head.forward

    def recording_forward(inputs):
        outputs.append(forward(inputs))
        return outputs[-1]

    monkeypatch.setattr(model.decode_head, 'forward', recording_forward)
    with torch.no_grad():
        result = model.predict(batch['inputs'], batch['data_samples'])[0]
    assert len(outputs) == 1  # one forward pass (test_cfg mode whole)
    finest = outputs[0][0]
    assert finest.shape[-2:] == (114, 152)
    head = model.decode_head
    once = F.interpolate(finest, (228, 304), mode='bilinear',
                         align_corners=True).clamp(head.min_depth,
                                                   head.max_depth)
    torch.testing.assert_close(result.pred_depth_map.data, once[0],
                               rtol=0, atol=1e-6)
    metric = METRICS.build(cfg.test_evaluator)
    record = metric.evaluate_sample(result.to_dict())
    assert record['valid_pixels'] == int(
        (result.gt_depth_map.data > 1e-3).sum())
    assert 'edge_f1_0.25' in record


# ---------------------------------------------------------- boundaries
def write_boundaries(root, split, size):
    """One PNG per image: a vertical boundary line at column 100."""
    names = sorted(n[:-4] for n in os.listdir(osp.join(root, 'images', split)))
    folder = osp.join(root, 'edges', split)
    os.makedirs(folder, exist_ok=True)
    for name in names:
        edges = np.zeros(size, np.uint8)
        edges[:, 101] = 255
        cv2.imwrite(osp.join(folder, name + '.png'), edges)
    return names


def test_boundary_maps_from_a_folder_give_dbe(nyu_vga):
    init_default_scope('mmseg')
    ibims = Config.fromfile(IBIMS_CONFIG)
    write_boundaries(nyu_vga, 'test', (480, 640))
    # the NYU fixture's JPEGs stand in for iBims-1's PNG frames
    dataset = build_split(ibims, 'test_dataloader', nyu_vga,
                          img_suffix='.jpg')
    metric = METRICS.build(ibims.test_evaluator)
    for index in range(len(dataset)):
        sample = dataset[index]['data_samples']
        edges = sample.gt_edge_map.data[0].numpy()
        # column 101 of the 640 frame -> column 50 of 320 -> 42 of the crop
        assert edges.shape == (228, 304)
        assert set(np.nonzero(edges)[1]) == {42}
        sample.pred_depth_map = copy.deepcopy(sample.gt_depth_map)
        metric.process({}, [sample.to_dict()])
    result = metric.compute_metrics(metric.results)
    assert 0 <= result['dbe_acc'] <= 10 and 0 <= result['dbe_comp'] <= 10
    assert result['edge_f1_0.25'] == 1.0


def test_missing_boundary_map_is_named(nyu_vga, tmp_path):
    init_default_scope('mmseg')
    ibims = Config.fromfile(IBIMS_CONFIG)
    with pytest.raises(NYUDataError,
                       match=r'kitchen_00000.png: missing file: no boundary'):
        build_split(ibims, 'test_dataloader', nyu_vga, img_suffix='.jpg',
                    data_prefix=dict(img_path='images/test',
                                     depth_map_path='annotations/test',
                                     boundary_map_path=str(tmp_path)))


def test_eigen_config_evaluates_the_full_frame(nyu_vga):
    init_default_scope('mmseg')
    eigen = Config.fromfile(osp.join(REPO, 'configs',
                                     'mrpan_nyu_test_eigen.py'))
    sample = build_split(eigen, 'test_dataloader', nyu_vga)[0]
    assert sample['inputs'].shape == (3, 240, 320)
    assert sample['data_samples'].gt_depth_map.data.shape == (1, 480, 640)
    assert sample['data_samples'].metainfo['ori_shape'] == (480, 640)
    metric = METRICS.build(eigen.test_evaluator)
    assert type(metric.protocol).__name__ == 'EigenProtocol'
    assert metric.boundary_metrics
