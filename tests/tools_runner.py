"""The project's command-line tools for tests, loaded one of two ways:
``run_tool`` / ``start_tool`` run ``tools/<tool>`` in a subprocess as a user
would; ``load_tool`` imports a tool file as a module, to call its functions
(``main(argv)``, helpers) in the test process."""
import importlib.util
import os
import os.path as osp
import re
import subprocess
import sys
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


def run_tool(tool: str, args: Sequence[str], timeout: float = 300,
             extra_env: Optional[dict] = None
             ) -> subprocess.CompletedProcess:
    """Run ``tools/<tool>`` (``extra_env`` added to its environment) and
    fail with its output if it fails."""
    proc = subprocess.run(
        tool_command(tool, *args), cwd=REPO,
        env=dict(tool_env(), **(extra_env or {})), capture_output=True,
        text=True, timeout=timeout)
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
