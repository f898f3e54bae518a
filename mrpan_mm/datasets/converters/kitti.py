"""KITTI raw + annotated depth (Eigen split) to the folder layout.

Sources, as their releases unpack:

* KITTI raw (Geiger et al., IJRR 2013), synced + rectified:
  ``<raw_root>/2011_09_26/2011_09_26_drive_0002_sync/image_02/data/
  0000000069.png`` (RGB, about 375x1242; ``image_03`` is the right
  colour camera);
* annotated depth of the KITTI depth benchmark (Uhrig et al., 3DV 2017),
  ``data_depth_annotated.zip``: ``<depth_root>/{train,val}/
  2011_09_26_drive_0002_sync/proj_depth/groundtruth/image_02/
  0000000069.png``, 16-bit PNG, metres = value / 256, 0 = no LiDAR point
  (the ``train``/``val`` level may also be merged away, as BTS does);
* a split file as BTS and AdaBins use it, one sample per line:
  ``[<date>/]<drive>/image_0[23]/data/<frame>.png <drive>/proj_depth/
  groundtruth/image_0[23]/<frame>.png <focal>``, the depth path ``None``
  for frames without annotated depth.  ``mrpan_mm/data/kitti`` ships the
  Eigen test list (697 lines, 652 with depth); the training list is the
  user's (``tools/download.py kitti_eigen_train`` names its source), and
  :func:`drives_shared_with` finds its lines on the test list's drives.

Output (read by ``DepthFolderDataset`` with ``LoadCheckedDepth(
depth_rescale_factor=1 / 256)``)::

    out_root/images/<split>/<drive>_<frame>.png        copied unchanged
    out_root/annotations/<split>/<drive>_<frame>.png   copied unchanged

(``<drive>_image_03_<frame>.png`` for the right camera's frames.)

Lines whose depth is ``None`` are skipped and counted.
"""
import os.path as osp
import re
from typing import Dict, List, NamedTuple, Optional

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
#: The camera whose frames keep the plain ``<drive>_<frame>`` name.
LEFT_CAMERA = 'image_02'
_IMAGE = re.compile(r'^(?:(?P<date>\d{4}_\d\d_\d\d)/)?(?P<drive>'
                    r'\d{4}_\d\d_\d\d_drive_\d{4}_sync)/(?P<camera>'
                    r'image_0[23])/data/(?P<frame>\d+)\.png$')


class KITTIEntry(NamedTuple):
    """One line of a split file."""
    date: str  # recording day, e.g. 2011_09_26
    drive: str  # e.g. 2011_09_26_drive_0002_sync
    frame: str  # e.g. 0000000069
    depth: Optional[str]  # the depth path of the line, None if 'None'
    focal: float  # pixels
    camera: str  # image_02 (left) or image_03 (right)
    line: int  # line number in the split file, from 1

    @property
    def name(self) -> str:
        """Output file stem: ``<drive>[_image_03]_<frame>``."""
        if self.camera == LEFT_CAMERA:
            return f'{self.drive}_{self.frame}'
        return f'{self.drive}_{self.camera}_{self.frame}'


def shipped_split(name: str) -> str:
    """Path of a split list shipped with the package (``'eigen_test'``)."""
    if name not in SHIPPED_SPLITS:
        raise ValueError(f'no shipped KITTI split {name!r} (shipped: '
                         f'{sorted(SHIPPED_SPLITS)}); pass the list file '
                         'of BTS/AdaBins with --split-file (python '
                         'tools/download.py --list names its source)')
    return osp.join(_DATA_DIR, SHIPPED_SPLITS[name])


def _parse_focal(text: str) -> Optional[float]:
    """The focal length field in pixels, None if it is not a number."""
    try:
        return float(text)
    except ValueError:
        return None


def read_split_file(path: str) -> List[KITTIEntry]:
    """Parse a BTS/AdaBins split file.

    Raises:
        FileNotFoundError: ``path`` does not exist (message names it).
        ValueError: the file is not text, lists no image, or a line is
            malformed (message names the file and the line number).
    """
    if not osp.isfile(path):
        raise FileNotFoundError(f'{path}: no such KITTI split file')
    entries = []
    with open(path, encoding='utf-8') as handle:
        try:
            lines = handle.read().splitlines()
        except UnicodeDecodeError as error:
            raise ValueError(
                f'{path}: not a text split file ({error})') from None
    for number, line in enumerate(lines, 1):
        fields = line.split()
        if not fields:
            continue
        match = _IMAGE.match(fields[0]) if len(fields) == 3 else None
        focal = _parse_focal(fields[2]) if match else None
        if focal is None:
            raise ValueError(
                f'{path}:{number}: expected "[<date>/]<drive>/image_0[23]/'
                'data/<frame>.png <depth path or None> <focal>", got '
                f'{line.strip()!r}')
        drive = match.group('drive')
        entries.append(
            KITTIEntry(match.group('date') or drive[:10], drive,
                       match.group('frame'),
                       None if fields[1] == 'None' else fields[1], focal,
                       match.group('camera'), number))
    if not entries:
        raise ValueError(f'{path}: the split file lists no image')
    return entries


def drives_shared_with(entries: List[KITTIEntry],
                       test_split: str) -> Dict[str, List[int]]:
    """Lines of ``entries`` recorded on a drive of ``test_split``.

    The Eigen split separates training and test by drive (scene): a
    training list with a line on a test drive leaks test scenes.

    Returns:
        Line numbers by offending drive, empty if the lists are disjoint.
    """
    test_drives = {entry.drive for entry in read_split_file(test_split)}
    found: Dict[str, List[int]] = {}
    for entry in entries:
        if entry.drive in test_drives:
            found.setdefault(entry.drive, []).append(entry.line)
    return found


def find_depth(depth_root: str, entry: KITTIEntry) -> str:
    """The annotated depth PNG of an entry, under ``depth_root`` directly
    or under its ``train``/``val`` folders; raises naming where it looked."""
    relative = osp.join(entry.drive, 'proj_depth', 'groundtruth',
                        entry.camera, entry.frame + '.png')
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
                  split: str = 'test',
                  disjoint_from: Optional[str] = None) -> FolderLayoutWriter:
    """Copy the listed frames with annotated depth into ``out_root``.

    Every depth file is decoded and checked (16-bit, one channel, some
    non-zero value) before it is copied; a missing or broken file raises
    naming it.  With ``disjoint_from`` (a split file, e.g. the shipped
    Eigen test list when converting a training list), a line on one of
    its drives raises before anything is written.

    Returns:
        The writer, whose ``summary()`` counts samples and skipped lines.
    """
    entries = read_split_file(split_file)
    shared = drives_shared_with(entries, disjoint_from) if disjoint_from \
        else {}
    if shared:
        where = '; '.join(f'{drive} (line {lines[0]}, {len(lines)} in all)'
                          for drive, lines in sorted(shared.items()))
        raise ValueError(
            f'{split_file}: {len(shared)} drive(s) of {disjoint_from}, '
            f'whose scenes a training list must not hold: {where}')
    writer = FolderLayoutWriter(out_root, 'KITTI (Eigen split)')
    for entry in entries:
        if entry.depth is None:
            writer.note('listed without annotated depth, skipped')
            continue
        image = osp.join(raw_root, entry.date, entry.drive, entry.camera,
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
        writer.start_sample(split, entry.name, split_file)
        writer.copy('image', split, entry.name, image)
        writer.copy('depth', split, entry.name, depth)
    return writer
