"""User paths run as a user runs them, at the smallest size that still
exercises them: ``tools/slurm_train.sh`` under a stand-in ``srun``,
``tools/test.py --show-dir``, ``tools/infer.py``'s ``--flip-aug``,
``--cmap`` and intrinsics, ``tools/eval_predictions.py --protocol --out``,
``tools/webapp.py``'s limits and ``--flip-aug`` and
:class:`DepthInferencer` writing a list of inputs.

The depth runs share one tiny NYU-layout fixture (2 train / 2 test images,
64x80) and one random checkpoint of the tiny test config whose SAM
``gamma`` is 1, so the spatial attention takes part in every prediction.
"""
import glob
import json
import os
import os.path as osp
import re
import signal
import socket
import stat
import subprocess
import urllib.error
import urllib.request

import cv2
import numpy as np
import pytest
from matplotlib import colormaps

from mrpan_mm.apis import DepthInferencer
from mrpan_mm.testing import make_nyu_fixture, save_random_checkpoint
from mrpan_mm.utils.depth_io import depth_to_mm
from mrpan_mm.utils.point_cloud import PLY_VERTEX
from tools_runner import (REPO, TINY_CONFIG, data_root_options, run_tool,
                          start_tool)

HEIGHT, WIDTH = 64, 80  # make_nyu_fixture's image size
BAND = 20  # title / colour-bar band of the panels and colour maps


@pytest.fixture(scope='module')
def tiny_root(tmp_path_factory):
    """2 train / 2 test images in the NYU layout (one training step)."""
    root = str(tmp_path_factory.mktemp('nyu_user_paths'))
    make_nyu_fixture(root, num_train=2, num_test=2)
    return root


@pytest.fixture(scope='module')
def tiny_checkpoint(tmp_path_factory):
    """Random weights of the tiny config, SAM gamma = 1."""
    path = str(tmp_path_factory.mktemp('ckpt') / 'tiny.pth')
    save_random_checkpoint(TINY_CONFIG, path)
    return path


def list_test_images(root):
    return sorted(glob.glob(osp.join(root, 'images', 'test', '*.jpg')))


def free_port():
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


# Stand-in for Slurm's srun: records its arguments, accepts only the
# options tools/slurm_train.sh passes, then runs the command after them
# once, as task 0 of 1 with the variables a Slurm task sees.
FAKE_SRUN = """#!/usr/bin/env bash
set -euo pipefail
printf '%s\\n' "$@" > "$SRUN_RECORD"
while [[ $# -gt 0 && $1 == -* ]]; do
    case $1 in
        -p) shift 2 ;;
        --job-name=*|--gres=*|--ntasks=*|--ntasks-per-node=*) shift ;;
        --cpus-per-task=*|--kill-on-bad-exit=*) shift ;;
        *) echo "srun: unrecognized option '$1'" >&2; exit 2 ;;
    esac
done
SLURM_PROCID=0 SLURM_LOCALID=0 SLURM_NTASKS=1 SLURM_NNODES=1 \\
SLURM_NODELIST=localhost SLURM_JOB_ID=4242 exec "$@"
"""


