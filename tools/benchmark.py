"""Benchmark MRPAN configs: parameters, FLOPs, latency, training step, memory.

Usage::

    python tools/benchmark.py CONFIG [CONFIG ...] [--shape H W] [--batch B]
        [--train] [--amp] [--channels-last] [--repeat N] [--sweep]

``CONFIG`` is a config path optionally followed by ``:``-separated overrides
(``key=value`` or a preset: baseline, maca, full, nosam, nogam, sarpn_order,
factored_order, lowres_order),
e.g. ``configs/mrpan_demo_cpu.py:baseline``.  ``--encoder ARCH`` swaps the
SENet arch of every config (e.g. ``seresnext26_32x4d``) and fixes the neck's
input channels.  All cases of one table are timed interleaved (A, B, A, B
...) after warm-up; the median is reported with its ratio to the first row
(``x first``) and to the same config in fp32/contiguous (``x plain``).
``--amp`` and ``--channels-last`` add those variants next to the plain one.

``--sweep`` repeats the table at several input sizes and adds the SAM-only
sweep (efficient SDPA SAM vs the naive softmax(Q^T K) reference: peak
memory and time vs pixels) and the check of the first config's SAM levels
at ``--sam-fit-shape`` / ``--sam-fit-batch`` in training.

FLOPs are counted by ``torch.utils.flop_counter.FlopCounterMode`` on one
batch-1 inference; its stock table misses the CPU fused attention kernel, so
the SDPA FLOPs are added by a formula and shown separately (``SDPA GF``).
Peak memory: one fresh subprocess per measurement (CPU: growth of the peak
RSS over the RSS after building the model and batch; CUDA:
``max_memory_allocated``).
"""
import argparse
import sys

import mrpan_mm  # noqa: F401  (first: installs the mmcv-lite shim)

from mmengine.config import DictAction

from mrpan_mm.benchmark.runner import VARIANTS, run


def parse_args(argv=None):
    p = argparse.ArgumentParser(
        description=__doc__.split('\n\n')[0],
        formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('configs', nargs='*', help='CONFIG[:OVERRIDE...]')
    p.add_argument('--shape', nargs=2, type=int, default=[228, 304],
                   metavar=('H', 'W'))
    p.add_argument('--batch', type=int, default=1)
    p.add_argument('--train', action='store_true',
                   help='also time a training step (forward + loss + '
                   'backward + optimizer step)')
    p.add_argument('--amp', action='store_true',
                   help='add a bf16-autocast variant of every config')
    p.add_argument('--channels-last', action='store_true',
                   help='add a channels_last variant of every config')
    p.add_argument('--variants', nargs='+', choices=VARIANTS,
                   help='exactly these variants of every config (instead '
                   'of fp32 plus what --amp / --channels-last add)')
    p.add_argument('--repeat', type=int, default=5)
    p.add_argument('--threads', type=int, default=None,
                   help='torch intra-op threads (also for the memory '
                   'subprocesses); default: torch\'s')
    p.add_argument('--warmup', type=int, default=1)
    p.add_argument('--time-budget', type=float, default=240,
                   help='seconds per timing block; stops repeating (after '
                   'one full round) once exceeded')
    p.add_argument('--encoder', default=None,
                   help='SENet arch replacing every config\'s encoder')
    p.add_argument('--cfg-options', nargs='+', action=DictAction,
                   help='overrides applied to every config')
    p.add_argument('--no-memory', action='store_true')
    p.add_argument('--no-flops', action='store_true')
    p.add_argument('--memory-steps', type=int, default=2,
                   help='training steps per memory measurement (the 2nd '
                   'step holds the optimizer state)')
    p.add_argument('--memory-timeout', type=float, default=600)
    p.add_argument('--sweep', action='store_true')
    p.add_argument('--sweep-shapes', nargs='+', default=None,
                   help='HxW sizes of the sweep (default 114x152 228x304 '
                   '480x640)')
    p.add_argument('--sam-only', action='store_true',
                   help='skip the model tables (SAM sweep / fit check only)')
    p.add_argument('--sam-channels', type=int, default=64)
    p.add_argument('--sam-kv-stride', type=int, default=1)
    p.add_argument('--sam-sizes', nargs='+',
                   default=['29x38', '57x76', '114x152'],
                   help='HxW of the SAM-only sweep')
    p.add_argument('--naive-max-pixels', type=int, default=20000,
                   help='skip the naive SAM above this many query pixels')
    p.add_argument('--sam-fit-shape', nargs=2, type=int, default=[480, 640])
    p.add_argument('--sam-fit-batch', type=int, default=4)
    p.add_argument('--no-sam-fit', action='store_true')
    p.add_argument('--sam-fit-budget-gib', type=float, default=24.0)
    return p.parse_args(argv)


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    run(parse_args(argv), argv)


if __name__ == '__main__':
    main()
