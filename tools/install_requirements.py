"""Install packages into this Python's environment, fast and as pip would.

``make setup`` / ``make setup-tests`` call it with pip's own arguments, e.g.
``python tools/install_requirements.py -r requirements/cpu.txt``.  It
installs `uv <https://github.com/astral-sh/uv>`_ (from the package registry,
into the same environment) and lets it do the install: uv unpacks wheels in
parallel and leaves byte-compiling to the first import: requirements/cpu.txt
into a new venv took 28 s instead of pip's 2 min 2 s (README, "Installing").
uv reads no pip configuration, so the package sources pip is configured
with (index URLs, find-links, constraints, certificate; from pip's config
files and PIP_* variables) are handed to it, and like pip it takes the best
version across all indexes.  Where uv cannot be installed or fails, pip does
the install (without byte-compiling) after a one-line notice: both routes
install the same pinned requirements.
"""
import os
import subprocess
import sys
from typing import Dict, List

# pip option -> uv option, each value of a space-separated list repeated
PIP_SOURCES = {
    'index-url': '--index-url',
    'extra-index-url': '--extra-index-url',
    'find-links': '--find-links',
    'constraint': '--constraint',
}
# Where pip reads an option, most specific first (see `pip config list`).
PIP_SCOPES = (':env:', 'install', 'global')


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


def uv_source_args(config: Dict[str, str]) -> List[str]:
    """uv arguments that give it the package sources pip is configured
    with; ``unsafe-best-match`` is pip's rule (best version over all
    indexes)."""
    args = ['--index-strategy', 'unsafe-best-match']
    for option, flag in PIP_SOURCES.items():
        for value in config.get(option, '').split():
            args += [flag, value]
    return args


def pip_install(args: List[str]) -> int:
    return subprocess.call(
        [sys.executable, '-m', 'pip', 'install', '--no-compile', *args])


def main(args: List[str]) -> int:
    if pip_install(['-q', 'uv']) != 0:
        print('install_requirements: uv is not available; installing with '
              'pip', flush=True)
        return pip_install(args)
    config = pip_config()
    env = dict(os.environ)
    if 'cert' in config:
        env.setdefault('SSL_CERT_FILE', config['cert'])
    uv = [sys.executable, '-m', 'uv', 'pip', 'install', '--python',
          sys.executable, *uv_source_args(config), *args]
    if subprocess.call(uv, env=env) == 0:
        return 0
    print('install_requirements: uv failed (above); installing with pip',
          flush=True)
    return pip_install(args)


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
