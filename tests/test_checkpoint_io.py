"""Safe checkpoint reading (weights_only + MMEngine's objects) and atomic
writes."""
import argparse
import errno
import linecache
import os
import stat
import subprocess
import sys
import traceback
from collections import OrderedDict

import numpy as np
import pytest
import torch
from mmengine.fileio import LocalBackend, get_file_backend
from mmengine.logging import HistoryBuffer, MessageHub
from mmengine.runner import CheckpointLoader, save_checkpoint

from mrpan_mm.utils import (MMENGINE_CHECKPOINT_GLOBALS, TRUSTED_GLOBALS_ENV,
                            AtomicLocalBackend, CheckpointFileError,
                            UnsafeCheckpointError, atomic_write_bytes,
                            load_checkpoint_file, use_safe_checkpoint_loader)
from tools_runner import REPO, tool_env


class CreatesFile:
    """Unpickling this object creates ``path`` (``open(path, 'w')``)."""

    def __init__(self, path):
        self.path = str(path)

    def __reduce__(self):
        return open, (self.path, 'w')


class Calls:
    """Unpickles as ``func(*args)``."""

    def __init__(self, func, *args):
        self.func, self.args = func, args

    def __reduce__(self):
        return self.func, self.args


class ReadsAttribute:
    """Unpickles as ``getattr(owner, name)``."""

    def __init__(self, owner, name):
        self.owner, self.name = owner, name

    def __reduce__(self):
        return getattr, (self.owner, self.name)


def mmengine_like_checkpoint():
    """What a Runner saves besides weights: a message hub with history
    buffers and numpy values, numpy scalars in meta."""
    hub = MessageHub('checkpoint_io_test')
    for value in (1.5, 2.5):
        hub.update_scalar('train/loss', value)
    hub.update_scalar('train/lr', np.float32(1e-3))
    hub.update_info('eta', np.float64(12.0))
    hub.update_info('keep_ckpt_ids', [1, 2])
    return {
        'meta': {'epoch': 2, 'iter': 4, 'seed': np.int64(3)},
        'state_dict': {'w': torch.ones(2)},
        'message_hub': hub.state_dict(),
        'optimizer': {'state': {0: {'step': torch.tensor(4.)}}},
    }


def test_mmengine_checkpoint_loads_with_weights_only(tmp_path):
    """Catches: MMEngine's own checkpoints (history buffers, numpy
    values) refused by the safe loader, its allow-list left in torch's
    process-wide safe globals."""
    path = tmp_path / 'ckpt.pth'
    torch.save(mmengine_like_checkpoint(), path)
    loaded = load_checkpoint_file(str(path), map_location='cpu')
    buf = loaded['message_hub']['log_scalars']['train/loss']
    assert isinstance(buf, HistoryBuffer)
    assert buf.mean() == 2.0 and buf.statistics('current') == 2.5
    assert loaded['meta']['seed'] == 3
    assert loaded['message_hub']['runtime_info']['eta'] == 12.0
    # The allow-list is in force for our load only, not left behind.
    assert not any(g in torch.serialization.get_safe_globals()
                   for g in MMENGINE_CHECKPOINT_GLOBALS)


def test_file_with_other_objects_is_refused_and_runs_nothing(
        tmp_path, monkeypatch):
    """Catches: unpickling that runs a file's code (``io.open``), a
    refusal not naming the file or what it holds."""
    marker = tmp_path / 'created_by_unpickling'
    path = tmp_path / 'evil.pth'
    torch.save({'state_dict': {}, 'meta': {'x': CreatesFile(marker)}}, path)
    with pytest.raises(UnsafeCheckpointError) as info:
        load_checkpoint_file(str(path))
    assert str(path) in str(info.value) and 'io.open' in str(info.value)
    assert TRUSTED_GLOBALS_ENV not in str(info.value)  # a function
    assert 'never allowed' in str(info.value)
    # Trusting another class does not let this one through.
    monkeypatch.setenv(TRUSTED_GLOBALS_ENV, 'collections.OrderedDict')
    with pytest.raises(UnsafeCheckpointError):
        load_checkpoint_file(str(path))
    assert not marker.exists()


