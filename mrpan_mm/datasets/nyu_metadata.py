"""Readers for the NYU Depth v2 metadata shipped in ``mrpan_mm/data/nyuv2``.

The files are package data (see that folder's README for their source):
the official train/test split of the 1449 labelled frames and the
894 -> 40 class grouping of Gupta et al.
"""
import csv
import os.path as osp
from typing import Tuple

import numpy as np

#: The splits of an NYU-layout dataset, in writing order: the sub-folders of
#: ``images/`` and ``annotations/``.
SPLITS = ('train', 'test')
#: Number of frames in ``nyu_depth_v2_labeled.mat``.
NUM_LABELED_FRAMES = 1449
#: Largest raw label of the labelled set; 0 means "unlabelled".
NUM_RAW_CLASSES = 894

_META_DIR = osp.join(osp.dirname(osp.dirname(osp.abspath(__file__))), 'data',
                     'nyuv2')


def nyu_metadata_path(name: str) -> str:
    """Absolute path of a shipped metadata file, e.g. ``'split_train.txt'``.

    Raises:
        FileNotFoundError: if the package was installed without its data.
    """
    path = osp.join(_META_DIR, name)
    if not osp.isfile(path):
        raise FileNotFoundError(
            f'NYU metadata file {path} is missing: reinstall mrpan-mm with '
            'its package data (mrpan_mm/data/nyuv2).')
    return path


def load_official_split(split: str) -> np.ndarray:
    """The official split as 1-based frame indices (int64, sorted as stored).

    Args:
        split: ``'train'`` (795 frames) or ``'test'`` (654 frames).
    """
    if split not in SPLITS:
        raise ValueError(f"split must be 'train' or 'test', got {split!r}")
    return np.loadtxt(
        nyu_metadata_path(f'split_{split}.txt'), dtype=np.int64, ndmin=1)


def load_class_mapping_894_to_40() -> np.ndarray:
    """Lookup table ``lut`` (uint8, 895 entries): ``lut[raw] = class40``.

    ``lut[0] == 0`` keeps unlabelled pixels unlabelled; classes are 1..40.
    """
    lut = np.zeros(NUM_RAW_CLASSES + 1, dtype=np.uint8)
    with open(nyu_metadata_path('class_mapping_894_to_40.csv')) as f:
        for row in csv.DictReader(f):
            lut[int(row['label894'])] = int(row['label40'])
    return lut


def load_classes40() -> Tuple[str, ...]:
    """The 40 class names, in label order (label ``k`` is entry ``k - 1``)."""
    with open(nyu_metadata_path('classes40.txt')) as f:
        return tuple(line.split(maxsplit=1)[1].strip() for line in f
                     if line.strip())
