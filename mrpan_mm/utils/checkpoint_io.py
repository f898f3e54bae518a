"""Checkpoint reading that runs no code from the file, and writing that
survives killed jobs and full disks.

Reading.  A checkpoint is a pickle; unpickling an arbitrary one can run any
code.  :func:`load_checkpoint_file` first lists the objects the file's
pickles name (``GLOBAL`` opcodes, read without unpickling anything) and
refuses the file with :class:`UnsafeCheckpointError`, naming the file and
the objects, unless every one is in the exact allow-list: torch's own
weights-only set (tensors, storages, dtypes, their rebuild functions) plus
the MMEngine 0.10 checkpoint types (:data:`MMENGINE_CHECKPOINT_GLOBALS`).
Whatever other libraries added to torch's process-wide safe list
(``torch.distributed`` adds exception classes and
``traceback.FrameSummary``) is refused.  It then unpickles with
``torch.load(..., weights_only=True)``, allowing the MMEngine types for
that call only.  Config text stored in the checkpoint (``meta['config']``,
``meta['cfg']``, ``message_hub['runtime_info']['cfg']``) is dropped from the
result: MMEngine executes it (``Config.fromstring`` in ``Runner.resume`` and
in inferencers built without a config).  Every failure names the file.

A trusted file holding other data classes can be read by naming those
classes in ``MRPAN_TRUSTED_GLOBALS`` (comma-separated ``module.Class``).
Only classes are accepted; functions, exception classes and everything of
a module that reaches the interpreter, files or processes
(:data:`UNTRUSTABLE_MODULES`) are refused.  The unpickler may call a trusted
class with arguments chosen by the file: name plain data classes only.
:func:`use_safe_checkpoint_loader` makes MMEngine's loader for local paths
(``load_from``, ``--resume``, ``init_cfg`` ``Pretrained``, mmseg's
``init_model``) this function.  ``SafeCheckpointLoadHook``, the
``DepthInferencer`` and our configs' ``custom_imports`` (module
:mod:`mrpan_mm.engine.safe_checkpoint_loading`) call it.

Writing.  MMEngine writes a checkpoint with a plain ``open(path, 'wb')``: a
job killed mid-write leaves a truncated file under the final name, and a full
disk can destroy the file being overwritten.  :class:`AtomicLocalBackend`
(file backend name ``'atomic_local'``) writes to a temporary file in the same
folder, fsyncs it, gives it the mode a plain write would (``0o666`` less the
umask), renames it over the target and fsyncs the folder.  It is used only
where a config asks for it::

    default_hooks = dict(
        checkpoint=dict(backend_args=dict(backend='atomic_local')))
"""
import importlib
import io
import logging
import os
import os.path as osp
import pickle
import pickletools
import sys
import tempfile
from _compat_pickle import IMPORT_MAPPING, NAME_MAPPING
from pathlib import Path
from typing import List, Optional, Set, Union

import numpy as np
import torch
from mmengine.fileio import LocalBackend, register_backend
from mmengine.logging import HistoryBuffer, print_log
from mmengine.runner import CheckpointLoader

from ..compat import (is_torch_zip, weights_only_default_globals,
                      zip_pickle_records)

#: Environment variable naming extra classes (``module.Class``,
#: comma-separated) a trusted checkpoint may hold.
TRUSTED_GLOBALS_ENV = 'MRPAN_TRUSTED_GLOBALS'

