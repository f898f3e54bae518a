"""The wheel as a pip user gets it: built from a copy of the clone, checked
by twine, installed into a new venv, and used from a folder outside the
clone by tests/wheel_user_script.py.

The venv does not download the dependencies again: a ``.pth`` file puts
this environment's site-packages (torch, mmseg, ...) after the venv's own
on ``sys.path``; only the wheel is installed into the venv, and the script
checks that the wheel's requirements (with the ``lite`` extra) are met by
what is installed and that ``mrpan_mm`` is imported from the venv.  Site
folders named by a ``.pth`` file have their own ``.pth`` files ignored, so
this environment's editable install of mrpan_mm stays invisible.
"""
import os
import shutil
import subprocess
import sys
import sysconfig

import pytest

from tools_runner import REPO

LOCAL_FOLDERS = {'.git', '.venv', 'build', 'dist', 'data', 'work_dirs',
                 'checkpoints'}  # at the clone's top level only


def copy_ignore(folder, names):
    """What the copy of the clone leaves out: local outputs and caches."""
    top = LOCAL_FOLDERS if os.path.samefile(folder, REPO) else set()
    return [name for name in names if name in top or name == '__pycache__'
            or name.endswith('.egg-info')]


def run(command, **kwargs):
    proc = subprocess.run(command, capture_output=True, text=True,
                          timeout=600, **kwargs)
    assert proc.returncode == 0, (f'{command} exited {proc.returncode}:\n'
                                  f'{proc.stdout[-3000:]}\n'
                                  f'{proc.stderr[-3000:]}')
    return proc


@pytest.mark.slow
def test_wheel_installs_and_runs_outside_the_clone(tmp_path):
    source = tmp_path / 'src'  # no stale build/ of the clone in the wheel
    shutil.copytree(REPO, source, symlinks=True, ignore=copy_ignore)
    dist = tmp_path / 'dist'
    run([sys.executable, '-m', 'pip', 'wheel', str(source), '--no-deps',
         '--no-build-isolation', '-w', str(dist)])
    wheel, = dist.glob('mrpan_mm-*.whl')
    assert 'PASSED' in run([sys.executable, '-m', 'twine', 'check',
                            str(wheel)]).stdout

    venv = tmp_path / 'venv'
    run([sys.executable, '-m', 'venv', '--without-pip', str(venv)])
    python = str(venv / 'bin' / 'python')
    site = run([python, '-c', 'import sysconfig; '
                'print(sysconfig.get_paths()["purelib"])']).stdout.strip()
    here = {sysconfig.get_paths()[key] for key in ('purelib', 'platlib')}
    with open(os.path.join(site, 'zz_reused_packages.pth'), 'w') as f:
        f.write('\n'.join(sorted(here)) + '\n')
    run([sys.executable, '-m', 'pip', '--python', python, 'install',
         '--no-index', '--no-deps', '--force-reinstall', str(wheel)])

    user = tmp_path / 'user'  # outside the clone
    user.mkdir()
    env = {k: v for k, v in os.environ.items() if k != 'PYTHONPATH'}
    proc = run([python, os.path.join(REPO, 'tests', 'wheel_user_script.py')],
               cwd=user, env=dict(env, OMP_NUM_THREADS='1'))
    assert 'mrpan_nyu.py: DepthEstimator' in proc.stdout
    assert 'DepthInferencer: (60, 80)' in proc.stdout