@pytest.mark.slow  # a fresh interpreter through bash and srun
def test_slurm_train_sh_trains_through_srun(tmp_path, tiny_root):
    """``GPUS=1 tools/slurm_train.sh debug mrpan CONFIG`` with ``srun`` on
    PATH: srun gets the partition, job name and task layout, and
    ``train.py --launcher slurm`` builds its process group from the Slurm
    variables (gloo on the CPU), trains one step and saves a checkpoint.
    Catches slurm_train.sh passing other srun options or dropping the
    launcher, and a Slurm launch that needs CUDA or torchrun's RANK."""
    bin_dir = tmp_path / 'bin'
    bin_dir.mkdir()
    srun = bin_dir / 'srun'
    srun.write_text(FAKE_SRUN)
    srun.chmod(srun.stat().st_mode | stat.S_IXUSR)
    record = tmp_path / 'srun_args.txt'
    work_dir = str(tmp_path / 'work')
    proc = run_tool('slurm_train.sh', [
        'debug', 'mrpan', TINY_CONFIG, '--work-dir', work_dir,
        '--cfg-options', *data_root_options(tiny_root),
        'train_cfg.max_epochs=1'
    ], extra_env=dict(
        PATH=f'{bin_dir}{os.pathsep}{os.environ["PATH"]}', GPUS='1',
        GPUS_PER_NODE='1', CPUS_PER_TASK='1', SRUN_RECORD=str(record),
        MASTER_PORT=str(free_port())))
    args = record.read_text().splitlines()
    assert args[:8] == [
        '-p', 'debug', '--job-name=mrpan', '--gres=gpu:1', '--ntasks=1',
        '--ntasks-per-node=1', '--cpus-per-task=1', '--kill-on-bad-exit=1'
    ]
    assert args[9:15] == [
        '-u', osp.join(REPO, 'tools', 'train.py'), TINY_CONFIG, '--launcher',
        'slurm', '--work-dir'
    ]
    log = proc.stdout + proc.stderr
    assert 'Distributed training: True' in log, log[-2000:]
    assert osp.isfile(osp.join(work_dir, 'epoch_1.pth'))


@pytest.mark.slow  # tool run
def test_test_show_dir_writes_one_panel_per_image(tmp_path, tiny_root,
                                                  tiny_checkpoint):
    """``tools/test.py CONFIG CKPT --show-dir DIR``: one RGB | ground
    truth | prediction | error panel per test image, named after it, with
    the image itself in the first tile.  Catches --show-dir not switching
    the hook on, panels written elsewhere and tiles of the wrong size."""
    show_dir = tmp_path / 'panels'
    run_tool('test.py', [
        TINY_CONFIG, tiny_checkpoint, '--work-dir',
        str(tmp_path / 'work'), '--show-dir',
        str(show_dir), '--cfg-options', *data_root_options(tiny_root)
    ])
    panels = sorted(glob.glob(str(show_dir / '**' / '*.png'),
                              recursive=True))
    images = list_test_images(tiny_root)
    assert len(panels) == len(images), panels
    for image_path in images:
        name = osp.basename(image_path)
        [panel_path] = [p for p in panels if name in osp.basename(p)]
        panel = cv2.imread(panel_path)
        assert panel.shape == (BAND + HEIGHT + BAND, 4 * WIDTH, 3)
        rgb_tile = panel[BAND:BAND + HEIGHT, :WIDTH].astype(int)
        assert np.abs(rgb_tile - cv2.imread(image_path)).max() <= 1


def colour_map_error(colour_png, depth, cmap):
    """Largest channel difference between the depth area of a written
    colour map and matplotlib's ``cmap`` applied here to ``depth`` spread
    over the colour range from its minimum to its maximum."""
    scaled = (depth - depth.min()) / (depth.max() - depth.min())
    expected = np.round(colormaps[cmap](scaled)[..., :3] * 255)
    written = cv2.imread(str(colour_png))[:depth.shape[0], :, ::-1]
    return np.abs(written.astype(int) - expected).max()


def read_ply_points(path):
    data = open(path, 'rb').read()
    body = data[data.index(b'end_header\n') + len(b'end_header\n'):]
    vertices = np.frombuffer(body, dtype=PLY_VERTEX)
    return np.stack([vertices['x'], vertices['y'], vertices['z']], axis=1)


