"""Install locked requirements into this Python's environment, fast.

``make setup`` / ``make setup-tests`` call it with pip's own arguments, e.g.
``python tools/install_requirements.py -r requirements/cpu.lock``.  The
locks (``make locks``) pin every package with the SHA-256 of its files on
PyPI, and both installers check them: uv verifies every hash a requirement
file gives, pip switches to hash-checking mode.  The tool installs
`uv <https://github.com/astral-sh/uv>`_ at the version and hashes of
``requirements/installer.lock`` and lets it do the install: uv unpacks
wheels in parallel, then byte-compiles the environment in parallel
(``--compile-bytecode``).  Compiled at install, ``import mrpan_mm`` takes
under half the CPU time it takes from source, in every new interpreter:
where ``PYTHONDONTWRITEBYTECODE`` is set, an import would otherwise
compile its modules again each time (docs/installing.md).

uv reads no pip configuration, so the package sources pip is configured
with are handed to it, with uv's own rule that a package comes from the
first index that has it (no index strategy flag):

* pip's index URL and remote extra index URLs stay indexes;
* a ``file://`` extra index (a copy of registry files on this machine's
  disk) gives uv the page of each locked package it holds as a
  ``--find-links`` page: a local file is used only when its SHA-256 is one
  the lock lists, i.e. it is the registry's own file;
* find-links folders, constraints and the certificate are passed as they
  are.

Where uv cannot be installed or fails, pip does the install (pip
byte-compiles by default) after a one-line notice: both routes install the
same locked files.
"""
import os
import os.path as osp
import re
import subprocess
import sys
from typing import Dict, Iterable, List
from urllib.parse import urlparse
from urllib.request import url2pathname

INSTALLER_LOCK = osp.join(
    osp.dirname(osp.dirname(osp.abspath(__file__))), 'requirements',
    'installer.lock')
# pip option -> uv option, each value of a space-separated list repeated
PIP_SOURCES = {
    'index-url': '--index-url',
    'extra-index-url': '--extra-index-url',
    'find-links': '--find-links',
    'constraint': '--constraint',
}
# Where pip reads an option, most specific first (see `pip config list`).
PIP_SCOPES = (':env:', 'install', 'global')
PIN = re.compile(r'^([A-Za-z0-9][A-Za-z0-9._-]*)==')


def pip_config() -> Dict[str, str]:
    """pip's effective value of each option, as ``pip config list`` shows."""
    listing = subprocess.run(
        [sys.executable, '-m', 'pip', 'config', 'list'],
        capture_output=True, text=True, check=False).stdout
    rank = {scope: i for i, scope in enumerate(reversed(PIP_SCOPES))}
    entries = []  # (rank, option, value); the most specific scope last
    for line in listing.splitlines():
        key, sep, value = line.partition('=')
        scope, _, option = key.rpartition('.')
        if sep and scope in rank:
            entries.append((rank[scope], option, value.strip().strip("'\"")))
    return {option: value for _, option, value in sorted(entries)}


def requirement_files(args: List[str]) -> List[str]:
    """The files of ``-r FILE`` / ``--requirement FILE`` in pip arguments."""
    return [value for flag, value in zip(args, args[1:])
            if flag in ('-r', '--requirement')]


def locked_names(paths: Iterable[str]) -> List[str]:
    """Normalised names of the ``name==version`` lines of requirement
    files (PEP 503: lower case, runs of ``-_.`` as ``-``)."""
    names = set()
    for path in paths:
        with open(path) as f:
            for line in f:
                match = PIN.match(line)
                if match:
                    names.add(re.sub(r'[-_.]+', '-', match[1]).lower())
    return sorted(names)


def local_pages(index_url: str, names: Iterable[str]) -> List[str]:
    """The package pages of a ``file://`` index that hold ``names``."""
    root = url2pathname(urlparse(index_url).path)
    pages = []
    for name in names:
        page = osp.join(root, name, 'index.html')
        if osp.isfile(page):
            pages.append('file://' + page)
    return pages


def uv_source_args(config: Dict[str, str],
                   names: Iterable[str] = ()) -> List[str]:
    """uv arguments that give it the package sources pip is configured
    with (see the module docstring); ``names`` are the locked packages."""
    args = []
    for option, flag in PIP_SOURCES.items():
        for value in config.get(option, '').split():
            if option == 'extra-index-url' and value.startswith('file://'):
                for page in local_pages(value, names):
                    args += ['--find-links', page]
            else:
                args += [flag, value]
    return args


def pip_install(args: List[str]) -> int:
    return subprocess.call([sys.executable, '-m', 'pip', 'install', *args])


def main(args: List[str]) -> int:
    if pip_install(['-q', '--require-hashes', '-r', INSTALLER_LOCK]) != 0:
        print('install_requirements: uv is not available; installing with '
              'pip', flush=True)
        return pip_install(args)
    config = pip_config()
    env = dict(os.environ)
    if 'cert' in config:
        env.setdefault('SSL_CERT_FILE', config['cert'])
    names = locked_names(requirement_files(args))
    uv = [sys.executable, '-m', 'uv', 'pip', 'install', '--python',
          sys.executable, '--compile-bytecode',
          *uv_source_args(config, names), *args]
    if subprocess.call(uv, env=env) == 0:
        return 0
    print('install_requirements: uv failed (above); installing with pip',
          flush=True)
    return pip_install(args)


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
