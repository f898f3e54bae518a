"""Checks of NYU-layout RGB-D files, shared by the loading transforms, the
dataset class and ``tools/check_dataset.py``.

Every failed check raises :class:`NYUDataError`, whose ``kind`` names the
problem (one of :data:`PROBLEM_KINDS`) and whose message names the file.
"""
import os.path as osp
import re
from typing import List, Optional, Sequence, Tuple, Union

import cv2
import numpy as np
from mmengine import fileio

MISSING_FILE = 'missing file'
TRUNCATED_FILE = 'truncated file'
UNDECODABLE_FILE = 'undecodable file'
SIZE_MISMATCH = 'RGB/depth size mismatch'
WRONG_DEPTH_DTYPE = 'wrong depth dtype'
MULTI_CHANNEL_DEPTH = 'multi-channel depth'
NO_VALID_DEPTH = 'all-zero depth'
NAN_DEPTH = 'NaN/inf depth'
NEGATIVE_DEPTH = 'negative depth'
BAD_FILE_NAME = 'bad file name'
EMPTY_SPLIT = 'empty split'

#: Every ``NYUDataError.kind``, in the order reports list them.
PROBLEM_KINDS = (MISSING_FILE, TRUNCATED_FILE, UNDECODABLE_FILE,
                 SIZE_MISMATCH, WRONG_DEPTH_DTYPE, MULTI_CHANNEL_DEPTH,
                 NO_VALID_DEPTH, NAN_DEPTH, NEGATIVE_DEPTH, BAD_FILE_NAME,
                 EMPTY_SPLIT)

_JPEG_START, _JPEG_END = b'\xff\xd8', b'\xff\xd9'
_PNG_SIGNATURE = b'\x89PNG\r\n\x1a\n'
# The IEND chunk: zero length, type, fixed CRC.  Every complete PNG ends so.
_PNG_END = b'\x00\x00\x00\x00IEND\xaeB`\x82'


class NYUDataError(ValueError):
    """A problem with one file (or folder) of an NYU-layout dataset.

    Args:
        path: The offending file or folder.
        kind: The problem, one of :data:`PROBLEM_KINDS`.
        detail: What is wrong and, where useful, how to fix it.
    """

    def __init__(self, path: str, kind: str, detail: str) -> None:
        super().__init__(f'{path}: {kind}: {detail}')
        self.path = path
        self.kind = kind
        self.detail = detail


def read_bytes(path: str, backend_args: Optional[dict] = None) -> bytes:
    """Read a file through mmengine's file backends; empty or absent files
    raise :class:`NYUDataError` (``missing file`` / ``truncated file``)."""
    try:
        data = fileio.get(path, backend_args=backend_args)
    except FileNotFoundError:
        raise NYUDataError(path, MISSING_FILE, 'no such file') from None
    if not data:
        raise NYUDataError(path, TRUNCATED_FILE, 'the file is empty (0 bytes)')
    return data


def check_complete(path: str, data: bytes) -> None:
    """Raise ``truncated file`` if a JPEG or PNG stream lacks its end marker.

    OpenCV decodes a truncated JPEG without an error (grey bottom rows), so
    the end-of-image marker is checked on the bytes.  Other formats pass.
    """
    if data.startswith(_JPEG_START):
        if not data.rstrip(b'\x00').endswith(_JPEG_END):
            raise NYUDataError(
                path, TRUNCATED_FILE,
                'JPEG stream has no end-of-image marker (FFD9): the file '
                'was cut short; re-extract or re-convert it')
    elif data.startswith(_PNG_SIGNATURE):
        if not data.endswith(_PNG_END):
            raise NYUDataError(
                path, TRUNCATED_FILE,
                'PNG stream has no IEND chunk: the file was cut short; '
                're-extract or re-convert it')


def decode(path: str, data: bytes, flag: int) -> np.ndarray:
    """Decode complete image bytes with OpenCV (``flag`` as ``cv2.imdecode``),
    raising ``truncated file`` / ``undecodable file`` with the path."""
    check_complete(path, data)
    array = cv2.imdecode(np.frombuffer(data, dtype=np.uint8), flag)
    if array is None:
        raise NYUDataError(
            path, UNDECODABLE_FILE,
            f'OpenCV cannot decode its {len(data)} bytes: not an image or '
            'corrupt')
    return array


