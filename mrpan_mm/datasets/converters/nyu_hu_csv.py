"""Convert Hu et al.'s NYU archive (also DenseDepth's) to the NYU layout.

Archive layout (``archive_root`` is the folder holding ``data/``)::

    data/nyu2_train.csv   lines  data/nyu2_train/<scene>/<n>.jpg,<...>.png
    data/nyu2_test.csv    lines  data/nyu2_test/<n>_colors.png,<...>.png

Depth encodings (as the reference loaders read them):

* ``'uint8_10m'``: 8-bit PNG, 0..255 linear in 0..10 m (Hu et al. multiply
  ``ToTensor``'s 0..1 by 10; DenseDepth scales by 1/255 * 10).  This is the
  training set's encoding.  Written as ``round(v * 10000 / 255)`` mm: one
  8-bit step is 39.2 mm, the rounding adds at most 0.5 mm.
* ``'uint16_mm'``: 16-bit PNG in millimetres (the test set's), copied as is.

Output stems are ``<scene>_<n>``: the colour file's folder name and the
first number of its file name; files directly in ``nyu2_<split>`` (the test
set) use ``fallback_scene``.  Source files are read, never moved.
"""
import csv
import os.path as osp
import re
from typing import Dict, List, Tuple

import cv2
import numpy as np
from tqdm import tqdm

from ..nyu_metadata import SPLITS
from .nyu_layout import NYULayoutWriter

#: Stored dtype and scale to millimetres of each depth encoding.
DEPTH_ENCODINGS: Dict[str, Tuple[np.dtype, float]] = {
    'uint8_10m': (np.dtype(np.uint8), 10000.0 / 255.0),
    'uint16_mm': (np.dtype(np.uint16), 1.0),
}


def read_depth_mm(path: str, encoding: str, split: str) -> np.ndarray:
    """Read a depth PNG of the declared ``encoding`` as uint16 millimetres.

    Raises:
        ValueError: naming the file if it cannot be decoded, is not
            single-channel, or its dtype does not match ``encoding``.
    """
    dtype, mm_per_unit = DEPTH_ENCODINGS[encoding]
    depth = cv2.imread(path, cv2.IMREAD_UNCHANGED)
    if depth is None:
        raise ValueError(f'{path}: cannot read this depth PNG (missing, '
                         'truncated or not an image)')
    if depth.ndim != 2:
        raise ValueError(f'{path}: depth PNG has shape {depth.shape}, '
                         'expected a single-channel map')
    if depth.dtype != dtype:
        fitting = [name for name, (stored, _) in DEPTH_ENCODINGS.items()
                   if stored == depth.dtype]
        hint = (f"; if the file is right, declare '{fitting[0]}' "
                f'(--{split}-depth-encoding {fitting[0]})' if fitting else '')
        raise ValueError(
            f'{path}: depth PNG is {depth.dtype} but the declared {split} '
            f"depth encoding '{encoding}' expects {dtype}{hint}")
    if mm_per_unit == 1.0:
        return depth
    return np.rint(depth * mm_per_unit).astype(np.uint16)


def archive_member(archive_root: str, entry: str, where: str) -> str:
    """The path of CSV ``entry`` inside ``archive_root``.

    Raises:
        ValueError: ``entry`` is absolute or leads outside the archive
            (``..``, a symbolic link out of it); ``where`` (``file:line``)
            names the CSV line.
    """
    root = osp.realpath(archive_root)
    path = osp.realpath(osp.join(root, entry))
    if osp.isabs(entry) or osp.commonpath([root, path]) != root:
        raise ValueError(f'{where}: {entry!r} is outside the archive root '
                         f'{archive_root}; entries must be relative paths '
                         'inside it')
    return osp.join(archive_root, entry)


def read_csv_pairs(archive_root: str, split: str) -> List[Tuple[str, str]]:
    """(colour path, depth path) pairs of ``data/nyu2_<split>.csv``, each
    inside ``archive_root`` (:func:`archive_member`)."""
    csv_path = osp.join(archive_root, 'data', f'nyu2_{split}.csv')
    if not osp.isfile(csv_path):
        raise FileNotFoundError(
            f'{csv_path} not found: archive_root must be the folder that '
            'holds data/nyu2_train.csv and data/nyu2_test.csv')
    pairs = []
    with open(csv_path, newline='') as f:
        for line_no, row in enumerate(csv.reader(f), start=1):
            if not row:
                continue
            if len(row) != 2:
                raise ValueError(f'{csv_path}:{line_no}: expected '
                                 f'"colour,depth", got {row}')
            paths = [
                archive_member(archive_root, item.strip(),
                               f'{csv_path}:{line_no}') for item in row
            ]
            for path in paths:
                if not osp.isfile(path):
                    raise FileNotFoundError(
                        f'{csv_path}:{line_no}: {path} does not exist')
            pairs.append((paths[0], paths[1]))
    if not pairs:
        raise ValueError(f'{csv_path} lists no samples')
    return pairs


def output_stem(colour_path: str, split: str, fallback_scene: str) -> str:
    """``<scene>_<n>`` for a colour file of the archive (see module doc)."""
    folder = osp.basename(osp.dirname(colour_path))
    scene = fallback_scene if folder == f'nyu2_{split}' else folder
    number = re.search(r'\d+', osp.basename(colour_path))
    if number is None:
        raise ValueError(f'{colour_path}: file name has no frame number')
    return f'{scene}_{number.group()}'


def convert_hu_csv(archive_root: str,
                   out_root: str,
                   train_depth_encoding: str = 'uint8_10m',
                   test_depth_encoding: str = 'uint16_mm',
                   fallback_scene: str = 'nyu',
                   progress: bool = False) -> NYULayoutWriter:
    """Copy the archive's train and test sets into the NYU layout.

    Colour images are copied byte for byte under their own suffix: the
    training JPEGs as ``.jpg``, the test set's lossless PNGs as ``.png``
    (the network sees Hu's test pixels; ``NYUDepthDataset`` reads both).

    Args:
        archive_root: Folder holding ``data/nyu2_{train,test}.csv``.
        out_root: Output folder.
        train_depth_encoding: Encoding of the train depth PNGs, a key of
            :data:`DEPTH_ENCODINGS`; 8-bit 0..10 m as in DenseDepth.
        test_depth_encoding: Encoding of the test depth PNGs.
        fallback_scene: Scene prefix for files with no scene folder.
        progress: Show a tqdm progress bar.

    Returns:
        The writer, whose ``summary()`` describes the output.
    """
    encodings = dict(train=train_depth_encoding, test=test_depth_encoding)
    for split, encoding in encodings.items():
        if encoding not in DEPTH_ENCODINGS:
            raise ValueError(f'{split} depth encoding must be one of '
                             f'{sorted(DEPTH_ENCODINGS)}, got {encoding!r}')
    jobs = [(split, colour, depth) for split in SPLITS
            for colour, depth in read_csv_pairs(archive_root, split)]
    writer = NYULayoutWriter(out_root)
    for split, colour, depth in tqdm(
            jobs, desc='samples', disable=not progress):
        stem = output_stem(colour, split, fallback_scene)
        writer.start_sample(split, stem, colour)
        writer.copy_image(split, stem, colour)
        writer.write_depth_mm(split, stem,
                              read_depth_mm(depth, encodings[split], split))
    return writer
