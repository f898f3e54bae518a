"""KITTI Eigen split: the shipped list, the converter on a generated
release (test list, and a user's training list installed by download.py),
KBCrop and the configs' pipelines, check_dataset, and (slow)
tools/test.py --save-pred + eval_predictions.py at a tiny size."""
import os
import os.path as osp

import cv2
import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope
from mmseg.registry import DATASETS, TRANSFORMS

from mrpan_mm.datasets.converters import (convert_kitti, read_split_file,
                                          shipped_split)
from mrpan_mm.datasets.converters.kitti import drives_shared_with
from mrpan_mm.testing import make_kitti_release, save_random_checkpoint
from mrpan_mm.utils.downloads import load_manifest
from tools_runner import (REPO, call_tool, data_root_options, load_tool,
                          logged_test_metrics, run_tool)

check_dataset = load_tool('check_dataset.py')
download = load_tool('download.py')
eval_predictions = load_tool('eval_predictions.py')
kitti_tool = load_tool('dataset_converters/kitti.py')
NAMES = ['2011_09_26_drive_0002_sync_0000000069.png',
         '2011_09_30_drive_0016_sync_0000000011.png']
#: A training list as BTS/AdaBins write it: drives outside the Eigen test
#: list, with and without the date folder, both colour cameras.
TRAIN_FRAMES = (
    ('2011_09_26/', '2011_09_26_drive_0057_sync', 116, True, 'train'),
    ('', '2011_09_26_drive_0057_sync', 116, True, 'train', 'image_03'),
    ('', '2011_10_03_drive_0034_sync', 978, True, 'val'),
)
TRAIN_NAMES = ['2011_09_26_drive_0057_sync_0000000116.png',
               '2011_09_26_drive_0057_sync_image_03_0000000116.png',
               '2011_10_03_drive_0034_sync_0000000978.png']
TINY_FRAME = (102, 330)  # keeps Garg's window inside a 96x320 KB crop
TINY_KB_CROP = (96, 320)


def test_shipped_eigen_test_list_has_652_frames_with_depth():
    entries = read_split_file(shipped_split('eigen_test'))
    assert len(entries) == 697
    assert sum(e.depth is not None for e in entries) == 652
    assert len({(e.drive, e.frame) for e in entries}) == 697
    assert len({e.drive for e in entries}) == 28
    assert {e.focal for e in entries if e.date == '2011_09_26'} == \
        {721.5377}
    with pytest.raises(ValueError, match="no shipped KITTI split"):
        shipped_split('eigen_train')


@pytest.fixture(scope='module')
def kitti_root(tmp_path_factory):
    """A generated release converted by the converter script."""
    base = tmp_path_factory.mktemp('kitti')
    release = make_kitti_release(str(base), size=TINY_FRAME)
    out = str(base / 'converted')
    proc = call_tool('dataset_converters/kitti.py', [
        release['raw_root'], out, '--depth-root', release['depth_root'],
        '--split-file', release['split_file']
    ])
    return dict(release, out=out, stdout=proc.stdout)


def test_converter_copies_listed_frames_with_depth(kitti_root):
    out, raw = kitti_root['out'], kitti_root['raw_root']
    assert sorted(os.listdir(osp.join(out, 'images', 'test'))) == NAMES
    assert sorted(os.listdir(osp.join(out, 'annotations', 'test'))) == NAMES
    assert 'listed without annotated depth, skipped: 1' in \
        kitti_root['stdout']
    source = osp.join(raw, '2011_09_26', '2011_09_26_drive_0002_sync',
                      'image_02', 'data', '0000000069.png')
    with open(source, 'rb') as a, \
            open(osp.join(out, 'images', 'test', NAMES[0]), 'rb') as b:
        assert a.read() == b.read()
    depth = osp.join(kitti_root['depth_root'], 'val',
                     '2011_09_30_drive_0016_sync', 'proj_depth',
                     'groundtruth', 'image_02', '0000000011.png')
    np.testing.assert_array_equal(
        cv2.imread(depth, cv2.IMREAD_UNCHANGED),
        cv2.imread(osp.join(out, 'annotations', 'test', NAMES[1]),
                   cv2.IMREAD_UNCHANGED))


def test_converter_names_missing_and_bad_input(kitti_root, tmp_path):
    bad = tmp_path / 'split.txt'
    bad.write_text('2011_09_26_drive_0002_sync/image_02/data/0000000069.png '
                   'x 721.5\n2011_09_26_drive_0002_sync/image_03 x 7\n')
    with pytest.raises(ValueError, match=r'split\.txt:2: expected'):
        read_split_file(str(bad))
    bad.write_text('2011_09_26_drive_0002_sync/image_02/data/0000000001.png '
                   '2011_09_26_drive_0002_sync/proj_depth/groundtruth/'
                   'image_02/0000000001.png 721.5377\n')
    with pytest.raises(FileNotFoundError, match='0000000001.png: listed in'):
        convert_kitti(kitti_root['raw_root'], kitti_root['depth_root'],
                      str(tmp_path / 'out'), str(bad))


