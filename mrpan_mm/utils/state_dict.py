"""Whether a checkpoint's weights fit a model: the one comparison of state
dicts in this package.

:func:`check_state_dict` is used by every strict load: the strict
checkpoint-loading hook (``load_from``, ``--resume``, testing), the
encoders' ``Pretrained`` weights and :class:`~mrpan_mm.apis.DepthInferencer`.
A mismatch raises :class:`CheckpointMismatchError`, worded the same way on
every path, naming the file and listing the keys that differ::

    checkpoint a.pth does not match the model of this config:
      1 missing keys (in the model, not the checkpoint):
        decode_head.conv.bias
      1 mis-shaped keys:
        neck.proj.weight: checkpoint (8, 3, 3, 3), model (4, 3, 3, 3)
"""
import re
from collections import OrderedDict
from typing import List, Mapping, Sequence

import torch
import torch.nn as nn
from mmengine.logging import print_log

#: BatchNorm's step counter, absent from PyTorch < 0.4.1 files and ignored by
#: MMEngine; a missing one is tolerated and loaded as 0.
BN_COUNTER = 'num_batches_tracked'


class CheckpointMismatchError(ValueError):
    """A checkpoint whose weights do not fit the model."""


def strip_ddp_prefix(state_dict: Mapping) -> OrderedDict:
    """``state_dict`` with the ``module.`` prefix DDP gives every key
    removed (keys without it are kept as they are)."""
    return OrderedDict(
        (re.sub(r'^module\.', '', k), v) for k, v in state_dict.items())


def _shape(value) -> str:
    return str(tuple(value.shape)) if hasattr(value, 'shape') else \
        type(value).__name__


def key_listing(title: str, keys: List[str],
                max_listed: int = 20) -> List[str]:
    """Indented lines naming ``len(keys)`` keys of one kind, at most
    ``max_listed`` of them (none for no keys): the format of every key
    list this package logs or raises."""
    if not keys:
        return []
    more = len(keys) - max_listed
    return ([f'  {len(keys)} {title}:'] +
            [f'    {k}' for k in keys[:max_listed]] +
            ([f'    ... and {more} more'] if more > 0 else []))


def check_state_dict(model: nn.Module,
                     state_dict: Mapping,
                     source: str,
                     target: str = 'the model of this config',
                     new_keys: Sequence[str] = (),
                     max_listed: int = 20) -> OrderedDict:
    """Check that ``state_dict`` holds exactly ``model``'s tensors.

    Keys are compared after :func:`strip_ddp_prefix`.  Missing BatchNorm
    ``num_batches_tracked`` counters are tolerated (filled with 0) and
    missing keys matching one of ``new_keys`` keep the model's current
    values (logged); any other missing key, any unexpected key and any
    shape difference raise.

    Args:
        model: The module to be loaded (may live on ``'meta'``).
        state_dict: Candidate weights, key -> tensor.
        source: The checkpoint file, for the error message.
        target: What ``model`` is, for the messages, e.g.
            ``'SENet(senet154)'``.
        new_keys: Regular expressions (``re.match``) of model keys the
            checkpoint may lack, e.g. layers an encoder adds to its
            ImageNet classifier.
        max_listed: Keys listed per kind of mismatch (the count is given).

    Returns:
        ``state_dict`` without the DDP prefix, completed with the tolerated
        keys: ready for ``model.load_state_dict(..., strict=True)``.

    Raises:
        CheckpointMismatchError: Naming ``source`` and listing the missing,
            unexpected and mis-shaped keys.
    """
    loaded = strip_ddp_prefix(state_dict)
    expected = model.state_dict()
    absent = [k for k in expected if k not in loaded]
    kept = [k for k in absent if any(re.match(p, k) for p in new_keys)]
    missing = [
        k for k in absent if k not in kept and not k.endswith(BN_COUNTER)
    ]
    unexpected = [k for k in loaded if k not in expected]
    misshaped = [
        f'{k}: checkpoint {_shape(v)}, model {tuple(expected[k].shape)}'
        for k, v in loaded.items()
        if k in expected and getattr(v, 'shape', None) != expected[k].shape
    ]
    problems = (
        key_listing('missing keys (in the model, not the checkpoint)',
                    missing, max_listed) +
        key_listing('unexpected keys (in the checkpoint, not the model)',
                    unexpected, max_listed) +
        key_listing('mis-shaped keys', misshaped, max_listed))
    if problems:
        raise CheckpointMismatchError(
            f'checkpoint {source} does not match {target}:\n' +
            '\n'.join(problems))
    if kept:
        print_log('\n'.join([f'{target}: not in {source}, initialised:'] +
                            key_listing('new keys', kept, max_listed)),
                  logger='current')
    for k in absent:
        loaded[k] = expected[k] if k in kept else torch.zeros(
            (), dtype=torch.long)
    return loaded
