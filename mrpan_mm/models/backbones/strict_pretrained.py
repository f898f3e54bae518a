"""Strict loading of ImageNet encoder weights.

MMEngine's ``dict(type='Pretrained', checkpoint=...)`` initialiser loads with
``strict=False``: a file of another architecture leaves the encoder random
and only logs a warning. The encoders of this package (:class:`~.SENet`,
:class:`~.FiveLevelEncoder`) read their ``Pretrained`` entry themselves and
load it through :func:`load_pretrained`, which refuses any file that does not
hold exactly the encoder's tensors, listing the keys that differ
(:func:`mrpan_mm.utils.check_state_dict`).

A ``Pretrained`` entry accepts, besides ``checkpoint``:

* ``prefix``: keep only the checkpoint keys under this prefix (stripped).
  Default: ``'backbone.'`` if any key has it (MMPretrain / MMSegmentation
  files), else every key (bare state dicts: Cadene, timm, torchvision);
* ``ignore_keys``: regular expressions (``re.match`` from the start of the
  key, after the prefix) of checkpoint keys that are not loaded, e.g. an
  ImageNet classifier ``(r'head\\.fc\\.',)``; added to the encoder's own;
* ``rename_keys``: ``(pattern, replacement)`` pairs of ``re.sub`` applied
  to the checkpoint keys after ``ignore_keys``, for files in an older key
  layout of the same encoder;
* ``new_keys``: regular expressions of *model* keys the checkpoint may lack
  (layers a dense-prediction encoder adds to the classifier, e.g.
  MMPretrain ConvNeXt's ``norm0``-``norm2``); they keep their
  initialisation;
* ``map_location``: as in ``torch.load``. Default: ``'cpu'``.

Readable files: PyTorch pickles through MMEngine's ``CheckpointLoader``
(bare state dicts or ``{'state_dict': ...}``, a DDP ``module.`` prefix) and
``*.safetensors`` files (timm's Hugging Face releases).
"""
import pickle
import re
from collections import OrderedDict
from typing import Mapping, Optional, Sequence

import torch.nn as nn
from mmengine.logging import print_log
from mmengine.runner import CheckpointLoader

from ...utils.state_dict import (check_state_dict, key_listing,
                                 strip_ddp_prefix)


def _read_file(filename: str, map_location: Optional[str]) -> Mapping:
    if str(filename).endswith('.safetensors'):
        from safetensors import SafetensorError
        from safetensors.torch import load_file
        try:
            return load_file(filename, device=map_location or 'cpu')
        except SafetensorError as err:
            raise ValueError(f'{filename} is not a readable safetensors '
                             f'file: {err}') from err
    try:
        checkpoint = CheckpointLoader.load_checkpoint(filename, map_location)
    except (RuntimeError, EOFError, pickle.UnpicklingError) as err:
        raise ValueError(
            f'{filename} is not a readable PyTorch checkpoint: {err}') from err
    if not isinstance(checkpoint, Mapping):
        raise ValueError(f'{filename} holds a {type(checkpoint).__name__}, '
                         'expected a state dict')
    return checkpoint.get('state_dict', checkpoint)


def read_state_dict(filename: str,
                    map_location: Optional[str] = 'cpu',
                    prefix: Optional[str] = None) -> OrderedDict:
    """Read the tensors of a checkpoint file.

    Args:
        filename (str): Path or URI understood by MMEngine's loader, or a
            ``.safetensors`` file.
        map_location (str, optional): As in ``torch.load``. Default: 'cpu'.
        prefix (str, optional): Keep only keys under this prefix (stripped),
            e.g. 'backbone.' for a whole-model checkpoint. Default: None,
            meaning 'backbone.' if any key has it, else every key.

    Returns:
        OrderedDict[str, Tensor]: The weights, without a DDP ``module.``
        prefix.

    Raises:
        ValueError: If the file is not a state dict or has no key under
            ``prefix``.
    """
    state_dict = strip_ddp_prefix(_read_file(filename, map_location))
    if prefix is None and any(k.startswith('backbone.') for k in state_dict):
        prefix = 'backbone.'
    if prefix:
        state_dict = OrderedDict((k[len(prefix):], v)
                                 for k, v in state_dict.items()
                                 if k.startswith(prefix))
        if not state_dict:
            raise ValueError(f'{filename} has no key starting with {prefix!r}')
    return state_dict


def drop_keys(state_dict: Mapping, patterns: Sequence[str],
              source: str) -> OrderedDict:
    """``state_dict`` without the keys matching any of ``patterns``
    (``re.match``), logging what was dropped."""
    dropped = [
        k for k in state_dict if any(re.match(p, k) for p in patterns)
    ]
    if dropped:
        print_log('\n'.join([f'{source}: not loading'] +
                            key_listing('keys', dropped)),
                  logger='current')
    dropped = set(dropped)
    return OrderedDict(
        (k, v) for k, v in state_dict.items() if k not in dropped)


def pretrained_entry(init_cfg) -> Optional[dict]:
    """The last ``type='Pretrained'`` entry of an ``init_cfg`` (a dict or a
    list of dicts), or None."""
    entries = init_cfg if isinstance(init_cfg, list) else [init_cfg]
    pretrained = [c for c in entries if c and c['type'] == 'Pretrained']
    return pretrained[-1] if pretrained else None


def checked_state_dict(module: nn.Module,
                       entry: Mapping,
                       target: str,
                       ignore_keys: Sequence[str] = ()) -> OrderedDict:
    """Read ``entry['checkpoint']`` and check it against ``module``.

    Args:
        module (nn.Module): The module to be loaded (may live on 'meta').
        entry (Mapping): A ``Pretrained`` init entry, see the module doc.
        target (str): What ``module`` is, for messages.
        ignore_keys (Sequence[str]): The encoder's own checkpoint keys not to
            load (its ImageNet classifier); ``entry['ignore_keys']`` adds to
            them. Default: ().

    Returns:
        OrderedDict[str, Tensor]: Weights for a strict load into ``module``.

    Raises:
        CheckpointMismatchError: The file does not hold exactly ``module``'s
            tensors (see :func:`mrpan_mm.utils.check_state_dict`).
    """
    checkpoint = entry['checkpoint']
    state_dict = read_state_dict(
        checkpoint,
        map_location=entry.get('map_location', 'cpu'),
        prefix=entry.get('prefix'))
    state_dict = drop_keys(
        state_dict,
        tuple(ignore_keys) + tuple(entry.get('ignore_keys', ())), checkpoint)
    for pattern, replacement in entry.get('rename_keys', ()):
        state_dict = OrderedDict((re.sub(pattern, replacement, k), v)
                                 for k, v in state_dict.items())
    return check_state_dict(
        module,
        state_dict,
        source=checkpoint,
        target=target,
        new_keys=entry.get('new_keys', ()))


def load_pretrained(module: nn.Module,
                    entry: Mapping,
                    target: str,
                    ignore_keys: Sequence[str] = ()) -> int:
    """Load a ``Pretrained`` entry into ``module`` strictly.

    See :func:`checked_state_dict` for the arguments.

    Returns:
        int: Number of tensors loaded.
    """
    state_dict = checked_state_dict(module, entry, target, ignore_keys)
    module.load_state_dict(state_dict, strict=True)
    print_log(
        f'{target}: loaded {len(state_dict)} tensors from '
        f'{entry["checkpoint"]}',
        logger='current')
    return len(state_dict)
