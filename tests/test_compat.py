"""The mmcv-lite stand-in for ``mmcv.ops``."""
import importlib
import sys

import numpy as np
import pytest
import torch

from mrpan_mm.compat import has_compiled_mmcv_ops, sigmoid_focal_loss

needs_fallback = pytest.mark.skipif(
    has_compiled_mmcv_ops(), reason='full mmcv installed: no stand-in used')


def numpy_focal_loss(logits, target, gamma, alpha):
    """Focal loss of Lin et al. written out per element."""
    prob = 1.0 / (1.0 + np.exp(-logits))
    out = np.zeros_like(logits)
    for n in range(logits.shape[0]):
        for c in range(logits.shape[1]):
            if target[n] == c:
                out[n, c] = -alpha * (1 - prob[n, c])**gamma * np.log(
                    prob[n, c])
            else:
                out[n, c] = -(1 - alpha) * prob[n, c]**gamma * np.log(
                    1 - prob[n, c])
    return out


@pytest.mark.parametrize('gamma,alpha', [(2.0, 0.25), (1.5, 0.6)])
def test_sigmoid_focal_loss_matches_definition(gamma, alpha):
    rng = np.random.default_rng(0)
    logits = rng.normal(0, 2, size=(7, 4))
    target = rng.integers(0, 5, size=7)  # 4 = negative for every class
    ours = sigmoid_focal_loss(
        torch.from_numpy(logits), torch.from_numpy(target), gamma, alpha,
        None, 'none')
    expected = numpy_focal_loss(logits, target, gamma, alpha)
    np.testing.assert_allclose(ours.numpy(), expected, atol=1e-10)
    total = sigmoid_focal_loss(
        torch.from_numpy(logits), torch.from_numpy(target), gamma, alpha,
        None, 'mean')
    assert total.item() == pytest.approx(expected.sum() / 7)


def test_sigmoid_focal_loss_class_weight_and_bad_reduction():
    logits = torch.randn(5, 3, dtype=torch.float64)
    target = torch.tensor([0, 1, 2, 3, 1])
    weight = torch.tensor([1.0, 2.0, 3.0], dtype=torch.float64)
    plain = sigmoid_focal_loss(logits, target, 2.0, 0.25, None, 'none')
    weighted = sigmoid_focal_loss(logits, target, 2.0, 0.25, weight, 'none')
    per_sample = torch.tensor([1.0, 2.0, 3.0, 1.0, 2.0], dtype=torch.float64)
    torch.testing.assert_close(weighted, plain * per_sample[:, None])
    with pytest.raises(ValueError, match='reduction'):
        sigmoid_focal_loss(logits, target, reduction='avg')


@needs_fallback
def test_mmseg_focal_loss_runs_through_stand_in():
    from mmseg.models.losses.focal_loss import (py_sigmoid_focal_loss,
                                                sigmoid_focal_loss as mmseg_fl)
    logits = torch.randn(6, 3)
    target = torch.tensor([0, 2, 1, 1, 0, 2])
    one_hot = torch.nn.functional.one_hot(target, 3).float()
    compiled_path = mmseg_fl(logits, target, one_hot, alpha=0.3)
    python_path = py_sigmoid_focal_loss(logits, one_hot, alpha=0.3)
    torch.testing.assert_close(compiled_path, python_path)


@needs_fallback
def test_every_mmseg_subpackage_imports_and_other_ops_are_missing():
    for name in ('mmseg.models', 'mmseg.datasets', 'mmseg.evaluation',
                 'mmseg.apis', 'mmseg.utils', 'mmseg.visualization'):
        importlib.import_module(name)
    ops = sys.modules['mmcv.ops']
    assert callable(ops.point_sample)
    with pytest.raises(ModuleNotFoundError, match='mmcv._ext'):
        from mmcv.ops import CrissCrossAttention  # noqa: F401
    assert not hasattr(ops, '__wrapped__')


@needs_fallback
def test_point_sample_is_mmcv_pure_torch_version():
    from mmcv.ops import point_sample
    feats = torch.arange(16.0).view(1, 1, 4, 4)
    centres = torch.tensor([[[0.125, 0.125], [0.875, 0.625]]])
    out = point_sample(feats, centres, align_corners=False)
    torch.testing.assert_close(out, torch.tensor([[[0.0, 11.0]]]))
