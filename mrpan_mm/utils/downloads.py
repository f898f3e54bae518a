"""Verified downloads of the external files the configs and converters need.

The manifest (``mrpan_mm/data/downloads.json``) names every such file: its
URL (or the page to fetch it from by hand), where it goes, and a SHA-256
prefix where one is published or encoded in the file name.  :func:`fetch`
downloads with :func:`torch.hub.download_url_to_file` (or copies a file the
user fetched by hand) to a temporary name next to the destination, checks
the size against the server's ``Content-Length`` and the checksum against
the manifest, and only then renames it into place; a failed check leaves
nothing behind.  Nothing here runs at training time.
"""
import hashlib
import json
import os
import os.path as osp
import shutil
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Dict, List, Optional, Tuple

from torch.hub import download_url_to_file

MANIFEST = osp.join(
    osp.dirname(osp.dirname(osp.abspath(__file__))), 'data', 'downloads.json')
FIELDS = ('file', 'url', 'page', 'sha256_prefix', 'checksum_note', 'used_by',
          'license', 'citation', 'convert')


class DownloadError(RuntimeError):
    """A file could not be fetched or failed its check; nothing was kept."""


@dataclass(frozen=True)
class DownloadEntry:
    """One external file of the manifest.

    ``file`` is relative to the destination root; ``url`` is None when
    the file must be fetched by hand from ``page``; ``sha256_prefix`` is
    None when no checksum is published (``checksum_note`` says so);
    ``convert`` is the converter command (a tool path relative to the
    clone, then its arguments, ``{file}`` standing for the fetched file).
    """
    name: str
    file: str
    url: Optional[str]
    page: str
    sha256_prefix: Optional[str]
    checksum_note: str
    used_by: str
    license: str
    citation: str
    convert: Optional[List[str]]


def load_manifest(path: str = MANIFEST) -> Dict[str, DownloadEntry]:
    """The manifest's entries by name; an entry with a missing or unknown
    field is refused naming the file and the entry."""
    with open(path) as f:
        entries = json.load(f)['entries']
    manifest = {}
    for name, fields in entries.items():
        if set(fields) != set(FIELDS):
            raise ValueError(
                f'{path}: entry {name!r} needs exactly the fields '
                f'{", ".join(FIELDS)}; missing '
                f'{sorted(set(FIELDS) - set(fields))}, unknown '
                f'{sorted(set(fields) - set(FIELDS))}')
        manifest[name] = DownloadEntry(name=name, **fields)
    return manifest


def sha256_of(path: str) -> str:
    """Hex SHA-256 of a file, read in 1 MiB blocks."""
    digest = hashlib.sha256()
    with open(path, 'rb') as f:
        for block in iter(lambda: f.read(1 << 20), b''):
            digest.update(block)
    return digest.hexdigest()


def check_file(path: str, entry: DownloadEntry,
               expected_size: Optional[int] = None) -> str:
    """Check ``path`` against ``expected_size`` (bytes) and the entry's
    checksum; returns its SHA-256, raises :class:`DownloadError` naming
    both values on a mismatch."""
    size = osp.getsize(path)
    if expected_size is not None and size != expected_size:
        raise DownloadError(
            f'{entry.name}: truncated or interrupted download, {size} of '
            f'{expected_size} bytes')
    digest = sha256_of(path)
    if entry.sha256_prefix and not digest.startswith(entry.sha256_prefix):
        raise DownloadError(
            f'{entry.name}: checksum mismatch, SHA-256 {digest} does not '
            f'start with the expected {entry.sha256_prefix}')
    return digest


def content_length(url: str) -> Optional[int]:
    """The size the server announces for ``url`` (a HEAD request), None
    when it announces none; an HTTP error status is a
    :class:`DownloadError`."""
    if not url.startswith(('http://', 'https://')):
        return None
    request = urllib.request.Request(url, method='HEAD')
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            length = response.headers.get('Content-Length')
    except urllib.error.HTTPError as error:
        if error.code == 405:  # HEAD not allowed: size unknown
            return None
        raise DownloadError(f'{url}: HTTP {error.code} {error.reason}')
    except urllib.error.URLError as error:
        raise DownloadError(f'{url}: {error.reason}')
    return int(length) if length is not None else None


def fetch(entry: DownloadEntry, root: str, source: Optional[str] = None,
          progress: bool = True) -> Tuple[str, str]:
    """Put the entry's file under ``root``, verified.

    Args:
        entry: The manifest entry.
        root: Destination root (``entry.file`` is relative to it).
        source: A file fetched by hand, checked instead of downloading.
        progress: Show torch.hub's progress bar.

    Returns:
        tuple[str, str]: The file's path and its hex SHA-256.

    An existing destination is checked, not fetched again.
    """
    dst = osp.join(root, entry.file)
    if osp.exists(dst):
        return dst, check_file(dst, entry)
    if source is None and entry.url is None:
        raise DownloadError(
            f'{entry.name}: no direct URL; fetch it by hand from '
            f'{entry.page} and pass it with --from FILE')
    os.makedirs(osp.dirname(osp.abspath(dst)), exist_ok=True)
    tmp = f'{dst}.download'
    try:
        if source is not None:
            shutil.copyfile(source, tmp)
            expected_size = None
        else:
            expected_size = content_length(entry.url)
            try:
                download_url_to_file(entry.url, tmp, progress=progress)
            except (urllib.error.URLError, OSError) as error:
                raise DownloadError(f'{entry.url}: {error}') from error
        digest = check_file(tmp, entry, expected_size)
        os.replace(tmp, dst)
    finally:
        if osp.exists(tmp):
            os.remove(tmp)
    return dst, digest
