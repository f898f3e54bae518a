"""A local web page to try a depth model: upload an image, see its depth.

Python's standard ``http.server`` serves one plain HTML page with a few
lines of JavaScript; no web framework is needed.  The page posts the file's
bytes to ``/predict``; the server decodes and checks them, predicts depth
through one function, ``predict(image_bgr) -> depth_m``, and writes the
results under a temporary folder:

* ``<stem>_input.png``: the image the model saw;
* ``<stem>_color.png``: the colour-mapped depth with its range (metres);
* ``<stem>_depth.png``: 16-bit depth in millimetres (0 = none);
* ``<stem>.ply``: the coloured point cloud, back-projected with the NYU
  Depth v2 camera's intrinsics scaled to the image

(:class:`~mrpan_mm.utils.prediction_files.PredictionFiles`, as
``tools/infer.py`` names them).

``/predict`` answers JSON: the result's URLs and the inference time, or a
message for the page (``error``).  Problems with the upload (empty, too
large, not an image) get HTTP 400/413 with a message.  An unexpected
failure of the model is logged with its traceback on the server; the page
gets a generic line with a reference to that log entry.  Only the last few
results are kept.

Hostile uploads and clients (:class:`PageLimits`):

* the byte size (``Content-Length``) and the pixel count (read from the
  image header with Pillow, nothing decoded) are checked before decoding:
  a small file that would decode to gigapixels gets 413;
* decoding and inference run one upload at a time; at most
  ``max_waiting`` uploads wait for their turn, more get 503 at once;
* at most ``max_connections`` connections are served at a time (one
  thread each); further ones wait in the listen queue; a connection
  silent for 30 s is closed;
* bound to a loopback address, the server answers only requests whose
  ``Host`` is a loopback name (403 otherwise), so that a web site cannot
  reach it through DNS rebinding.
"""
import html
import io
import ipaddress
import json
import logging
import os.path as osp
import re
import shutil
import tempfile
import threading
import time
import traceback
import uuid
import urllib.parse
import warnings
from collections import OrderedDict
from dataclasses import dataclass
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Callable, Dict, Optional, Tuple

import cv2
import numpy as np
from PIL import Image

from ..utils.intrinsics import scaled_intrinsics
from ..utils.prediction_files import PredictionFiles

logger = logging.getLogger(__name__)

PredictFn = Callable[[np.ndarray], np.ndarray]
MB = 1024 * 1024
RESULT_ID = re.compile(r'^[0-9a-f]{32}$')
SAFE_STEM = re.compile(r'[^A-Za-z0-9_.-]+')


class UploadError(ValueError):
    """An upload the page refuses; ``status`` is the HTTP status."""

    def __init__(self, message: str,
                 status: HTTPStatus = HTTPStatus.BAD_REQUEST):
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class PageLimits:
    """What an upload may be.

    Attributes:
        max_bytes: Largest accepted file, bytes.
        max_pixels: Largest accepted decoded image, pixels.
        max_side: Longer side, pixels, above which the image is shrunk
            (area interpolation) before inference; the results are at the
            shrunk size.
        keep_results: How many results stay downloadable.
        max_waiting: Uploads that may wait for the model while one is
            processed; more are refused (503).
        max_connections: Connections served at the same time (a thread
            each); more wait in the listen queue.
    """
    max_bytes: int = 20 * MB
    max_pixels: int = 50_000_000
    max_side: int = 1280
    keep_results: int = 8
    max_waiting: int = 4
    max_connections: int = 32


#: What Pillow calls the formats the page decodes (MPO: a camera's JPEG).
IMAGE_FORMATS = ('JPEG', 'MPO', 'PNG', 'BMP', 'TIFF', 'WEBP')


def check_size(size: int, name: str, limits: PageLimits) -> None:
    """Raise :class:`UploadError` (413) if ``size`` bytes is too large."""
    if size > limits.max_bytes:
        raise UploadError(
            f'{name} is {size / MB:.3g} MB; the limit is '
            f'{limits.max_bytes / MB:.3g} MB.',
            HTTPStatus.REQUEST_ENTITY_TOO_LARGE)