def test_train_list_installed_by_download_converts_both_cameras(
        tmp_path, capsys):
    """The user's path: download.py --from installs a training list (no
    checksum to verify), the converter script turns it into images/train."""
    release = make_kitti_release(str(tmp_path), size=TINY_FRAME,
                                 frames=TRAIN_FRAMES)
    root = tmp_path / 'root'
    assert download.main(['kitti_eigen_train', '--root', str(root),
                          '--from', release['split_file']]) == 0
    assert 'no published checksum to verify' in capsys.readouterr().out
    split_file = root / 'data' / 'eigen_train_files_with_gt.txt'
    out = str(tmp_path / 'converted')
    proc = call_tool('dataset_converters/kitti.py', [
        release['raw_root'], out, '--depth-root', release['depth_root'],
        '--split', 'train', '--split-file', str(split_file)
    ])
    assert 'train:' in proc.stdout
    for folder in ('images', 'annotations'):
        assert sorted(os.listdir(osp.join(out, folder, 'train'))) == \
            TRAIN_NAMES
    right = ('2011_09_26_drive_0057_sync', 'image_03', '0000000116.png')
    with open(osp.join(release['raw_root'], '2011_09_26', right[0],
                       right[1], 'data', right[2]), 'rb') as a, \
            open(osp.join(out, 'images', 'train', TRAIN_NAMES[1]),
                 'rb') as b:
        assert a.read() == b.read()
    depth = osp.join(release['depth_root'], 'train', right[0], 'proj_depth',
                     'groundtruth', right[1], right[2])
    np.testing.assert_array_equal(
        cv2.imread(depth, cv2.IMREAD_UNCHANGED),
        cv2.imread(osp.join(out, 'annotations', 'train', TRAIN_NAMES[1]),
                   cv2.IMREAD_UNCHANGED))


def test_manifest_names_the_bts_train_list_without_a_checksum(capsys):
    item = load_manifest()['kitti_eigen_train']
    assert item.url.endswith('/cleinc/bts/master/train_test_inputs/'
                             'eigen_train_files_with_gt.txt')
    assert item.sha256_prefix is None
    assert item.checksum_note == 'no published checksum'
    assert download.main(['--list']) == 0
    listed = capsys.readouterr().out.split('kitti_eigen_train\n')[1]
    assert listed.split('\n')[3] == '  checksum: no published checksum'


def test_train_split_on_eigen_test_drives_is_refused(kitti_root, tmp_path):
    """The Eigen split separates training and test by drive."""
    entries = read_split_file(kitti_root['split_file'])
    assert drives_shared_with(entries, shipped_split('eigen_test')) == {
        '2011_09_26_drive_0002_sync': [1, 2],
        '2011_09_30_drive_0016_sync': [3]
    }
    out = tmp_path / 'out'
    args = [kitti_root['raw_root'], str(out), '--depth-root',
            kitti_root['depth_root'], '--split', 'train', '--split-file',
            kitti_root['split_file']]
    with pytest.raises(AssertionError) as refused:
        call_tool('dataset_converters/kitti.py', args)
    assert 'exited 1' in str(refused.value)
    assert ('split.txt: 2 drive(s) of ' + shipped_split('eigen_test') +
            ', whose scenes a training list must not hold: '
            '2011_09_26_drive_0002_sync (line 1, 2 in all); '
            '2011_09_30_drive_0016_sync (line 3, 1 in all)'
            ) in str(refused.value)
    assert not out.exists()
    writer = kitti_tool.convert(
        kitti_tool.build_parser().parse_args(args + ['--allow-test-drives']))
    assert writer.samples['train'] == 2


def test_split_file_missing_binary_or_bad_focal_is_named(tmp_path):
    args = kitti_tool.build_parser().parse_args(
        ['raw', str(tmp_path / 'out'), '--depth-root', 'depth', '--split',
         'train'])
    with pytest.raises(ValueError, match='tools/download.py --list'):
        kitti_tool.convert(args)
    missing = str(tmp_path / 'eigen_train_files_with_gt.txt')
    with pytest.raises(FileNotFoundError,
                       match=f'{missing}: no such KITTI split file'):
        read_split_file(missing)
    binary = tmp_path / 'split.zip'
    binary.write_bytes(b'PK\x03\x04\xff\xfe\x00')
    with pytest.raises(ValueError, match=r'split\.zip: not a text split'):
        read_split_file(str(binary))
    bad = tmp_path / 'split.txt'
    bad.write_text('2011_09_26_drive_0057_sync/image_03/data/0000000116.png '
                   'None 721.5\n2011_09_26_drive_0057_sync/image_02/data/'
                   '0000000117.png None focal\n')
    with pytest.raises(ValueError, match=r'split\.txt:2: expected'):
        read_split_file(str(bad))


