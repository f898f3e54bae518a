"""A Python interpreter that has imported the tools' dependencies once and
forks a child per tool run, for :func:`tools_runner.run_tool`.

Every ``tools/*.py`` start spends most of its first 10-15 s of CPU on its
first line, ``import mrpan_mm`` (torch, MMEngine, MMSegmentation); the
end-to-end tests start about fifty tools.  This server pays that once per
test process.  Each run is still its own process: the child chdirs, replaces
its environment, redirects stdin/stdout/stderr and runs the tool file as
``__main__`` with the given argv, then shuts down as an interpreter does
(non-daemon threads joined, ``atexit`` handlers run) and exits with the
tool's status.  What a child cannot change is what was fixed at import
time (``OMP_NUM_THREADS``, torch's thread count): the server is started
with the tools' environment (:func:`tools_runner.tool_env`).

Protocol: one JSON request per line on stdin, ``{"argv", "cwd", "env",
"stdout", "stderr", "timeout"}`` (``stdout``/``stderr`` are file paths);
one JSON reply per line on stdout, ``{"returncode"}`` or ``{"timed_out":
true}`` (the child's process group was killed).  EOF on stdin ends it.
"""
import atexit
import json
import os
import os.path as osp
import runpy
import signal
import sys
import threading
import time
import traceback

# the tools' own first import (tests/test_tools_runner.py checks it): a
# forked child starts from the state a tool reaches after its first line
import mrpan_mm  # noqa: F401  (first: installs the mmcv-lite shim)

POLL_SECONDS = 0.05


def exit_status(error: SystemExit) -> int:
    """The status an interpreter exits with for ``sys.exit(code)``."""
    if error.code is None:
        return 0
    if isinstance(error.code, int):
        return error.code
    print(error.code, file=sys.stderr)
    return 1


def run_child(request: dict) -> None:
    """In the forked child: run the tool as ``__main__``; never returns."""
    status = 1
    try:
        os.setpgid(0, 0)
        for fd, path, flags in ((0, os.devnull, os.O_RDONLY),
                                (1, request['stdout'],
                                 os.O_WRONLY | os.O_CREAT | os.O_TRUNC),
                                (2, request['stderr'],
                                 os.O_WRONLY | os.O_CREAT | os.O_TRUNC)):
            os.dup2(os.open(path, flags, 0o644), fd)
        os.chdir(request['cwd'])
        os.environ.clear()
        os.environ.update(request['env'])
        sys.argv = list(request['argv'])
        sys.path[0] = osp.dirname(osp.abspath(sys.argv[0]))
        try:
            runpy.run_path(sys.argv[0], run_name='__main__')
            status = 0
        except SystemExit as error:
            status = exit_status(error)
        except BaseException:
            traceback.print_exc()  # as an interpreter reports it
            status = 1
        threading._shutdown()
        atexit._run_exitfuncs()
    except BaseException:
        traceback.print_exc()
        status = 1
    finally:
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except OSError:  # ignored at exit, as by an interpreter
                pass
        os._exit(status)


def wait(pid: int, timeout: float) -> dict:
    """Reap ``pid``; kill its process group after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            return dict(returncode=os.waitstatus_to_exitcode(status))
        if time.monotonic() > deadline:
            os.killpg(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            return dict(timed_out=True)
        time.sleep(POLL_SECONDS)


def main() -> None:
    for line in sys.stdin:
        request = json.loads(line)
        sys.stdout.flush()
        pid = os.fork()
        if pid == 0:
            run_child(request)
        try:  # also here, so that a timeout always finds the group
            os.setpgid(pid, pid)
        except ProcessLookupError:  # the child has set it and exited
            pass
        reply = wait(pid, request['timeout'])
        print(json.dumps(reply), flush=True)


if __name__ == '__main__':
    main()
