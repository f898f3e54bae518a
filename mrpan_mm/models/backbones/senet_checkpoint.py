"""Reading ImageNet SENet weights for :class:`~.senet.SENet`.

Supported files, all read through MMEngine's ``CheckpointLoader``:

* Cadene's ``pretrained-models.pytorch`` files (e.g. ``senet154-c7b49a05.pth``,
  ``se_resnet50-ce0d4300.pth``): a bare state dict written by PyTorch < 0.4.1,
  so BatchNorm layers have no ``num_batches_tracked`` counter;
* timm's ``legacy_*`` state dicts: the same key names, with counters;
* MMEngine checkpoints (``{'state_dict': ..., 'meta': ...}``), from a whole
  segmentor (keys under ``backbone.``) or from ``senet2mmseg.py``.

The ImageNet classifier ``last_linear.*`` is dropped. Everything else must
match the model exactly: a checkpoint of another architecture is refused
rather than partially loaded.
"""
import pickle
import re
from collections import OrderedDict
from typing import Mapping, Optional

import torch
import torch.nn as nn
from mmengine.logging import print_log
from mmengine.runner import CheckpointLoader

CLASSIFIER_PREFIX = 'last_linear.'
BN_COUNTER = 'num_batches_tracked'
MAX_LISTED_KEYS = 10


def load_backbone_state_dict(filename: str,
                             map_location: Optional[str] = 'cpu',
                             prefix: Optional[str] = None) -> OrderedDict:
    """Read the backbone tensors of a SENet checkpoint.

    Args:
        filename (str): Path or URI understood by MMEngine's loader.
        map_location (str, optional): As in ``torch.load``. Default: 'cpu'.
        prefix (str, optional): Keep only keys under this prefix (stripped),
            e.g. 'backbone.' for a whole-model checkpoint. Default: None,
            meaning 'backbone.' if any key has it, else every key.

    Returns:
        OrderedDict[str, Tensor]: Backbone weights, without a DDP
        ``module.`` prefix and without the ImageNet classifier.
    """
    try:
        checkpoint = CheckpointLoader.load_checkpoint(filename, map_location)
    except (RuntimeError, EOFError, pickle.UnpicklingError) as err:
        raise ValueError(
            f'{filename} is not a readable PyTorch checkpoint: {err}') from err
    if not isinstance(checkpoint, Mapping):
        raise ValueError(f'{filename} holds a {type(checkpoint).__name__}, '
                         'expected a state dict')
    state_dict = checkpoint.get('state_dict', checkpoint)
    state_dict = OrderedDict((re.sub(r'^module\.', '', k), v)
                             for k, v in state_dict.items())
    if prefix is None and any(k.startswith('backbone.') for k in state_dict):
        prefix = 'backbone.'
    if prefix:
        state_dict = OrderedDict((k[len(prefix):], v)
                                 for k, v in state_dict.items()
                                 if k.startswith(prefix))
        if not state_dict:
            raise ValueError(f'{filename} has no key starting with {prefix!r}')
    dropped = [k for k in state_dict if k.startswith(CLASSIFIER_PREFIX)]
    if dropped:
        print_log(
            f'{filename}: dropped the ImageNet classifier {dropped}',
            logger='current')
    return OrderedDict(
        (k, v) for k, v in state_dict.items() if k not in dropped)


def _listing(kind: str, keys: list) -> str:
    shown = ', '.join(keys[:MAX_LISTED_KEYS])
    more = ', ...' if len(keys) > MAX_LISTED_KEYS else ''
    return f'{len(keys)} {kind} [{shown}{more}]'


def match_state_dict(model: nn.Module, state_dict: Mapping, source: str,
                     target: str) -> OrderedDict:
    """Check that ``state_dict`` holds exactly ``model``'s tensors.

    Missing BatchNorm ``num_batches_tracked`` counters (PyTorch < 0.4.1
    files) are tolerated and filled with 0; any other missing key, any
    unexpected key and any shape difference raise.

    Args:
        model (nn.Module): The module to be loaded (may live on 'meta').
        state_dict (Mapping[str, Tensor]): Candidate weights.
        source (str): Where the weights come from, for the error message.
        target (str): What the model is, for the error message.

    Returns:
        OrderedDict[str, Tensor]: ``state_dict`` completed with counters,
        ready for ``model.load_state_dict(..., strict=True)``.

    Raises:
        ValueError: Naming the missing, unexpected and mis-shaped keys.
    """
    expected = model.state_dict()
    missing = [
        k for k in expected
        if k not in state_dict and not k.endswith(BN_COUNTER)
    ]
    unexpected = [k for k in state_dict if k not in expected]
    mismatched = [
        f'{k}: checkpoint {tuple(getattr(v, "shape", ()))} '
        f'vs model {tuple(expected[k].shape)}'
        for k, v in state_dict.items()
        if k in expected and getattr(v, 'shape', None) != expected[k].shape
    ]
    if missing or unexpected or mismatched:
        problems = [('missing keys', missing),
                    ('unexpected keys', unexpected),
                    ('shape mismatches', mismatched)]
        raise ValueError(f'{source} does not match {target}: ' + '; '.join(
            _listing(kind, keys) for kind, keys in problems if keys))
    completed = OrderedDict(state_dict)
    for k in expected:
        if k not in completed:
            completed[k] = torch.zeros((), dtype=torch.long)
    return completed
