"""tools/webapp.py in a real browser: headless Chromium through Selenium.

The page runs the demo config with random weights in a subprocess on a
free local port.  Chromium and its driver are Debian's ``chromium`` and
``chromium-driver`` (``make test`` installs them when run as root); the
tests are skipped, saying so, only where they are not installed.
"""
import os
import os.path as osp
import re
import shutil
import subprocess
import time
import urllib.request

import cv2
import numpy as np
import pytest

from mrpan_mm.demo.render import render_scene
from mrpan_mm.testing import save_random_checkpoint
from tools_runner import REPO, start_tool

pytestmark = pytest.mark.slow

CHROMIUM = shutil.which('chromium') or '/usr/bin/chromium'
CHROMEDRIVER = shutil.which('chromedriver') or '/usr/bin/chromedriver'
DEMO_CONFIG = osp.join(REPO, 'configs', 'mrpan_demo_cpu.py')
SERVER_START_TIMEOUT = 300  # s; model build on a loaded 2-core machine
PREDICT_TIMEOUT = 180


@pytest.fixture(scope='module')
def chromium_installed():
    """Skips (with the reason) where Chromium is missing, before the web
    tool is started for nothing."""
    if not (osp.isfile(CHROMIUM) and osp.isfile(CHROMEDRIVER)):
        pytest.skip('Chromium is not installed (Debian: apt-get install '
                    'chromium chromium-driver; `make test` does it as root)')


@pytest.fixture(scope='module')
def page_url(chromium_installed, tmp_path_factory):
    """Start tools/webapp.py (demo config, random weights); its URL."""
    folder = tmp_path_factory.mktemp('webapp')
    checkpoint = str(folder / 'random.pth')
    save_random_checkpoint(DEMO_CONFIG, checkpoint)
    log_path = folder / 'server.log'
    with open(log_path, 'w') as log:
        server = start_tool('webapp.py', [
            '--config', DEMO_CONFIG, '--checkpoint', checkpoint, '--port',
            '0'
        ], stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + SERVER_START_TIMEOUT
        url = None
        while url is None:
            found = re.search(r'on (http://127\.0\.0\.1:\d+/)',
                              log_path.read_text())
            if found:
                url = found.group(1)
            elif server.poll() is not None or time.monotonic() > deadline:
                raise AssertionError('webapp.py did not start:\n' +
                                     log_path.read_text()[-3000:])
            else:
                time.sleep(0.5)
        yield url
    finally:
        server.terminate()
        server.wait(timeout=30)


@pytest.fixture
def browser(chromium_installed, tmp_path):
    """Headless Chromium with a fresh profile; skipped if not installed."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ('--headless', '--no-sandbox', '--disable-gpu',
                 '--disable-dev-shm-usage', '--disable-background-networking',
                 '--disable-component-update', '--disable-sync',
                 '--no-first-run', '--window-size=1100,650',
                 f'--user-data-dir={tmp_path / "profile"}'):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER),
                              options=options)
    driver.set_page_load_timeout(60)
    yield driver
    driver.quit()


def upload(driver, url: str, path: str) -> str:
    """Open the page, submit ``path``; the final message once shown."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait
    driver.get(url)
    driver.find_element(By.ID, 'file').send_keys(path)
    driver.find_element(By.ID, 'run').click()
    message = driver.find_element(By.ID, 'message')
    WebDriverWait(driver, PREDICT_TIMEOUT, poll_frequency=0.5).until(
        lambda _: not message.text.startswith('Predicting'))
    return message.text


def test_upload_shows_depth_and_downloads(page_url, browser, tmp_path):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait
    image_path = str(tmp_path / 'room.png')
    room = render_scene(np.random.default_rng(3), 240, 320)[0]
    cv2.imwrite(image_path, room)
    text = upload(browser, page_url, image_path)
    assert re.match(r'Inference time: [\d.]+ ms \(320x240, depth ', text), text

    def loaded(element_id):
        return browser.execute_script(
            'const img = document.getElementById(arguments[0]);'
            'return img.complete ? img.naturalWidth : 0;', element_id)

    WebDriverWait(browser, 30).until(
        lambda _: loaded('depth-image') and loaded('input-image'))
    assert loaded('input-image') == 320 and loaded('depth-image') == 320
    screenshot = tmp_path / 'webapp.png'
    assert browser.save_screenshot(str(screenshot))
    shot = cv2.imread(str(screenshot))
    assert shot is not None and shot.shape[0] > 300 and shot.std() > 10
    if os.environ.get('MRPAN_SCREENSHOT_TO'):  # README's docs/webapp.png
        shutil.copyfile(screenshot, os.environ['MRPAN_SCREENSHOT_TO'])

    png_link = browser.find_element(By.ID, 'download-png')
    assert png_link.get_attribute('download') == 'room_depth.png'
    with urllib.request.urlopen(png_link.get_attribute('href')) as response:
        depth_mm = cv2.imdecode(np.frombuffer(response.read(), np.uint8),
                                cv2.IMREAD_UNCHANGED)
    assert depth_mm.dtype == np.uint16 and depth_mm.shape == (240, 320)
    assert 1 <= depth_mm.min() and depth_mm.max() <= 10_000  # head's range
    ply_link = browser.find_element(By.ID, 'download-ply')
    assert ply_link.get_attribute('download') == 'room.ply'
    with urllib.request.urlopen(ply_link.get_attribute('href')) as response:
        assert b'element vertex 76800\n' in response.read(400)


def test_bad_upload_message_in_page(page_url, browser, tmp_path):
    from selenium.webdriver.common.by import By
    notes = tmp_path / 'notes.txt'
    notes.write_text('not an image')
    text = upload(browser, page_url, str(notes))
    assert text == ('notes.txt is not an image this page can read '
                    '(JPEG, PNG, BMP, TIFF or WebP).')
    message = browser.find_element(By.ID, 'message')
    assert message.get_attribute('class') == 'error'
    assert not browser.find_element(By.ID, 'result').is_displayed()