@pytest.mark.slow  # two tool runs
def test_infer_flip_aug_cmap_and_intrinsics_do_what_they_say(
        tmp_path, tiny_checkpoint):
    """``tools/infer.py`` on a folder holding an image and its mirror
    image, once plain, once with ``--flip-aug --cmap viridis --ply --fx
    --fy --cx --cy``:

    * --flip-aug gives (plain + mirrored prediction of the mirror) / 2,
      both taken from the plain run;
    * the colour map is magma_r by default and viridis with --cmap, each
      equal to matplotlib's map of the written depth;
    * the point cloud is the written depth back-projected with the given
      intrinsics: x = (u - cx) z / fx, y = (v - cy) z / fy.

    Catches a flag that is parsed but not passed on (each output would
    equal the plain run's), and flip averaging or back-projection done
    with the wrong orientation or the default intrinsics."""
    rng = np.random.default_rng(3)
    image = rng.integers(0, 255, (40, 56, 3), dtype=np.uint8)
    folder = tmp_path / 'images'
    folder.mkdir()
    cv2.imwrite(str(folder / 'room.png'), image)
    cv2.imwrite(str(folder / 'room_mirrored.png'), image[:, ::-1])
    common = ['--config', TINY_CONFIG, '--checkpoint', tiny_checkpoint]
    plain, flipped = tmp_path / 'plain', tmp_path / 'flip'
    run_tool('infer.py', [str(folder), *common, '--out', str(plain)])
    fx, fy, cx, cy = 40.0, 30.0, 20.5, 15.0
    run_tool('infer.py', [
        str(folder), *common, '--out',
        str(flipped), '--flip-aug', '--cmap', 'viridis', '--ply', '--fx',
        str(fx), '--fy',
        str(fy), '--cx',
        str(cx), '--cy',
        str(cy)
    ])

    base = np.load(plain / 'room_depth.npy')
    mirror = np.load(plain / 'room_mirrored_depth.npy')
    averaged = np.load(flipped / 'room_depth.npy')
    assert not np.allclose(base, mirror[:, ::-1], rtol=1e-3)
    np.testing.assert_allclose(averaged, (base + mirror[:, ::-1]) / 2,
                               rtol=1e-5, atol=1e-6)

    assert colour_map_error(plain / 'room_color.png', base, 'magma_r') <= 1
    assert colour_map_error(flipped / 'room_color.png', averaged,
                            'viridis') <= 1
    assert colour_map_error(flipped / 'room_color.png', averaged,
                            'magma_r') > 50

    points = read_ply_points(flipped / 'room.ply')
    v, u = np.mgrid[0:40, 0:56]
    z = averaged.ravel()
    expected = np.stack([(u.ravel() - cx) * z / fx,
                         (v.ravel() - cy) * z / fy, z], axis=1)
    np.testing.assert_allclose(points, expected[z > 0], rtol=1e-5,
                               atol=1e-6)
    assert not (plain / 'room.ply').exists()


def test_inferencer_writes_a_file_pair_per_list_input(tmp_path,
                                                      tiny_checkpoint):
    """``DepthInferencer(...)(list, pred_out_dir=DIR)`` with paths and
    arrays in one list, in batches of 3 (images of one size: a batch of
    mixed sizes is refused by mmseg's data preprocessor):
    ``<stem>_depth.{npy,png}`` for a path, the running 8-digit index for
    an array, one pair per input and nothing else; the
    .npy holds the returned map, the PNG its millimetres.  Catches names
    that collide (an array's file overwriting another), a file missing for
    one input of a batch, and files that differ from the returned depth."""
    rng = np.random.default_rng(4)
    arrays = [rng.integers(0, 255, (36, 44, 3), dtype=np.uint8)
              for _ in range(2)]
    paths = []
    for name in ('kitchen_1', 'kitchen_2'):
        paths.append(str(tmp_path / f'{name}.png'))
        cv2.imwrite(paths[-1], rng.integers(0, 255, (36, 44, 3),
                                            dtype=np.uint8))
    inputs = [paths[0], arrays[0], paths[1], arrays[1]]
    inferencer = DepthInferencer(TINY_CONFIG, tiny_checkpoint, 'cpu',
                                 show_progress=False)
    out = tmp_path / 'out'
    depths = inferencer(inputs, batch_size=3,
                        pred_out_dir=str(out))['predictions']
    names = ['kitchen_1', '00000001', 'kitchen_2', '00000003']
    assert sorted(os.listdir(out)) == sorted(
        f'{name}_depth.{ext}' for name in names for ext in ('npy', 'png'))
    for name, depth in zip(names, depths):
        assert depth.shape == (36, 44)
        np.testing.assert_array_equal(np.load(out / f'{name}_depth.npy'),
                                      depth)
        png = cv2.imread(str(out / f'{name}_depth.png'),
                         cv2.IMREAD_UNCHANGED)
        np.testing.assert_array_equal(png, depth_to_mm(depth)[0])


