"""NYU converters: tiny source files in each format, every pixel checked."""
import csv
import os
import os.path as osp
import runpy
import sys

import cv2
import h5py
import numpy as np
import pytest
import scipy.io
from mmengine.config import Config
from mmengine.registry import init_default_scope
from mmseg.registry import DATASETS

from mrpan_mm.datasets.converters import (convert_hu_csv, convert_nyu_labeled,
                                          read_splits_mat)
from mrpan_mm.datasets.nyu_metadata import nyu_metadata_path

TOOLS = osp.join(osp.dirname(osp.dirname(osp.abspath(__file__))), 'tools',
                 'dataset_converters')
H, W, N = 12, 16, 5


def read(path):
    array = cv2.imread(path, cv2.IMREAD_UNCHANGED)
    assert array is not None, path
    return array


def mapping_from_csv():
    """894 -> 40 mapping read with plain string handling (not the LUT)."""
    with open(nyu_metadata_path('class_mapping_894_to_40.csv')) as f:
        rows = f.read().splitlines()[1:]
    return {int(r.split(',')[0]): int(r.split(',')[-2]) for r in rows}


@pytest.fixture(scope='module')
def labeled_frames():
    """RGB (N,H,W,3), depth metres (N,H,W), raw labels (N,H,W), scenes."""
    rng = np.random.default_rng(1)
    rows = np.arange(H)[:, None]
    cols = np.arange(W)[None, :]
    rgb = np.zeros((N, H, W, 3), np.uint8)
    rgb[..., 0] = 40 + 8 * rows  # red varies along rows only
    rgb[..., 1] = 30 + 10 * cols  # green along columns only
    rgb[..., 2] = (20 * np.arange(N))[:, None, None]  # blue per frame
    depth_mm = rng.integers(500, 9000, (N, H, W))
    depth_mm[:, 0, 0] = 0  # an invalid pixel stays 0
    # Metres within +-0.4 mm of whole millimetres: rounding is unambiguous.
    depth = ((depth_mm + rng.uniform(-0.4, 0.4, depth_mm.shape)) / 1000.0)
    depth = np.maximum(depth, 0).astype(np.float32)
    labels = rng.integers(0, 895, (N, H, W)).astype(np.uint16)
    labels[:, 1, :] = 0
    scenes = ['kitchen_0004', 'living_room_0010', 'bedroom_0001',
              'office_0003', 'kitchen_0004']
    return rgb, depth, depth_mm, labels, scenes


def write_labeled_mat(path, rgb, depth, labels, scenes=None):
    """A v7.3-style HDF5 file: MATLAB's column-major arrays, transposed."""
    with h5py.File(path, 'w') as f:
        f['images'] = rgb.transpose(0, 3, 2, 1)  # N x 3 x W x H
        f['depths'] = depth.transpose(0, 2, 1)
        f['labels'] = labels.transpose(0, 2, 1)
        if scenes is not None:
            refs = f.create_group('#refs#')
            cell = np.empty((1, len(scenes)), dtype=h5py.ref_dtype)
            for i, name in enumerate(scenes):
                chars = np.array([[ord(c)] for c in name], np.uint16)
                cell[0, i] = refs.create_dataset(f's{i}', data=chars).ref
            f.create_dataset('scenes', data=cell)


@pytest.fixture
def labeled_mat(tmp_path, labeled_frames):
    path = str(tmp_path / 'nyu_depth_v2_labeled.mat')
    rgb, depth, _, labels, scenes = labeled_frames
    write_labeled_mat(path, rgb, depth, labels, scenes)
    return path


SPLITS = dict(train=np.array([1, 3, 4]), test=np.array([2, 5]))


