"""Zero-shot indoor sets: the converters on generated releases (every
pixel checked), check_dataset, each eval-only config scored through
eval_predictions.py (with and without scale alignment) and, slow,
tools/test.py --save-pred at a small input."""
import os
import os.path as osp

import cv2
import numpy as np
import pytest
from mmengine.config import Config
from mmengine.registry import init_default_scope
from mmseg.registry import DATASETS

from mrpan_mm.datasets.converters import sunrgbd_depth_mm
from mrpan_mm.testing import (make_diode_release, make_ibims1_release,
                              make_sunrgbd_release, save_random_checkpoint)
from mrpan_mm.utils.depth_io import depth_to_mm
from small_paper_model import SMALL_PAPER_MODEL, option_args
from test_depth_configs import small_input_options
from tools_runner import (REPO, call_tool, load_tool, logged_test_metrics,
                          run_tool)

check_dataset = load_tool('check_dataset.py')
eval_predictions = load_tool('eval_predictions.py')
SETS = {  # set -> (release maker, its frame size, config)
    'ibims1': (make_ibims1_release, (48, 64), 'mrpan_nyu_test_ibims1.py'),
    'diode': (make_diode_release, (768, 1024), 'mrpan_nyu_test_diode.py'),
    'sunrgbd': (make_sunrgbd_release, (48, 64), 'mrpan_nyu_test_sunrgbd.py'),
}


def read(path):
    array = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
    assert array is not None, path
    return array


def test_sunrgbd_bit_shift_by_hand():
    # 1234 mm stored rotated left by 3: (1234 << 3) | (1234 >> 13) = 9872;
    # 40000 mm: (40000 << 3) & 0xffff = 320000 - 4 * 65536 = 57856,
    # 40000 >> 13 = 4 -> 57860
    stored = np.array([[9872, 57860, 0, 65535]], np.uint16)
    np.testing.assert_array_equal(sunrgbd_depth_mm(stored),
                                  [[1234, 40000, 0, 65535]])


@pytest.fixture(scope='module')
def converted(tmp_path_factory):
    """{set: (release folder, converted folder)}, via the tool."""
    base = tmp_path_factory.mktemp('zero_shot')
    roots = {}
    for name, (make, size, _) in SETS.items():
        release = make(str(base / f'{name}_release'), size=size)
        out = str(base / name)
        call_tool('dataset_converters/zero_shot.py',
                  [release, out, '--set', name])
        roots[name] = (release, out)
    return roots


def test_ibims1_depth_masks_and_edges(converted):
    release, out = converted['ibims1']
    for name in ('corridor_01', 'office_02'):
        raw = read(osp.join(release, 'depth', name + '.png'))
        want = depth_to_mm(raw * 50.0 / 65535)[0]
        want[:4] = 0  # mask_invalid
        want[:, :4] = 0  # mask_transp
        np.testing.assert_array_equal(
            read(osp.join(out, 'annotations', 'test', name + '.png')), want)
        np.testing.assert_array_equal(
            read(osp.join(out, 'edges', 'test', name + '.png')),
            read(osp.join(release, 'edges', name + '.png')))


def test_diode_depth_in_mm_with_its_mask(converted):
    release, out = converted['diode']
    stem = '00019_00183_indoors_000_010'
    depth = np.load(osp.join(release, 'scene_00019', 'scan_00183',
                             stem + '_depth.npy'))[..., 0]
    got = read(osp.join(out, 'annotations', 'test', stem + '.png'))
    want = np.round(depth.astype(float) * 1000)
    want[-3:] = 0  # the mask's zeros (the fixture puts 99 m there)
    np.testing.assert_array_equal(got, want)
    assert (got[:-3] > 0).all()


def test_sunrgbd_raw_depth_unshifted(converted, tmp_path):
    release, out = converted['sunrgbd']
    names = sorted(os.listdir(osp.join(out, 'annotations', 'test')))
    assert names == ['kv1_NYUdata_NYU0001.png',
                     'kv2_kinect2data_000002_2014.png']
    got = read(osp.join(out, 'annotations', 'test', names[0]))
    assert (got[:2] == 0).all()  # raw depth keeps its holes
    stored = read(osp.join(release, 'kv1', 'NYUdata', 'NYU0001', 'depth',
                           'NYU0001.png'))
    np.testing.assert_array_equal(got, (stored >> 3) | (stored << 13))
    call_tool('dataset_converters/zero_shot.py', [
        release, str(tmp_path / 'filled'), '--set', 'sunrgbd', '--filled'])
    filled = read(tmp_path / 'filled' / 'annotations' / 'test' / names[0])
    assert (filled[:2] == 1).all()  # the fixture's filled holes: 1 mm