def test_trusted_data_class_is_the_only_opt_in(tmp_path, monkeypatch):
    """Catches: no way to load a checkpoint holding a plain data class,
    or the opt-in left in torch's process-wide safe globals."""
    path = tmp_path / 'namespace.pth'
    torch.save({'args': argparse.Namespace(lr=0.1)}, path)
    with pytest.raises(UnsafeCheckpointError) as info:
        load_checkpoint_file(str(path))
    assert f'{TRUSTED_GLOBALS_ENV}=argparse.Namespace' in str(info.value)
    monkeypatch.setenv(TRUSTED_GLOBALS_ENV, 'argparse.Namespace')
    assert load_checkpoint_file(str(path))['args'].lr == 0.1
    assert argparse.Namespace not in torch.serialization.get_safe_globals()


@pytest.mark.parametrize('name', [
    'builtins.eval', 'eval', 'no_such.mod', 'io.open', '_io.open',
    '_io.FileIO', 'os.system', 'posix.system', 'sys.modules',
    'subprocess.Popen', 'functools.partial', 'operator.attrgetter',
    'importlib.import_module', 'runpy.run_path', 'pickle.loads',
    'shutil.rmtree', 'ctypes.CDLL', 'traceback.FrameSummary',
    'gzip.GzipFile', 'json.loads', 'argparse.ArgumentError'
])
def test_trusted_globals_accept_data_classes_only(tmp_path, monkeypatch,
                                                  name):
    """Functions (``json.loads``), exception classes and anything of a
    module reaching files, processes or the interpreter are refused.
    Catches: an allow-list check by name pattern that lets them in."""
    path = tmp_path / 'ckpt.pth'
    torch.save({'state_dict': {}}, path)
    monkeypatch.setenv(TRUSTED_GLOBALS_ENV, name)
    with pytest.raises(ValueError, match=TRUSTED_GLOBALS_ENV) as info:
        load_checkpoint_file(str(path))
    assert str(path) in str(info.value)


def test_process_wide_safe_globals_are_not_ours(tmp_path):
    """``torch.distributed`` adds ``traceback.FrameSummary`` (whose
    constructor reads a line of any file) and builtin exceptions to torch's
    process-wide safe list; a file using them is refused, unread.
    Catches: our loader trusting torch's process-wide list."""
    import torch.distributed  # noqa: F401  (adds them, as MMEngine does)
    process_wide = set(torch.serialization.get_safe_globals())
    assert {traceback.FrameSummary, ValueError} <= process_wide
    secret = tmp_path / 'secret.txt'
    secret.write_text('a line of a local file\n')
    for name, obj in (('traceback.FrameSummary',
                       Calls(traceback.FrameSummary, str(secret), 1, 'f')),
                      ('builtins.ValueError', ValueError('an exception'))):
        path = tmp_path / 'crafted.pth'
        torch.save({'state_dict': {}, 'x': obj}, path)
        with pytest.raises(UnsafeCheckpointError, match=str(path)) as info:
            load_checkpoint_file(str(path))
        assert name in str(info.value)
    assert str(secret) not in linecache.cache


def test_dynamic_imports_and_legacy_files_are_checked(tmp_path):
    """Pickle opcodes importing by a computed name are refused; torch's
    legacy (non-zip) format gets the same check.  Catches: a check of
    ``GLOBAL`` opcodes only, or of zip files only."""
    marker = tmp_path / 'created_by_unpickling'
    dynamic = tmp_path / 'protocol4.pth'
    torch.save({'x': CreatesFile(marker)}, dynamic, pickle_protocol=4)
    with pytest.raises(UnsafeCheckpointError, match='STACK_GLOBAL'):
        load_checkpoint_file(str(dynamic))
    legacy_good, legacy_evil = tmp_path / 'good.pth', tmp_path / 'evil.pth'
    torch.save(mmengine_like_checkpoint(), legacy_good,
               _use_new_zipfile_serialization=False)
    assert load_checkpoint_file(str(legacy_good))['meta']['epoch'] == 2
    torch.save({'x': CreatesFile(marker)}, legacy_evil,
               _use_new_zipfile_serialization=False)
    with pytest.raises(UnsafeCheckpointError, match='io.open'):
        load_checkpoint_file(str(legacy_evil))
    assert not marker.exists()


