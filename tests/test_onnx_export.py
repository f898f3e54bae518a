"""ONNX export (mrpan_mm.deploy, tools/deployment/pytorch2onnx.py)."""
import json
import os.path as osp
import re

import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope
from mmseg.registry import MODELS
from mmseg.structures import SegDataSample

from mrpan_mm.deploy import (DepthNetwork, export_onnx,
                             preprocessing_metadata, sample_input)
from mrpan_mm.testing import save_random_checkpoint
from tools_runner import REPO, TINY_CONFIG, run_tool

PARITY = re.compile(r'max abs diff (\S+) m, max rel diff (\S+)')
MAX_REL = 1e-3


def build_tiny_model():
    init_default_scope('mmseg')
    cfg = Config.fromfile(TINY_CONFIG)
    cfg.model.backbone.init_cfg = None
    torch.manual_seed(0)
    return MODELS.build(cfg.model).eval(), cfg


def test_depth_network_is_the_inference_branch():
    """DepthNetwork(x) == DepthEstimator.predict's depth (whole mode)."""
    model, _ = build_tiny_model()
    for module in model.modules():  # let the SAMs count
        if hasattr(module, 'gamma'):
            module.gamma.data.fill_(1.0)
    inputs = sample_input(model, (64, 96), batch=2)
    samples = [
        SegDataSample(metainfo=dict(img_shape=(64, 96), ori_shape=(64, 96),
                                    pad_shape=(64, 96))) for _ in range(2)
    ]
    with torch.no_grad():
        expected = torch.stack([
            sample.pred_depth_map.data
            for sample in model.predict(inputs, samples)
        ])
        actual = DepthNetwork(model)(inputs)
    assert actual.shape == (2, 1, 64, 96)
    torch.testing.assert_close(actual, expected, rtol=0, atol=0)
    head = model.decode_head
    assert head.min_depth <= actual.min() and actual.max() <= head.max_depth


def test_preprocessing_metadata_and_sample_input():
    model, cfg = build_tiny_model()
    meta = preprocessing_metadata(model)
    assert json.loads(meta['mean']) == pytest.approx(
        cfg.model.data_preprocessor.mean)
    assert json.loads(meta['std']) == pytest.approx(
        cfg.model.data_preprocessor.std)
    assert meta['channel_order'] == 'RGB'  # bgr_to_rgb=True
    inputs = sample_input(model, (8, 10), batch=3)
    mean = torch.tensor(cfg.model.data_preprocessor.mean)[:, None, None]
    std = torch.tensor(cfg.model.data_preprocessor.std)[:, None, None]
    pixels = inputs * std + mean  # back to 0..255 integers
    assert inputs.shape == (3, 3, 8, 10)
    pixels = pixels.round()
    torch.testing.assert_close(inputs * std + mean, pixels, atol=1e-4,
                               rtol=0)
    assert 0 <= pixels.min() and pixels.max() <= 255


def test_export_refuses_opset_below_17(tmp_path):
    model, _ = build_tiny_model()
    with pytest.raises(ValueError, match='opset must be >= 17, got 16'):
        export_onnx(DepthNetwork(model), sample_input(model, (64, 64)),
                    str(tmp_path / 'm.onnx'), opset=16)


def parity_of(stdout: str):
    found = PARITY.search(stdout)
    assert found, stdout
    return float(found.group(1)), float(found.group(2))


def export_random_model(tmp_path, config, shape, *args, timeout):
    """``tools/deployment/pytorch2onnx.py`` on ``config`` with random
    weights at ``shape`` (H, W); checks that ``onnx.checker`` passed.

    Returns:
        (completed process, checkpoint path, ONNX file path)
    """
    checkpoint = str(tmp_path / 'random.pth')
    save_random_checkpoint(config, checkpoint)
    output = str(tmp_path / 'model.onnx')
    proc = run_tool(osp.join('deployment', 'pytorch2onnx.py'), [
        config, checkpoint, '--shape', *map(str, shape), '--output-file',
        output, *args
    ], timeout=timeout)
    assert 'onnx.checker passed' in proc.stdout
    return proc, checkpoint, output


@pytest.mark.slow
def test_export_demo_config_dynamic(tmp_path):
    """The demo model, random weights: dynamic export, checker, ONNX
    Runtime within 1e-3 relative of PyTorch at the traced and at another
    batch and size."""
    import onnx

    from mrpan_mm.apis import DepthInferencer
    from mrpan_mm.deploy import compare_with_pytorch, onnxruntime_session
    config = osp.join(REPO, 'configs', 'mrpan_demo_cpu.py')
    proc, checkpoint, output = export_random_model(
        tmp_path, config, (72, 96), '--dynamic', timeout=900)
    # The SAM's scaled_dot_product_attention: MatMul + Softmax.
    operators = re.search(r'operators: (.*)', proc.stdout).group(1).split()
    assert {'MatMul', 'Softmax', 'Conv', 'Resize'} <= set(operators)
    max_abs, max_rel = parity_of(proc.stdout)
    assert max_rel <= MAX_REL, proc.stdout

    model = onnx.load(output)
    assert model.opset_import[0].version >= 17
    metadata = {prop.key: prop.value for prop in model.metadata_props}
    assert json.loads(metadata['std']) == pytest.approx([58.395, 57.12,
                                                         57.375])
    estimator = DepthInferencer(config, checkpoint, 'cpu',
                                show_progress=False).model
    other = sample_input(estimator, (64, 128), batch=3, seed=1)
    parity = compare_with_pytorch(DepthNetwork(estimator).eval(),
                                  onnxruntime_session(output), other)
    assert parity.max_rel <= MAX_REL, parity
    assert np.isfinite(parity.max_abs)


@pytest.mark.slow
def test_export_senet154_config_small_input(tmp_path):
    """The paper's SENet-154 config (random weights) at 64x80, static.

    ``depth_offset=3`` puts the random model's depth around 3 m, like a
    trained one's (with 0 it sits near the 1 mm clamp, where a relative
    difference measures nothing but rounding).
    """
    proc, _, _ = export_random_model(
        tmp_path, osp.join(REPO, 'configs', 'mrpan_nyu.py'), (64, 80),
        '--cfg-options', 'model.decode_head.depth_offset=3.0', timeout=1800)
    assert parity_of(proc.stdout)[1] <= MAX_REL, proc.stdout
