"""Checkpoint loading under torch>=2.6 and atomic writes."""
import os

import numpy as np
import pytest
import torch
from mmengine.fileio import get_file_backend
from mmengine.logging import HistoryBuffer
from mmengine.runner import CheckpointLoader

from mrpan_mm.utils import AtomicLocalBackend, atomic_write_bytes


def test_local_loader_reads_mmengine_objects(tmp_path):
    path = str(tmp_path / 'ckpt.pth')
    torch.save({'meta': {'buf': HistoryBuffer(), 'seed': np.int64(3)},
                'state_dict': {'w': torch.ones(2)}}, path)
    loaded = CheckpointLoader.load_checkpoint(path, map_location='cpu')
    assert isinstance(loaded['meta']['buf'], HistoryBuffer)
    assert loaded['meta']['seed'] == 3
    with pytest.raises(FileNotFoundError, match='missing.pth'):
        CheckpointLoader.load_checkpoint(str(tmp_path / 'missing.pth'))


def test_local_backend_is_atomic(tmp_path):
    assert isinstance(get_file_backend(str(tmp_path)), AtomicLocalBackend)


def test_interrupted_write_keeps_previous_file(tmp_path, monkeypatch):
    target = tmp_path / 'epoch_1.pth'
    atomic_write_bytes(b'good checkpoint', target)

    real_fsync = os.fsync

    def failing_fsync(fd):
        real_fsync(fd)
        raise KeyboardInterrupt('killed while writing')

    monkeypatch.setattr(os, 'fsync', failing_fsync)
    with pytest.raises(KeyboardInterrupt):
        atomic_write_bytes(b'half a checkpoint', target)
    assert target.read_bytes() == b'good checkpoint'
    assert sorted(p.name for p in tmp_path.iterdir()) == ['epoch_1.pth']


def test_put_text_roundtrip(tmp_path):
    backend = AtomicLocalBackend()
    backend.put_text('iter_4.pth', tmp_path / 'sub' / 'last_checkpoint')
    assert (tmp_path / 'sub' / 'last_checkpoint').read_text() == 'iter_4.pth'
