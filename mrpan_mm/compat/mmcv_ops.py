"""Pure-PyTorch stand-in for ``mmcv.ops`` when mmcv is installed without
its compiled extension (``mmcv-lite``).

MMSegmentation 1.2 imports two names from ``mmcv.ops`` at module import time
(``point_sample`` and ``sigmoid_focal_loss``); every other op is imported
behind ``try/except ModuleNotFoundError`` or looked up lazily.  MRPAN needs no
compiled op, so when ``mmcv._ext`` is absent we place a small module named
``mmcv.ops`` in :data:`sys.modules` that

* serves ``point_sample`` / ``bilinear_grid_sample`` from mmcv's own
  pure-PyTorch ``mmcv/ops/point_sample.py``,
* serves :func:`sigmoid_focal_loss` implemented below with plain tensor ops,
* raises :class:`ModuleNotFoundError` for any other attribute, which is what
  mmseg's guarded imports expect.

With a full mmcv build (``mmcv._ext`` importable) nothing is changed.
"""
import importlib.util
import os.path as osp
import sys
import types
from typing import Optional

import torch
import torch.nn.functional as F

_PURE_TORCH_SUBMODULE = 'point_sample'


def has_compiled_mmcv_ops() -> bool:
    """Whether the installed mmcv ships its compiled extension."""
    return importlib.util.find_spec('mmcv._ext') is not None


def sigmoid_focal_loss(pred: torch.Tensor,
                       target: torch.Tensor,
                       gamma: float = 2.0,
                       alpha: float = 0.25,
                       weight: Optional[torch.Tensor] = None,
                       reduction: str = 'mean') -> torch.Tensor:
    """Sigmoid focal loss with the semantics of mmcv's compiled op.

    Args:
        pred: Logits of shape (N, C).
        target: Class indices of shape (N,), values in [0, C]; the value C
            marks a sample that is negative for every class.
        gamma: Focusing exponent.
        alpha: Weight of the positive term (``1 - alpha`` for negatives).
        weight: Optional per-class weight of shape (C,), applied to every
            element of a sample according to that sample's target class.
        reduction: ``'none'`` gives the (N, C) elementwise loss, ``'sum'``
            its sum and ``'mean'`` its sum divided by N, as mmcv does.
    """
    num_classes = pred.size(1)
    positive = F.one_hot(target.long(), num_classes + 1)[:, :num_classes]
    positive = positive.to(pred.dtype)
    prob = pred.sigmoid()
    pos_term = -alpha * (1 - prob).pow(gamma) * F.logsigmoid(pred)
    neg_term = -(1 - alpha) * prob.pow(gamma) * F.logsigmoid(-pred)
    loss = positive * pos_term + (1 - positive) * neg_term
    if weight is not None:
        padded = torch.cat([weight, weight.new_ones(1)])
        loss = loss * padded[target.long()].unsqueeze(1)
    if reduction == 'none':
        return loss
    if reduction == 'sum':
        return loss.sum()
    if reduction == 'mean':
        return loss.sum() / pred.size(0)
    raise ValueError(f'unknown reduction {reduction!r}')


def _load_pure_torch_point_sample(ops_dir: str) -> types.ModuleType:
    path = osp.join(ops_dir, f'{_PURE_TORCH_SUBMODULE}.py')
    spec = importlib.util.spec_from_file_location(
        f'mmcv.ops.{_PURE_TORCH_SUBMODULE}', path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def install_mmcv_ops_fallback() -> bool:
    """Install the stand-in ``mmcv.ops`` if mmcv lacks compiled ops.

    Must run before the first ``mmseg`` import of the process.

    Returns:
        True if the stand-in was installed (now or by an earlier call).
    """
    current = sys.modules.get('mmcv.ops')
    if getattr(current, '__mrpan_fallback__', False):
        return True
    if has_compiled_mmcv_ops():
        return False
    import mmcv
    ops_dir = osp.join(osp.dirname(mmcv.__file__), 'ops')
    point_sample_module = _load_pure_torch_point_sample(ops_dir)

    ops = types.ModuleType('mmcv.ops')
    ops.__path__ = [ops_dir]
    ops.__mrpan_fallback__ = True
    ops.point_sample = point_sample_module.point_sample
    ops.bilinear_grid_sample = point_sample_module.bilinear_grid_sample
    ops.sigmoid_focal_loss = sigmoid_focal_loss

    def __getattr__(name: str):
        if name.startswith('__'):
            raise AttributeError(name)
        raise ModuleNotFoundError(
            f'mmcv.ops.{name} needs the compiled mmcv extension (mmcv._ext), '
            'which this mmcv installation (mmcv-lite) does not have. Install '
            'the full mmcv package to use it.')

    ops.__getattr__ = __getattr__
    sys.modules['mmcv.ops'] = ops
    sys.modules[point_sample_module.__name__] = point_sample_module
    mmcv.ops = ops
    return True
