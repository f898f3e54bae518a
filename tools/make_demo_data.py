"""Generate the offline procedural-room RGB-D demo dataset (NYU layout).

Examples::

    python tools/make_demo_data.py --out data/demo_rooms      # the demo's
    python tools/make_demo_data.py --out data/rooms_handheld --rig handheld
"""
import argparse
import os
import time

import mrpan_mm  # noqa: F401  (first: installs the mmcv-lite shim)
from mmengine.config import Config

from mrpan_mm.demo import make_demo_dataset
from mrpan_mm.demo.scene import CAMERA_RIGS, DEFAULT_RIG


def parse_args() -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--out', default='data/demo_rooms',
                        help='output root folder')
    parser.add_argument('--num-train', type=int, default=1200)
    parser.add_argument('--num-test', type=int, default=80)
    parser.add_argument('--height', type=int, default=120)
    parser.add_argument('--width', type=int, default=160)
    parser.add_argument(
        '--config', default='configs/mrpan_demo_cpu.py',
        help='training views are rendered at this config\'s network input '
        '(its crop_size), as tools/run_demo.py does')
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--rig', default=DEFAULT_RIG, choices=sorted(CAMERA_RIGS),
                        help='how the camera is held (mrpan_mm.demo.scene)')
    parser.add_argument('--workers', type=int, default=os.cpu_count(),
                        help='rendering processes (default: all CPUs)')
    parser.add_argument('--force', action='store_true',
                        help='regenerate even if a complete dataset exists')
    return parser.parse_args()


def main() -> None:
    """Generate (or reuse) the dataset and report what happened."""
    args = parse_args()
    start = time.perf_counter()
    generated = make_demo_dataset(
        args.out, args.num_train, args.num_test,
        size=(args.height, args.width),
        train_size=Config.fromfile(args.config).get('crop_size'),
        seed=args.seed, force=args.force, rig=args.rig, workers=args.workers)
    seconds = time.perf_counter() - start
    if generated:
        print(f'wrote {args.num_train} train + {args.num_test} test samples '
              f'to {args.out} in {seconds:.1f} s')
    else:
        print(f'{args.out} is complete and up to date; nothing written')


if __name__ == '__main__':
    main()