@pytest.mark.parametrize('name', SETS)
def test_check_dataset_passes_converted_sets(converted, name):
    assert check_dataset.main([converted[name][1], '--img-suffix', '.png',
                               '--any-names']) == 0


def write_scaled_ground_truth(config, root, folder, factor):
    """``factor`` x each test sample's ground truth, as the predictions
    PNGs of ``eval_predictions.py`` (mm)."""
    init_default_scope('mmseg')
    cfg = Config.fromfile(config)
    dataset = DATASETS.build(dict(cfg.test_dataloader.dataset,
                                  data_root=root))
    os.makedirs(folder, exist_ok=True)
    for index in range(len(dataset)):
        item = dataset[index]
        gt = item['data_samples'].gt_depth_map.data[0].numpy()
        name = osp.splitext(osp.basename(
            item['data_samples'].img_path))[0]
        cv2.imwrite(osp.join(folder, name + '.png'),
                    depth_to_mm(gt * factor)[0])
    return len(dataset)


def score(name, root, preds, *options):
    config = osp.join(REPO, 'configs', SETS[name][2])
    return eval_predictions.main([
        str(preds), '--config', config, '--cfg-options',
        f'test_dataloader.dataset.data_root={root}', *options
    ])


@pytest.mark.parametrize('name', SETS)
def test_configs_score_ground_truth_perfectly(converted, name, tmp_path):
    config = osp.join(REPO, 'configs', SETS[name][2])
    root = converted[name][1]
    assert write_scaled_ground_truth(config, root, tmp_path / 'same', 1) == 2
    exact = score(name, root, tmp_path / 'same')
    assert exact['abs_rel'] == pytest.approx(0, abs=1e-6)
    assert exact['d1'] == 1.0
    write_scaled_ground_truth(config, root, tmp_path / 'scaled', 1.2)
    # by hand: |1.2 g - g| / g = 0.2 on every pixel (the fixtures' depth
    # is at most 6.5 m: 1.2 g stays below every set's maximum, 8 m)
    scaled = score(name, root, tmp_path / 'scaled')
    assert scaled['abs_rel'] == pytest.approx(0.2, abs=1e-3)


def test_scale_alignment_through_the_tool(converted, tmp_path):
    root = converted['sunrgbd'][1]
    config = osp.join(REPO, 'configs', SETS['sunrgbd'][2])
    write_scaled_ground_truth(config, root, tmp_path / 'scaled', 1.2)
    for mode in ('median', 'scale', 'scale_shift'):
        aligned = score('sunrgbd', root, tmp_path / 'scaled',
                        f'test_evaluator.scale_alignment={mode}')
        assert aligned['abs_rel'] == pytest.approx(0, abs=1e-3), mode


@pytest.fixture(scope='module')
def nyu_checkpoint(tmp_path_factory):
    """The zero-shot configs' model (mrpan_nyu.py's) at test size
    (:mod:`small_paper_model`), random weights."""
    path = str(tmp_path_factory.mktemp('ckpt') / 'random.pth')
    save_random_checkpoint(osp.join(REPO, 'configs', 'mrpan_nyu.py'), path,
                           cfg_options=SMALL_PAPER_MODEL)
    yield path
    os.remove(path)


# DIODE's test chain is mrpan_nyu_test_eigen.py's (whole frame, Pillow
# resize), which tests/test_depth_configs.py runs through test.py already
@pytest.mark.slow
@pytest.mark.parametrize('name', ['ibims1', 'sunrgbd'])
def test_test_tool_saves_predictions_scored_like_online(
        converted, nyu_checkpoint, name, tmp_path):
    config = osp.join(REPO, 'configs', SETS[name][2])
    options = dict(small_input_options(Config.fromfile(config)),
                   **SMALL_PAPER_MODEL)
    options['model.decode_head.depth_offset'] = 3.0
    root = converted[name][1]
    common = [f'test_dataloader.dataset.data_root={root}',
              *option_args(options)]
    preds = tmp_path / 'preds'
    proc = run_tool('test.py', [
        config, nyu_checkpoint, '--work-dir', str(tmp_path / 'work'),
        '--save-pred', str(preds), '--cfg-options',
        'test_dataloader.num_workers=0',
        'test_dataloader.persistent_workers=False', *common
    ])
    online = logged_test_metrics(proc)
    assert len(os.listdir(preds)) == 2
    offline = eval_predictions.main(
        [str(preds), '--config', config, '--cfg-options', *common])
    for key in ('abs_rel', 'rmse', 'log10', 'd1'):
        assert abs(offline[key] - online[key]) <= 5e-3, key