def check_depth_array(path: str,
                      depth: np.ndarray,
                      expected_dtype: str = 'uint16') -> None:
    """Check a decoded depth map (raw values as stored in the file).

    Args:
        path: File the map came from (for the message).
        depth: Decoded map, H x W.
        expected_dtype: The stored dtype, ``'uint16'`` for NYU's millimetre
            PNGs; 8-bit PNGs (e.g. Hu et al.'s 0..255 = 0..10 m training
            maps) are then refused instead of read as 0..255 mm.
    """
    if depth.dtype != np.dtype(expected_dtype):
        hint = ''
        if depth.dtype == np.uint8 and expected_dtype == 'uint16':
            hint = (' (16-bit millimetres); an 8-bit depth PNG needs '
                    'converting, see tools/dataset_converters/nyu_hu_csv.py')
        raise NYUDataError(
            path, WRONG_DEPTH_DTYPE,
            f'depth is stored as {depth.dtype}, expected {expected_dtype}'
            f'{hint}')
    if depth.ndim != 2:
        raise NYUDataError(
            path, MULTI_CHANNEL_DEPTH,
            f'depth has shape {depth.shape}, expected a single-channel map')
    if np.issubdtype(depth.dtype, np.floating):
        if not np.isfinite(depth).any():
            raise NYUDataError(path, NAN_DEPTH,
                               'every depth value is NaN or infinite')
        if not np.isfinite(depth).all():
            raise NYUDataError(
                path, NAN_DEPTH,
                f'{int((~np.isfinite(depth)).sum())} depth values are NaN or '
                'infinite; store invalid pixels as 0')
    if (depth < 0).any():
        raise NYUDataError(
            path, NEGATIVE_DEPTH,
            f'{int((depth < 0).sum())} depth values are negative (min '
            f'{depth.min()})')
    if not depth.any():
        raise NYUDataError(path, NO_VALID_DEPTH,
                           'every depth value is 0 (no valid pixel)')


def check_same_size(depth_path: str, depth_shape: Sequence[int],
                    image_path: str, image_shape: Sequence[int]) -> None:
    """Raise ``RGB/depth size mismatch`` unless the H x W sizes agree."""
    if tuple(depth_shape[:2]) != tuple(image_shape[:2]):
        raise NYUDataError(
            depth_path, SIZE_MISMATCH,
            f'depth is {depth_shape[0]}x{depth_shape[1]} (HxW) but its image '
            f'{image_path} is {image_shape[0]}x{image_shape[1]}')


_NYU_NAME = re.compile(r'^(?P<scene>\D+)_\d')


def scene_of_file_name(path: str) -> str:
    """The ``<scene>`` of an NYU file name ``<scene>_<index>.<ext>``.

    The scene is everything before the first digit less the ``_`` in front
    of it (``living_room_0038_out_37.jpg`` -> ``living_room``), as mmseg's
    ``NYUDataset`` reads it.  Names without a digit, or whose first digit
    does not follow a ``<scene>_`` prefix, raise ``bad file name`` (mmseg
    itself fails on a name without digits with ``StopIteration``).
    """
    match = _NYU_NAME.match(osp.basename(path))
    if match is None:
        raise NYUDataError(
            path, BAD_FILE_NAME,
            'NYU file names must be <scene>_<index>, the first digit right '
            "after '<scene>_', e.g. 'kitchen_00012.jpg'")
    return match.group('scene')


def as_suffixes(suffix: Union[str, Sequence[str]]) -> Tuple[str, ...]:
    """A file suffix option (``'.jpg'`` or ``('.jpg', '.png')``) as a
    tuple."""
    return (suffix, ) if isinstance(suffix, str) else tuple(suffix)


def empty_split_error(img_dir: str,
                      img_suffix: Union[str, Sequence[str]]) -> NYUDataError:
    """The ``empty split`` error of an image folder without images."""
    suffixes = ' or '.join(f"'{s}'" for s in as_suffixes(img_suffix))
    reason = ('this folder does not exist' if not osp.isdir(img_dir) else
              f'this folder has no {suffixes} images')
    return NYUDataError(
        img_dir, EMPTY_SPLIT,
        f'{reason}; check data_root, data_prefix and img_suffix (NYU '
        'layout: images/<split>/<scene>_<index>.jpg)')


def check_pair(image_path: str,
               depth_path: str,
               expected_depth_dtype: str = 'uint16',
               backend_args: Optional[dict] = None,
               nyu_names: bool = True) -> List[NYUDataError]:
    """All problems of one RGB-D pair (empty list if none).

    The image and the depth map are checked independently, their sizes
    only when both load; with ``nyu_names`` the image name must follow
    NYU's ``<scene>_<index>`` (``DepthFolderDataset`` takes any name).
    """
    problems = []
    try:
        if nyu_names:
            scene_of_file_name(image_path)
    except NYUDataError as error:
        problems.append(error)
    image = depth = None
    try:
        image = decode(image_path, read_bytes(image_path, backend_args),
                       cv2.IMREAD_COLOR)
    except NYUDataError as error:
        problems.append(error)
    try:
        depth = decode(depth_path, read_bytes(depth_path, backend_args),
                       cv2.IMREAD_UNCHANGED)
        check_depth_array(depth_path, depth, expected_depth_dtype)
    except NYUDataError as error:
        problems.append(error)
        depth = None
    if image is not None and depth is not None:
        try:
            check_same_size(depth_path, depth.shape, image_path, image.shape)
        except NYUDataError as error:
            problems.append(error)
    return problems
