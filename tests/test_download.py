"""tools/download.py against an HTTP server on 127.0.0.1 serving generated
files: verified fetch, wrong checksum, truncated body, 404, --from, and the
NYU converter chained after the fetch."""
import functools
import hashlib
import http.server
import json
import os
import threading

import h5py
import numpy as np
import pytest
import scipy.io

from mrpan_mm.utils.downloads import MANIFEST, load_manifest
from tools_runner import load_tool, run_tool

download = load_tool('download.py')
PAYLOAD = bytes(range(256)) * 64  # 16 KiB
DIGEST = hashlib.sha256(PAYLOAD).hexdigest()


class Handler(http.server.SimpleHTTPRequestHandler):
    """Serves the folder; ``/cut/NAME`` announces NAME's full size but
    closes the connection after half of it (an interrupted download)."""

    def do_GET(self):
        if not self.path.startswith('/cut/'):
            return super().do_GET()
        with open(os.path.join(self.directory, self.path[5:]), 'rb') as f:
            body = f.read()
        self.send_response(200)
        self.send_header('Content-Length', str(len(body)))
        self.end_headers()
        self.wfile.write(body[:len(body) // 2])
        self.close_connection = True

    def do_HEAD(self):
        if not self.path.startswith('/cut/'):
            return super().do_HEAD()
        self.send_response(200)
        size = os.path.getsize(os.path.join(self.directory, self.path[5:]))
        self.send_header('Content-Length', str(size))
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def server(tmp_path):
    """Base URL of a server over ``tmp_path/served``."""
    served = tmp_path / 'served'
    served.mkdir()
    (served / 'weights.pth').write_bytes(PAYLOAD)
    httpd = http.server.ThreadingHTTPServer(
        ('127.0.0.1', 0),
        functools.partial(Handler, directory=str(served)))
    thread = threading.Thread(target=httpd.serve_forever,
                              kwargs=dict(poll_interval=0.05), daemon=True)
    thread.start()
    yield f'http://127.0.0.1:{httpd.server_address[1]}', served
    httpd.shutdown()
    httpd.server_close()


def entry(url, sha256_prefix=None, convert=None, file='ckpt/w.pth'):
    return dict(file=file, url=url, page='test page',
                sha256_prefix=sha256_prefix, checksum_note='test',
                used_by='tests', license='test', citation='test',
                convert=convert)


def write_manifest(tmp_path, **entries):
    path = tmp_path / 'manifest.json'
    path.write_text(json.dumps(dict(entries=entries)))
    return str(path)


def run(tmp_path, manifest, *args):
    root = tmp_path / 'root'
    code = download.main(['--manifest', manifest, '--root', str(root),
                          '--no-progress', *args])
    return code, root


def test_shipped_manifest_is_complete():
    manifest = load_manifest(MANIFEST)
    for name in ('senet154', 'resnet50_v1c', 'convnext_t', 'swin_t',
                 'efficientnet_b3', 'nyu_labeled', 'nyu_splits',
                 'nyu_hu2019', 'ibims1'):
        item = manifest[name]
        assert item.url or item.page
        # a checksum only where the file name carries one
        stem = os.path.splitext(os.path.basename(item.file))[0]
        if item.sha256_prefix:
            assert stem.endswith('-' + item.sha256_prefix)
        else:
            assert item.checksum_note.startswith('no ')


def test_good_download_and_list(tmp_path, server, capsys):
    url, _ = server
    manifest = write_manifest(
        tmp_path, good=entry(f'{url}/weights.pth', DIGEST[:8]))
    code, root = run(tmp_path, manifest, 'good')
    assert code == 0
    assert (root / 'ckpt' / 'w.pth').read_bytes() == PAYLOAD
    assert os.listdir(root / 'ckpt') == ['w.pth']
    assert DIGEST in capsys.readouterr().out
    assert download.main(['--manifest', manifest, '--list']) == 0
    assert f'SHA-256 starts with {DIGEST[:8]}' in capsys.readouterr().out


@pytest.mark.parametrize('case', ['wrong checksum', 'truncated', '404'])
def test_failed_download_keeps_nothing(tmp_path, server, capsys, case):
    url, _ = server
    item = dict(
        **{'wrong checksum': entry(f'{url}/weights.pth', 'deadbeef'),
           'truncated': entry(f'{url}/cut/weights.pth'),
           '404': entry(f'{url}/missing.pth', DIGEST[:8])}[case])
    code, root = run(tmp_path, write_manifest(tmp_path, x=item), 'x')
    assert code == 1
    err = capsys.readouterr().err
    assert {'wrong checksum': f'SHA-256 {DIGEST} does not start with the '
            'expected deadbeef',
            'truncated': f'{len(PAYLOAD) // 2} of {len(PAYLOAD)} bytes',
            '404': 'missing.pth: HTTP 404'}[case] in err
    assert not (root / 'ckpt').exists() or not os.listdir(root / 'ckpt')


def test_from_file_takes_the_same_check(tmp_path, capsys):
    manifest = write_manifest(tmp_path, byhand=entry(None, DIGEST[:8]))
    code, root = run(tmp_path, manifest, 'byhand')
    assert code == 1 and '--from FILE' in capsys.readouterr().err
    wrong = tmp_path / 'wrong.pth'
    wrong.write_bytes(PAYLOAD[:-1])
    assert run(tmp_path, manifest, 'byhand', '--from', str(wrong))[0] == 1
    assert not os.listdir(root / 'ckpt')
    good = tmp_path / 'good.pth'
    good.write_bytes(PAYLOAD)
    assert run(tmp_path, manifest, 'byhand', '--from', str(good))[0] == 0
    assert (root / 'ckpt' / 'w.pth').read_bytes() == PAYLOAD


def test_manifest_entry_with_missing_field_is_named(tmp_path):
    item = entry('http://127.0.0.1/x')
    del item['citation']
    with pytest.raises(ValueError, match=r"entry 'bad'.*\['citation'\]"):
        run(tmp_path, write_manifest(tmp_path, bad=item), 'bad')


@pytest.mark.slow
def test_nyu_converter_runs_after_the_fetch(tmp_path, server):
    """A 3-frame labelled .mat is served, fetched and converted by the
    real converter into mmseg's layout."""
    url, served = server
    h, w, n = 8, 10, 3
    rng = np.random.default_rng(0)
    with h5py.File(served / 'labeled.mat', 'w') as f:  # MATLAB order
        f['images'] = rng.integers(0, 255, (n, 3, w, h), dtype=np.uint8)
        f['depths'] = rng.uniform(0.5, 5, (n, w, h)).astype(np.float32)
        f['labels'] = rng.integers(0, 40, (n, w, h), dtype=np.uint16)
    splits = tmp_path / 'splits.mat'
    scipy.io.savemat(str(splits), dict(trainNdxs=[[1], [3]], testNdxs=[[2]]))
    manifest = write_manifest(tmp_path, nyu=entry(
        f'{url}/labeled.mat', file='data/labeled.mat', convert=[
            'tools/dataset_converters/nyu_labeled.py', '{file}', 'data/nyu',
            '--splits', str(splits)]))
    root = tmp_path / 'root'
    run_tool('download.py', ['--manifest', manifest, '--root', str(root),
                             '--no-progress', '--convert', 'nyu'])
    nyu = root / 'data' / 'nyu'
    assert len(os.listdir(nyu / 'images' / 'train')) == 2
    assert len(os.listdir(nyu / 'annotations' / 'test')) == 1
