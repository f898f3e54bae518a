"""Convert ``nyu_depth_v2_labeled.mat`` (1449 RGB-D frames) to the NYU layout.

The file is MATLAB v7.3, i.e. HDF5, read with h5py.  MATLAB stores arrays
column-major, so h5py sees every array transposed:

========== =================== ======================================
dataset    h5py shape / dtype  meaning
========== =================== ======================================
images     N x 3 x W x H uint8 RGB
depths     N x W x H float32   in-painted depth, metres
labels     N x W x H uint16    894 raw classes, 0 = unlabelled
scenes     1 x N references    cell of scene names (``kitchen_0004``)
========== =================== ======================================

Frame ``k`` (1-based, as in the split files) is index ``k - 1``.
"""
from typing import Dict, List, Optional, Sequence

import h5py
import numpy as np
from tqdm import tqdm

from ...utils.depth_io import metres_to_mm
from ..nyu_metadata import (NUM_RAW_CLASSES, SPLITS,
                            load_class_mapping_894_to_40, load_official_split)
from .nyu_layout import NYULayoutWriter


def official_splits() -> Dict[str, np.ndarray]:
    """The shipped official split: 1-based frame indices per split."""
    return {split: load_official_split(split) for split in SPLITS}


def _read_mat_arrays(path: str, keys: Sequence[str]) -> Dict[str, np.ndarray]:
    """Read numeric arrays from a MATLAB v5 (scipy) or v7.3 (h5py) file."""
    from scipy.io import loadmat
    if h5py.is_hdf5(path):  # MATLAB v7.3
        with h5py.File(path, 'r') as f:
            content = {key: f[key][()] for key in keys if key in f}
    else:
        try:
            content = loadmat(path, variable_names=list(keys))
        except ValueError as error:
            raise ValueError(
                f'{path}: not a MATLAB .mat file ({error})') from None
    missing = [key for key in keys if key not in content]
    if missing:
        raise ValueError(f'{path}: variables {missing} not found')
    return {key: np.asarray(content[key]) for key in keys}


def read_splits_mat(path: str) -> Dict[str, np.ndarray]:
    """Read the official ``splits.mat`` (``trainNdxs``, ``testNdxs``).

    Returns:
        1-based frame indices (int64) per split.
    """
    arrays = _read_mat_arrays(path, ('trainNdxs', 'testNdxs'))
    return {
        split: arrays[key].astype(np.int64).ravel()
        for split, key in zip(SPLITS, ('trainNdxs', 'testNdxs'))
    }


def check_splits(splits: Dict[str, np.ndarray], num_frames: int,
                 source: str) -> None:
    """Indices must be 1..num_frames, unique, and the splits disjoint."""
    seen = set()
    for split, indices in splits.items():
        bad = indices[(indices < 1) | (indices > num_frames)]
        if bad.size:
            raise ValueError(f'{source}: {split} indices {bad[:5].tolist()} '
                             f'are outside 1..{num_frames}')
        if len(set(indices.tolist())) != indices.size:
            raise ValueError(f'{source}: {split} split repeats frames')
        shared = seen & set(indices.tolist())
        if shared:
            raise ValueError(f'{source}: frames {sorted(shared)[:5]} are in '
                             'more than one split')
        seen |= set(indices.tolist())


def read_scene_names(mat: h5py.File) -> Optional[List[str]]:
    """Scene names of every frame from the ``scenes`` cell, or ``None``."""
    if 'scenes' not in mat:
        return None
    return [
        ''.join(map(chr, mat[ref][()].ravel()))
        for ref in mat['scenes'][()].ravel()
    ]


def _check_shapes(mat: h5py.File, path: str, with_labels: bool) -> int:
    """Check the datasets agree; returns the number of frames."""
    required = ['images', 'depths'] + (['labels'] if with_labels else [])
    missing = [key for key in required if key not in mat]
    if missing:
        raise ValueError(f'{path}: datasets {missing} not found (has '
                       f'{sorted(mat.keys())}); is this '
                       'nyu_depth_v2_labeled.mat?')
    images = mat['images']
    if images.ndim != 4 or images.shape[1] != 3:
        raise ValueError(f'{path}: images has shape {images.shape}, '
                         'expected N x 3 x W x H')
    frame_shape = (images.shape[0], ) + images.shape[2:]
    for key in required[1:]:
        if mat[key].shape != frame_shape:
            raise ValueError(f'{path}: {key} has shape {mat[key].shape}, '
                             f'expected {frame_shape} (as images)')
    return images.shape[0]


def _class40_labels(raw: np.ndarray, lut: np.ndarray,
                    source: str) -> np.ndarray:
    """Map raw 894-class labels (0 unlabelled) to 0..40 (uint8)."""
    if raw.max() > NUM_RAW_CLASSES:
        raise ValueError(f'{source}: label {raw.max()} is beyond the '
                         f'{NUM_RAW_CLASSES} raw NYU classes')
    return lut[raw]


def convert_nyu_labeled(mat_path: str,
                        out_root: str,
                        splits: Optional[Dict[str, np.ndarray]] = None,
                        with_labels: bool = False,
                        scene_prefix: str = 'nyu',
                        jpeg_quality: int = 95,
                        progress: bool = False) -> NYULayoutWriter:
    """Write the labelled frames of each split in the NYU layout.

    File stems are ``<scene>_<frame:04d>`` with the 1-based frame number and
    the frame's scene from ``scenes`` (``scene_prefix`` if the file has no
    ``scenes``).  Depth is written in millimetres; with ``with_labels`` the
    40-class maps (0 unlabelled, 1..40) go to ``seg_annotations``.

    Args:
        mat_path: ``nyu_depth_v2_labeled.mat``.
        out_root: Output folder.
        splits: 1-based frame indices per split; the official split if None.
        with_labels: Also write the 40-class label maps.
        scene_prefix: Name prefix when the file has no scene names.
        jpeg_quality: JPEG quality of the written images.
        progress: Show a tqdm progress bar.

    Returns:
        The writer, whose ``summary()`` describes the output.
    """
    if not h5py.is_hdf5(mat_path):
        raise ValueError(f'{mat_path}: not an HDF5 (MATLAB v7.3) file; '
                         'expected nyu_depth_v2_labeled.mat')
    splits = official_splits() if splits is None else splits
    writer = NYULayoutWriter(out_root, jpeg_quality)
    lut = load_class_mapping_894_to_40()
    with h5py.File(mat_path, 'r') as mat:
        num_frames = _check_shapes(mat, mat_path, with_labels)
        check_splits(splits, num_frames, mat_path)
        scenes = read_scene_names(mat) or [scene_prefix] * num_frames
        if len(scenes) != num_frames:
            raise ValueError(f'{mat_path}: {len(scenes)} scene names for '
                             f'{num_frames} frames')
        jobs = [(split, int(frame)) for split, frames in splits.items()
                for frame in frames]
        for split, frame in tqdm(jobs, desc='frames', disable=not progress):
            source = f'{mat_path} frame {frame}'
            stem = f'{scenes[frame - 1]}_{frame:04d}'
            writer.start_sample(split, stem, source)
            bgr = mat['images'][frame - 1].transpose(2, 1, 0)[..., ::-1]
            writer.write_image(split, stem, np.ascontiguousarray(bgr))
            writer.write_depth_mm(
                split, stem, metres_to_mm(mat['depths'][frame - 1].T, source))
            if with_labels:
                writer.write_labels(
                    split, stem,
                    _class40_labels(mat['labels'][frame - 1].T, lut, source))
    return writer
