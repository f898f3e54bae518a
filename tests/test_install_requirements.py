"""tools/install_requirements.py: pip's package sources handed to uv."""
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


def test_uv_gets_every_source_and_pips_version_rule(fake_pip_config):
    args = installer.uv_source_args(installer.pip_config())
    assert args == [
        '--index-strategy', 'unsafe-best-match',
        '--index-url', 'https://mirror.example/simple',
        '--extra-index-url', 'file:///opt/a/simple',
        '--extra-index-url', 'file:///opt/b/simple',
        '--find-links', '/opt/wheels',
        '--constraint', '/etc/xdg/pip/constraints.txt',
    ]


def test_main_installs_uv_then_runs_it_with_the_sources(fake_pip_config):
    call, calls = fake_pip_config
    call.returncodes = [0, 0]
    assert installer.main(['-r', 'requirements/cpu.txt']) == 0
    (get_uv, _), (uv, env) = calls
    assert get_uv[-2:] == ['-q', 'uv']
    assert uv[:6] == [sys.executable, '-m', 'uv', 'pip', 'install',
                      '--python']
    assert uv[-2:] == ['-r', 'requirements/cpu.txt']
    assert '--find-links' in uv and env['SSL_CERT_FILE'] == \
        '/etc/ssl/certs/ca.crt'


@pytest.mark.parametrize('returncodes', [[1, 0], [0, 2, 0]],
                         ids=['no uv', 'uv fails'])
def test_main_falls_back_to_pip(fake_pip_config, returncodes, capsys):
    call, calls = fake_pip_config
    call.returncodes = returncodes
    assert installer.main(['-r', 'requirements/cpu.txt']) == 0
    fallback, _ = calls[-1]
    assert fallback == [sys.executable, '-m', 'pip', 'install',
                        '--no-compile', '-r', 'requirements/cpu.txt']
    assert 'installing with pip' in capsys.readouterr().out