def test_labeled_every_pixel(tmp_path, labeled_mat, labeled_frames):
    rgb, depth, depth_mm, labels, scenes = labeled_frames
    out = str(tmp_path / 'out')
    writer = convert_nyu_labeled(
        labeled_mat, out, SPLITS, with_labels=True, jpeg_quality=100)
    mapping = mapping_from_csv()
    for split, frames in SPLITS.items():
        names = sorted(os.listdir(osp.join(out, 'annotations', split)))
        assert names == sorted(f'{scenes[k - 1]}_{k:04d}.png' for k in frames)
        for k in frames:
            stem = f'{scenes[k - 1]}_{k:04d}'
            written = read(osp.join(out, 'annotations', split, stem + '.png'))
            assert written.dtype == np.uint16
            np.testing.assert_array_equal(written, depth_mm[k - 1])
            label40 = read(osp.join(out, 'seg_annotations', split,
                                    stem + '.png'))
            assert label40.dtype == np.uint8
            expected = np.vectorize(lambda v: mapping.get(v, 0))(
                labels[k - 1])
            np.testing.assert_array_equal(label40, expected)
            assert (label40[1] == 0).all() and label40.max() <= 40
            image = read(osp.join(out, 'images', split, stem + '.jpg'))
            assert image.shape == (H, W, 3)
            diff = np.abs(image[..., ::-1].astype(int) - rgb[k - 1])
            assert diff.max() <= 6, diff.max()  # JPEG, but not transposed
    assert writer.samples == dict(train=3, test=2)
    assert 'train:      3 samples' in writer.summary()


def test_labeled_without_scenes_uses_prefix(tmp_path, labeled_frames):
    rgb, depth, _, labels, _ = labeled_frames
    path = str(tmp_path / 'plain.mat')
    write_labeled_mat(path, rgb, depth, labels, scenes=None)
    out = str(tmp_path / 'out')
    convert_nyu_labeled(path, out, SPLITS, scene_prefix='room')
    assert sorted(os.listdir(osp.join(out, 'images', 'test'))) == [
        'room_0002.jpg', 'room_0005.jpg'
    ]
    assert not osp.exists(osp.join(out, 'seg_annotations'))


@pytest.mark.parametrize('version', ['v5', 'v7.3'])
def test_read_splits_mat(tmp_path, version):
    path = str(tmp_path / 'splits.mat')
    if version == 'v5':
        scipy.io.savemat(path, dict(trainNdxs=[[1], [3], [4]],
                                    testNdxs=[[2], [5]]))
    else:
        with h5py.File(path, 'w') as f:  # MATLAB v7.3 stores 1 x n
            f['trainNdxs'] = np.array([[1.0, 3.0, 4.0]])
            f['testNdxs'] = np.array([[2.0, 5.0]])
    splits = read_splits_mat(path)
    np.testing.assert_array_equal(splits['train'], [1, 3, 4])
    np.testing.assert_array_equal(splits['test'], [2, 5])


def test_labeled_rejects_bad_splits_and_missing_labels(tmp_path,
                                                        labeled_frames):
    rgb, depth, _, labels, scenes = labeled_frames
    path = str(tmp_path / 'x.mat')
    write_labeled_mat(path, rgb, depth, labels, scenes)
    out = str(tmp_path / 'out')
    # The default (official) split indexes 1449 frames, not 5.
    with pytest.raises(ValueError, match=r'outside 1\.\.5'):
        convert_nyu_labeled(path, out)
    with pytest.raises(ValueError, match='more than one split'):
        convert_nyu_labeled(path, out, dict(train=np.array([1, 2]),
                                            test=np.array([2])))
    with h5py.File(path, 'a') as f:
        del f['labels']
    with pytest.raises(ValueError, match=r"datasets \['labels'\] not found"):
        convert_nyu_labeled(path, out, SPLITS, with_labels=True)


def test_labeled_cli(tmp_path, labeled_mat, monkeypatch, capsys):
    splits = str(tmp_path / 'splits.mat')
    scipy.io.savemat(splits, dict(trainNdxs=[[5]], testNdxs=[[1], [2]]))
    out = str(tmp_path / 'cli')
    monkeypatch.setattr(sys, 'argv', [
        'nyu_labeled.py', labeled_mat, out, '--splits', splits, '--labels'
    ])
    runpy.run_path(osp.join(TOOLS, 'nyu_labeled.py'), run_name='__main__')
    assert os.listdir(osp.join(out, 'images', 'train')) == [
        'kitchen_0004_0005.jpg'
    ]
    assert len(os.listdir(osp.join(out, 'seg_annotations', 'test'))) == 2
    assert 'test :      2 samples' in capsys.readouterr().out


def smooth_rgb(rng):
    """An H x W x 3 uint8 image smooth enough for JPEG to keep closely."""
    rows, cols = np.mgrid[0:H, 0:W]
    base = rng.integers(20, 120, 3)
    return np.stack([base[0] + 6 * rows, base[1] + 5 * cols,
                     base[2] + 3 * (rows + cols)], axis=-1).astype(np.uint8)


