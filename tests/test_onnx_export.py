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
from small_paper_model import SMALL_PAPER_MODEL, option_args
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
    """The tool's own printed comparison (what a user reads)."""
    found = PARITY.search(stdout)
    assert found, stdout
    return float(found.group(1)), float(found.group(2))


def export_random_model(tmp_path, config, shape, *args, timeout,
                        cfg_options=None):
    """``tools/deployment/pytorch2onnx.py`` on ``config`` (changed by
    ``cfg_options``) with random weights at ``shape`` (H, W); checks that
    ``onnx.checker`` passed and that the tool printed its comparison.

    Returns:
        (completed process, checkpoint path, ONNX file path)
    """
    checkpoint = str(tmp_path / 'random.pth')
    save_random_checkpoint(config, checkpoint, cfg_options=cfg_options)
    output = str(tmp_path / 'model.onnx')
    options = ['--cfg-options', *option_args(cfg_options)] \
        if cfg_options else []
    proc = run_tool(osp.join('deployment', 'pytorch2onnx.py'), [
        config, checkpoint, '--shape', *map(str, shape), '--output-file',
        output, *args, *options
    ], timeout=timeout)
    assert 'onnx.checker passed' in proc.stdout
    parity_of(proc.stdout)
    return proc, checkpoint, output


def onnx_vs_checkpoint(config, checkpoint, onnx_file, inputs,
                       cfg_options=None):
    """Largest relative difference between the ``.onnx`` file run by ONNX
    Runtime and the checkpoint's model (built from the config, its state
    dict read here, then ``predict`` in whole mode) on normalised images
    made here, one value per ``(H, W), batch`` of ``inputs``: neither side
    goes through the export tool or ``mrpan_mm.deploy``."""
    import onnxruntime
    cfg = Config.fromfile(config)
    cfg.merge_from_dict(cfg_options or {})
    cfg.model.test_cfg = dict(mode='whole')  # the exported branch
    init_default_scope('mmseg')
    model = MODELS.build(cfg.model).eval()
    weights = torch.load(checkpoint, map_location='cpu', weights_only=True)
    model.load_state_dict(weights['state_dict'], strict=True)
    preprocessor = cfg.model.data_preprocessor
    mean = np.array(preprocessor.mean, np.float32)[:, None, None]
    std = np.array(preprocessor.std, np.float32)[:, None, None]
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = 1
    session = onnxruntime.InferenceSession(
        onnx_file, options, providers=['CPUExecutionProvider'])
    rng = np.random.default_rng(1)
    differences = []
    for shape, batch in inputs:
        pixels = rng.integers(0, 256, (batch, 3, *shape))
        images = ((pixels - mean) / std).astype(np.float32)
        samples = [
            SegDataSample(metainfo=dict(img_shape=shape, ori_shape=shape,
                                        pad_shape=shape))
            for _ in range(batch)
        ]
        with torch.no_grad():
            expected = torch.stack([
                sample.pred_depth_map.data for sample in model.predict(
                    torch.from_numpy(images), samples)
            ]).numpy()
        actual, = session.run(None, {session.get_inputs()[0].name: images})
        assert actual.shape == expected.shape == (batch, 1, *shape)
        differences.append(
            float((np.abs(actual - expected) / np.abs(expected)).max()))
    return differences


@pytest.mark.slow
def test_export_demo_config_dynamic(tmp_path):
    """The demo model, random weights, through the tool with ``--dynamic
    --latency``: checker, metadata, the SAM's attention in the graph, the
    latency line; ONNX Runtime within 1e-3 relative of the checkpoint's
    PyTorch model at the traced and at another batch and size.

    Catches: an exported graph that is not the checkpoint's model (e.g.
    the tool exporting random or unloaded weights, or a wrong output
    branch): the comparison is made here, independently of the tool's
    own, which would pass if it compared the exported model with itself.
    """
    import onnx
    config = osp.join(REPO, 'configs', 'mrpan_demo_cpu.py')
    proc, checkpoint, output = export_random_model(
        tmp_path, config, (72, 96), '--dynamic', '--latency', '2',
        timeout=900)
    # The SAM's scaled_dot_product_attention: MatMul + Softmax.
    operators = re.search(r'operators: (.*)', proc.stdout).group(1).split()
    assert {'MatMul', 'Softmax', 'Conv', 'Resize'} <= set(operators)
    assert re.search(r'latency \(median ms, \d+ threads\): onnxruntime '
                     r'[\d.]+, torch_fp32 [\d.]+', proc.stdout), proc.stdout

    model = onnx.load(output)
    assert model.opset_import[0].version >= 17
    metadata = {prop.key: prop.value for prop in model.metadata_props}
    assert json.loads(metadata['std']) == pytest.approx([58.395, 57.12,
                                                         57.375])
    # the traced input, then another batch and size
    max_rel = onnx_vs_checkpoint(config, checkpoint, output,
                                 [((72, 96), 1), ((64, 128), 3)])
    assert max(max_rel) <= MAX_REL, max_rel


@pytest.mark.slow
def test_export_paper_config_small_input(tmp_path):
    """The paper's config (``mrpan_nyu.py``: SAM on every level without
    key pooling, SARPN's factored projection order, RRM) at test size
    (:mod:`small_paper_model`: SE-ResNeXt-26 instead of SENet-154, a
    16-channel neck and head), static at 64x80.  Its graph has the same
    operator types as the full SENet-154 export (compared once by hand:
    the export of SENet-154 takes a minute of CPU and a 1 GB file).

    ``depth_offset=3`` puts the random model's depth around 3 m, like a
    trained one's (with 0 it sits near the 1 mm clamp, where a relative
    difference measures nothing but rounding).
    """
    config = osp.join(REPO, 'configs', 'mrpan_nyu.py')
    options = dict(SMALL_PAPER_MODEL,
                   **{'model.decode_head.depth_offset': 3.0})
    _, checkpoint, output = export_random_model(
        tmp_path, config, (64, 80), timeout=900, cfg_options=options)
    max_rel, = onnx_vs_checkpoint(config, checkpoint, output,
                                  [((64, 80), 1)], options)
    assert max_rel <= MAX_REL, max_rel
