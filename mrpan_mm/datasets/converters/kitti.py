"""KITTI raw + annotated depth (Eigen split) to the folder layout.

Sources, as their releases unpack:

* KITTI raw (Geiger et al., IJRR 2013), synced + rectified:
  ``<raw_root>/2011_09_26/2011_09_26_drive_0002_sync/image_02/data/
  0000000069.png`` (RGB, about 375x1242);
* annotated depth of the KITTI depth benchmark (Uhrig et al., 3DV 2017),
  ``data_depth_annotated.zip``: ``<depth_root>/{train,val}/
  2011_09_26_drive_0002_sync/proj_depth/groundtruth/image_02/
  0000000069.png``, 16-bit PNG, metres = value / 256, 0 = no LiDAR point
  (the ``train``/``val`` level may also be merged away, as BTS does);
* a split file as BTS and AdaBins use it, one sample per line:
  ``[<date>/]<drive>/image_02/data/<frame>.png <drive>/proj_depth/
  groundtruth/image_02/<frame>.png <focal>``, the depth path ``None`` for
  frames without annotated depth.  ``mrpan_mm/data/kitti`` ships the
  Eigen test list (697 lines, 652 with depth).

Output (read by ``DepthFolderDataset`` with ``LoadCheckedDepth(
depth_rescale_factor=1 / 256)``)::

    out_root/images/<split>/<drive>_<frame>.png        copied unchanged
    out_root/annotations/<split>/<drive>_<frame>.png   copied unchanged

Lines whose depth is ``None`` are skipped and counted.
"""
import os.path as osp
import re
from typing import List, NamedTuple, Optional

import cv2

from ..integrity import (NYUDataError, check_depth_array, decode,
                         read_bytes)
from .folder_layout import FolderLayoutWriter

#: Stored unit of the annotated depth PNGs: metres = value / 256.
KITTI_DEPTH_SCALE = 256.0
_DATA_DIR = osp.join(
    osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))), 'data',
    'kitti')
#: Shipped split lists, by name (see ``mrpan_mm/data/kitti/README.md``).
SHIPPED_SPLITS = dict(eigen_test='eigen_test_files_with_gt.txt')
_IMAGE = re.compile(r'^(?:(?P<date>\d{4}_\d\d_\d\d)/)?(?P<drive>'
                    r'\d{4}_\d\d_\d\d_drive_\d{4}_sync)/image_02/data/'
                    r'(?P<frame>\d+)\.png$')


class KITTIEntry(NamedTuple):
    """One line of a split file."""
    date: str  # recording day, e.g. 2011_09_26
    drive: str  # e.g. 2011_09_26_drive_0002_sync
    frame: str  # e.g. 0000000069
    depth: Optional[str]  # the depth path of the line, None if 'None'
    focal: float  # pixels


def shipped_split(name: str) -> str:
    """Path of a split list shipped with the package (``'eigen_test'``)."""
    if name not in SHIPPED_SPLITS:
        raise ValueError(f'no shipped KITTI split {name!r} (shipped: '
                         f'{sorted(SHIPPED_SPLITS)}); pass the list file '
                         'of BTS/AdaBins with --split-file')
    return osp.join(_DATA_DIR, SHIPPED_SPLITS[name])


def read_split_file(path: str) -> List[KITTIEntry]:
    """Parse a BTS/AdaBins split file; a bad line raises naming it."""
    entries = []
    with open(path) as handle:
        for number, line in enumerate(handle, 1):
            fields = line.split()
            if not fields:
                continue
            match = _IMAGE.match(fields[0]) if len(fields) == 3 else None
            if match is None:
                raise ValueError(
                    f'{path}:{number}: expected "[<date>/]<drive>/image_02/'
                    'data/<frame>.png <depth path or None> <focal>", got '
                    f'{line.strip()!r}')
            drive = match.group('drive')
            entries.append(
                KITTIEntry(match.group('date') or drive[:10], drive,
                           match.group('frame'),
                           None if fields[1] == 'None' else fields[1],
                           float(fields[2])))
    if not entries:
        raise ValueError(f'{path}: the split file lists no image')
    return entries


def find_depth(depth_root: str, entry: KITTIEntry) -> str:
    """The annotated depth PNG of an entry, under ``depth_root`` directly
    or under its ``train``/``val`` folders; raises naming where it looked."""
    relative = osp.join(entry.drive, 'proj_depth', 'groundtruth', 'image_02',
                        entry.frame + '.png')
    candidates = [
        osp.join(depth_root, sub, relative) for sub in ('', 'train', 'val')
    ]
    for path in candidates:
        if osp.isfile(path):
            return path
    raise FileNotFoundError(f'no annotated depth for {entry.drive} frame '
                            f'{entry.frame}: none of {candidates}')


def convert_kitti(raw_root: str,
                  depth_root: str,
                  out_root: str,
                  split_file: str,
                  split: str = 'test') -> FolderLayoutWriter:
    """Copy the listed frames with annotated depth into ``out_root``.

    Every depth file is decoded and checked (16-bit, one channel, some
    non-zero value) before it is copied; a missing or broken file raises
    naming it.

    Returns:
        The writer, whose ``summary()`` counts samples and skipped lines.
    """
    writer = FolderLayoutWriter(out_root, 'KITTI (Eigen split)')
    for entry in read_split_file(split_file):
        if entry.depth is None:
            writer.note('listed without annotated depth, skipped')
            continue
        image = osp.join(raw_root, entry.date, entry.drive, 'image_02',
                         'data', entry.frame + '.png')
        if not osp.isfile(image):
            raise FileNotFoundError(f'{image}: listed in {split_file} but '
                                    'absent from the KITTI raw folder')
        depth = find_depth(depth_root, entry)
        try:
            check_depth_array(
                depth, decode(depth, read_bytes(depth),
                              cv2.IMREAD_UNCHANGED), 'uint16')
        except NYUDataError as error:
            raise ValueError(str(error)) from None
        name = f'{entry.drive}_{entry.frame}'
        writer.start_sample(split, name, split_file)
        writer.copy('image', split, name, image)
        writer.copy('depth', split, name, depth)
    return writer
