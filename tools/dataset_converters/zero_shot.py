"""Convert a zero-shot indoor test set (iBims-1, DIODE, SUN RGB-D) to the
folder layout (depth in mm, invalid pixels 0).

Examples::

    python tools/dataset_converters/zero_shot.py \
        data/ibims1_core_raw data/ibims1 --set ibims1
    python tools/dataset_converters/zero_shot.py \
        data/diode/val/indoors data/diode_indoor --set diode
    python tools/dataset_converters/zero_shot.py \
        data/SUNRGBD data/sunrgbd --set sunrgbd --frames sunrgbd_test.txt

writes images/test/<name>.png, annotations/test/<name>.png (uint16 mm) and,
for iBims-1, edges/test/<name>.png; docs/datasets.md has the configs.
"""
import mrpan_mm  # noqa: F401  (first: installs the mmcv-lite shim)

from mrpan_mm.datasets.converters import (convert_diode, convert_ibims1,
                                          convert_sunrgbd)
from mrpan_mm.datasets.converters.cli import converter_parser, run_converter


def build_parser():
    """The script's command line."""
    parser = converter_parser(__doc__, 'source',
                              'the release folder (see the examples)')
    parser.add_argument('--set', required=True,
                        choices=['ibims1', 'diode', 'sunrgbd'],
                        help='which release the source folder is')
    parser.add_argument(
        '--frames',
        help='SUN RGB-D: text file of frame folders relative to the source, '
        'one a line (e.g. the official test split); default: all')
    parser.add_argument(
        '--filled', action='store_true',
        help='SUN RGB-D: the filled depth_bfx/ instead of the raw depth/')
    return parser


def main():
    run_converter(build_parser(), convert)


def convert(args):
    """Run the conversion the arguments ask for."""
    if args.set == 'ibims1':
        return convert_ibims1(args.source, args.out_root)
    if args.set == 'diode':
        return convert_diode(args.source, args.out_root)
    frames = None
    if args.frames:
        with open(args.frames) as handle:
            frames = handle.read().split()
    return convert_sunrgbd(args.source, args.out_root, frames, args.filled)


if __name__ == '__main__':
    main()
