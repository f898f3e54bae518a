"""Checkpoint reading and writing that survive torch>=2.6 and killed jobs.

* torch>=2.6 defaults ``torch.load`` to ``weights_only=True``; MMEngine
  0.10 checkpoints hold ``HistoryBuffer`` objects and numpy scalars, so
  ``--resume`` and ``load_from`` fail.  We re-register MMEngine's loader for
  local paths with ``weights_only=False``: these are files the user named.
* MMEngine writes a checkpoint with a plain ``open(path, 'wb')``; a job killed
  mid-write leaves a truncated file under the final name.  The local file
  backend is replaced by one that writes to a temporary file in the same
  folder, fsyncs it and renames it over the target, so a checkpoint either
  appears complete or not at all.
"""
import os
import os.path as osp
import tempfile
from pathlib import Path
from typing import Union

import torch
from mmengine.fileio import LocalBackend, register_backend
from mmengine.runner import CheckpointLoader


def load_local_checkpoint(filename: str, map_location=None):
    """Load a local checkpoint, allowing the Python objects MMEngine saves."""
    filename = osp.expanduser(filename)
    if not osp.isfile(filename):
        raise FileNotFoundError(f'{filename} can not be found.')
    return torch.load(filename, map_location=map_location, weights_only=False)


def atomic_write_bytes(data: bytes, filepath: Union[str, Path]) -> None:
    """Write ``data`` to ``filepath`` through a temporary file and a rename."""
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
    except BaseException:
        if osp.exists(tmp_path):
            os.remove(tmp_path)
        raise


class AtomicLocalBackend(LocalBackend):
    """MMEngine's local file backend with all-or-nothing writes."""

    def put(self, obj: bytes, filepath: Union[str, Path]) -> None:
        atomic_write_bytes(obj, filepath)

    def put_text(self,
                 obj: str,
                 filepath: Union[str, Path],
                 encoding: str = 'utf-8') -> None:
        atomic_write_bytes(obj.encode(encoding), filepath)


def install_checkpoint_io() -> None:
    """Register the loader and the atomic backend (idempotent)."""
    CheckpointLoader.register_scheme(prefixes='', force=True)(
        load_local_checkpoint)
    register_backend('local', AtomicLocalBackend, force=True, prefixes='')
