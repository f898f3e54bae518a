"""The depth web page's server (mrpan_mm.deploy.webapp) over HTTP.

The model is a stand-in here (depth = 1 m + the image's row index in
metres / 100); the real model in a real browser: test_webapp_browser.py.
"""
import http.client
import json
import resource
import socket
import struct
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import zlib
from concurrent.futures import ThreadPoolExecutor

import cv2
import numpy as np
import pytest

from mrpan_mm.deploy.webapp import DepthPage, PageLimits, make_server


def row_depth(image_bgr: np.ndarray) -> np.ndarray:
    height, width = image_bgr.shape[:2]
    return np.repeat(1.0 + np.arange(height)[:, None] / 100.0, width, 1)


@pytest.fixture
def server():
    page = DepthPage(row_depth,
                     PageLimits(max_bytes=200_000, max_pixels=300 * 300,
                                max_side=120, keep_results=2))
    httpd = make_server(page, port=0)
    # shutdown() waits for the next poll: 0.05 s instead of 0.5 s
    thread = threading.Thread(target=httpd.serve_forever,
                              kwargs=dict(poll_interval=0.05), daemon=True)
    thread.start()
    host, port = httpd.server_address[:2]
    yield f'http://{host}:{port}', page
    httpd.shutdown()
    httpd.server_close()
    page.results.close()


def post(url: str, data: bytes, filename: str):
    request = urllib.request.Request(
        url + '/predict', data=data, method='POST',
        headers={'X-Filename': urllib.parse.quote(filename)})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def get(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=30) as response:
        return response.read()


def png_bytes(height: int, width: int) -> bytes:
    image = np.random.default_rng(0).integers(0, 256, (height, width, 3),
                                              dtype=np.uint8)
    return cv2.imencode('.png', image)[1].tobytes()


def test_binds_localhost_by_default(server):
    url, _ = server
    assert url.startswith('http://127.0.0.1:')


def test_page_has_upload_form(server):
    url, _ = server
    html = get(url + '/').decode()
    assert '<input type="file" id="file"' in html
    assert 'up to 0.191 MB' in html and '200000' in html  # client check


def test_prediction_files(server):
    url, _ = server
    status, reply = post(url, png_bytes(60, 80), 'my room.png')
    assert status == 200, reply
    assert (reply['width'], reply['height']) == (80, 60)
    assert reply['inference_ms'] >= 0
    assert reply['depth_range'] == [1.0, 1.59]
    files = reply['files']
    assert files['depth'].endswith('/my_room_depth.png')
    depth_mm = cv2.imdecode(
        np.frombuffer(get(url + files['depth']), np.uint8),
        cv2.IMREAD_UNCHANGED)
    assert depth_mm.dtype == np.uint16
    np.testing.assert_array_equal(
        depth_mm, np.round(row_depth(np.zeros((60, 80))) * 1000))
    colour = cv2.imdecode(np.frombuffer(get(url + files['color']), np.uint8),
                          cv2.IMREAD_COLOR)
    assert colour.shape[1] == 80 and colour.shape[0] > 60  # + colour bar
    ply = get(url + files['ply'])
    header, _, body = ply.partition(b'end_header\n')
    assert b'element vertex 4800' in header
    assert len(body) == 4800 * 15  # 3 float32 + 3 uint8 per point
    assert get(url + files['input'])[:4] == b'\x89PNG'


def test_large_image_is_shrunk(server):
    url, _ = server
    status, reply = post(url, png_bytes(150, 240), 'wide.png')
    assert status == 200, reply
    assert (reply['width'], reply['height']) == (120, 75)


@pytest.mark.parametrize('data,name,status,words', [
    (b'', 'empty.png', 400, 'No file received'),
    (b'hello, not an image', 'notes.txt', 400,
     'notes.txt is not an image this page can read'),
    (b'\x89PNG\r\n\x1a\n' + b'\0' * 100, 'broken.png', 400,
     'broken.png is not an image'),
    (b'\0' * 300_000, 'huge.jpg', 413,
     'huge.jpg is 0.286 MB; the limit is 0.191 MB.'),
])
def test_bad_upload_gets_a_message(server, data, name, status, words):
    url, _ = server
    got_status, reply = post(url, data, name)
    assert got_status == status
    assert list(reply) == ['error'] and words in reply['error']
    assert 'Traceback' not in reply['error']


