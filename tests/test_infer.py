"""tools/infer.py end to end with a tiny DepthEstimator."""
import os.path as osp
import sys

import cv2
import numpy as np
import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F
from mmengine.model import BaseModule
from mmseg.apis import init_model
from mmseg.registry import MODELS

sys.path.insert(0, osp.join(osp.dirname(osp.dirname(__file__)), 'tools'))
import infer  # noqa: E402

CONFIG = """
model = dict(
    type='DepthEstimator',
    data_preprocessor=dict(
        type='SegDataPreProcessor', mean=[123.7, 116.3, 103.5],
        std=[58.4, 57.1, 57.4], bgr_to_rgb=True, size_divisor=32,
        seg_pad_val=0),
    backbone=dict(type='ResNet', depth=18, stem_channels=8, base_channels=4,
                  num_stages=2, strides=(1, 2), dilations=(1, 1),
                  out_indices=(1, )),
    decode_head=dict(type='InferTestDepthHead', in_channels=8),
    test_cfg=dict(mode='whole'))
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=(64, 48), keep_ratio=False),
    dict(type='LoadDepthAnnotation', depth_rescale_factor=1e-3),
    dict(type='PackSegInputs'),
]
"""


@MODELS.register_module()
class InferTestDepthHead(BaseModule):
    """Test-only head: 1x1 conv + softplus on the last feature, metres."""
    num_classes = out_channels = 1
    align_corners = False

    def __init__(self, in_channels: int):
        super().__init__()
        self.conv = nn.Conv2d(in_channels, 1, 1)

    def predict(self, feats, batch_img_metas, test_cfg):
        meta = batch_img_metas[0]
        depth = F.softplus(self.conv(feats[-1])) + 0.5
        return F.interpolate(depth,
                             size=meta.get('pad_shape', meta['img_shape']),
                             mode='bilinear')


@pytest.fixture
def model_files(tmp_path):
    config = tmp_path / 'tiny_depth.py'
    config.write_text(CONFIG)
    torch.manual_seed(0)
    model = init_model(str(config), None, 'cpu')
    with torch.no_grad():
        model.decode_head.conv.bias.fill_(1.0)
    checkpoint = tmp_path / 'tiny.pth'
    torch.save({'state_dict': model.state_dict()}, checkpoint)
    return str(config), str(checkpoint)


def write_images(folder, sizes):
    folder.mkdir()
    rng = np.random.default_rng(0)
    for index, (height, width) in enumerate(sizes):
        image = rng.integers(0, 255, (height, width, 3), dtype=np.uint8)
        cv2.imwrite(str(folder / f'room_{index}.jpg'), image)
    return folder


def test_folder_of_mixed_sizes(tmp_path, model_files):
    config, checkpoint = model_files
    images = write_images(tmp_path / 'images', [(50, 70), (64, 80)])
    out = tmp_path / 'out'
    infer.main([
        str(images), '--config', config, '--checkpoint', checkpoint, '--out',
        str(out)
    ])
    model = infer.build_model(config, checkpoint, 'cpu')
    for index, shape in enumerate([(50, 70), (64, 80)]):
        depth = cv2.imread(str(out / f'room_{index}_depth.png'),
                           cv2.IMREAD_UNCHANGED)
        colour = cv2.imread(str(out / f'room_{index}_color.png'))
        assert depth.dtype == np.uint16 and depth.shape == shape
        assert colour.shape == shape + (3, )
        image = cv2.imread(str(images / f'room_{index}.jpg'))
        expected = infer.inference_model(model, image).pred_depth_map.data[0]
        expected_mm = np.round(expected.numpy() * 1000).astype(np.uint16)
        assert np.array_equal(depth, expected_mm)
        assert depth.min() >= 500  # softplus + 0.5 m head


def test_load_uses_checkpoint_weights(model_files):
    config, checkpoint = model_files
    model = infer.build_model(config, checkpoint, 'cpu')
    assert float(model.decode_head.conv.bias) == 1.0


def test_unreadable_image_names_file(tmp_path, model_files):
    config, checkpoint = model_files
    folder = write_images(tmp_path / 'images', [(40, 40)])
    (folder / 'broken.png').write_bytes(b'not a png')
    with pytest.raises(SystemExit, match='broken.png'):
        infer.main([
            str(folder), '--config', config, '--checkpoint', checkpoint,
            '--out',
            str(tmp_path / 'out')
        ])
    with pytest.raises(SystemExit, match='no such image or folder'):
        infer.main([
            str(tmp_path / 'missing'), '--config', config, '--checkpoint',
            checkpoint, '--out',
            str(tmp_path)
        ])