def reference_metrics(gt, pred, crop, max_depth, min_depth=1e-3):
    """abs_rel, rmse and d1 of one image, by their definitions: ground
    truth in (min, max) (kitti: (min, max]) inside the window ``crop``
    (top, bottom, left, right), prediction clamped into [min, max]."""
    top, bottom, left, right = crop
    gt, pred = gt[top:bottom, left:right], pred[top:bottom, left:right]
    upper = gt <= max_depth if max_depth == 80 else gt < max_depth
    valid = (gt > min_depth) & upper
    g = gt[valid].astype(np.float64)
    p = np.clip(pred[valid].astype(np.float64), min_depth, max_depth)
    return dict(abs_rel=np.mean(np.abs(p - g) / g),
                rmse=np.sqrt(np.mean((p - g)**2)),
                d1=np.mean(np.maximum(p / g, g / p) < 1.25),
                valid_pixels=int(valid.sum()))


@pytest.mark.slow  # two tool runs
def test_eval_predictions_protocol_and_out(tmp_path, tiny_root):
    """``tools/eval_predictions.py PRED_DIR --config C [--protocol kitti]
    --out DIR`` on predictions written here (the ground truth scaled by
    0.7, 0.9, 1.1 or 1.4, no ratio near d1's 1.25; a block at 20 m): the
    config's protocol (whole frame, depth below 10 m, predictions clamped
    at 10 m) and ``kitti`` (Garg's window, ground truth up to 80 m, no
    clamp at 10 m) each print the metrics of their definition, computed
    here per image and averaged, and --out holds the per-image values.
    Catches --protocol being ignored, a wrong window or clamp, and a
    per-image file that does not match."""
    rng = np.random.default_rng(5)
    pred_dir = tmp_path / 'pred'
    pred_dir.mkdir()
    pairs = []
    for image in list_test_images(tiny_root):
        stem = osp.splitext(osp.basename(image))[0]
        gt = cv2.imread(osp.join(tiny_root, 'annotations', 'test',
                                 stem + '.png'), cv2.IMREAD_UNCHANGED) / 1000
        pred = gt * rng.choice([0.7, 0.9, 1.1, 1.4], gt.shape)
        pred[40:, 10:30] = 20.0
        cv2.imwrite(str(pred_dir / f'{stem}.png'),
                    np.round(pred * 1000).astype(np.uint16))
        pairs.append((stem, gt, np.round(pred * 1000) / 1000))
    garg = (int(0.40810811 * HEIGHT), int(0.99189189 * HEIGHT),
            int(0.03594771 * WIDTH), int(0.96405229 * WIDTH))
    options = ['--cfg-options', *data_root_options(tiny_root)]
    for protocol, crop, max_depth in ((None, (0, HEIGHT, 0, WIDTH), 10.0),
                                      ('kitti', garg, 80.0)):
        out = tmp_path / f'out_{protocol}'
        args = [str(pred_dir), '--config', TINY_CONFIG, '--out', str(out)]
        args += ['--protocol', protocol] if protocol else []
        proc = run_tool('eval_predictions.py', args + options)
        printed = {key: float(value) for key, value in
                   re.findall(r'(\w+): (-?[\d.]+)', proc.stdout)}
        per_image = {stem: reference_metrics(gt, pred, crop, max_depth)
                     for stem, gt, pred in pairs}
        for key in ('abs_rel', 'rmse', 'd1'):
            mean = np.mean([m[key] for m in per_image.values()])
            assert printed[key] == pytest.approx(mean, rel=1e-4, abs=1e-6), (
                protocol, key)
        with open(out / 'per_image_metrics.json') as handle:
            records = json.load(handle)
        assert len(records) == len(pairs)
        for record in records:
            expected = per_image[osp.splitext(osp.basename(
                record['img_path']))[0]]
            assert record['valid_pixels'] == expected['valid_pixels']
            assert record['abs_rel'] == pytest.approx(expected['abs_rel'],
                                                      rel=1e-4)