#: Top-level modules none of whose objects may be trusted: calling or
#: building their objects with arguments chosen by the file reaches the
#: interpreter, files, processes or the network (``io.open``,
#: ``subprocess.Popen``, ``traceback.FrameSummary`` reading a file, ...).
UNTRUSTABLE_MODULES = frozenset({
    'builtins', '__builtin__', '__main__', 'io', '_io', 'os', 'posix', 'nt',
    'sys', 'subprocess', '_posixsubprocess', 'functools', '_functools',
    'operator', '_operator', 'importlib', 'runpy', 'pickle', '_pickle',
    'copyreg', 'marshal', 'shutil', 'ctypes', '_ctypes', 'codecs', '_codecs',
    'code', 'codeop', 'types', 'inspect', 'pdb', 'bdb', 'traceback',
    'linecache', 'tempfile', 'pathlib', 'glob', 'fileinput', 'zipfile',
    'tarfile', 'shelve', 'dbm', 'sqlite3', 'logging', 'socket', 'ssl',
    'select', 'selectors', 'asyncio', 'multiprocessing', 'threading',
    '_thread', 'signal', 'pty', 'webbrowser', 'urllib', 'http', 'ftplib',
    'smtplib', 'imaplib', 'poplib', 'xmlrpc', 'site', 'gc', 'weakref',
    'mmap', 'resource', 'platform', 'gzip', 'bz2', 'lzma', 'pkgutil',
    'zipimport', 'torch', 'numpy'
})

# Opcodes that import an object by a name computed at load time; torch's
# weights-only unpickler knows none of them, and neither do we.
_DYNAMIC_IMPORT_OPCODES = ('STACK_GLOBAL', 'INST', 'OBJ', 'EXT1', 'EXT2',
                           'EXT4')

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


def global_name(obj) -> str:
    """``module.qualname`` of an allow-list entry, as a pickle names it
    (an ``(object, name)`` pair is allowed under ``name``)."""
    if isinstance(obj, tuple):
        return obj[1]
    return f'{obj.__module__}.{obj.__qualname__}'


def untrustable_reason(obj) -> Optional[str]:
    """Why ``obj`` must not be allowed in a checkpoint, or None for a data
    class that may be (a class of no :data:`UNTRUSTABLE_MODULES` module and
    no exception)."""
    if not isinstance(obj, type):
        return 'is not a class (functions are never trusted)'
    module = obj.__module__.split('.')[0]
    if module in UNTRUSTABLE_MODULES:
        return (f'belongs to {module!r}, whose objects reach the interpreter, '
                'files or processes')
    if issubclass(obj, BaseException):
        return 'is an exception class'
    return None


def trusted_globals() -> List[type]:
    """The classes named in ``MRPAN_TRUSTED_GLOBALS``, imported.

    Raises:
        ValueError: A name that is not ``module.Class`` or cannot be
            imported, or an object :func:`untrustable_reason` refuses.
    """
    trusted = []
    for name in filter(None, (n.strip() for n in os.environ.get(
            TRUSTED_GLOBALS_ENV, '').split(','))):
        module, _, attribute = name.rpartition('.')
        if not module:
            raise ValueError(f'{TRUSTED_GLOBALS_ENV}: {name!r} is not an '
                             'importable module.Class')
        if module.split('.')[0] in UNTRUSTABLE_MODULES:
            raise ValueError(
                f'{TRUSTED_GLOBALS_ENV}: {name!r} is refused: nothing of '
                f'module {module!r} can be trusted')
        try:
            obj = getattr(importlib.import_module(module), attribute)
        except (ImportError, AttributeError) as error:
            raise ValueError(f'{TRUSTED_GLOBALS_ENV}: cannot import '
                             f'{name!r}: {error}') from error
        reason = untrustable_reason(obj)
        if reason:
            raise ValueError(
                f'{TRUSTED_GLOBALS_ENV}: {name!r} is refused: it {reason}')
        trusted.append(obj)
    return trusted


def _pickle_globals(stream) -> Set[str]:
    """``module.name`` of every object one pickle in ``stream`` imports,
    read with :func:`pickletools.genops` (nothing is unpickled); the stream
    is left after the pickle's ``STOP``."""
    names = set()
    for opcode, arg, _ in pickletools.genops(stream):
        if opcode.name == 'GLOBAL':
            # Python 2 names, renamed as the unpicklers do (__builtin__ ...)
            module, name = arg.split(' ', 1)
            if (module, name) in NAME_MAPPING:
                module, name = NAME_MAPPING[(module, name)]
            names.add(f'{IMPORT_MAPPING.get(module, module)}.{name}')
        elif opcode.name in _DYNAMIC_IMPORT_OPCODES:
            names.add(f'<pickle opcode {opcode.name}>')
    return names


