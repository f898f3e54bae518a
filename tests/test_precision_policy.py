"""The precision policy (:mod:`mrpan_mm.utils.precision`): its table, and
the user paths that ask it, run as a user runs them: ``tools/train.py
--amp``, ``tools/infer.py --amp`` and ``DepthInferencer(amp=True)``.

On a CPU that emulates bf16 (this project's machine) an explicit request
runs bf16 with a warning; the inferencer's test checks that bf16 really
ran (its rounding changes the depth) on any CPU.
"""
import logging
import os.path as osp

import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.runner.amp import autocast as mmengine_autocast

from mrpan_mm.apis import DepthInferencer
from mrpan_mm.testing import make_nyu_fixture, save_random_checkpoint
from mrpan_mm.utils import precision
from tools_runner import TINY_CONFIG, data_root_options, run_tool

cpu_only = pytest.mark.skipif(
    torch.cuda.is_available(), reason='the tools run on the CPU here')
# random weights predict near the 1 mm clamp, where bf16 changes nothing
DEPTH_OFFSET = {'model.decode_head.depth_offset': 3.0}


@pytest.fixture
def logged(monkeypatch):
    """The ``(level, message)`` pairs the policy logs."""
    lines = []
    monkeypatch.setattr(precision, 'print_log',
                        lambda msg, logger, level: lines.append((level, msg)))
    return lines


@pytest.mark.parametrize('device, native, asked, expected, level', [
    ('cuda', False, 'auto', torch.float16, logging.INFO),
    ('cuda:1', True, 'explicit', torch.float16, logging.INFO),
    ('cpu', True, 'auto', torch.bfloat16, logging.INFO),
    ('cpu', True, 'explicit', torch.bfloat16, logging.INFO),
    ('cpu', False, 'auto', None, logging.INFO),
    ('cpu', False, 'explicit', torch.bfloat16, logging.WARNING),
])
def test_policy_table(monkeypatch, logged, device, native, asked,
                      expected, level):
    """Catches: a default that picks emulated bf16 silently, an explicit
    request refused, a decision not logged (or logged twice)."""
    monkeypatch.setattr(precision, 'cpu_has_native_bf16', lambda: native)
    assert precision.autocast_dtype(device, asked, 'X') is expected
    assert [lvl for lvl, _ in logged] == [level]
    message = logged[0][1]
    assert message.startswith('X: ')
    if device == 'cpu' and not native:
        assert 'no native bfloat16' in message
        assert ('fp32' if expected is None else 'bf16 autocast') in message


def test_configured_dtype_and_bad_requests(monkeypatch, logged):
    monkeypatch.setattr(precision, 'cpu_has_native_bf16', lambda: False)
    assert precision.autocast_dtype(
        'cuda', 'auto', 'X', 'bfloat16') is torch.bfloat16
    assert precision.autocast_dtype(
        'cpu', 'explicit', 'X', torch.bfloat16) is torch.bfloat16
    with pytest.raises(ValueError, match='X: CPU autocast supports only '
                       'bfloat16'):
        precision.autocast_dtype('cpu', 'explicit', 'X', 'float16')
    with pytest.raises(ValueError, match="X: request must be one of"):
        precision.autocast_dtype('cpu', 'always', 'X')


def test_autocast_context_follows_the_dtype():
    layer = torch.nn.Linear(4, 4)
    x = torch.randn(2, 4)
    with precision.autocast('cpu', None):
        assert layer(x).dtype == torch.float32
    with precision.autocast(torch.device('cpu'), torch.bfloat16):
        assert layer(x).dtype == torch.bfloat16


@cpu_only
def test_test_loop_autocasts_to_the_policy_dtype():
    """``tools/test.py --amp`` sets MMEngine's ``TestLoop(fp16=True)``,
    which autocasts to the device's default dtype: it must be the one the
    policy gives an explicit request."""
    with mmengine_autocast(enabled=True):
        ran = torch.nn.Linear(4, 4)(torch.randn(2, 4)).dtype
    assert ran is precision.autocast_dtype('cpu', 'explicit', 'test')


