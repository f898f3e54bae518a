"""Writer of mmseg's NYU layout: the converters, the test fixtures and the demo
rooms all write their files through :class:`NYULayoutWriter`.

Output, read as is by ``NYUDepthDataset`` (or mmseg's ``NYUDataset``) with
``LoadCheckedDepth`` (or ``LoadDepthAnnotation(depth_rescale_factor=1e-3)``)::

    out_root/images/<split>/<scene>_<index>.jpg            RGB
    out_root/annotations/<split>/<scene>_<index>.png       uint16 depth, mm
    out_root/seg_annotations/<split>/<scene>_<index>.png   uint8 labels
                                                           (optional)

Depth 0 means "no measurement".  Label maps store 0 = unlabelled and
1..40 = the 40 classes; segmentation configs read them with
``reduce_zero_label=True`` (0 -> 255 ignored, k -> k - 1).
"""
import os
import os.path as osp
import shutil
from collections import Counter
from typing import Dict, Set, Tuple

import cv2
import numpy as np

from ...utils.depth_io import MM_PER_METRE
from ..integrity import NYUDataError, scene_of_file_name

IMAGE_DIR, DEPTH_DIR, LABEL_DIR = 'images', 'annotations', 'seg_annotations'
#: Suffix of a copied colour image, by the file's leading magic bytes.
IMAGE_SUFFIXES = {b'\xff\xd8': '.jpg', b'\x89PNG\r\n\x1a\n': '.png'}

def _write(path: str, extension: str, array: np.ndarray,
           params: Tuple[int, ...] = ()) -> None:
    ok, encoded = cv2.imencode(extension, array, list(params))
    if not ok:
        raise OSError(f'OpenCV could not encode {path}')
    encoded.tofile(path)


class NYULayoutWriter:
    """Writes samples into ``out_root`` in mmseg's NYU layout.

    Each ``(split, stem)`` may be written once: a second sample with the same
    name raises instead of overwriting the first.  ``summary`` counts what
    was written.

    Args:
        out_root: Output folder (created).
        jpeg_quality: Quality (0..100) of the JPEGs this writer encodes;
            files given to :meth:`copy_image` are copied unchanged.
    """

    def __init__(self, out_root: str, jpeg_quality: int = 95) -> None:
        if not 0 <= jpeg_quality <= 100:
            raise ValueError(
                f'jpeg_quality must be in 0..100, got {jpeg_quality}')
        self.out_root = out_root
        self.jpeg_quality = jpeg_quality
        self.samples: Counter = Counter()  # per split, in writing order
        self.counts: Counter = Counter()  # per kind of file written
        self.depth_range: Dict[str, Tuple[float, float]] = {}
        self._stems: Set[Tuple[str, str]] = set()

    def _path(self, folder: str, split: str, stem: str,
              extension: str) -> str:
        out_dir = osp.join(self.out_root, folder, split)
        os.makedirs(out_dir, exist_ok=True)
        return osp.join(out_dir, stem + extension)

    def start_sample(self, split: str, stem: str, source: str) -> None:
        """Register a new sample name; refuse names mmseg cannot read."""
        try:
            scene_of_file_name(stem + '.jpg')
        except NYUDataError as error:
            raise ValueError(f'{source}: output name {stem!r} is not '
                             f'<scene>_<index>: {error.detail}') from None
        if (split, stem) in self._stems:
            raise ValueError(f'{source}: a second sample named {stem!r} in '
                             f"split '{split}'; names must be unique")
        self._stems.add((split, stem))
        self.samples[split] += 1

    def write_image(self, split: str, stem: str,
                    image_bgr: np.ndarray) -> str:
        """Encode an H x W x 3 uint8 BGR image as JPEG; returns its path."""
        path = self._path(IMAGE_DIR, split, stem, '.jpg')
        _write(path, '.jpg', image_bgr,
               (cv2.IMWRITE_JPEG_QUALITY, self.jpeg_quality))
        self.counts['encoded images'] += 1
        return path

    def copy_image(self, split: str, stem: str, source: str) -> str:
        """Copy a JPEG or PNG file byte for byte, under its own suffix (the
        source is left in place, the pixels are never re-encoded); returns
        the written path.

        Raises:
            ValueError: naming ``source`` if it is neither JPEG nor PNG.
        """
        with open(source, 'rb') as f:
            magic = f.read(8)
        suffix = IMAGE_SUFFIXES.get(magic[:2]) or IMAGE_SUFFIXES.get(magic)
        if suffix is None:
            raise ValueError(f'{source}: colour image is neither JPEG nor '
                             'PNG')
        path = self._path(IMAGE_DIR, split, stem, suffix)
        shutil.copyfile(source, path)
        self.counts['copied images'] += 1
        return path

    def write_depth_mm(self, split: str, stem: str,
                       depth_mm: np.ndarray) -> None:
        """Write an H x W uint16 millimetre map as a 16-bit PNG."""
        if depth_mm.dtype != np.uint16 or depth_mm.ndim != 2:
            raise TypeError('depth_mm must be an H x W uint16 array, got '
                            f'{depth_mm.dtype} {depth_mm.shape}')
        _write(self._path(DEPTH_DIR, split, stem, '.png'), '.png', depth_mm)
        valid = depth_mm[depth_mm > 0]
        if valid.size:
            low, high = self.depth_range.get(split, (np.inf, 0.0))
            self.depth_range[split] = (
                min(low, valid.min() / MM_PER_METRE),
                max(high, valid.max() / MM_PER_METRE))

    def write_labels(self, split: str, stem: str, labels: np.ndarray) -> None:
        """Write an H x W uint8 label map as PNG (NYU40: 0 unlabelled,
        1..40; the demo rooms: 0..14, 255 none)."""
        if labels.dtype != np.uint8 or labels.ndim != 2:
            raise TypeError('labels must be an H x W uint8 array, got '
                            f'{labels.dtype} {labels.shape}')
        _write(self._path(LABEL_DIR, split, stem, '.png'), '.png', labels)
        self.counts['label maps'] += 1

    def summary(self) -> str:
        """A few lines describing what was written."""
        lines = [f'NYU layout written to {self.out_root}']
        for split, count in self.samples.items():
            low, high = self.depth_range.get(split, (float('nan'), ) * 2)
            lines.append(f'  {split:<5}: {count:>6} samples, '
                         f'valid depth {low:.3f}..{high:.3f} m')
        for key, count in self.counts.items():
            lines.append(f'  {key}: {count}')
        return '\n'.join(lines)