@pytest.mark.parametrize('crafted', [
    Calls(OrderedDict, 1, 2, 3),  # TypeError in the constructor
    Calls(torch.Size, 'ab'),  # TypeError
    Calls(HistoryBuffer, [1], [1], 'x'),  # TypeError / ValueError
])
def test_any_unpickling_error_names_the_file(tmp_path, crafted):
    """Catches: a constructor's error escaping without the file name."""
    path = tmp_path / 'crafted.pth'
    torch.save({'state_dict': {}, 'x': crafted}, path)
    with pytest.raises(CheckpointFileError, match=str(path)):
        load_checkpoint_file(str(path))


def test_config_text_is_dropped(tmp_path):
    """Catches: config text kept in what the loader returns: MMEngine
    executes these strings (``Config.fromstring``)."""
    code = f"open({str(tmp_path / 'marker')!r}, 'w')"
    checkpoint = mmengine_like_checkpoint()
    checkpoint['meta'].update(config=code, cfg=code)
    checkpoint['message_hub']['runtime_info']['cfg'] = code
    path = tmp_path / 'ckpt.pth'
    torch.save(checkpoint, path)
    loaded = load_checkpoint_file(str(path))
    assert 'config' not in loaded['meta'] and 'cfg' not in loaded['meta']
    assert 'cfg' not in loaded['message_hub']['runtime_info']
    assert loaded['meta']['epoch'] == 2


def test_getattr_is_limited_to_history_buffer_statistics(tmp_path):
    """Catches: the ``getattr`` MMEngine's files need opening any
    attribute (``__init__``, ``__globals__``, ...) to a crafted file."""
    ok, bad = tmp_path / 'ok.pth', tmp_path / 'bad.pth'
    torch.save({'f': ReadsAttribute(HistoryBuffer, 'mean')}, ok)
    assert load_checkpoint_file(str(ok))['f'] is HistoryBuffer.mean
    torch.save({'f': ReadsAttribute(HistoryBuffer, '__init__')}, bad)
    with pytest.raises(UnsafeCheckpointError, match="'__init__'"):
        load_checkpoint_file(str(bad))


