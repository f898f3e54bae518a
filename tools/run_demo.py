"""The CPU demo behind ``make demo``.

1. Generates the embedded procedural-room dataset if it is missing (test
   views at 120x160, training views at the config's ``crop_size``).
2. Trains ``configs/mrpan_demo_cpu.py`` (the same run as ``python
   tools/train.py configs/mrpan_demo_cpu.py``), which evaluates at the end,
   logs the metric table and writes RGB | GT | prediction | error panels.
3. Compares with predicting the training-set mean depth and writes
   ``demo_summary.json`` in the work dir.
"""
import argparse
import glob
import json
import os
import os.path as osp
import time

import mrpan_mm  # noqa: F401  (first: installs the mmcv-lite shim)

from mmengine.config import DictAction
from mmengine.runner import Runner

from mrpan_mm.demo import make_demo_dataset, mean_depth_baseline
from mrpan_mm.engine import load_config

REPORTED = ('abs_rel', 'rmse', 'log10', 'd1', 'd2', 'd3')


def parse_args():
    parser = argparse.ArgumentParser(description='Run the MRPAN CPU demo')
    parser.add_argument('--config', default='configs/mrpan_demo_cpu.py')
    parser.add_argument('--work-dir', default='work_dirs/mrpan_demo_cpu')
    parser.add_argument('--data-root', default='data/demo_rooms')
    parser.add_argument('--num-train', type=int, default=1200,
                        help='training views to render if missing')
    parser.add_argument('--num-test', type=int, default=80,
                        help='test views to render if missing')
    parser.add_argument(
        '--cfg-options', nargs='+', action=DictAction,
        help='override config entries, as in tools/train.py')
    return parser.parse_args()


def final_metrics(runner: Runner) -> dict:
    """Metrics of the last validation, as logged by the runner."""
    scalars = runner.message_hub.log_scalars
    return {
        key: scalars[f'val/{key}'].current()
        for key in REPORTED if f'val/{key}' in scalars
    }


def improvement_claim(metrics: dict, baseline: dict) -> str:
    """The demo's closing sentence, computed from this run's numbers.

    Args:
        metrics: The model's test metrics (``abs_rel``, ``d1``).
        baseline: The training-mean predictor's (:func:`mean_depth_baseline`).

    Returns:
        The AbsRel ratio (baseline / model) to two decimals, with the two
        AbsRel values it divides, and both δ<1.25.
    """
    ratio = baseline['abs_rel'] / metrics['abs_rel']
    return (f"AbsRel {ratio:.2f}x lower than the training-mean depth's "
            f"({baseline['abs_rel']:.4f} / {metrics['abs_rel']:.4f}); "
            f"δ<1.25 {metrics['d1']:.3f} (training-mean depth: "
            f"{baseline['d1']:.3f}).")


def main():
    args = parse_args()
    start = time.perf_counter()
    cfg = load_config(args.config, args.cfg_options, args.work_dir, 'none')
    # training views at the network's input size: what the pipeline
    # resizes them to anyway, at a fraction of the rendering time
    make_demo_dataset(args.data_root, args.num_train, args.num_test,
                      train_size=cfg.get('crop_size'), workers=os.cpu_count())
    data_seconds = time.perf_counter() - start

    for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        cfg[loader].dataset.data_root = args.data_root
    runner = Runner.from_cfg(cfg)
    runner.train()
    total_seconds = time.perf_counter() - start

    metrics = final_metrics(runner)
    # Scored as the model is: the test metric's protocol (its default too).
    baseline = mean_depth_baseline(
        args.data_root, cfg.test_evaluator.get('protocol', 'eigen'))
    panels = sorted(
        glob.glob(osp.join(runner.log_dir, 'vis_data', 'vis_image', '*')))
    summary = dict(
        metrics=metrics,
        mean_depth_baseline=baseline,
        abs_rel_improvement=baseline['abs_rel'] / metrics['abs_rel'],
        seconds=dict(data=round(data_seconds, 1),
                     total=round(total_seconds, 1)),
        panels=panels)
    out = osp.join(cfg.work_dir, 'demo_summary.json')
    with open(out, 'w') as f:
        json.dump(summary, f, indent=2)

    print('\nMRPAN CPU demo finished in '
          f'{total_seconds / 60:.1f} min (data {data_seconds:.0f} s)')
    print(f"{'':24}" + ''.join(f'{k:>9}' for k in REPORTED))
    print(f"{'MRPAN (demo config)':24}" +
          ''.join(f'{metrics.get(k, float("nan")):9.3f}' for k in REPORTED))
    print(f"{'training-mean depth':24}{baseline['abs_rel']:9.3f}" +
          ' ' * 27 + f"{baseline['d1']:9.3f}")
    print(improvement_claim(metrics, baseline))
    print(f'{len(panels)} panels (RGB | GT | prediction | error) in '
          f"{osp.join(runner.log_dir, 'vis_data', 'vis_image')}")
    print(f'summary: {out}')


if __name__ == '__main__':
    main()