def upload(url, data, filename):
    """POST an upload to the page: (HTTP status, JSON reply)."""
    request = urllib.request.Request(
        url + '/predict', data=data, method='POST',
        headers={'X-Filename': filename})
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def fetch_image(url, flags=cv2.IMREAD_UNCHANGED):
    with urllib.request.urlopen(url, timeout=60) as response:
        return cv2.imdecode(np.frombuffer(response.read(), np.uint8), flags)


def default_sigint():
    """Ctrl+C reaches the tool even when the tests run as a background
    job (whose shell starts it with SIGINT ignored)."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


@pytest.mark.slow  # the tool in a fresh interpreter
def test_webapp_honours_flip_aug_max_mb_and_max_side(tmp_path,
                                                     tiny_checkpoint):
    """``tools/webapp.py --port 0 --flip-aug --max-mb 0.05 --max-side 48``
    started as a user starts it: an upload over 0.05 MB is refused (413)
    with its size and the limit; a 40x64 image is shrunk to 30x48 before
    the model sees it; the depth served is the flip-averaged prediction
    of the image the model saw (computed here), not the plain one.
    Catches an option that is parsed but not passed to the page or the
    model."""
    server = start_tool('webapp.py', [
        '--config', TINY_CONFIG, '--checkpoint', tiny_checkpoint, '--port',
        '0', '--flip-aug', '--max-mb', '0.05', '--max-side', '48'
    ], stdout=subprocess.PIPE, text=True, preexec_fn=default_sigint)
    try:
        for line in server.stdout:  # log lines, then the address
            address = re.search(r'serving .* on (http://[\d.]+:\d+)/', line)
            if address:
                break
        else:
            raise AssertionError(f'webapp.py exited {server.wait()}')
        url = address.group(1)
        rng = np.random.default_rng(6)
        noise = cv2.imencode('.png', rng.integers(
            0, 255, (160, 160, 3), dtype=np.uint8))[1].tobytes()
        status, reply = upload(url, noise, 'noise.png')
        assert status == 413
        assert reply['error'] == (f'noise.png is {len(noise) / 2**20:.3g} '
                                  'MB; the limit is 0.05 MB.')
        image = rng.integers(0, 255, (40, 64, 3), dtype=np.uint8)
        status, reply = upload(url, cv2.imencode('.png', image)[1].tobytes(),
                               'room.png')
        assert status == 200, reply
        assert (reply['height'], reply['width']) == (30, 48)
        seen = fetch_image(url + reply['files']['input'], cv2.IMREAD_COLOR)
        served = fetch_image(url + reply['files']['depth'])
    finally:
        server.send_signal(signal.SIGINT)  # Ctrl+C, as the tool says
        try:
            server.communicate(timeout=120)  # 3-10 s here
        except subprocess.TimeoutExpired:
            server.kill()
            server.communicate()
            raise AssertionError('webapp.py did not stop within 120 s of '
                                 'Ctrl+C')
    np.testing.assert_array_equal(
        seen, cv2.resize(image, (48, 30), interpolation=cv2.INTER_AREA))
    inferencer = DepthInferencer(TINY_CONFIG, tiny_checkpoint, 'cpu',
                                 show_progress=False)
    flip = inferencer(seen, flip_aug=True)['predictions']
    plain = inferencer(seen)['predictions']
    assert np.abs(served.astype(int) - depth_to_mm(flip)[0]).max() <= 1
    assert np.abs(served.astype(int) - depth_to_mm(plain)[0]).max() > 5
