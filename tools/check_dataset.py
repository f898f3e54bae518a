"""Check every RGB-D pair of an NYU-layout dataset and list the problems.

Example::

    python tools/check_dataset.py data/nyu --split train test
    python tools/check_dataset.py data/kitti --img-suffix .png --any-names

Runs the checks of the LoadCheckedImage / LoadCheckedDepth transforms and
of NYUDepthDataset on every file, prints a table (problem kind, count,
first files) and exits with status 1 if anything is wrong.  Without
``--split``, the splits among ``train`` and ``test`` that exist under
``images/`` are checked (an evaluation-only dataset has only ``test``); if
neither exists both are reported as empty.  A split named with ``--split``
must exist.  Sets converted by the other converters (KITTI, iBims-1,
DIODE, SUN RGB-D; read by ``DepthFolderDataset``) have PNG images and
names that are not NYU's ``<scene>_<index>``: pass ``--img-suffix .png
--any-names`` (docs/datasets.md lists the command of each set).
"""
import argparse
import os.path as osp
import sys

import mrpan_mm  # noqa: F401  (first: installs the mmcv-lite shim)

from mrpan_mm.datasets import format_problem_table, scan_nyu_split
from mrpan_mm.datasets.nyu_metadata import SPLITS


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('data_root', help='dataset root (images/, '
                        'annotations/)')
    parser.add_argument(
        '--split',
        '--splits',
        nargs='+',
        help='splits to check (sub-folders of images/); default: those of '
        f'{"/".join(SPLITS)} that exist')
    parser.add_argument(
        '--depth-dtype',
        default='uint16',
        help='dtype the depth PNGs must be stored with')
    parser.add_argument(
        '--img-suffix',
        nargs='+',
        default=['.jpg', '.png'],
        help='suffix(es) of the image files (default: .jpg and .png)')
    parser.add_argument(
        '--any-names',
        action='store_true',
        help='accept any file name (DepthFolderDataset), not only NYU\'s '
        '<scene>_<index>')
    parser.add_argument(
        '--max-files',
        type=int,
        default=3,
        help='files listed per problem kind')
    return parser.parse_args(argv)


def present_splits(data_root: str) -> list:
    """The default splits found under ``images/``; all of them if none is
    (so that a wrong ``data_root`` is reported)."""
    found = [
        split for split in SPLITS
        if osp.isdir(osp.join(data_root, 'images', split))
    ]
    if not found:
        return list(SPLITS)
    for split in SPLITS:
        if split not in found:
            print(f'{split}: absent, not checked (name it with --split to '
                  'require it)')
    return found


def main(argv=None) -> int:
    args = parse_args(argv)
    problems = []
    for split in args.split or present_splits(args.data_root):
        found = scan_nyu_split(
            args.data_root,
            split,
            img_suffix=args.img_suffix,
            expected_depth_dtype=args.depth_dtype,
            nyu_names=not args.any_names)
        print(f'{split}: {len(found)} problem(s)')
        problems += found
    print(format_problem_table(problems, args.max_files))
    return 1 if problems else 0


if __name__ == '__main__':
    sys.exit(main())
