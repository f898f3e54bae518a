"""Depth panels: layout, error-map colours, visualizer backends."""
import os.path as osp

import cv2
import numpy as np
import pytest
import torch
from mmengine.structures import PixelData
from mmseg.registry import VISUALIZERS
from mmseg.structures import SegDataSample

from mrpan_mm.visualization import (ERROR_COLOURS, GOOD, NO_DEPTH, OVER, UNDER,
                                    classify_errors, colorize_depth,
                                    render_depth_panel)

H, W, BAND = 30, 40, 12


def scene():
    """RGB, gt and a pred with one known error class per quadrant."""
    rng = np.random.default_rng(0)
    image = rng.integers(0, 255, (H, W, 3), dtype=np.uint8)
    gt = np.tile(np.linspace(1.0, 3.0, W, dtype=np.float32), (H, 1))
    pred = gt.copy()
    pred[:15, :20] *= 1.1  # good
    pred[:15, 20:] *= 1.5  # too far
    pred[15:, :20] *= 0.7  # too near
    gt[15:, 20:] = 0.0  # no measurement
    expected = np.full((H, W), NO_DEPTH)
    expected[:15, :20], expected[:15,
                                 20:], expected[15:, :20] = (GOOD, OVER, UNDER)
    return image, pred, gt, expected


def test_classify_errors_boundaries():
    gt = np.array([[2.0, 2.0, 2.0, 2.0, 0.0, np.nan]])
    pred = np.array([[2.49, 2.5, 1.61, 1.6, 1.0, 1.0]])
    assert classify_errors(
        pred, gt).tolist() == [[GOOD, OVER, GOOD, UNDER, NO_DEPTH, NO_DEPTH]]


def test_colorize_depth_range_and_invalid():
    depth = np.array([[0.0, 1.0, 3.0, 5.0]])
    rgb = colorize_depth(depth, 1.0, 3.0)
    assert rgb.dtype == np.uint8 and rgb.shape == (1, 4, 3)
    assert (rgb[0, 0] == 0).all()
    assert (rgb[0, 2] == rgb[0, 3]).all()  # clipped at vmax
    assert not (rgb[0, 1] == rgb[0, 2]).all()
    with pytest.raises(ValueError, match='vmax > vmin'):
        colorize_depth(depth, 2.0, 2.0)


def test_panel_layout_and_error_colours():
    image, pred, gt, expected = scene()
    panel = render_depth_panel(image, pred, gt, band=BAND)
    assert panel.shape == (BAND + H + BAND, 4 * W, 3)
    assert (panel[BAND:BAND + H, :W] == image).all()
    error = panel[BAND:BAND + H, 3 * W:]
    for cls, colour in ERROR_COLOURS.items():
        assert (error[expected == cls] == colour).all()
    # both depth tiles use the valid ground-truth range [1, 3] m
    gt_range = gt[gt > 0].min(), gt[gt > 0].max()
    assert (panel[BAND:BAND + H, W:2 * W] == colorize_depth(gt,
                                                            *gt_range)).all()
    assert (panel[BAND:BAND + H,
                  2 * W:3 * W] == colorize_depth(pred, *gt_range)).all()


def test_panel_without_ground_truth():
    image, pred, _, _ = scene()
    panel = render_depth_panel(image, pred=pred[::2, ::2], band=BAND)
    assert panel.shape == (BAND + H + BAND, 2 * W, 3)


def test_visualizer_writes_panel_through_backend(tmp_path):
    image, pred, gt, expected = scene()
    visualizer = VISUALIZERS.build(
        dict(type='DepthPanelVisualizer',
             name='panel_test',
             vis_backends=[dict(type='LocalVisBackend')],
             save_dir=str(tmp_path),
             band=BAND))
    sample = SegDataSample(
        gt_depth_map=PixelData(data=torch.from_numpy(gt)[None]),
        pred_depth_map=PixelData(data=torch.from_numpy(pred)[None]))
    visualizer.add_datasample('test_kitchen_00001.jpg', image, sample, step=3)
    path = osp.join(tmp_path, 'vis_data', 'vis_image',
                    'test_kitchen_00001.jpg_3.png')
    saved = cv2.imread(path)[..., ::-1]
    assert saved.shape == (BAND + H + BAND, 4 * W, 3)
    error = saved[BAND:BAND + H, 3 * W:]
    assert (error[expected == OVER] == ERROR_COLOURS[OVER]).all()

    out_file = tmp_path / 'pred_only.png'
    visualizer.add_datasample('x',
                              image,
                              sample,
                              draw_gt=False,
                              out_file=str(out_file))
    assert cv2.imread(str(out_file)).shape == (BAND + H + BAND, 2 * W, 3)


def test_seg_visualization_hook_draws_panels(tmp_path):
    """The path of ``tools/test.py --show-dir``: mmseg's hook -> our panel."""
    from types import SimpleNamespace

    from mmseg.engine.hooks import SegVisualizationHook
    image, pred, gt, _ = scene()
    img_path = str(tmp_path / 'bedroom_00042.jpg')
    cv2.imwrite(img_path, image[..., ::-1])
    VISUALIZERS.build(
        dict(type='DepthPanelVisualizer',
             name='hook_test',
             vis_backends=[dict(type='LocalVisBackend')],
             save_dir=str(tmp_path / 'show'),
             band=BAND))
    hook = SegVisualizationHook(draw=True, interval=1)
    output = SegDataSample(
        metainfo=dict(img_path=img_path),
        gt_depth_map=PixelData(data=torch.from_numpy(gt)[None]),
        pred_depth_map=PixelData(data=torch.from_numpy(pred)[None]))
    hook.after_test_iter(SimpleNamespace(iter=0), 0, {}, [output])
    saved = cv2.imread(
        str(tmp_path / 'show' / 'vis_data' / 'vis_image' /
            'test_bedroom_00042.jpg_0.png'))
    assert saved.shape == (BAND + H + BAND, 4 * W, 3)


def test_panel_rgb_is_the_evaluated_crop():
    """Hu's test chain: 480x640 file, 240x320 resize, crop (8, 6, 312, 234)
    -> the panel shows rows 12:468, columns 16:624 of the file."""
    from mrpan_mm.visualization.depth_panel_visualizer import \
        crop_to_evaluated_region
    image = np.arange(480 * 640 * 3, dtype=np.int64).reshape(480, 640, 3)
    meta = dict(crop_bbox=(8, 6, 312, 234), scale_factor=(0.5, 0.5))
    np.testing.assert_array_equal(crop_to_evaluated_region(image, meta),
                                  image[12:468, 16:624])
    assert crop_to_evaluated_region(image, {}) is image
