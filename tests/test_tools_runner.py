"""``tools_runner.PRELOADED``: a forked tool run reports what a new
interpreter would (exit status, output, traceback, argv, working folder,
environment), times out, and leaves no state for the next run."""
import subprocess
import sys
import textwrap

import pytest

from tools_runner import PRELOADED, REPO, tool_env

pytestmark = pytest.mark.slow  # starts the preloaded interpreter


def run_script(tmp_path, source, *args, timeout=60, **env):
    script = tmp_path / 'script.py'
    script.write_text(textwrap.dedent(source))
    return PRELOADED.run([sys.executable, str(script), *args],
                         dict(tool_env(), **env), timeout)


def test_status_output_argv_cwd_and_environment(tmp_path):
    proc = run_script(tmp_path, '''
        import os, sys
        print('out', sys.argv[1:], os.getcwd(), os.environ['MARK'])
        print('err', file=sys.stderr)
        sys.exit(3)
    ''', 'a', 'b c', MARK='x')
    assert proc.returncode == 3
    assert proc.stdout == f"out ['a', 'b c'] {REPO} x\n"
    assert proc.stderr == 'err\n'


def test_uncaught_exception_exits_1_with_traceback(tmp_path):
    proc = run_script(tmp_path, 'raise ValueError("bad input")\n')
    assert proc.returncode == 1
    assert 'ValueError: bad input' in proc.stderr
    assert 'Traceback' in proc.stderr


def test_atexit_handlers_run_and_state_does_not_leak(tmp_path):
    source = '''
        import atexit
        import mrpan_mm
        print(getattr(mrpan_mm, 'leaked', 'clean'))
        mrpan_mm.leaked = 'leaked'
        atexit.register(print, 'atexit ran')
    '''
    for _ in range(2):
        proc = run_script(tmp_path, source)
        assert (proc.returncode, proc.stdout) == (0, 'clean\natexit ran\n')


def test_timeout_kills_the_run(tmp_path):
    with pytest.raises(subprocess.TimeoutExpired):
        run_script(tmp_path, 'import time\ntime.sleep(60)\n', timeout=1)
    assert run_script(tmp_path, 'print(1)\n').stdout == '1\n'
