"""tools/install_requirements.py: pip's package sources handed to uv."""
import os.path as osp
import re
import subprocess
import sys

import pytest

from tools_runner import load_tool

installer = load_tool('install_requirements.py')

PIP_CONFIG_LIST = """\
:env:.cert='/etc/ssl/certs/ca.crt'
:env:.find-links='/opt/wheels'
:env:.default-timeout='180'
global.constraint='/etc/xdg/pip/constraints.txt'
global.extra-index-url='file:///opt/a/simple file:///opt/b/simple'
global.find-links='/ignored/by/env'
install.index-url='https://mirror.example/simple'
global.index-url='https://ignored.example/simple'
"""


@pytest.fixture
def fake_pip_config(monkeypatch):
    """`pip config list` answers PIP_CONFIG_LIST; other calls are recorded."""
    calls = []

    def run(cmd, **kwargs):
        assert cmd[1:] == ['-m', 'pip', 'config', 'list'], cmd
        return subprocess.CompletedProcess(cmd, 0, PIP_CONFIG_LIST, '')

    def call(cmd, env=None):
        calls.append((cmd, env))
        return call.returncodes.pop(0)

    monkeypatch.setattr(installer.subprocess, 'run', run)
    monkeypatch.setattr(installer.subprocess, 'call', call)
    monkeypatch.delenv('SSL_CERT_FILE', raising=False)
    return call, calls


def test_pip_config_takes_the_most_specific_scope(fake_pip_config):
    config = installer.pip_config()
    assert config['find-links'] == '/opt/wheels'  # PIP_FIND_LINKS wins
    assert config['index-url'] == 'https://mirror.example/simple'
    assert config['extra-index-url'] == \
        'file:///opt/a/simple file:///opt/b/simple'
    assert config['cert'] == '/etc/ssl/certs/ca.crt'


def test_uv_gets_every_source_without_an_index_strategy(fake_pip_config):
    args = installer.uv_source_args(installer.pip_config())
    assert args == [
        '--index-url', 'https://mirror.example/simple',
        '--find-links', '/opt/wheels',
        '--constraint', '/etc/xdg/pip/constraints.txt',
    ]  # the file:// indexes hold none of the (no) locked packages
    assert '--index-strategy' not in args


def test_local_index_gives_the_pages_of_locked_packages(tmp_path):
    """A file:// index on disk: only the pages of locked packages it holds
    are passed, as find-links pages; a remote extra index stays one."""
    index = tmp_path / 'simple'
    for name in ('torch', 'numpy', 'unlocked'):
        (index / name).mkdir(parents=True)
        (index / name / 'index.html').write_text('<html></html>')
    lock = tmp_path / 'x.lock'
    lock.write_text('Torch==2.14.1 \\\n    --hash=sha256:00\n'
                    'typing_extensions==4.16.0 \\\n    # via torch\n')
    names = installer.locked_names(installer.requirement_files(
        ['--require-hashes', '-r', str(lock)]))
    assert names == ['torch', 'typing-extensions']
    config = {'extra-index-url': f'file://{index} https://other/simple'}
    assert installer.uv_source_args(config, names) == [
        '--find-links', f'file://{index / "torch" / "index.html"}',
        '--extra-index-url', 'https://other/simple',
    ]


@pytest.mark.parametrize('lock', ['cpu', 'tests', 'deploy', 'installer'])
def test_every_locked_package_has_hashes(lock):
    """uv checks only the hashes a file gives: every pin must have some."""
    path = osp.join(osp.dirname(installer.INSTALLER_LOCK), f'{lock}.lock')
    with open(path) as f:
        entries = re.split(r'\n(?=[A-Za-z])', f.read().split('\n', 2)[2])
    assert len(entries) > 1 if lock != 'installer' else entries
    for entry in entries:
        assert re.match(r'[\w.-]+==\S+ \\\n\s+--hash=sha256:[0-9a-f]{64}',
                        entry), entry[:200]


def test_main_installs_uv_then_runs_it_with_the_sources(fake_pip_config):
    call, calls = fake_pip_config
    call.returncodes = [0, 0]
    assert installer.main(['-r', 'requirements/cpu.txt']) == 0
    (get_uv, _), (uv, env) = calls
    assert get_uv[-4:] == ['-q', '--require-hashes', '-r',
                           installer.INSTALLER_LOCK]
    assert osp.isfile(installer.INSTALLER_LOCK)
    assert uv[:6] == [sys.executable, '-m', 'uv', 'pip', 'install',
                      '--python']
    assert uv[-2:] == ['-r', 'requirements/cpu.txt']
    assert '--compile-bytecode' in uv  # imports read .pyc files
    assert '--find-links' in uv and env['SSL_CERT_FILE'] == \
        '/etc/ssl/certs/ca.crt'


@pytest.mark.parametrize('returncodes', [[1, 0], [0, 2, 0]],
                         ids=['no uv', 'uv fails'])
def test_main_falls_back_to_pip(fake_pip_config, returncodes, capsys):
    call, calls = fake_pip_config
    call.returncodes = returncodes
    assert installer.main(['-r', 'requirements/cpu.txt']) == 0
    fallback, _ = calls[-1]
    assert fallback == [sys.executable, '-m', 'pip', 'install', '-r',
                        'requirements/cpu.txt']
    assert 'installing with pip' in capsys.readouterr().out
