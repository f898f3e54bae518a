"""Convert Hu et al.'s / DenseDepth's NYU archive to mmseg's NYU layout.

Example (ARCHIVE holds data/nyu2_train.csv and data/nyu2_test.csv)::

    python tools/dataset_converters/nyu_hu_csv.py ARCHIVE data/nyu

Source files are copied byte for byte (JPEG and PNG colour images keep
their format), never moved.  Train depth
PNGs are 8-bit, 0..255 = 0..10 m, by default; test depth PNGs 16-bit mm.
A PNG whose dtype differs from the declared encoding stops the conversion.
"""
import mrpan_mm  # noqa: F401  (first: installs the mmcv-lite shim)

from mrpan_mm.datasets.converters import DEPTH_ENCODINGS, convert_hu_csv
from mrpan_mm.datasets.converters.cli import converter_parser, run_converter


def build_parser():
    """The script's command line: archive, output folder and options."""
    parser = converter_parser(__doc__, 'archive_root',
                              'folder that holds data/')
    parser.add_argument(
        '--train-depth-encoding',
        choices=sorted(DEPTH_ENCODINGS),
        default='uint8_10m',
        help='train depth PNGs: 8-bit 0..10 m (DenseDepth, default) or '
        '16-bit mm')
    parser.add_argument(
        '--test-depth-encoding',
        choices=sorted(DEPTH_ENCODINGS),
        default='uint16_mm',
        help='test depth PNGs (default 16-bit mm)')
    parser.add_argument(
        '--fallback-scene',
        default='nyu',
        help='file name prefix of files without a scene folder (test set)')
    return parser


def main():
    run_converter(build_parser(), convert)


def convert(args):
    """Run the conversion the arguments ask for."""
    return convert_hu_csv(
        args.archive_root,
        args.out_root,
        train_depth_encoding=args.train_depth_encoding,
        test_depth_encoding=args.test_depth_encoding,
        fallback_scene=args.fallback_scene,
        progress=True)


if __name__ == '__main__':
    main()
