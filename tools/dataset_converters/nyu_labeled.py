"""Convert nyu_depth_v2_labeled.mat to mmseg's NYU layout.

Example::

    python tools/dataset_converters/nyu_labeled.py \
        nyu_depth_v2_labeled.mat data/nyu_labeled --labels

writes images/{train,test}/<scene>_<frame>.jpg, annotations/... (uint16
depth in mm) and, with --labels, seg_annotations/... (uint8, 0 unlabelled,
1..40; segmentation configs use reduce_zero_label=True).
"""
import mrpan_mm  # noqa: F401  (first: installs the mmcv-lite shim)

from mrpan_mm.datasets.converters import convert_nyu_labeled, read_splits_mat
from mrpan_mm.datasets.converters.cli import converter_parser, run_converter


def build_parser():
    """The script's command line: .mat file, output folder and options."""
    parser = converter_parser(__doc__, 'mat',
                              'path of nyu_depth_v2_labeled.mat')
    parser.add_argument(
        '--splits',
        help='official splits.mat (trainNdxs/testNdxs); default: the copy '
        'shipped in mrpan_mm/data/nyuv2')
    parser.add_argument(
        '--labels',
        action='store_true',
        help='also write 40-class label maps to seg_annotations/')
    parser.add_argument(
        '--scene-prefix',
        default='nyu',
        help='file name prefix if the .mat has no "scenes" dataset')
    parser.add_argument(
        '--jpeg-quality', type=int, default=95, help='JPEG quality, 0..100')
    return parser


def main():
    run_converter(build_parser(), convert)


def convert(args):
    """Run the conversion the arguments ask for."""
    return convert_nyu_labeled(
        args.mat,
        args.out_root,
        splits=read_splits_mat(args.splits) if args.splits else None,
        with_labels=args.labels,
        scene_prefix=args.scene_prefix,
        jpeg_quality=args.jpeg_quality,
        progress=True)


if __name__ == '__main__':
    main()
