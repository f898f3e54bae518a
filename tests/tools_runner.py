"""The project's command-line tools for tests, reached three ways:
``run_tool`` / ``start_tool`` run ``tools/<tool>`` in its own process with
the user's command line; ``call_tool`` runs its ``main()`` in the test
process with that command line (tools that leave no global state behind:
converters, checkers, ``download.py``); ``load_tool`` imports a tool file
as a module, to call its functions.

``start_tool`` starts a new interpreter, as a shell would.  ``run_tool``
forks the Python tools from a :mod:`preloaded_interpreter` (one per test
process) that has run ``import mrpan_mm`` once, saving about 5 s of CPU
per run; ``fresh=True`` starts a new interpreter instead.  Tests of a tool's
start-up use ``start_tool`` or ``fresh=True``."""
import contextlib
import importlib.util
import io
import json
import os
import os.path as osp
import re
import subprocess
import sys
import tempfile
from types import ModuleType
from typing import List, Optional, Sequence

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
TINY_CONFIG = osp.join(REPO, 'tests', 'configs', 'tiny_fixture.py')


def data_root_options(root: str) -> List[str]:
    """``--cfg-options`` entries pointing every dataloader at ``root``."""
    return [
        f'{loader}.dataset.data_root={root}'
        for loader in ('train_dataloader', 'val_dataloader',
                       'test_dataloader')
    ]


def tool_command(tool: str, *args: str) -> List[str]:
    """The command line of ``tools/<tool>``: Python tools run with this
    interpreter, shell launchers (``dist_train.sh``) with bash."""
    path = osp.join(REPO, 'tools', tool)
    interpreter = 'bash' if tool.endswith('.sh') else sys.executable
    return [interpreter, path, *args]


def tool_env() -> dict:
    env = dict(os.environ, PYTHONPATH=REPO, OMP_NUM_THREADS='1',
               PYTHON=sys.executable)
    env.pop('CUDA_VISIBLE_DEVICES', None)
    return env


def load_tool(tool: str) -> ModuleType:
    """Import ``tools/<tool>`` (e.g. ``'analysis/plot_curves.py'``) as a
    module without putting ``tools/`` on ``sys.path``."""
    path = osp.join(REPO, 'tools', tool)
    name = 'tool_' + osp.splitext(tool)[0].replace('/', '_')
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def start_tool(tool: str, args: Sequence[str], **popen_kwargs
               ) -> subprocess.Popen:
    """Start ``tools/<tool>`` in the background (the caller waits or kills
    it); ``popen_kwargs`` go to :class:`subprocess.Popen`."""
    return subprocess.Popen(
        tool_command(tool, *args), cwd=REPO, env=tool_env(), **popen_kwargs)


class PreloadedInterpreter:
    """Client of ``tests/preloaded_interpreter.py``, started on first use;
    it ends when this process closes its stdin."""

    SERVER = osp.join(osp.dirname(osp.abspath(__file__)),
                      'preloaded_interpreter.py')

    def __init__(self):
        self.server = None

    def run(self, command: List[str], env: dict,
            timeout: float) -> subprocess.CompletedProcess:
        """Run ``command`` (``[python, tool, *args]``) in a forked child;
        raises ``subprocess.TimeoutExpired`` as ``subprocess.run`` does."""
        if self.server is None or self.server.poll() is not None:
            self.server = subprocess.Popen(
                [sys.executable, self.SERVER], cwd=REPO, env=tool_env(),
                stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        with tempfile.TemporaryDirectory() as folder:
            out, err = osp.join(folder, 'out'), osp.join(folder, 'err')
            request = dict(argv=command[1:], cwd=REPO, env=env, stdout=out,
                           stderr=err, timeout=timeout)
            self.server.stdin.write(json.dumps(request) + '\n')
            self.server.stdin.flush()
            line = self.server.stdout.readline()
            if not line:
                raise RuntimeError(
                    f'{self.SERVER} exited ({self.server.wait()})')
            reply = json.loads(line)
            with open(out) as f_out, open(err) as f_err:
                stdout, stderr = f_out.read(), f_err.read()
        if reply.get('timed_out'):
            raise subprocess.TimeoutExpired(command, timeout, stdout, stderr)
        return subprocess.CompletedProcess(command, reply['returncode'],
                                           stdout, stderr)


PRELOADED = PreloadedInterpreter()


def run_tool(tool: str, args: Sequence[str], timeout: float = 300,
             extra_env: Optional[dict] = None, fresh: bool = False
             ) -> subprocess.CompletedProcess:
    """Run ``tools/<tool>`` (``extra_env`` added to its environment) and
    fail with its output if it fails.  Python tools are forked from the
    preloaded interpreter unless ``fresh``."""
    command = tool_command(tool, *args)
    env = dict(tool_env(), **(extra_env or {}))
    if command[0] == sys.executable and not fresh:
        proc = PRELOADED.run(command, env, timeout)
    else:
        proc = subprocess.run(command, cwd=REPO, env=env,
                              capture_output=True, text=True,
                              timeout=timeout)
    return succeeded(proc, tool, args)


def call_tool(tool: str, args: Sequence[str]) -> subprocess.CompletedProcess:
    """``tools/<tool>``'s ``main()`` called in this process with ``args`` as
    its command line (``sys.argv``), its output captured; fails with it as
    :func:`run_tool` does.  Only for tools whose ``main`` changes no
    process-wide state (threads, environment, registries, loaders)."""
    command = tool_command(tool, *args)[1:]
    out, err = io.StringIO(), io.StringIO()
    saved_argv, sys.argv = sys.argv, command
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                status = load_tool(tool).main() or 0
            except SystemExit as error:
                status = exit_status(error.code)
    finally:
        sys.argv = saved_argv
    return succeeded(
        subprocess.CompletedProcess(command, status, out.getvalue(),
                                    err.getvalue()), tool, args)


def exit_status(code) -> int:
    """The status ``sys.exit(code)`` gives (a message is printed, status
    1), as an interpreter sets it."""
    if code is None or isinstance(code, int):
        return code or 0
    print(code, file=sys.stderr)
    return 1


def succeeded(proc: subprocess.CompletedProcess, tool: str,
              args: Sequence[str]) -> subprocess.CompletedProcess:
    if proc.returncode != 0:
        raise AssertionError(
            f'{tool} {" ".join(args)} exited {proc.returncode}:\n'
            f'{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}')
    return proc


def logged_test_metrics(proc: subprocess.CompletedProcess) -> dict:
    """The metrics of the last ``Epoch(test)`` log line of a tool run."""
    lines = [line for line in (proc.stdout + proc.stderr).splitlines()
             if 'Epoch(test)' in line]
    return {
        key: float(value)
        for key, value in re.findall(r'(\w+): (-?[\d.]+(?:e-?\d+)?)',
                                     lines[-1])
    }
