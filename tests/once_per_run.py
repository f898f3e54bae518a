"""Work done once per test run and shared by every test process.

pytest's session fixtures are per process: under pytest-xdist each worker
would build its own.  :func:`once_per_run` fills a folder in the run's
shared temporary folder once: the first process to ask builds it while
holding an exclusive ``fcntl.flock`` on ``<name>.lock``; the others block
on the lock and then read what it wrote.  The folder goes away with the
run's temporary folders.
"""
import fcntl
import os
import shutil
from pathlib import Path
from typing import Callable


def run_folder(tmp_path_factory) -> Path:
    """The temporary folder of this whole run: the base temporary folder in
    a single process, its parent (``.../pytest-N``) in an xdist worker."""
    base = tmp_path_factory.getbasetemp()
    return base.parent if os.environ.get('PYTEST_XDIST_WORKER') else base


def once_per_run(shared: Path, name: str,
                 build: Callable[[Path], None]) -> Path:
    """The folder ``shared/name``, filled by ``build(folder)`` in the first
    process that gets here; the others wait for it.  A ``build`` that
    raised leaves no result: the next caller starts again from an empty
    folder (and reports its own failure)."""
    folder = shared / name
    done = shared / f'{name}.done'
    with open(shared / f'{name}.lock', 'w') as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes
        if not done.exists():
            shutil.rmtree(folder, ignore_errors=True)
            folder.mkdir()
            build(folder)
            done.touch()
    return folder
