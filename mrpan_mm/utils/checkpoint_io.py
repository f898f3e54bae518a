"""Checkpoint reading that runs no code from the file, and writing that
survives killed jobs and full disks.

Reading.  A checkpoint is a pickle; unpickling an arbitrary one can run any
code.  :func:`load_checkpoint_file` unpickles with ``torch.load(...,
weights_only=True)`` and allows, for that call only, exactly the Python
objects MMEngine 0.10 training checkpoints hold besides tensors and builtin
containers (:data:`MMENGINE_CHECKPOINT_GLOBALS`).  Any other object is refused
with :class:`UnsafeCheckpointError`, naming the file and the objects' types;
an unreadable file raises :class:`CheckpointFileError` naming the file.
A trusted file holding other objects can be read by naming exactly those
types in ``MRPAN_TRUSTED_GLOBALS`` (comma-separated, as the refusal lists
them): they join the allow-list for that load, which stays weights-only, so
nothing beyond the named types is ever unpickled.
:func:`use_safe_checkpoint_loader` makes MMEngine's loader for local paths
(``load_from``, ``--resume``, ``init_cfg`` ``Pretrained``) this function;
``SafeCheckpointLoadHook`` calls it.

Writing.  MMEngine writes a checkpoint with a plain ``open(path, 'wb')``: a
job killed mid-write leaves a truncated file under the final name, and a full
disk can destroy the file being overwritten.  :class:`AtomicLocalBackend`
(file backend name ``'atomic_local'``) writes to a temporary file in the same
folder, fsyncs it and renames it over the target.  It is used only where a
config asks for it::

    default_hooks = dict(
        checkpoint=dict(backend_args=dict(backend='atomic_local')))
"""
import importlib
import logging
import os
import os.path as osp
import pickle
import re
import tempfile
from pathlib import Path
from typing import List, Union

import numpy as np
import torch
from mmengine.fileio import LocalBackend, register_backend
from mmengine.logging import HistoryBuffer, print_log
from mmengine.runner import CheckpointLoader

from ..compat import HAS_SAFE_GLOBALS, safe_globals

#: Environment variable naming extra types (``module.name``, comma-separated)
#: a trusted checkpoint may hold; they are allowed for the weights-only load.
TRUSTED_GLOBALS_ENV = 'MRPAN_TRUSTED_GLOBALS'

# ``HistoryBuffer.__getstate__`` stores its statistics methods, which pickle
# (protocol 2) writes as ``getattr(HistoryBuffer, 'min')`` and so on.
_HISTORY_BUFFER_STATISTICS = ('min', 'max', 'current', 'mean')


def history_buffer_statistic(owner: type, name: str):
    """The only ``getattr`` an MMEngine checkpoint needs, and nothing else.

    Unpickling maps the checkpoint's ``builtins.getattr`` to this function:
    it returns one of ``HistoryBuffer``'s four default statistics methods and
    refuses every other attribute of every other object.
    """
    if owner is not HistoryBuffer or name not in _HISTORY_BUFFER_STATISTICS:
        raise pickle.UnpicklingError(
            f'getattr({getattr(owner, "__name__", owner)!r}, {name!r}) is not '
            'allowed; only the statistics methods of mmengine HistoryBuffer')
    return getattr(HistoryBuffer, name)


# numpy's numeric dtypes: unpickling a dtype sets its state, which torch
# allows only for allow-listed types (numpy.dtypes.Float64DType, ...).
_NUMERIC_DTYPES = [
    type(np.dtype(t)) for t in (np.bool_, np.int8, np.int16, np.int32,
                                np.int64, np.uint8, np.uint16, np.uint32,
                                np.uint64, np.float16, np.float32, np.float64)
]

#: Globals allowed while unpickling a checkpoint, found by saving an MMEngine
#: 0.10.7 training checkpoint and reading
#: ``torch.serialization.get_unsafe_globals_in_checkpoint``: the message
#: hub's ``HistoryBuffer`` (and its statistics methods), and the numpy
#: arrays and scalars it and the runtime info hold, of numeric dtypes (no
#: object arrays).  The numpy functions are taken from numpy itself so that
#: numpy 1 and 2 both match.
MMENGINE_CHECKPOINT_GLOBALS = [
    HistoryBuffer,
    (history_buffer_statistic, 'builtins.getattr'),
    np.ndarray,
    np.dtype,
    np.zeros(0).__reduce__()[0],  # numpy(._core).multiarray._reconstruct
    np.float64(0).__reduce__()[0],  # numpy(._core).multiarray.scalar
] + _NUMERIC_DTYPES


class CheckpointFileError(RuntimeError):
    """A checkpoint file that cannot be read; the message names the file."""


class UnsafeCheckpointError(CheckpointFileError):
    """A checkpoint holding objects outside the allow-list."""


def trusted_globals() -> List[object]:
    """The objects named in ``MRPAN_TRUSTED_GLOBALS``, imported.

    Raises:
        ValueError: A name that is not ``module.attribute`` or cannot be
            imported, or a builtin (``builtins.eval`` and the like would
            hand the file the interpreter).
    """
    trusted = []
    for name in filter(None, (n.strip() for n in os.environ.get(
            TRUSTED_GLOBALS_ENV, '').split(','))):
        module, _, attribute = name.rpartition('.')
        if not module or module == 'builtins':
            raise ValueError(f'{TRUSTED_GLOBALS_ENV}: {name!r} is not an '
                             'importable module.attribute outside builtins')
        try:
            trusted.append(getattr(importlib.import_module(module),
                                   attribute))
        except (ImportError, AttributeError) as error:
            raise ValueError(f'{TRUSTED_GLOBALS_ENV}: cannot import '
                             f'{name!r}: {error}') from error
    return trusted