@pytest.mark.parametrize('damage', ['truncated', 'garbage', 'empty'])
def test_damaged_file_is_named(tmp_path, damage):
    """Catches: a truncated, garbage or empty file giving a bare
    zip/pickle error, or taken for a hostile one."""
    good = tmp_path / 'good.pth'
    torch.save(mmengine_like_checkpoint(), good)
    data = good.read_bytes()
    path = tmp_path / f'{damage}.pth'
    path.write_bytes({
        'truncated': data[:len(data) // 2],
        'garbage': np.random.default_rng(0).bytes(4096),
        'empty': b''
    }[damage])
    with pytest.raises(CheckpointFileError, match=str(path)) as info:
        load_checkpoint_file(str(path))
    assert not isinstance(info.value, UnsafeCheckpointError)
    with pytest.raises(FileNotFoundError, match='missing.pth'):
        load_checkpoint_file(str(tmp_path / 'missing.pth'))


def test_mmengine_loader_switch(tmp_path, monkeypatch):
    """Catches: MMEngine's ``CheckpointLoader`` (``load_from``,
    ``--resume``) still unpickling with ``weights_only=False`` after the
    switch, and the switch outliving this test."""
    # the switch is process-wide: a copy of the scheme table takes it,
    # the table in force comes back after the test
    monkeypatch.setattr(CheckpointLoader, '_schemes',
                        OrderedDict(CheckpointLoader._schemes))
    use_safe_checkpoint_loader()
    path = tmp_path / 'evil.pth'
    torch.save({'x': CreatesFile(tmp_path / 'marker')}, path)
    with pytest.raises(UnsafeCheckpointError):
        CheckpointLoader.load_checkpoint(str(path))
    assert not (tmp_path / 'marker').exists()


@pytest.mark.slow
def test_import_only_registers():
    """``import mrpan_mm`` leaves MMEngine's checkpoint loader and file
    backends as they were (fresh process: other tests switch them).
    Catches: importing the package changing how every MMEngine user in
    the process reads or writes files."""
    code = (
        'import mrpan_mm\n'
        'from mmengine.runner import CheckpointLoader\n'
        'from mmengine.fileio import get_file_backend\n'
        "print(CheckpointLoader._get_checkpoint_loader('a.pth').__module__,"
        " type(get_file_backend('a.pth')).__name__)\n")
    out = subprocess.run([sys.executable, '-c', code], cwd=REPO,
                         env=tool_env(), capture_output=True, text=True,
                         check=True).stdout.split()
    assert out == ['mmengine.runner.checkpoint', 'LocalBackend']


def test_atomic_backend_is_opt_in(tmp_path):
    """Catches: the atomic backend replacing MMEngine's local backend for
    every path, or not registered under ``atomic_local``."""
    assert type(get_file_backend(str(tmp_path))) is LocalBackend
    backend = get_file_backend(
        str(tmp_path), backend_args=dict(backend='atomic_local'))
    assert isinstance(backend, AtomicLocalBackend)


def test_interrupted_write_keeps_previous_file(tmp_path, monkeypatch):
    """Catches: an interrupted write (an exception before the rename)
    damaging the previous file or leaving its temporary file behind (a
    real SIGKILL inside the write: test_kill_resume.py)."""
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


def test_disk_full_while_saving_keeps_previous_checkpoint(
        tmp_path, monkeypatch):
    """MMEngine's save path with our configs' ``backend_args``.  Catches:
    a full disk damaging the previous checkpoint or an error not naming
    the file."""
    target = str(tmp_path / 'epoch_2.pth')
    args = dict(backend='atomic_local')
    save_checkpoint({'state_dict': {'w': torch.ones(3)}}, target,
                    backend_args=args)

    def disk_full(fd):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(os, 'fsync', disk_full)
    with pytest.raises(OSError) as info:
        save_checkpoint({'state_dict': {'w': torch.zeros(3)}}, target,
                        backend_args=args)
    assert info.value.errno == errno.ENOSPC
    assert target in str(info.value) and 'No space left' in str(info.value)
    assert torch.equal(
        load_checkpoint_file(target)['state_dict']['w'], torch.ones(3))
    assert os.listdir(tmp_path) == ['epoch_2.pth']


def test_put_text_roundtrip(tmp_path):
    """Catches: text (``last_checkpoint``) not written through the atomic
    backend, or its folder not created."""
    backend = AtomicLocalBackend()
    backend.put_text('iter_4.pth', tmp_path / 'sub' / 'last_checkpoint')
    assert (tmp_path / 'sub' / 'last_checkpoint').read_text() == 'iter_4.pth'


@pytest.mark.parametrize('umask', [0o022, 0o077, 0o002])
def test_atomic_write_mode_follows_umask(tmp_path, umask):
    """Catches: checkpoints written with ``mkstemp``'s private 0o600 mode
    instead of the mode a plain write gives."""
    old = os.umask(umask)
    try:
        atomic_write_bytes(b'x', tmp_path / 'atomic')
        with open(tmp_path / 'plain', 'wb') as f:
            f.write(b'x')
    finally:
        os.umask(old)
    mode = stat.S_IMODE(os.stat(tmp_path / 'atomic').st_mode)
    assert mode == stat.S_IMODE(os.stat(tmp_path / 'plain').st_mode)
    assert mode == 0o666 & ~umask


def test_atomic_write_fsyncs_folder_after_rename(tmp_path, monkeypatch):
    """Catches: a rename that a power cut can undo (no fsync of the file
    before it or of the folder after it)."""
    target = tmp_path / 'epoch_1.pth'
    synced = []
    real_fsync = os.fsync

    def recording_fsync(fd):
        synced.append((stat.S_ISDIR(os.fstat(fd).st_mode), target.exists()))
        real_fsync(fd)

    monkeypatch.setattr(os, 'fsync', recording_fsync)
    atomic_write_bytes(b'checkpoint', target)
    # the file before the rename, then its folder after it
    assert synced == [(False, False), (True, True)]