@pytest.fixture(scope='module')
def tiny(tmp_path_factory):
    """A 2+2-image NYU fixture and a random checkpoint of the tiny config."""
    folder = tmp_path_factory.mktemp('precision')
    root = str(folder / 'nyu')
    make_nyu_fixture(root, num_train=2, num_test=2, size=(64, 80))
    checkpoint = str(folder / 'random.pth')
    save_random_checkpoint(TINY_CONFIG, checkpoint)
    return folder, root, checkpoint


def tiny_config() -> Config:
    cfg = Config.fromfile(TINY_CONFIG)
    cfg.merge_from_dict(DEPTH_OFFSET)
    return cfg


def assert_bf16_rounding_of(fp32: np.ndarray, bf16: np.ndarray) -> None:
    """``bf16`` differs from ``fp32`` (so bf16 ran), by 2 % of the mean
    depth or less on average (bf16 keeps 8 bits of mantissa)."""
    assert bf16.shape == fp32.shape
    assert not np.array_equal(bf16, fp32)
    assert np.abs(bf16 - fp32).mean() <= 0.02 * np.abs(fp32).mean()


@cpu_only
def test_inferencer_amp_predicts_in_bf16(tiny):
    """``DepthInferencer(amp=True)`` on a list of two images: the policy's
    dtype, two float32 maps at the input size, within bf16 rounding of fp32
    and not equal to it (bf16 ran)."""
    checkpoint = tiny[2]
    images = [np.full((64, 80, 3), value, np.uint8) for value in (60, 180)]
    inferencer = DepthInferencer(tiny_config(), checkpoint, 'cpu',
                                 show_progress=False, amp=True)
    assert inferencer.autocast_dtype is torch.bfloat16
    maps = inferencer(images)['predictions']
    assert [m.shape for m in maps] == [(64, 80), (64, 80)]
    assert all(m.dtype == np.float32 for m in maps)
    inferencer.autocast_dtype = None  # the same model in fp32
    for fp32, bf16 in zip(inferencer(images)['predictions'], maps):
        assert_bf16_rounding_of(fp32, bf16)


@cpu_only
@pytest.mark.slow
def test_infer_tool_amp_predicts_with_the_policy_dtype(tiny):
    """``tools/infer.py --amp`` on a folder of two images writes both
    predictions, autocast as the policy decides (logged by the inferencer;
    that the inferencer's dtype reaches the model is checked above)."""
    folder, root, checkpoint = tiny
    out = folder / 'infer'
    proc = run_tool('infer.py', [
        osp.join(root, 'images', 'test'), '--config', TINY_CONFIG,
        '--checkpoint', checkpoint, '--out', str(out), '--amp'
    ])
    assert len(list(out.glob('*_depth.npy'))) == 2
    assert 'DepthInferencer(amp=True): bf16 autocast' in (proc.stdout +
                                                          proc.stderr)


@cpu_only
@pytest.mark.slow
def test_train_tool_amp_trains_with_the_policy_dtype(tiny):
    """``tools/train.py --amp`` for one iteration: the optimizer wrapper
    logs bf16 (an explicit request, honoured where bf16 is emulated too;
    that its ``cast_dtype`` is what autocasts is in tests/test_engine.py).
    """
    folder, root, _ = tiny
    work_dir = folder / 'train'
    run_tool('train.py', [
        TINY_CONFIG, '--work-dir', str(work_dir), '--amp', '--cfg-options',
        *data_root_options(root), 'train_cfg.max_epochs=1'
    ])
    log = next(work_dir.glob('*/*.log')).read_text()
    assert 'AnyDeviceAmpOptimWrapper: bf16 autocast' in log
    assert 'Epoch(train) [1][1/1]' in log
