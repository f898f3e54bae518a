"""Convert KITTI raw + annotated depth (Eigen split) to the folder layout.

Example (the Eigen test split shipped in mrpan_mm/data/kitti)::

    python tools/dataset_converters/kitti.py data/kitti_raw data/kitti \
        --depth-root data/data_depth_annotated

and for training, with BTS' or AdaBins' list (not shipped; `python
tools/download.py kitti_eigen_train` fetches BTS' copy)::

    python tools/dataset_converters/kitti.py data/kitti_raw data/kitti \
        --depth-root data/data_depth_annotated --split train \
        --split-file data/eigen_train_files_with_gt.txt

copies images/<split>/<drive>_<frame>.png and annotations/<split>/... (the
16-bit PNGs of the annotated depth, metres = value / 256) for every listed
frame with annotated depth.  A split other than test is refused if it holds
a drive of the shipped Eigen test list (--allow-test-drives to convert it
anyway, for a list that does not follow Eigen's split).
"""
import mrpan_mm  # noqa: F401  (first: installs the mmcv-lite shim)

from mrpan_mm.datasets.converters import convert_kitti, shipped_split
from mrpan_mm.datasets.converters.cli import converter_parser, run_converter


def build_parser():
    """The script's command line."""
    parser = converter_parser(
        __doc__, 'raw_root', 'KITTI raw folder (<date>/<drive>/image_02/...)')
    parser.add_argument(
        '--depth-root',
        required=True,
        help='annotated depth folder ([train|val/]<drive>/proj_depth/...)')
    parser.add_argument('--split', default='test',
                        help='output split name (default: test)')
    parser.add_argument(
        '--split-file',
        help='BTS/AdaBins split list; default for --split test: the Eigen '
        'test list shipped in mrpan_mm/data/kitti')
    parser.add_argument(
        '--allow-test-drives',
        action='store_true',
        help='convert a non-test split even if it holds drives of the '
        'Eigen test list')
    return parser


def main():
    run_converter(build_parser(), convert)


def convert(args):
    """Run the conversion the arguments ask for."""
    split_file = args.split_file or shipped_split(f'eigen_{args.split}')
    guard = args.split != 'test' and not args.allow_test_drives
    return convert_kitti(args.raw_root, args.depth_root, args.out_root,
                         split_file, args.split,
                         shipped_split('eigen_test') if guard else None)


if __name__ == '__main__':
    main()
