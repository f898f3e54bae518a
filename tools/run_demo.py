"""The CPU demo behind ``make demo``, for depth or for segmentation.

1. Generates the embedded procedural-room dataset if it is missing (test
   views at 120x160, training views at the config's ``crop_size``; RGB,
   depth and class maps).
2. Trains the task's config (the same run as ``python tools/train.py
   CONFIG``), which evaluates at the end, logs the metric table and writes
   panels: ``--task depth`` (default) ``configs/mrpan_demo_cpu.py``, RGB |
   GT | prediction | error; ``--task seg`` ``configs/mrpan_seg_demo_cpu.py``,
   RGB | GT | prediction.
3. Compares with a trivial predictor (depth: the training-set mean depth;
   seg: the training set's most frequent class everywhere) and writes
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

from mrpan_mm.demo import (majority_class_baseline, make_demo_dataset,
                           mean_depth_baseline)
from mrpan_mm.demo.labels import CLASSES
from mrpan_mm.engine import load_config

REPORTED = ('abs_rel', 'rmse', 'log10', 'd1', 'd2', 'd3')
#: The demo config of each task.
TASKS = dict(depth='configs/mrpan_demo_cpu.py',
             seg='configs/mrpan_seg_demo_cpu.py')


def parse_args():
    parser = argparse.ArgumentParser(description='Run the MRPAN CPU demo')
    parser.add_argument('--task', choices=sorted(TASKS), default='depth',
                        help='depth (make demo) or semantic segmentation')
    parser.add_argument('--config', help='default: the task\'s demo config')
    parser.add_argument('--work-dir',
                        help='default: work_dirs/<the config\'s name>')
    parser.add_argument('--data-root', default='data/demo_rooms')
    parser.add_argument('--num-train', type=int, default=1200,
                        help='training views to render if missing')
    parser.add_argument('--num-test', type=int, default=80,
                        help='test views to render if missing')
    parser.add_argument(
        '--cfg-options', nargs='+', action=DictAction,
        help='override config entries, as in tools/train.py')
    return parser.parse_args()


def final_metrics(runner: Runner, keys) -> dict:
    """Metrics ``keys`` of the last validation, as logged by the runner."""
    scalars = runner.message_hub.log_scalars
    return {
        key: scalars[f'val/{key}'].current()
        for key in keys if f'val/{key}' in scalars
    }


def panel_paths(runner: Runner) -> list:
    """The panels the visualization hook wrote, sorted."""
    return sorted(
        glob.glob(osp.join(runner.log_dir, 'vis_data', 'vis_image', '*')))


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


def write_summary(cfg, summary: dict) -> str:
    """Write ``demo_summary.json`` into the work dir; returns its path."""
    out = osp.join(cfg.work_dir, 'demo_summary.json')
    with open(out, 'w') as f:
        json.dump(summary, f, indent=2)
    return out


def report_depth(runner: Runner, cfg, data_root: str, seconds: dict) -> None:
    """Depth: the metric table against the training-mean depth."""
    metrics = final_metrics(runner, REPORTED)
    # Scored as the model is: the test metric's protocol (its default too).
    baseline = mean_depth_baseline(
        data_root, cfg.test_evaluator.get('protocol', 'eigen'))
    panels = panel_paths(runner)
    out = write_summary(cfg, dict(
        metrics=metrics,
        mean_depth_baseline=baseline,
        abs_rel_improvement=baseline['abs_rel'] / metrics['abs_rel'],
        seconds=seconds,
        panels=panels))

    print('\nMRPAN CPU demo finished in '
          f"{seconds['total'] / 60:.1f} min (data {seconds['data']:.0f} s)")
    print(f"{'':24}" + ''.join(f'{k:>9}' for k in REPORTED))
    print(f"{'MRPAN (demo config)':24}" +
          ''.join(f'{metrics.get(k, float("nan")):9.3f}' for k in REPORTED))
    print(f"{'training-mean depth':24}{baseline['abs_rel']:9.3f}" +
          ' ' * 27 + f"{baseline['d1']:9.3f}")
    print(improvement_claim(metrics, baseline))
    print(f'{len(panels)} panels (RGB | GT | prediction | error) in '
          f"{osp.join(runner.log_dir, 'vis_data', 'vis_image')}")
    print(f'summary: {out}')


def report_seg(runner: Runner, cfg, data_root: str, seconds: dict) -> None:
    """Segmentation: per-class IoU and mIoU against the majority class."""
    keys = ['mIoU', 'aAcc', 'mAcc'] + [f'IoU.{name}' for name in CLASSES]
    logged = final_metrics(runner, keys)
    metrics = {key: logged[key] for key in ('mIoU', 'aAcc', 'mAcc')}
    metrics['class_iou'] = {name: logged[f'IoU.{name}'] for name in CLASSES}
    baseline = majority_class_baseline(data_root)
    margin = metrics['mIoU'] - baseline['mIoU']
    panels = panel_paths(runner)
    out = write_summary(cfg, dict(
        metrics=metrics, majority_class_baseline=baseline,
        miou_margin=margin, seconds=seconds, panels=panels))

    print('\nMRPAN segmentation CPU demo finished in '
          f"{seconds['total'] / 60:.1f} min (data {seconds['data']:.0f} s)")
    print(f"{'IoU (%), test split':24}{'MRPAN':>9}{'majority':>9}")
    for name in CLASSES:
        print(f'{name:24}{metrics["class_iou"][name]:9.2f}'
              f'{baseline["class_iou"][name]:9.2f}')
    for key in ('mIoU', 'aAcc'):
        print(f'{key:24}{metrics[key]:9.2f}{baseline[key]:9.2f}')
    print(f"mIoU {metrics['mIoU']:.2f} vs {baseline['mIoU']:.2f} for "
          f"predicting '{baseline['majority_class']}' everywhere: "
          f'{margin:+.2f} points.')
    print(f'{len(panels)} panels (RGB | GT | prediction) in '
          f"{osp.join(runner.log_dir, 'vis_data', 'vis_image')}")
    print(f'summary: {out}')


def main():
    args = parse_args()
    start = time.perf_counter()
    cfg = load_config(args.config or TASKS[args.task], args.cfg_options,
                      args.work_dir, 'none')
    # training views at the network's input size: what the pipeline
    # resizes them to anyway, at a fraction of the rendering time
    make_demo_dataset(args.data_root, args.num_train, args.num_test,
                      train_size=cfg.get('crop_size'), workers=os.cpu_count())
    data_seconds = time.perf_counter() - start

    for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        cfg[loader].dataset.data_root = args.data_root
    runner = Runner.from_cfg(cfg)
    runner.train()
    seconds = dict(data=round(data_seconds, 1),
                   total=round(time.perf_counter() - start, 1))
    report = report_seg if args.task == 'seg' else report_depth
    report(runner, cfg, args.data_root, seconds)


if __name__ == '__main__':
    main()
