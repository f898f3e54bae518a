"""Fetch and verify the pretrained weights and data sets the configs need.

Examples::

    python tools/download.py --list
    python tools/download.py senet154 nyu_labeled --convert
    python tools/download.py nyu_hu2019 --from ~/Downloads/nyu_data.zip

Each NAME of the manifest (``mrpan_mm/data/downloads.json``) is downloaded
to a temporary name under ROOT (default: the current folder), checked (size
announced by the server; SHA-256 prefix where one is published) and then
moved into place; a failed check keeps nothing and exits 1.  ``--from``
checks a file fetched by hand the same way; ``--convert`` then runs the
entry's converter (SENet-154 -> checked MMEngine file, NYU .mat -> mmseg
layout).
"""
import argparse
import os.path as osp
import subprocess
import sys
from typing import Dict, List

import mrpan_mm  # noqa: F401  (first: installs the mmcv-lite shim)

from mrpan_mm.utils.downloads import (MANIFEST, DownloadEntry, DownloadError,
                                      fetch, load_manifest)

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('names', nargs='*', metavar='NAME',
                        help='manifest entries to fetch (see --list)')
    parser.add_argument('--list', action='store_true',
                        help='list the entries with URL, checksum, licence')
    parser.add_argument('--root', default='.',
                        help='folder the files go under (default: .)')
    parser.add_argument('--from', dest='source', metavar='FILE',
                        help='check and install FILE, fetched by hand, '
                        'as the one NAME given')
    parser.add_argument('--convert', action='store_true',
                        help="run each entry's converter after the fetch")
    parser.add_argument('--no-progress', action='store_true',
                        help='no progress bar')
    parser.add_argument('--manifest', default=MANIFEST,
                        help='manifest file (default: the one shipped in '
                        'the package)')
    return parser


def describe(entry: DownloadEntry) -> str:
    """The --list block of one entry."""
    checksum = (f'SHA-256 starts with {entry.sha256_prefix} '
                f'({entry.checksum_note})'
                if entry.sha256_prefix else entry.checksum_note)
    convert = ' '.join(entry.convert) if entry.convert else 'none'
    return '\n'.join([
        entry.name,
        f'  file:     {entry.file}',
        f'  url:      {entry.url or "none: fetch by hand, then --from FILE"}',
        f'  page:     {entry.page}',
        f'  checksum: {checksum}',
        f'  used by:  {entry.used_by}',
        f'  convert:  {convert}',
        f'  licence:  {entry.license}',
        f'  cite:     {entry.citation}',
    ])


def convert(entry: DownloadEntry, path: str, root: str) -> None:
    """Run the entry's converter on ``path`` with ``root`` as the working
    folder (its relative outputs land there)."""
    tool, *args = entry.convert
    command = [sys.executable, osp.join(REPO, tool),
               *(arg.replace('{file}', osp.abspath(path)) for arg in args)]
    print('running', ' '.join(command), flush=True)
    if subprocess.call(command, cwd=root) != 0:
        raise DownloadError(f'{entry.name}: converter {tool} failed (above)')


def main(argv: List[str] = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    manifest: Dict[str, DownloadEntry] = load_manifest(args.manifest)
    if args.list:
        print('\n\n'.join(describe(e) for e in manifest.values()))
        return 0
    if not args.names:
        parser.error('give NAME... or --list')
    unknown = [name for name in args.names if name not in manifest]
    if unknown:
        parser.error(f'unknown {", ".join(unknown)}; known: '
                     f'{", ".join(manifest)}')
    if args.source and len(args.names) != 1:
        parser.error('--from FILE takes exactly one NAME')
    try:
        for name in args.names:
            entry = manifest[name]
            path, digest = fetch(entry, args.root, args.source,
                                 progress=not args.no_progress)
            check = ('checksum verified' if entry.sha256_prefix else
                     'no published checksum to verify')
            print(f'{name}: {path} (SHA-256 {digest}; {check})', flush=True)
            if args.convert and entry.convert:
                convert(entry, path, args.root)
    except DownloadError as error:
        print(f'download: {error}', file=sys.stderr)
        return 1
    return 0


if __name__ == '__main__':
    sys.exit(main())
