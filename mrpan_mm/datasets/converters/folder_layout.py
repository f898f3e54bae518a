"""Writer of the folder layout ``DepthFolderDataset`` reads, for the KITTI
and zero-shot converters::

    out_root/images/<split>/<name>.png        RGB, PNG (copied or encoded)
    out_root/annotations/<split>/<name>.png   uint16 depth (unit: the set's)
    out_root/edges/<split>/<name>.png         uint8 boundary map (iBims-1)

Unlike :class:`~.nyu_layout.NYULayoutWriter` it takes any file name and
never re-encodes an image as JPEG: every set here ships lossless PNGs.
"""
import os
import os.path as osp
import shutil
from collections import Counter
from typing import Set, Tuple

import cv2
import numpy as np

#: Sub-folders of ``out_root``, by kind of file.
FOLDERS = dict(image='images', depth='annotations', edges='edges')


class FolderLayoutWriter:
    """Writes samples into ``out_root``; each (split, name) once.

    Args:
        out_root: Output folder (created).
        name: The set's name, for :meth:`summary`.
    """

    def __init__(self, out_root: str, name: str) -> None:
        self.out_root = out_root
        self.name = name
        self.samples: Counter = Counter()  # per split
        self.counts: Counter = Counter()  # per note (skipped, copied, ...)
        self._names: Set[Tuple[str, str]] = set()

    def path(self, kind: str, split: str, name: str) -> str:
        """Output path of a file of ``kind`` (a key of :data:`FOLDERS`)."""
        out_dir = osp.join(self.out_root, FOLDERS[kind], split)
        os.makedirs(out_dir, exist_ok=True)
        return osp.join(out_dir, name + '.png')

    def start_sample(self, split: str, name: str, source: str) -> None:
        """Register a sample; a second one of the same name raises."""
        if (split, name) in self._names:
            raise ValueError(f'{source}: a second sample named {name!r} in '
                             f"split '{split}'; names must be unique")
        self._names.add((split, name))
        self.samples[split] += 1

    def copy(self, kind: str, split: str, name: str, source: str) -> None:
        """Copy a PNG file byte for byte."""
        shutil.copyfile(source, self.path(kind, split, name))
        self.counts[f'copied {FOLDERS[kind]}'] += 1

    def write(self, kind: str, split: str, name: str,
              array: np.ndarray) -> None:
        """Encode an array as PNG (uint8 BGR image, uint16 or uint8 map)."""
        path = self.path(kind, split, name)
        ok, encoded = cv2.imencode('.png', array)
        if not ok:
            raise OSError(f'OpenCV could not encode {path}')
        encoded.tofile(path)
        self.counts[f'encoded {FOLDERS[kind]}'] += 1

    def note(self, what: str, count: int = 1) -> None:
        """Count something the summary reports (e.g. a skipped entry)."""
        self.counts[what] += count

    def summary(self) -> str:
        """A few lines describing what was written."""
        lines = [f'{self.name} written to {self.out_root}']
        lines += [f'  {split:<5}: {count:>6} samples'
                  for split, count in self.samples.items()]
        lines += [f'  {key}: {count}' for key, count in self.counts.items()]
        return '\n'.join(lines)