def make_hu_archive(root, rng, train_depth_dtype=np.uint8):
    """Hu et al.'s layout: JPEG + 8-bit depth (train), PNG + mm (test)."""
    data = osp.join(root, 'data')
    train, test = [], []
    for scene, n in [('living_room_0038_out', 37), ('bathroom_0001_out', 2),
                     ('living_room_0038_out', 41)]:
        folder = osp.join(data, 'nyu2_train', scene)
        os.makedirs(folder, exist_ok=True)
        colour = smooth_rgb(rng)
        cv2.imwrite(osp.join(folder, f'{n}.jpg'), colour)
        high = np.iinfo(train_depth_dtype).max
        depth = rng.integers(0, high + 1, (H, W)).astype(train_depth_dtype)
        cv2.imwrite(osp.join(folder, f'{n}.png'), depth)
        train.append((f'data/nyu2_train/{scene}/{n}.jpg',
                      f'data/nyu2_train/{scene}/{n}.png'))
    os.makedirs(osp.join(data, 'nyu2_test'))
    for n in range(2):
        colour = smooth_rgb(rng)
        cv2.imwrite(osp.join(data, 'nyu2_test', f'{n:05d}_colors.png'), colour)
        depth = rng.integers(0, 10000, (H, W)).astype(np.uint16)
        cv2.imwrite(osp.join(data, 'nyu2_test', f'{n:05d}_depth.png'), depth)
        test.append((f'data/nyu2_test/{n:05d}_colors.png',
                     f'data/nyu2_test/{n:05d}_depth.png'))
    for split, rows in (('train', train), ('test', test)):
        with open(osp.join(data, f'nyu2_{split}.csv'), 'w', newline='') as f:
            csv.writer(f).writerows(rows)
    return train, test


def test_hu_csv_every_pixel(tmp_path):
    archive = str(tmp_path / 'archive')
    train, test = make_hu_archive(archive, np.random.default_rng(2))
    out = str(tmp_path / 'out')
    writer = convert_hu_csv(archive, out)
    assert sorted(os.listdir(osp.join(out, 'images', 'train'))) == [
        'bathroom_0001_out_2.jpg', 'living_room_0038_out_37.jpg',
        'living_room_0038_out_41.jpg'
    ]
    for colour, depth in train:
        parts = colour.split('/')
        stem = f'{parts[2]}_{parts[3][:-4]}'
        with open(osp.join(archive, colour), 'rb') as f:
            source_bytes = f.read()
        with open(osp.join(out, 'images', 'train', stem + '.jpg'), 'rb') as f:
            assert f.read() == source_bytes  # copied byte for byte
        assert osp.exists(osp.join(archive, colour))  # never moved
        raw = read(osp.join(archive, depth)).astype(np.float64)
        metres = raw / 255.0 * 10.0  # DenseDepth's reading
        mm = read(osp.join(out, 'annotations', 'train', stem + '.png'))
        assert mm.dtype == np.uint16
        np.testing.assert_array_equal(mm, np.floor(metres * 1000.0 + 0.5))
    for n, (colour, depth) in enumerate(test):
        stem = f'nyu_{n:05d}'
        np.testing.assert_array_equal(
            read(osp.join(out, 'annotations', 'test', stem + '.png')),
            read(osp.join(archive, depth)))
        # Hu's test PNGs stay lossless: copied, same pixels.
        np.testing.assert_array_equal(
            read(osp.join(out, 'images', 'test', stem + '.png')),
            read(osp.join(archive, colour)))
    assert writer.counts == {'copied images': 5}


def test_hu_test_pngs_reach_the_network_lossless(tmp_path):
    """Converter, then the NYU config's test dataset: the image the test
    pipeline loads is Hu's test PNG, pixel for pixel."""
    archive = str(tmp_path / 'archive')
    _, test = make_hu_archive(archive, np.random.default_rng(5))
    out = str(tmp_path / 'out')
    convert_hu_csv(archive, out)
    config = osp.join(osp.dirname(osp.dirname(TOOLS)), 'configs', '_base_',
                      'datasets', 'nyu.py')
    init_default_scope('mmseg')
    dataset_cfg = Config.fromfile(config).test_dataloader.dataset
    dataset_cfg.update(
        data_root=out, pipeline=[dict(type='LoadCheckedImage')])
    dataset = DATASETS.build(dataset_cfg)
    assert len(dataset) == len(test)
    for n, (colour, _) in enumerate(test):
        sample = dataset[n]
        assert sample['img_path'].endswith(f'nyu_{n:05d}.png')
        np.testing.assert_array_equal(sample['img'],
                                      read(osp.join(archive, colour)))


