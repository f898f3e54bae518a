"""A Python interpreter that has imported the tools' dependencies once and
forks a child per tool run, for :func:`tools_runner.run_tool`.

Every ``tools/*.py`` start spends its first 5-6 s of CPU on its first
line, ``import mrpan_mm`` (torch, MMEngine, MMSegmentation), with the
environment byte-compiled at install (docs/testing.md).  This
server pays that once per test process.  Each run is still its own process
that ends as ``python tool.py`` does: the child chdirs, replaces its
environment, redirects stdin/stdout/stderr, runs the tool file as the
``__main__`` module with the given argv, and then leaves the server's
``main()`` the way the tool left (return, ``SystemExit`` or an uncaught
exception), so the interpreter's normal shutdown runs: non-daemon threads
joined, ``atexit`` handlers, module teardown (``__del__`` of the tool's
globals).  A crash at exit (an abort in a destructor, a C++ thread
outliving the interpreter) is reported as the tool's status, as a shell
would see it.  The preloaded objects are frozen (``gc.freeze``) before
each fork, so that neither the child's garbage collector nor its shutdown
scans them: scanning them copied the server's memory page by page
(copy-on-write) and took 1.5-2 s of CPU per run, 0.5 s with the freeze.

What a child cannot change is what was fixed at import time
(``OMP_NUM_THREADS``, torch's thread count): the server is started with the
tools' environment (:func:`tools_runner.tool_env`, one thread).

Protocol: one JSON request per line on stdin, ``{"argv", "cwd", "env",
"stdout", "stderr", "timeout"}`` (``stdout``/``stderr`` are file paths);
one JSON reply per line on stdout, ``{"returncode"}`` (negative: killed by
that signal) or ``{"timed_out": true}`` (the child's process group was
killed).  EOF on stdin ends it.
"""
import gc
import json
import os
import os.path as osp
import signal
import sys
import time
import types

# the tools' own first import (tests/test_tools_runner.py checks it): a
# forked child starts from the state a tool reaches after its first line
import mrpan_mm  # noqa: F401  (first: installs the mmcv-lite shim)

POLL_SECONDS = 0.05


def become_tool_process(request: dict) -> None:
    """In the forked child: the process state ``python argv...`` would
    start with (own process group, files, folder, environment, argv)."""
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


def run_as_main(path: str) -> None:
    """Execute the file ``path`` as the ``__main__`` module; the module
    stays in ``sys.modules`` until interpreter shutdown, as a script's
    does."""
    module = types.ModuleType('__main__')
    module.__file__ = path
    sys.modules['__main__'] = module
    with open(path, 'rb') as f:
        code = compile(f.read(), path, 'exec')
    exec(code, module.__dict__)


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
    """Serve requests until EOF.  In a forked child it runs one tool and
    returns or raises with it, ending the child's interpreter."""
    for line in sys.stdin:
        request = json.loads(line)
        sys.stdout.flush()
        gc.freeze()  # the child's collector leaves the preloaded objects be
        pid = os.fork()
        if pid == 0:
            become_tool_process(request)
            run_as_main(sys.argv[0])
            return
        try:  # also here, so that a timeout always finds the group
            os.setpgid(pid, pid)
        except ProcessLookupError:  # the child has set it and exited
            pass
        reply = wait(pid, request['timeout'])
        print(json.dumps(reply), flush=True)


if __name__ == '__main__':
    main()