def check_header(data: bytes, name: str, limits: PageLimits) -> None:
    """Check the format and pixel count an image file declares in its
    header, without decoding the pixels.

    Raises:
        UploadError: Not one of :data:`IMAGE_FORMATS` (400), or more than
            ``limits.max_pixels`` pixels (413).
    """
    not_an_image = UploadError(f'{name} is not an image this page can read '
                               '(JPEG, PNG, BMP, TIFF or WebP).')
    too_large = (f'; the limit is {limits.max_pixels / 1e6:.3g} '
                 'megapixels.')
    try:
        with warnings.catch_warnings():  # our limit, not Pillow's warning
            warnings.simplefilter('ignore', Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as header:  # the header only
                kind, (width, height) = header.format, header.size
    except Image.DecompressionBombError as error:  # Pillow's own limit
        raise UploadError(f'{name} has too many pixels{too_large}',
                          HTTPStatus.REQUEST_ENTITY_TOO_LARGE) from error
    except Exception as error:  # noqa: BLE001 (any parse failure: refused)
        raise not_an_image from error
    if kind not in IMAGE_FORMATS:
        raise not_an_image
    if width * height > limits.max_pixels:
        raise UploadError(f'{name} has {width}x{height} pixels{too_large}',
                          HTTPStatus.REQUEST_ENTITY_TOO_LARGE)


def decode_upload(data: bytes, name: str, limits: PageLimits) -> np.ndarray:
    """The uploaded file as a BGR uint8 image (H, W, 3), shrunk to
    ``limits.max_side``; size and pixel count are checked first
    (:func:`check_header`).

    Raises:
        UploadError: Empty, too large, not an image this page decodes, or
            more than ``limits.max_pixels`` pixels.
    """
    if not data:
        raise UploadError('No file received: choose an image first.')
    check_size(len(data), name, limits)
    check_header(data, name, limits)
    image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
    if image is None or image.shape[0] * image.shape[1] > limits.max_pixels:
        raise UploadError(f'{name} is not an image this page can read '
                          '(JPEG, PNG, BMP, TIFF or WebP).')
    height, width = image.shape[:2]
    scale = limits.max_side / max(height, width)
    if scale < 1:
        size = (max(round(width * scale), 1), max(round(height * scale), 1))
        image = cv2.resize(image, size, interpolation=cv2.INTER_AREA)
    return image


class ResultStore:
    """The last ``keep`` results, one folder each under a temporary root."""

    def __init__(self, keep: int):
        self.root = tempfile.mkdtemp(prefix='mrpan_webapp_')
        self.keep = keep
        self._folders: 'OrderedDict[str, Dict[str, str]]' = OrderedDict()
        self._lock = threading.Lock()

    def save(self, stem: str, image: np.ndarray,
             depth: np.ndarray) -> Tuple[str, Dict[str, str]]:
        """Write the result files; returns the result id and file names."""
        result_id = uuid.uuid4().hex
        folder = osp.join(self.root, result_id)
        paths = PredictionFiles(
            folder, ('input', 'color', 'png', 'ply'),
            intrinsics=lambda shape: scaled_intrinsics(*shape)).write(
                stem, depth, image)
        names = {'depth' if kind == 'png' else kind: osp.basename(path)
                 for kind, path in paths.items()}
        with self._lock:
            self._folders[result_id] = names
            while len(self._folders) > self.keep:
                old, _ = self._folders.popitem(last=False)
                shutil.rmtree(osp.join(self.root, old), ignore_errors=True)
        return result_id, names

    def path(self, result_id: str, name: str) -> Optional[str]:
        """The file of a kept result, or None."""
        with self._lock:
            names = self._folders.get(result_id, {})
        if name not in names.values():
            return None
        return osp.join(self.root, result_id, name)

    def close(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)


class DepthPage:
    """The page's logic: upload bytes in, result description out.

    Args:
        predict: ``predict(image_bgr) -> depth_m``: a BGR uint8 image
            (H, W, 3) to depth in metres (H, W), float.
        limits: What an upload may be.
        title: Shown as the page's heading.
    """

    def __init__(self, predict: PredictFn,
                 limits: PageLimits = PageLimits(),
                 title: str = 'MRPAN depth'):
        self.predict = predict
        self.limits = limits
        self.title = title
        self.results = ResultStore(limits.keep_results)
        self._model_lock = threading.Lock()
        # the upload being processed and those waiting for the model
        self._admitted = threading.BoundedSemaphore(1 + limits.max_waiting)

    def process(self, data: bytes, filename: str) -> dict:
        """Predict the depth of an uploaded file.

        Returns:
            dict: ``id``, ``width``, ``height``, ``inference_ms``,
            ``depth_range`` (metres) and the ``files`` (key -> URL).

        Raises:
            UploadError: The upload is refused (see :func:`decode_upload`),
                or too many wait already (503).
        """
        name = osp.basename(filename) or 'upload'
        if not self._admitted.acquire(blocking=False):
            raise UploadError(
                'The server is busy with other images; try again in a '
                'moment.', HTTPStatus.SERVICE_UNAVAILABLE)
        try:
            with self._model_lock:  # one decoded image in memory at a time
                image = decode_upload(data, name, self.limits)
                start = time.perf_counter()
                depth = np.asarray(self.predict(image), dtype=np.float32)
                elapsed = time.perf_counter() - start
        finally:
            self._admitted.release()
        if depth.shape != image.shape[:2]:
            raise RuntimeError(f'predict returned depth of shape {depth.shape}'
                               f' for an image of {image.shape[:2]}')
        stem = SAFE_STEM.sub('_', osp.splitext(name)[0]) or 'upload'
        result_id, names = self.results.save(stem, image, depth)
        valid = depth[np.isfinite(depth) & (depth > 0)]
        return dict(
            id=result_id,
            width=int(image.shape[1]),
            height=int(image.shape[0]),
            inference_ms=round(elapsed * 1000, 1),
            depth_range=[round(float(valid.min()), 3),
                         round(float(valid.max()), 3)] if valid.size else None,
            files={key: f'/result/{result_id}/{value}'
                   for key, value in names.items()})

    def page_html(self) -> bytes:
        """The HTML page, with the title and upload limit filled in."""
        fields = dict(title=html.escape(self.title),
                      max_mb=f'{self.limits.max_bytes / MB:.3g}',
                      max_bytes=str(self.limits.max_bytes))
        page = PAGE
        for key, value in fields.items():
            page = page.replace('{' + key + '}', value)
        return page.encode('utf-8')


class DepthRequestHandler(BaseHTTPRequestHandler):
    """``GET /``, ``POST /predict``, ``GET /result/<id>/<file>``."""

    page: DepthPage  # set on the subclass made by :func:`make_server`
    server_version = 'MRPANDepthPage'
    timeout = 30  # seconds a connection may stay silent, then it is closed
    CONTENT_TYPES = {'.png': 'image/png', '.ply': 'application/octet-stream'}

    def log_message(self, format: str, *args) -> None:
        logger.info('%s %s', self.address_string(), format % args)

    def _host_allowed(self) -> bool:
        """False for a server on a loopback address asked for another host
        (a page of another site reaching it through DNS rebinding)."""
        if not is_loopback(self.server.server_address[0]):
            return True
        host = self.headers.get('Host', '')
        if host.startswith('['):  # [::1]:port
            name = host[1:host.find(']')]
        else:
            name = host.rsplit(':', 1)[0]
        return is_loopback(name.rstrip('.'))

    def parse_request(self) -> bool:
        """Also answer 403 to a request for a host this server is not."""
        if not super().parse_request():
            return False
        if self._host_allowed():
            return True
        logger.warning('refused a request for host %r from %s',
                       self.headers.get('Host'), self.address_string())
        self.close_connection = True
        self._send(HTTPStatus.FORBIDDEN, b'unknown host', 'text/plain')
        return False

    def _send(self, status: int, body: bytes, content_type: str,
              headers: Optional[Dict[str, str]] = None) -> None:
        self.send_response(status)
        self.send_header('Content-Type', content_type)
        self.send_header('Content-Length', str(len(body)))
        self.send_header('Cache-Control', 'no-store')
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(body)

    def _send_json(self, status: int, payload: dict) -> None:
        self._send(status, json.dumps(payload).encode('utf-8'),
                   'application/json')

    def do_GET(self) -> None:
        if self.path in ('/', '/index.html'):
            self._send(HTTPStatus.OK, self.page.page_html(),
                       'text/html; charset=utf-8')
            return
        parts = self.path.split('/')
        if len(parts) == 4 and parts[1] == 'result' and \
                RESULT_ID.match(parts[2]):
            path = self.page.results.path(parts[2], parts[3])
            if path is not None and osp.isfile(path):
                with open(path, 'rb') as handle:
                    body = handle.read()
                suffix = osp.splitext(path)[1]
                self._send(HTTPStatus.OK, body,
                           self.CONTENT_TYPES.get(suffix, 'image/png'))
                return
        self._send(HTTPStatus.NOT_FOUND, b'not found', 'text/plain')

    def _read_body(self, filename: str) -> bytes:
        """The request body; a too large one is read and discarded (so
        that the client gets the answer) and refused."""
        length = int(self.headers.get('Content-Length') or 0)
        try:
            check_size(length, filename, self.page.limits)
        except UploadError:
            while length > 0:
                chunk = self.rfile.read(min(length, MB))
                if not chunk:
                    break
                length -= len(chunk)
            raise
        return self.rfile.read(length) if length > 0 else b''

    def do_POST(self) -> None:
        if self.path != '/predict':
            self._send(HTTPStatus.NOT_FOUND, b'not found', 'text/plain')
            return
        filename = urllib.parse.unquote(
            self.headers.get('X-Filename', 'upload'))
        try:
            data = self._read_body(filename)
            self._send_json(HTTPStatus.OK, self.page.process(data, filename))
        except UploadError as error:
            self._send_json(error.status, dict(error=str(error)))
        except Exception:  # noqa: BLE001 (logged, not hidden)
            reference = uuid.uuid4().hex[:8]
            logger.error('[%s] prediction failed for %s:\n%s', reference,
                         filename, traceback.format_exc())
            self._send_json(
                HTTPStatus.INTERNAL_SERVER_ERROR,
                dict(error=f'The model failed on this image (server log '
                     f'entry {reference}).'))


def is_loopback(host: str) -> bool:
    """Whether ``host`` (an address or name) is this machine only."""
    if host.lower() in ('localhost', 'localhost.localdomain'):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class BoundedThreadingHTTPServer(ThreadingHTTPServer):
    """A threading HTTP server with at most ``max_threads`` requests in
    flight; the next connection waits in the listen queue."""

    daemon_threads = True
    request_queue_size = 64

    def __init__(self, address, handler, max_threads: int):
        super().__init__(address, handler)
        self._slots = threading.BoundedSemaphore(max_threads)

    def process_request(self, request, client_address) -> None:
        """Serve the request in a daemon thread that holds one slot.

        The slot is given back once: by the thread when it ends, or here
        when starting the thread fails.  Both can happen to one request:
        a Ctrl+C that arrives while ``start()`` waits for a thread that
        did start (without the guard the second release raised
        ``ValueError``, which the server logged and served on, so that
        Ctrl+C did not stop it).
        """
        self._slots.acquire()
        release = ReleaseOnce(self._slots)
        thread = threading.Thread(
            target=self._serve_and_release,
            args=(request, client_address, release), daemon=True)
        try:
            thread.start()
        except BaseException:
            release()
            raise

    def _serve_and_release(self, request, client_address,
                           release: 'ReleaseOnce') -> None:
        try:
            self.process_request_thread(request, client_address)
        finally:
            release()


class ReleaseOnce:
    """Releases ``semaphore`` on the first call only (thread-safe)."""

    def __init__(self, semaphore: threading.BoundedSemaphore):
        self._semaphore = semaphore
        self._lock = threading.Lock()
        self._released = False

    def __call__(self) -> None:
        with self._lock:
            if self._released:
                return
            self._released = True
        self._semaphore.release()


def make_server(page: DepthPage, host: str = '127.0.0.1',
                port: int = 7860) -> ThreadingHTTPServer:
    """A threading HTTP server for ``page`` (port 0: any free port), at
    most ``page.limits.max_connections`` connections at a time."""
    handler = type('BoundDepthRequestHandler', (DepthRequestHandler, ),
                   dict(page=page))
    return BoundedThreadingHTTPServer((host, port), handler,
                                      page.limits.max_connections)


PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{title}</title>
<style>
  body { font-family: sans-serif; margin: 2em; color: #222; }
  .row { display: flex; gap: 1.5em; align-items: flex-start; }
  figure { margin: 0; max-width: 48%; }
  figure img { max-width: 100%; border: 1px solid #ccc; }
  #message { min-height: 1.4em; }
  #message.error { color: #b00020; font-weight: bold; }
  .hidden { display: none; }
</style>
</head>
<body>
<h1>{title}</h1>
<form id="upload">
  <input type="file" id="file" accept="image/*">
  <button type="submit" id="run">Predict depth</button>
  <small>JPEG, PNG, BMP, TIFF or WebP, up to {max_mb} MB.</small>
</form>
<p id="message"></p>
<div id="result" class="hidden">
  <div class="row">
    <figure><img id="input-image" alt="input image">
      <figcaption>input</figcaption></figure>
    <figure><img id="depth-image" alt="depth map">
      <figcaption>depth (metres, colour bar below)</figcaption></figure>
  </div>
  <p>Download: <a id="download-png" href="#">16-bit PNG (millimetres)</a> |
     <a id="download-ply" href="#">point cloud (.ply)</a>
     <small>(back-projected with the NYU Depth v2 camera's intrinsics)</small>
  </p>
</div>
<script>
const form = document.getElementById('upload');
const message = document.getElementById('message');
function show(text, isError) {
  message.textContent = text;
  message.className = isError ? 'error' : '';
}
form.addEventListener('submit', async (event) => {
  event.preventDefault();
  const file = document.getElementById('file').files[0];
  if (!file) { show('Choose an image first.', true); return; }
  if (file.size > {max_bytes}) {
    show(file.name + ' is ' + (file.size / 1048576).toPrecision(3) +
         ' MB; the limit is {max_mb} MB.', true);
    return;
  }
  show('Predicting ' + file.name + ' ...', false);
  document.getElementById('result').className = 'hidden';
  let reply;
  try {
    const response = await fetch('/predict', {method: 'POST', body: file,
      headers: {'X-Filename': encodeURIComponent(file.name)}});
    reply = await response.json();
  } catch (error) {
    show('The server did not answer: ' + error, true);
    return;
  }
  if (reply.error) { show(reply.error, true); return; }
  const range = reply.depth_range ?
    ', depth ' + reply.depth_range[0] + '-' + reply.depth_range[1] + ' m' : '';
  show('Inference time: ' + reply.inference_ms + ' ms (' + reply.width +
       'x' + reply.height + range + ')', false);
  document.getElementById('input-image').src = reply.files.input;
  document.getElementById('depth-image').src = reply.files.color;
  const links = [['download-png', 'depth'], ['download-ply', 'ply']];
  for (const [id, key] of links) {
    const link = document.getElementById(id);
    link.href = reply.files[key];
    link.download = reply.files[key].split('/').pop();
  }
  document.getElementById('result').className = '';
});
</script>
</body>
</html>
"""