def test_check_dataset_needs_any_names_for_kitti(kitti_root, capsys):
    root = kitti_root['out']
    assert check_dataset.main([root, '--img-suffix', '.png']) == 1
    assert 'bad file name' in capsys.readouterr().out
    assert check_dataset.main(
        [root, '--img-suffix', '.png', '--any-names']) == 0


def test_kb_crop_takes_bottom_rows_centre_columns():
    img = np.arange(375 * 1242 * 3, dtype=np.int64).reshape(375, 1242, 3)
    depth = np.arange(375 * 1242, dtype=np.float32).reshape(375, 1242)
    out = TRANSFORMS.build(dict(type='KBCrop'))(
        dict(img=img, gt_depth_map=depth, seg_fields=['gt_depth_map']))
    # by hand: top = 375 - 352 = 23, left = (1242 - 1216) // 2 = 13
    np.testing.assert_array_equal(out['img'], img[23:, 13:1229])
    np.testing.assert_array_equal(out['gt_depth_map'], depth[23:, 13:1229])
    assert out['frame_shape'] == (375, 1242)
    assert out['crop_offset'] == (23, 13)
    assert out['ori_shape'] == out['img_shape'] == (352, 1216)
    with pytest.raises(ValueError, match='does not fit in the 300x1242'):
        TRANSFORMS.build(dict(type='KBCrop'))(
            dict(img=img[:300], seg_fields=[]))


def test_config_pipelines_on_a_full_size_frame(tmp_path):
    """mrpan_kitti.py's train and test samples of a 375x1242 frame."""
    release = make_kitti_release(str(tmp_path), size=(375, 1242))
    out = str(tmp_path / 'converted')
    convert_kitti(release['raw_root'], release['depth_root'], out,
                  release['split_file'])
    os.rename(osp.join(out, 'images', 'test'),
              osp.join(out, 'images', 'train'))
    os.rename(osp.join(out, 'annotations', 'test'),
              osp.join(out, 'annotations', 'train'))
    cfg = Config.fromfile(osp.join(REPO, 'configs', 'mrpan_kitti.py'))
    init_default_scope('mmseg')
    train = DATASETS.build(dict(cfg.train_dataloader.dataset, data_root=out))
    stored = cv2.imread(osp.join(out, 'annotations', 'train', NAMES[0]),
                        cv2.IMREAD_UNCHANGED) / 256.0
    torch.manual_seed(0)
    for _ in range(3):
        item = train[0]
        assert tuple(item['inputs'].shape) == (3, 352, 704)
        gt = item['data_samples'].gt_depth_map.data.numpy().astype(
            np.float64)
        assert gt.shape == (1, 352, 704)
        # nearest-neighbour rotation: depths are stored values or 0
        assert np.isin(gt[gt > 0], stored).all()
    test_cfg = dict(cfg.test_dataloader.dataset, data_root=out)
    test_cfg['data_prefix'] = dict(img_path='images/train',
                                   depth_map_path='annotations/train')
    sample = DATASETS.build(test_cfg)[0]['data_samples']
    assert sample.ori_shape == (352, 1216)
    assert sample.frame_shape == (375, 1242)
    assert sample.crop_offset == (23, 13)
    np.testing.assert_allclose(sample.gt_depth_map.data[0].numpy(),
                               stored[23:, 13:1229], rtol=1e-6)


def tiny_options(root):
    """Every loader at ``root``; the KB crop and its steps scaled down."""
    return [
        *data_root_options(root), 'test_dataloader.num_workers=0',
        'test_dataloader.persistent_workers=False',
        f'test_dataloader.dataset.pipeline.2.crop_size='
        f'({TINY_KB_CROP[0]},{TINY_KB_CROP[1]})',
        'model.decode_head.depth_offset=20.0'
    ]


@pytest.mark.slow
def test_test_tool_saves_predictions_that_score_like_online(
        kitti_root, tmp_path):
    config = osp.join(REPO, 'configs', 'mrpan_convnext_t_kitti.py')
    checkpoint = str(tmp_path / 'random.pth')
    save_random_checkpoint(config, checkpoint)
    preds = tmp_path / 'preds'
    proc = run_tool('test.py', [
        config, checkpoint, '--work-dir',
        str(tmp_path / 'work'), '--save-pred',
        str(preds), '--cfg-options', *tiny_options(kitti_root['out'])
    ])
    online = logged_test_metrics(proc)
    assert sorted(os.listdir(preds)) == NAMES
    for name in NAMES:
        pred = cv2.imread(str(preds / name), cv2.IMREAD_UNCHANGED)
        assert pred.shape == TINY_KB_CROP
    offline = eval_predictions.main([
        str(preds), '--config', config, '--cfg-options',
        *tiny_options(kitti_root['out'])
    ])
    # PNG millimetres: at most 0.5 mm per pixel on depths of metres
    for key in ('abs_rel', 'rmse', 'log10', 'd1'):
        assert abs(offline[key] - online[key]) <= 5e-3, key
    assert 0 < online['d1'] <= 1