def test_too_many_pixels(server):
    url, _ = server
    blank = cv2.imencode('.png', np.zeros((400, 400, 3), np.uint8))[1]
    status, reply = post(url, blank.tobytes(), 'big.png')
    assert status == 413
    assert 'big.png has 400x400 pixels; the limit is' in reply['error']


def test_model_failure_detail_stays_in_the_log(server, caplog):
    url, page = server

    def broken(image):
        raise RuntimeError('out of memory at /secret/path')

    page.predict = broken
    status, reply = post(url, png_bytes(20, 20), 'a.png')
    assert status == 500
    assert list(reply) == ['error'] and 'secret' not in reply['error']
    reference = reply['error'].split('log entry ')[1].rstrip(').')
    logged = [r.getMessage() for r in caplog.records
              if reference in r.getMessage()]
    assert len(logged) == 1 and '/secret/path' in logged[0]


def bomb_png(side: int) -> bytes:
    """A valid 8-bit grey PNG of ``side`` x ``side`` zeros (``side`` a
    multiple of 1000): ~1 KB per million pixels.  One deflate block of
    1000 zero rows, compressed once, is repeated (a full flush makes blocks
    independent); the zlib checksum is computed over the real rows."""
    def chunk(kind: bytes, body: bytes) -> bytes:
        return (struct.pack('>I', len(body)) + kind + body +
                struct.pack('>I', zlib.crc32(kind + body)))

    rows = bytes(side + 1) * 1000  # a filter byte and a row of zeros each
    packer = zlib.compressobj(9, zlib.DEFLATED, -15)
    block = packer.compress(rows) + packer.flush(zlib.Z_FULL_FLUSH)
    checksum = 1
    for _ in range(side // 1000):
        checksum = zlib.adler32(rows, checksum)
    stream = (b'\x78\xda' + block * (side // 1000) + packer.flush() +
              struct.pack('>I', checksum))
    return (b'\x89PNG\r\n\x1a\n' +
            chunk(b'IHDR', struct.pack('>IIBBBBB', side, side, 8, 0, 0, 0, 0))
            + chunk(b'IDAT', stream) + chunk(b'IEND', b''))


def test_bomb_png_is_a_real_image():
    """The fixture decodes (a 2000 x 2000 one, as OpenCV sees it)."""
    image = cv2.imdecode(np.frombuffer(bomb_png(2000), np.uint8),
                         cv2.IMREAD_COLOR)
    assert image.shape == (2000, 2000, 3) and not image.any()


def test_decompression_bomb_is_refused_undecoded(server, monkeypatch):
    """10000 x 10000 pixels (300 MB as BGR) in ~100 KB: refused from the
    header; the image decoder is never called and memory stays low."""
    url, _ = server
    from mrpan_mm.deploy import webapp
    decoded = []
    monkeypatch.setattr(webapp.cv2, 'imdecode',
                        lambda *args: decoded.append(1))
    bomb = bomb_png(10000)
    assert len(bomb) < 200_000  # under the fixture's byte limit
    peak_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    status, reply = post(url, bomb, 'bomb.png')
    assert status == 413, reply
    assert 'bomb.png has 10000x10000 pixels; the limit is' in reply['error']
    assert not decoded
    grown_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - \
        peak_before
    assert grown_kb < 100_000


def test_concurrent_uploads_are_answered_or_refused(server):
    """20 uploads at once while the model is held: one is processed, the
    page's ``max_waiting`` wait, the other 15 get 503 at once; then the
    waiting ones are answered one by one and the server serves normally."""
    url, page = server
    release, in_model, most_in_model = threading.Event(), [], []

    def held(image):
        in_model.append(1)
        most_in_model.append(len(in_model))
        release.wait(30)
        in_model.pop()
        return row_depth(image)

    page.predict = held
    admitted = 1 + page.limits.max_waiting
    with ThreadPoolExecutor(20) as pool:
        futures = [pool.submit(post, url, png_bytes(20, 20), f'{i}.png')
                   for i in range(20)]
        deadline = time.monotonic() + 30
        while (sum(f.done() for f in futures) < 20 - admitted
               and time.monotonic() < deadline):
            time.sleep(0.01)
        refused = [f.result() for f in futures if f.done()]
        release.set()
        replies = [f.result() for f in futures]
    assert len(refused) == 20 - admitted
    assert all(status == 503 and 'busy' in reply['error']
               for status, reply in refused), refused
    assert sorted(status for status, _ in replies) == \
        [200] * admitted + [503] * (20 - admitted)
    assert max(most_in_model) == 1
    assert post(url, png_bytes(20, 20), 'after.png')[0] == 200


@pytest.mark.parametrize('host,status', [
    ('evil.example', 403), ('evil.example:80', 403), ('127.0.0.1.nip.io',
                                                      403),
    (None, 200), ('localhost', 200), ('[::1]:7860', 200)])
def test_loopback_server_checks_host(server, host, status):
    """DNS rebinding: a page of another site reaching 127.0.0.1 sends its
    own host name."""
    url, _ = server
    address, port = url.split('//')[1].split(':')
    connection = http.client.HTTPConnection(address, int(port), timeout=30)
    headers = {} if host is None else {'Host': host}
    connection.request('GET', '/', headers=headers)
    assert connection.getresponse().status == status
    connection.close()


def test_only_recent_results_are_kept(server):
    url, _ = server
    first = post(url, png_bytes(20, 20), 'a.png')[1]['files']['depth']
    for _ in range(2):
        post(url, png_bytes(20, 20), 'b.png')
    with pytest.raises(urllib.error.HTTPError) as error:
        get(url + first)
    assert error.value.code == 404


@pytest.mark.parametrize('path', [
    '/result/../../etc/passwd', '/result/' + '0' * 32 + '/input.png',
    '/nothing'
])
def test_unknown_paths_are_404(server, path):
    url, _ = server
    with pytest.raises(urllib.error.HTTPError) as error:
        get(url + path)
    assert error.value.code == 404


def test_connections_are_bounded():
    """With ``max_connections=2``, two silent clients hold both threads: a
    third request waits in the listen queue until one of them leaves."""
    page = DepthPage(row_depth, PageLimits(max_connections=2))
    httpd = make_server(page, port=0)
    thread = threading.Thread(target=httpd.serve_forever,
                              kwargs=dict(poll_interval=0.05), daemon=True)
    thread.start()
    address = httpd.server_address[:2]
    url = 'http://%s:%d/' % address
    silent = [socket.create_connection(address) for _ in range(2)]
    try:
        with pytest.raises(OSError):  # socket.timeout / URLError
            urllib.request.urlopen(url, timeout=0.5)
        silent.pop().close()
        assert b'<form id="upload">' in get(url)
    finally:
        for connection in silent:
            connection.close()
        httpd.shutdown()
        httpd.server_close()
        page.results.close()


@pytest.mark.parametrize('thread_runs', [True, False],
                         ids=['ctrl_c_after_start', 'start_fails'])
def test_slot_given_back_once_when_starting_a_thread_is_interrupted(
        monkeypatch, thread_runs):
    """Ctrl+C while ``Thread.start`` waits for a thread that did start
    (``thread_runs``), or a thread that could not start: the exception
    reaches ``serve_forever`` (so Ctrl+C stops the server) and the
    request's slot is given back exactly once.

    Catches: the slot released both by the failed ``process_request`` and
    by the thread (``ValueError: Semaphore released too many times``,
    which the server logged and served on: ``webapp.py`` then ignored
    Ctrl+C, seen once in ``test_user_paths.py``), or not at all.
    """
    page = DepthPage(row_depth, PageLimits(max_connections=1))
    httpd = make_server(page, port=0)
    served = threading.Event()
    # the request's own handling (the thread's slot bookkeeping is real)
    monkeypatch.setattr(httpd, 'finish_request',
                        lambda request, address: served.set())
    monkeypatch.setattr(httpd, 'shutdown_request', lambda request: None)
    start = threading.Thread.start

    def interrupted_start(thread):
        if thread_runs:
            start(thread)
            assert served.wait(5)
            thread.join(5)
        raise KeyboardInterrupt

    monkeypatch.setattr(threading.Thread, 'start', interrupted_start)
    try:
        with pytest.raises(KeyboardInterrupt):
            httpd.process_request(None, ('127.0.0.1', 1))
        monkeypatch.undo()
        assert served.is_set() == thread_runs
        # the one slot is free again, and only one
        assert httpd._slots.acquire(blocking=False)
        assert not httpd._slots.acquire(blocking=False)
        httpd._slots.release()
        with pytest.raises(ValueError):  # bounded: nothing was over-released
            httpd._slots.release()
    finally:
        httpd.server_close()
        page.results.close()
