"""Check every RGB-D pair of an NYU-layout dataset and list the problems.

Example::

    python tools/check_dataset.py data/nyu --split train test

Runs the checks of the LoadCheckedImage / LoadCheckedDepth transforms and
of NYUDepthDataset on every file, prints a table (problem kind, count,
first files) and exits with status 1 if anything is wrong.
"""
import argparse
import sys

import mrpan_mm  # noqa: F401  (first: installs the mmcv-lite shim)
from mrpan_mm.datasets import format_problem_table, scan_nyu_split


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('data_root', help='dataset root (images/, '
                        'annotations/)')
    parser.add_argument(
        '--split',
        nargs='+',
        default=['train', 'test'],
        help='splits to check (sub-folders of images/)')
    parser.add_argument(
        '--depth-dtype',
        default='uint16',
        help='dtype the depth PNGs must be stored with')
    parser.add_argument(
        '--max-files',
        type=int,
        default=3,
        help='files listed per problem kind')
    return parser.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    problems = []
    for split in args.split:
        found = scan_nyu_split(
            args.data_root, split, expected_depth_dtype=args.depth_dtype)
        print(f'{split}: {len(found)} problem(s)')
        problems += found
    print(format_problem_table(problems, args.max_files))
    return 1 if problems else 0


if __name__ == '__main__':
    sys.exit(main())