def checkpoint_globals(filename: str) -> Set[str]:
    """The objects (``module.name``) the pickles of a ``torch.save`` file
    import, found without unpickling: every ``.pkl`` record of a zip
    checkpoint (read by torch's own zip reader), or the five pickles of
    torch's legacy format.

    Raises:
        CheckpointFileError: The file is neither (truncated, corrupt, not a
            checkpoint).
    """
    names: Set[str] = set()
    try:
        if is_torch_zip(filename):
            for record in zip_pickle_records(filename):
                names |= _pickle_globals(io.BytesIO(record))
        else:
            # magic number, protocol, system info, the object, storage keys
            with open(filename, 'rb') as stream:
                for _ in range(5):
                    names |= _pickle_globals(stream)
    except (ValueError, EOFError, OSError, RuntimeError,
            UnicodeDecodeError) as error:
        raise CheckpointFileError(
            f'checkpoint {filename} is truncated or corrupt (size '
            f'{osp.getsize(filename)} bytes): not a torch.save zip archive '
            f'or pickle: {type(error).__name__}: {error}') from error
    return names


def allowed_globals(trusted: List[type]) -> Set[str]:
    """The exact allow-list: torch's weights-only defaults, the MMEngine
    checkpoint types and the ``trusted`` classes."""
    return set(weights_only_default_globals()) | {
        global_name(obj) for obj in MMENGINE_CHECKPOINT_GLOBALS + trusted}


def _refusal(filename: str, refused: List[str]) -> UnsafeCheckpointError:
    """The error for a file importing ``refused`` objects; it suggests
    ``MRPAN_TRUSTED_GLOBALS`` only with the ones that may be trusted."""
    trustable = []
    for name in refused:  # looked up, never imported: imports run code
        module, _, attribute = name.rpartition('.')
        obj = getattr(sys.modules.get(module), attribute, None)
        if obj is not None and untrustable_reason(obj) is None:
            trustable.append(name)
    advice = (f' If you trust the file and these are plain data classes, '
              f'allow them: {TRUSTED_GLOBALS_ENV}={",".join(trustable)}'
              if trustable == refused else
              ' Functions, exception classes and system objects are never '
              'allowed.')
    return UnsafeCheckpointError(
        f'refusing to load checkpoint {filename}: it holds objects outside '
        f'the allow-list of MMEngine checkpoints: {", ".join(refused)}. '
        f'Unpickling it could run code.{advice}')


def drop_config_text(checkpoint) -> None:
    """Remove the config text MMEngine stores in a checkpoint (in place).

    ``meta['config']`` is executed by ``Runner.resume`` and
    ``message_hub['runtime_info']['cfg']`` / ``meta['cfg']`` by an
    inferencer built without a config (``Config.fromstring``), so a file
    could run code through them; the config to use is always the user's.
    """
    if not isinstance(checkpoint, dict):
        return
    meta = checkpoint.get('meta')
    if isinstance(meta, dict):
        meta.pop('config', None)
        meta.pop('cfg', None)
    hub = checkpoint.get('message_hub')
    runtime_info = hub.get('runtime_info') if isinstance(hub, dict) else None
    if isinstance(runtime_info, dict):
        runtime_info.pop('cfg', None)