def _disallowed_globals(filename: str) -> List[str]:
    """Globals of a zip checkpoint outside torch's and our allow-list, read
    without unpickling (call inside the ``safe_globals`` context)."""
    try:
        return sorted(
            torch.serialization.get_unsafe_globals_in_checkpoint(filename))
    except Exception:  # a legacy (non-zip) file, or an unreadable one
        return []


def _refusal(error: pickle.UnpicklingError, filename: str) -> Exception:
    """The error for a failed weights-only unpickling: an
    :class:`UnsafeCheckpointError` naming the refused objects, or a
    :class:`CheckpointFileError` if the pickle stream itself is broken."""
    reason = str(error).split('WeightsUnpickler error:')[-1].strip()
    reason = reason.split('\n')[0]
    refused = _disallowed_globals(filename) or re.findall(
        r'GLOBAL (\S+)', reason)
    if refused:
        reason = ('objects of types outside the allow-list of MMEngine '
                  f'checkpoints: {", ".join(refused)}')
    elif not re.search(r'allow|getattr|unrecognized function', reason):
        return CheckpointFileError(
            f'checkpoint {filename} is corrupt or not a torch.save file: '
            f'{reason}')
    if not HAS_SAFE_GLOBALS:
        reason += (f' (torch {torch.__version__} cannot allow MMEngine '
                   "checkpoints' objects; torch>=2.5 can)")
    trust = (f' If you trust the file, allow exactly these types: '
             f'{TRUSTED_GLOBALS_ENV}={",".join(refused)}') if refused else ''
    return UnsafeCheckpointError(
        f'refusing to load checkpoint {filename}: {reason}. Unpickling it '
        f'could run code.{trust}')


def _torch_load(filename: str, map_location, weights_only: bool):
    """``torch.load`` whose read errors name the file; refusals of the
    weights-only unpickler (``pickle.UnpicklingError``) pass through."""
    try:
        return torch.load(
            filename, map_location=map_location, weights_only=weights_only)
    except (RuntimeError, EOFError, ValueError, KeyError, OSError,
            pickle.UnpicklingError) as error:
        if weights_only and isinstance(error, pickle.UnpicklingError):
            raise
        detail = str(error).split('\n')[0] or 'unexpected end of file'
        raise CheckpointFileError(
            f'checkpoint {filename} is truncated or corrupt (size '
            f'{osp.getsize(filename)} bytes): {type(error).__name__}: '
            f'{detail}') from error


def load_checkpoint_file(filename: str, map_location=None):
    """Read a local checkpoint without running code from it.

    Args:
        filename: Path of a file written by ``torch.save``.
        map_location: As in ``torch.load``.

    Returns:
        The unpickled object (for MMEngine checkpoints a dict with
        ``meta``, ``state_dict``, ``message_hub``, ``optimizer``, ...).

    Raises:
        FileNotFoundError: No such file.
        UnsafeCheckpointError: The file holds objects other than tensors,
            builtin containers and :data:`MMENGINE_CHECKPOINT_GLOBALS`.
        CheckpointFileError: The file is truncated, corrupt or not a
            checkpoint.
    """
    filename = osp.expanduser(str(filename))
    if not osp.isfile(filename):
        raise FileNotFoundError(f'checkpoint {filename} can not be found.')
    trusted = trusted_globals()
    if trusted:
        print_log(
            f'{TRUSTED_GLOBALS_ENV}: also allowing '
            f'{os.environ[TRUSTED_GLOBALS_ENV]} while reading {filename}',
            'current', level=logging.WARNING)
    with safe_globals(MMENGINE_CHECKPOINT_GLOBALS + trusted):
        try:
            return _torch_load(filename, map_location, weights_only=True)
        except pickle.UnpicklingError as error:
            refusal = _refusal(error, filename)
    raise refusal


def load_from_local_safely(filename: str, map_location=None):
    """MMEngine's local-path loader signature for :func:`load_checkpoint_file`
    (the runner logs the name after ``load_from_``)."""
    return load_checkpoint_file(filename, map_location)


def use_safe_checkpoint_loader() -> None:
    """Make :func:`load_checkpoint_file` MMEngine's loader for local paths
    (``CheckpointLoader``'s default scheme); idempotent."""
    CheckpointLoader.register_scheme(
        prefixes='', loader=load_from_local_safely, force=True)


def atomic_write_bytes(data: bytes, filepath: Union[str, Path]) -> None:
    """Write ``data`` to ``filepath`` through a temporary file and a rename.

    On any failure (full disk, kill, ...) the temporary file is removed and
    an existing ``filepath`` is left as it was; an ``OSError`` is re-raised
    with the target named.
    """
    folder = osp.dirname(osp.abspath(filepath))
    os.makedirs(folder, exist_ok=True)
    fd, tmp_path = tempfile.mkstemp(
        dir=folder, prefix=f'.{osp.basename(filepath)}.', suffix='.tmp')
    try:
        with os.fdopen(fd, 'wb') as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp_path, filepath)
    except BaseException as error:
        if osp.exists(tmp_path):
            os.remove(tmp_path)
        if isinstance(error, OSError):
            raise OSError(
                error.errno,
                f'could not write {filepath} ({error.strerror or error}); '
                'an existing file of that name is unchanged') from error
        raise


@register_backend('atomic_local')
class AtomicLocalBackend(LocalBackend):
    """MMEngine's local file backend with all-or-nothing writes
    (``backend_args=dict(backend='atomic_local')``)."""

    def put(self, obj: bytes, filepath: Union[str, Path]) -> None:
        atomic_write_bytes(obj, filepath)

    def put_text(self,
                 obj: str,
                 filepath: Union[str, Path],
                 encoding: str = 'utf-8') -> None:
        atomic_write_bytes(obj.encode(encoding), filepath)
