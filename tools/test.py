"""Evaluate a trained model on a config's test set.

Same arguments as MMSegmentation 1.x's ``tools/test.py``.  The evaluator
logs a Table-I-style table; ``--out DIR`` also writes per-image metrics and
``--show-dir DIR`` writes RGB | ground truth | prediction | error panels,
one per test image.
``--save-pred DIR`` writes every prediction as ``DIR/<image stem>.png``
(uint16 mm; scored offline by ``tools/eval_predictions.py``); with
``--format-only`` the test images need no depth files and nothing is
scored.  ``--amp``: bf16 autocast on the CPU, fp16 on CUDA.  ``--tta``:
the config's ``tta_pipeline``, by default the flip of its test pipeline,
merged by ``DepthTTAModel``.

    python tools/test.py configs/mrpan_nyu.py work_dirs/mrpan/iter_1000.pth
"""
import argparse

import mrpan_mm  # noqa: F401  (first: installs the mmcv-lite shim)

from mmengine.runner import Runner

from mrpan_mm.engine import (add_common_args, config_from_args,
                             distributed_session, enable_save_pred,
                             enable_test_amp, enable_tta,
                             enable_visualization)


def parse_args():
    parser = argparse.ArgumentParser(description='Test a depth estimator')
    parser.add_argument('config', help='test config file path')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument('--work-dir', help='folder for the evaluation logs')
    parser.add_argument(
        '--out', help='folder for per-image metrics (CSV and JSON)')
    parser.add_argument(
        '--show', action='store_true', help='show prediction panels')
    parser.add_argument(
        '--show-dir', help='folder where prediction panels are written')
    parser.add_argument(
        '--wait-time', type=float, default=2, help='seconds per shown panel')
    parser.add_argument(
        '--tta', action='store_true', help='test-time augmentation')
    parser.add_argument(
        '--save-pred', help='folder for the predictions (uint16 mm PNGs)')
    parser.add_argument(
        '--format-only', action='store_true',
        help='with --save-pred: test images without depth, no metrics')
    parser.add_argument(
        '--amp', action='store_true',
        help='autocast: bf16 on the CPU, fp16 on CUDA')
    add_common_args(parser)
    return parser.parse_args()


def main():
    args = parse_args()
    cfg = config_from_args(args)
    cfg.load_from = args.checkpoint
    if args.show or args.show_dir:
        enable_visualization(cfg, args.show, args.show_dir, args.wait_time)
    if args.tta:
        enable_tta(cfg)
    if args.amp:
        enable_test_amp(cfg)
    enable_save_pred(cfg, args.save_pred, args.format_only)
    if args.out is not None:
        cfg.test_evaluator['output_dir'] = args.out
    with distributed_session(cfg):
        Runner.from_cfg(cfg).test()


if __name__ == '__main__':
    main()
