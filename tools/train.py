"""Train an MRPAN (or any MMSegmentation) model from a config.

Same arguments as MMSegmentation 1.x's ``tools/train.py``; ``mrpan_mm`` is
imported first so its components are registered and configs need no
``custom_imports``.  Works without CUDA, including ``--launcher pytorch``
(torch DDP over gloo) and ``--amp`` (bf16 autocast).

    python tools/train.py configs/mrpan_nyu.py --work-dir work_dirs/mrpan
    python tools/train.py configs/mrpan_nyu.py --work-dir work_dirs/mrpan --resume
    python tools/train.py configs/mrpan_nyu.py --tensorboard  # + events
"""
import argparse

import mrpan_mm  # noqa: F401  (first: installs the mmcv-lite shim)

from mmengine.runner import Runner
from mmseg.registry import RUNNERS

from mrpan_mm.engine import (add_common_args, config_from_args,
                             distributed_session, enable_amp,
                             enable_tensorboard)


def parse_args():
    parser = argparse.ArgumentParser(description='Train a depth estimator')
    parser.add_argument('config', help='train config file path')
    parser.add_argument('--work-dir', help='folder for logs and checkpoints')
    parser.add_argument(
        '--resume',
        action='store_true',
        help='resume from the latest checkpoint in the work dir')
    parser.add_argument(
        '--amp',
        action='store_true',
        help='mixed precision: fp16 on GPU, bf16 autocast on CPU')
    parser.add_argument(
        '--tensorboard',
        action='store_true',
        help='also write TensorBoard event files (work dir/<time>/vis_data)')
    add_common_args(parser)
    return parser.parse_args()


def train(cfg):
    """Build the runner and train; the runner has no name left once this
    returns (:func:`distributed_session` collects it)."""
    runner = (Runner.from_cfg(cfg)
              if 'runner_type' not in cfg else RUNNERS.build(cfg))
    runner.train()


def main():
    args = parse_args()
    cfg = config_from_args(args)
    if args.amp:
        enable_amp(cfg)
    if args.tensorboard:
        enable_tensorboard(cfg)
    cfg.resume = args.resume
    with distributed_session(cfg):
        train(cfg)


if __name__ == '__main__':
    main()