def load_checkpoint_file(filename: str, map_location=None):
    """Read a local checkpoint without running code from it.

    Args:
        filename: Path of a file written by ``torch.save``.
        map_location: As in ``torch.load``.

    Returns:
        The unpickled object (for MMEngine checkpoints a dict with
        ``meta``, ``state_dict``, ``message_hub``, ``optimizer``, ...),
        without the config text (:func:`drop_config_text`).

    Raises:
        FileNotFoundError: No such file.
        ValueError: ``MRPAN_TRUSTED_GLOBALS`` names something refused.
        UnsafeCheckpointError: The file holds objects other than tensors,
            builtin containers and :data:`MMENGINE_CHECKPOINT_GLOBALS`.
        CheckpointFileError: The file is truncated, corrupt or not a
            checkpoint.
    """
    filename = osp.expanduser(str(filename))
    if not osp.isfile(filename):
        raise FileNotFoundError(f'checkpoint {filename} can not be found.')
    try:
        trusted = trusted_globals()
    except ValueError as error:
        raise ValueError(f'cannot load checkpoint {filename}: {error}') \
            from error
    refused = sorted(checkpoint_globals(filename) - allowed_globals(trusted))
    if refused:
        raise _refusal(filename, refused)
    if trusted:
        print_log(
            f'{TRUSTED_GLOBALS_ENV}: also allowing '
            f'{", ".join(map(global_name, trusted))} while reading '
            f'{filename}', 'current', level=logging.WARNING)
    with torch.serialization.safe_globals(MMENGINE_CHECKPOINT_GLOBALS +
                                          trusted):
        try:
            checkpoint = torch.load(
                filename, map_location=map_location, weights_only=True)
        except pickle.UnpicklingError as error:
            reason = str(error).split('WeightsUnpickler error:')[-1]
            raise UnsafeCheckpointError(
                f'refusing to load checkpoint {filename}: '
                f'{reason.strip().splitlines()[0]}') from error
        except Exception as error:  # whatever torch or a class raised
            detail = (str(error).strip().splitlines() or [''])[0]
            raise CheckpointFileError(
                f'checkpoint {filename} is truncated or corrupt (size '
                f'{osp.getsize(filename)} bytes): {type(error).__name__}: '
                f'{detail or "unexpected end of file"}') from error
    drop_config_text(checkpoint)
    return checkpoint


def load_from_local_safely(filename: str, map_location=None):
    """MMEngine's local-path loader signature for :func:`load_checkpoint_file`
    (the runner logs the name after ``load_from_``)."""
    return load_checkpoint_file(filename, map_location)


def use_safe_checkpoint_loader() -> None:
    """Make :func:`load_checkpoint_file` MMEngine's loader for local paths
    (``CheckpointLoader``'s default scheme); idempotent."""
    CheckpointLoader.register_scheme(
        prefixes='', loader=load_from_local_safely, force=True)


def current_umask() -> int:
    """This process's umask, read without changing it where Linux reports
    it (``/proc/self/status``); elsewhere set and restored at once."""
    try:
        with open('/proc/self/status') as status:
            for line in status:
                if line.startswith('Umask:'):
                    return int(line.split()[1], 8)
    except OSError:
        pass
    umask = os.umask(0o022)
    os.umask(umask)
    return umask


def fsync_folder(folder: str) -> None:
    """Make a rename in ``folder`` durable (POSIX; a no-op on Windows, which
    cannot open folders)."""
    if os.name != 'posix':
        return
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def atomic_write_bytes(data: bytes, filepath: Union[str, Path]) -> None:
    """Write ``data`` to ``filepath`` through a temporary file and a rename.

    The file gets the mode a plain ``open(filepath, 'wb')`` of a new file
    would give it (``0o666`` less the umask), and the folder is fsynced
    after the rename.  On any failure before the rename (full disk, kill,
    ...) the temporary file is removed and an existing ``filepath`` is left
    as it was; an ``OSError`` is re-raised with the target named.
    """
    folder = osp.dirname(osp.abspath(filepath))
    os.makedirs(folder, exist_ok=True)
    fd, tmp_path = tempfile.mkstemp(
        dir=folder, prefix=f'.{osp.basename(filepath)}.', suffix='.tmp')
    try:
        with os.fdopen(fd, 'wb') as f:
            f.write(data)
            f.flush()
            os.chmod(tmp_path, 0o666 & ~current_umask())
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
    try:
        fsync_folder(folder)
    except OSError as error:
        raise OSError(
            error.errno, f'wrote {filepath}, but could not fsync its folder '
            f'({error.strerror or error}): the rename may not survive a '
            'power cut') from error


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
