"""tools/check_dataset.py on the NYU fixture with injected problems."""
import os
import os.path as osp
import runpy
import shutil

import cv2
import numpy as np
import pytest

from mrpan_mm.datasets import scan_nyu_split
from mrpan_mm.testing import make_nyu_fixture

TOOL = osp.join(
    osp.dirname(osp.dirname(osp.abspath(__file__))), 'tools',
    'check_dataset.py')


@pytest.fixture(scope='module')
def check_main():
    return runpy.run_path(TOOL)['main']


@pytest.fixture
def root(tmp_path):
    make_nyu_fixture(str(tmp_path), num_train=6, num_test=2, size=(24, 32))
    return str(tmp_path)


def sample(root, index, split='train'):
    stem = f'kitchen_{index:05d}'
    return (osp.join(root, 'images', split, stem + '.jpg'),
            osp.join(root, 'annotations', split, stem + '.png'))


def test_clean_dataset_passes(root, check_main, capsys):
    assert check_main([root]) == 0
    out = capsys.readouterr().out
    assert 'train: 0 problem(s)' in out and 'No problems found.' in out


def test_injected_problems_are_all_reported(root, check_main, capsys):
    os.remove(sample(root, 0)[1])  # missing depth
    cv2.imwrite(sample(root, 1)[1], np.zeros((24, 32), np.uint16))
    cv2.imwrite(sample(root, 2)[1], np.zeros((24, 32), np.uint16))
    cv2.imwrite(sample(root, 3)[1], np.full((24, 32), 9, np.uint8))
    with open(sample(root, 4)[0], 'rb') as f:
        data = f.read()
    with open(sample(root, 4)[0], 'wb') as f:  # truncated JPEG ...
        f.write(data[:-100])
    cv2.imwrite(sample(root, 4)[1], np.zeros((24, 32), np.uint16))  # + zero
    cv2.imwrite(sample(root, 1, 'test')[1], np.full((20, 30), 900, np.uint16))
    os.rename(sample(root, 5)[0], osp.join(root, 'images', 'train', 'x.jpg'))

    assert check_main([root, '--split', 'train', 'test']) == 1
    out = capsys.readouterr().out
    assert 'train: 8 problem(s)' in out and 'test: 1 problem(s)' in out
    table = dict()
    for line in out.splitlines():
        for kind in ('missing file', 'truncated file', 'all-zero depth',
                     'wrong depth dtype', 'RGB/depth size mismatch',
                     'bad file name'):
            if line.startswith(kind):
                table[kind] = line.split()[len(kind.split())]
    assert table == {
        'missing file': '2',  # kitchen_00000.png and x.png
        'truncated file': '1',
        'all-zero depth': '3',
        'wrong depth dtype': '1',
        'RGB/depth size mismatch': '1',
        'bad file name': '1',
    }
    assert sample(root, 0)[1] in out
    assert sample(root, 2)[1] in out  # second file of a kind is listed
    assert 'depth is 20x30 (HxW)' in out  # first message of each kind

    assert check_main([root, '--split', 'test']) == 1
    assert 'train' not in capsys.readouterr().out.splitlines()[0]


def test_empty_split(root, check_main, capsys):
    problems = scan_nyu_split(root, 'val')
    assert [p.kind for p in problems] == ['empty split']
    assert check_main([root, '--split', 'val']) == 1
    assert 'this folder does not exist' in capsys.readouterr().out


def test_evaluation_only_dataset(root, check_main, capsys):
    for folder in ('images', 'annotations'):
        shutil.rmtree(osp.join(root, folder, 'train'))
    assert check_main([root]) == 0
    out = capsys.readouterr().out
    assert 'train: absent, not checked' in out
    assert 'test: 0 problem(s)' in out and 'No problems found.' in out

    os.remove(sample(root, 1, 'test')[1])  # a real problem still fails
    assert check_main([root]) == 1
    assert 'test: 1 problem(s)' in capsys.readouterr().out
    # A split asked for by name must exist.
    assert check_main([root, '--splits', 'train']) == 1
    assert 'empty split' in capsys.readouterr().out


def test_no_split_at_all_is_reported(tmp_path, check_main, capsys):
    assert check_main([str(tmp_path)]) == 1
    out = capsys.readouterr().out
    assert 'train: 1 problem(s)' in out and 'test: 1 problem(s)' in out