def test_hu_csv_encoding_must_match_dtype(tmp_path):
    archive = str(tmp_path / 'archive')
    make_hu_archive(archive, np.random.default_rng(3),
                    train_depth_dtype=np.uint16)
    with pytest.raises(ValueError) as error:
        convert_hu_csv(archive, str(tmp_path / 'out'))
    message = str(error.value)
    assert 'depth PNG is uint16' in message
    assert "'uint8_10m' expects uint8" in message
    assert '--train-depth-encoding uint16_mm' in message
    assert 'nyu2_train' in message  # names the file
    # Declared correctly, the 16-bit train maps are copied unchanged.
    out = str(tmp_path / 'ok')
    convert_hu_csv(archive, out, train_depth_encoding='uint16_mm')
    np.testing.assert_array_equal(
        read(osp.join(out, 'annotations', 'train', 'bathroom_0001_out_2.png')),
        read(osp.join(archive, 'data', 'nyu2_train', 'bathroom_0001_out',
                      '2.png')))


def test_hu_csv_cli_and_missing_files(tmp_path, monkeypatch, capsys):
    archive = str(tmp_path / 'archive')
    make_hu_archive(archive, np.random.default_rng(4))
    out = str(tmp_path / 'out')
    monkeypatch.setattr(sys, 'argv', ['nyu_hu_csv.py', archive, out])
    runpy.run_path(osp.join(TOOLS, 'nyu_hu_csv.py'), run_name='__main__')
    summary = capsys.readouterr().out
    assert 'train:      3 samples' in summary
    assert 'copied images: 5' in summary
    os.remove(osp.join(archive, 'data', 'nyu2_test', '00001_depth.png'))
    with pytest.raises(FileNotFoundError,
                       match=r'nyu2_test.csv:2: .*00001_depth.png'):
        convert_hu_csv(archive, str(tmp_path / 'again'))
    with pytest.raises(FileNotFoundError, match='holds data/nyu2_train.csv'):
        convert_hu_csv(str(tmp_path), str(tmp_path / 'again'))
    # The CLI ends with the message alone, no traceback.
    monkeypatch.setattr(sys, 'argv', ['nyu_hu_csv.py', archive, out])
    with pytest.raises(SystemExit, match='error: .*00001_depth.png'):
        runpy.run_path(osp.join(TOOLS, 'nyu_hu_csv.py'), run_name='__main__')


@pytest.mark.parametrize('entry', ['/etc/hostname', '../outside.png',
                                   'data/../../outside.png', 'data/link.png'])
def test_hu_csv_refuses_entries_outside_the_archive(tmp_path, entry):
    archive = str(tmp_path / 'archive')
    make_hu_archive(archive, np.random.default_rng(5))
    cv2.imwrite(str(tmp_path / 'outside.png'), np.zeros((H, W), np.uint16))
    os.symlink(str(tmp_path / 'outside.png'),
               osp.join(archive, 'data', 'link.png'))
    with open(osp.join(archive, 'data', 'nyu2_test.csv'), 'a') as f:
        f.write(f'data/nyu2_test/00000_colors.png,{entry}\n')
    with pytest.raises(ValueError, match=rf'nyu2_test.csv:3: .*outside the '
                       'archive root') as error:
        convert_hu_csv(archive, str(tmp_path / 'out'))
    assert repr(entry) in str(error.value)


def test_labeled_refuses_non_hdf5(tmp_path):
    path = tmp_path / 'nyu_depth_v2_labeled.mat'
    path.write_bytes(b'MATLAB 5.0 MAT-file, not HDF5')
    with pytest.raises(ValueError, match='not an HDF5 .MATLAB v7.3. file'):
        convert_nyu_labeled(str(path), str(tmp_path / 'out'))
