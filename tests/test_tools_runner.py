"""``tools_runner.PRELOADED``: a forked tool run reports what a new
interpreter would (exit status, output, traceback, argv, working folder,
environment, a crash at exit), times out, and leaves no state for the next
run; and what makes its preloading safe: every tool's first import of the
stack is ``mrpan_mm``, the one module it preloads.  ``call_tool``: an
in-process ``main()`` reports its command line's status and output."""
import ast
import glob
import os.path as osp
import signal
import subprocess
import sys
import textwrap

import pytest

from tools_runner import PRELOADED, REPO, call_tool, tool_env

STACK = ('torch', 'mmengine', 'mmcv', 'mmseg', 'mmpretrain', 'timm')


def top_level_imports(path):
    """Root package names of a file's module-level imports, in order."""
    with open(path) as f:
        tree = ast.parse(f.read(), path)
    for node in tree.body:
        if isinstance(node, ast.Import):
            yield from (alias.name.split('.')[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0:
            yield node.module.split('.')[0]


@pytest.mark.parametrize(
    'path', sorted(glob.glob(osp.join(REPO, 'tools', '**', '*.py'),
                         recursive=True)),
    ids=lambda path: osp.relpath(path, REPO))
def test_tools_import_mrpan_mm_before_the_stack(path):
    """A tool that imported mmseg first would fail in a new interpreter
    (mmcv-lite has no ``mmcv.ops`` until ``mrpan_mm`` installs it) but not
    when forked from the preloaded one."""
    roots = [root for root in top_level_imports(path)
             if root in STACK + ('mrpan_mm', )]
    assert not roots or roots[0] == 'mrpan_mm', roots


def test_call_tool_gives_main_the_command_line_and_reports_its_exit(
        tmp_path):
    argv = list(sys.argv)
    proc = call_tool('dataset_converters/kitti.py', ['--help'])
    assert proc.returncode == 0 and proc.stdout.startswith('usage: kitti.py')
    missing = str(tmp_path / 'missing')
    with pytest.raises(AssertionError) as failed:
        call_tool('dataset_converters/kitti.py',
                  [missing, str(tmp_path / 'out'), '--depth-root', missing])
    assert 'exited 1' in str(failed.value)
    assert 'error: ' in str(failed.value) and missing in str(failed.value)
    assert sys.argv == argv


def run_script(tmp_path, source, *args, timeout=60, **env):
    script = tmp_path / 'script.py'
    script.write_text(textwrap.dedent(source))
    return PRELOADED.run([sys.executable, str(script), *args],
                         dict(tool_env(), **env), timeout)


@pytest.mark.slow  # starts the preloaded interpreter
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


@pytest.mark.slow  # starts the preloaded interpreter
def test_uncaught_exception_exits_1_with_traceback(tmp_path):
    proc = run_script(tmp_path, 'raise ValueError("bad input")\n')
    assert proc.returncode == 1
    assert 'ValueError: bad input' in proc.stderr
    assert 'Traceback' in proc.stderr


@pytest.mark.slow  # starts the preloaded interpreter
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


@pytest.mark.slow  # starts the preloaded interpreter
def test_a_crash_at_interpreter_exit_is_the_runs_status(tmp_path):
    """The run ends with the interpreter's normal shutdown, so a crash
    there is the tool's status, as for ``python tool.py``: here the
    ``__del__`` of a library's module-level object aborts (as gloo's
    threads did at exit, issue #28).  A server ending its children with
    ``os._exit`` reported status 0."""
    source = '''
        import os, sys, types

        class AbortsAtExit:
            def __del__(self, abort=os.abort):
                abort()

        library = types.ModuleType('library_with_global_state')
        library.state = AbortsAtExit()
        sys.modules[library.__name__] = library
        print('work done')
    '''
    proc = run_script(tmp_path, source)
    new_interpreter = subprocess.run(
        [sys.executable, str(tmp_path / 'script.py')], capture_output=True,
        text=True, timeout=60)
    assert new_interpreter.returncode == -signal.SIGABRT
    assert (proc.returncode, proc.stdout) == (-signal.SIGABRT, 'work done\n')


@pytest.mark.slow  # starts the preloaded interpreter
def test_timeout_kills_the_run(tmp_path):
    with pytest.raises(subprocess.TimeoutExpired):
        run_script(tmp_path, 'import time\ntime.sleep(60)\n', timeout=1)
    assert run_script(tmp_path, 'print(1)\n').stdout == '1\n'
