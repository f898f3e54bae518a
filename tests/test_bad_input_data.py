"""Broken NYU files must stop loading with a message naming file and problem.
"""
import os
import os.path as osp

import cv2
import numpy as np
import pytest
from mmengine.registry import init_default_scope
from mmseg.registry import DATASETS

from mrpan_mm.datasets import NYUDataError
from mrpan_mm.datasets.transforms import LoadCheckedDepth, LoadCheckedImage
from mrpan_mm.testing import make_nyu_fixture

STEM = 'kitchen_00000'


@pytest.fixture
def root(tmp_path):
    make_nyu_fixture(str(tmp_path), num_train=2, num_test=1, size=(24, 32))
    return str(tmp_path)


def paths(root):
    return (osp.join(root, 'images', 'train', STEM + '.jpg'),
            osp.join(root, 'annotations', 'train', STEM + '.png'))


def load(root, depth_path=None, **depth_args):
    """Run the checked loaders on the first training pair."""
    img_path, png_path = paths(root)
    depth_path = depth_path or png_path
    results = LoadCheckedImage()(dict(img_path=img_path))
    return LoadCheckedDepth(**depth_args)(
        dict(results, depth_map_path=depth_path, seg_fields=[]))


def expect(kind, path, root, match='', **depth_args):
    with pytest.raises(NYUDataError, match=match) as error:
        load(root, **depth_args)
    assert error.value.kind == kind
    assert error.value.path == path
    assert str(error.value).startswith(f'{path}: {kind}: ')
    return str(error.value)


def cut_in_half(path):
    with open(path, 'rb') as f:
        data = f.read()
    with open(path, 'wb') as f:
        f.write(data[:len(data) // 2])


def test_clean_pair_loads(root):
    assert load(root)['gt_depth_map'].shape == (24, 32)


def test_missing_depth_file(root):
    os.remove(paths(root)[1])
    expect('missing file', paths(root)[1], root, 'no such file')


def test_missing_image_file(root):
    os.remove(paths(root)[0])
    expect('missing file', paths(root)[0], root)


@pytest.mark.parametrize('which', [0, 1])
def test_truncated_jpeg_and_png(root, which):
    cut_in_half(paths(root)[which])
    marker = 'end-of-image marker' if which == 0 else 'no IEND chunk'
    expect('truncated file', paths(root)[which], root, marker)


def test_empty_file(root):
    open(paths(root)[1], 'wb').close()
    expect('truncated file', paths(root)[1], root, r'empty \(0 bytes\)')


def test_corrupt_jpeg_and_png(root):
    img_path, depth_path = paths(root)
    with open(img_path, 'wb') as f:
        f.write(b'this is not an image')
    expect('undecodable file', img_path, root, 'not an image, or corrupt')
    os.remove(img_path)
    cv2.imwrite(img_path, np.zeros((24, 32, 3), np.uint8))
    with open(depth_path, 'rb') as f:
        data = bytearray(f.read())
    data[len(data) // 2] ^= 0xFF  # damaged pixel data, end marker intact
    with open(depth_path, 'wb') as f:
        f.write(bytes(data))
    expect('undecodable file', depth_path, root, 'OpenCV cannot decode')


def test_rgb_and_depth_sizes_differ(root):
    depth_path = paths(root)[1]
    cv2.imwrite(depth_path, np.full((20, 32), 1500, np.uint16))
    message = expect('RGB/depth size mismatch', depth_path, root)
    assert 'depth is 20x32 (HxW)' in message
    assert f'image {paths(root)[0]} is 24x32' in message


def test_depth_all_zero(root):
    cv2.imwrite(paths(root)[1], np.zeros((24, 32), np.uint16))
    expect('all-zero depth', paths(root)[1], root, 'no valid pixel')


def test_8bit_depth_png_is_refused(root):
    cv2.imwrite(paths(root)[1], np.full((24, 32), 100, np.uint8))
    message = expect('wrong depth dtype', paths(root)[1], root,
                     'stored as uint8, expected uint16')
    assert 'nyu_hu_csv.py' in message


def test_multichannel_depth(root):
    cv2.imwrite(paths(root)[1], np.full((24, 32, 3), 1500, np.uint16))
    expect('multi-channel depth', paths(root)[1], root, r'\(24, 32, 3\)')


def float_depth(root, depth):
    """Write a float32 depth map (metres) as TIFF next to the PNG."""
    path = paths(root)[1][:-4] + '.tiff'
    assert cv2.imwrite(path, depth)
    return path


def two_metres():
    return np.full((24, 32), 2.0, np.float32)


FLOAT_METRES = dict(expected_dtype='float32', depth_rescale_factor=1.0)


def test_float_depth_loads_when_declared(root):
    path = float_depth(root, two_metres())
    assert (load(root, path, **FLOAT_METRES)['gt_depth_map'] == 2.0).all()


def test_depth_all_nan(root):
    path = float_depth(root, np.full((24, 32), np.nan, np.float32))
    expect('NaN/inf depth', path, root, 'every depth value is NaN',
           depth_path=path, **FLOAT_METRES)


def test_depth_some_nan(root):
    depth = two_metres()
    depth[0, :3] = np.nan
    path = float_depth(root, depth)
    expect('NaN/inf depth', path, root, '3 depth values are NaN',
           depth_path=path, **FLOAT_METRES)


def test_depth_negative(root):
    depth = two_metres()
    depth[1, 1] = -0.5
    path = float_depth(root, depth)
    expect('negative depth', path, root, r'1 depth values are negative',
           depth_path=path, **FLOAT_METRES)


def test_float_depth_with_uint16_expected(root):
    path = float_depth(root, two_metres())
    expect('wrong depth dtype', path, root, 'stored as float32',
           depth_path=path)


def nyu_dataset(root, split='train'):
    init_default_scope('mmseg')
    return DATASETS.build(
        dict(
            type='NYUDepthDataset',
            data_root=root,
            data_prefix=dict(
                img_path=f'images/{split}',
                depth_map_path=f'annotations/{split}')))


def test_empty_and_missing_split(root):
    for name in os.listdir(osp.join(root, 'images', 'test')):
        os.remove(osp.join(root, 'images', 'test', name))
    with pytest.raises(NYUDataError, match="has no '.jpg' images") as error:
        nyu_dataset(root, 'test')
    assert error.value.kind == 'empty split'
    assert error.value.path == osp.join(root, 'images', 'test')
    with pytest.raises(NYUDataError, match='folder does not exist'):
        nyu_dataset(root, 'val')


@pytest.mark.parametrize('name', ['kitchen.jpg', '0001.jpg', 'scan2_x.jpg'])
def test_file_name_without_scene_and_index(root, name):
    img_path = osp.join(root, 'images', 'train', name)
    os.rename(paths(root)[0], img_path)
    with pytest.raises(NYUDataError, match='<scene>_<index>') as error:
        nyu_dataset(root)
    assert error.value.kind == 'bad file name'
    assert error.value.path == img_path


def test_dataset_sample_raises_named_error(root):
    cut_in_half(paths(root)[1])
    init_default_scope('mmseg')
    dataset = DATASETS.build(
        dict(
            type='NYUDepthDataset',
            data_root=root,
            data_prefix=dict(
                img_path='images/train', depth_map_path='annotations/train'),
            pipeline=[dict(type='LoadCheckedImage'),
                      dict(type='LoadCheckedDepth')]))
    assert dataset[1]['gt_depth_map'].max() > 0
    with pytest.raises(NYUDataError, match='truncated file'):
        dataset[0]
