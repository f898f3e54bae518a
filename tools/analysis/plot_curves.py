"""Plot training losses and validation metrics from an MMEngine work dir.

    python tools/analysis/plot_curves.py WORK_DIR [--out FILE]

Reads ``vis_data/scalars.json`` (one JSON object per line, as MMEngine's
``LocalVisBackend`` writes it) from ``WORK_DIR`` or, if absent, from its
newest ``<timestamp>/`` run folder. Lines carrying a loss key are training
logs, plotted against ``iter``; the others are validation results, plotted
against ``step`` (the epoch for epoch-based loops, the iteration
otherwise). Loss keys are those matching ``--loss-patterns`` (default: any
key containing ``loss`` and per-scale keys ``s<k>_...``, also under a
module prefix as the decode head logs them: ``decode.s<k>_...``).
"""
import argparse
import glob
import json
import os.path as osp
import re
from typing import Dict, List, Sequence, Tuple

import matplotlib

matplotlib.use('Agg')
import matplotlib.pyplot as plt  # noqa: E402

BOOKKEEPING_KEYS = frozenset(
    ('step', 'epoch', 'iter', 'time', 'data_time', 'lr', 'memory'))
DEFAULT_LOSS_PATTERNS = (r'loss', r'(^|\.)s\d+_')

Rows = List[Dict[str, float]]


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Plot losses and metrics from vis_data/scalars.json')
    parser.add_argument('work_dir', help='MMEngine work dir or run folder')
    parser.add_argument('--out',
                        help='output PNG (default: WORK_DIR/curves.png)')
    parser.add_argument('--loss-patterns',
                        nargs='+',
                        default=list(DEFAULT_LOSS_PATTERNS),
                        help='regular expressions selecting loss keys')
    parser.add_argument(
        '--metrics',
        nargs='+',
        help='validation keys to plot (default: all non-bookkeeping keys)')
    return parser.parse_args(argv)


def find_scalars(work_dir: str) -> str:
    """Path of the run's ``scalars.json``: direct, else the newest run."""
    direct = osp.join(work_dir, 'vis_data', 'scalars.json')
    if osp.isfile(direct):
        return direct
    runs = sorted(
        glob.glob(osp.join(work_dir, '*', 'vis_data', 'scalars.json')))
    if not runs:
        raise FileNotFoundError(
            f'no vis_data/scalars.json in {work_dir} or its run folders')
    return runs[-1]


def load_scalars(path: str,
                 loss_patterns: Sequence[str]) -> Tuple[Rows, Rows, List[str]]:
    """Split the log into training rows, validation rows and loss keys."""
    patterns = [re.compile(pattern) for pattern in loss_patterns]
    train, val, loss_keys = [], [], []
    with open(path) as handle:
        for number, line in enumerate(handle, 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as error:
                raise ValueError(f'{path}, line {number}: not JSON '
                                 f'({error.msg})') from error
            losses = [k for k in row if any(p.search(k) for p in patterns)]
            (train if losses else val).append(row)
            loss_keys += [k for k in losses if k not in loss_keys]
    return train, val, loss_keys


def metric_keys(val: Rows) -> List[str]:
    """Validation keys in first-seen order, bookkeeping keys excluded."""
    keys: List[str] = []
    for row in val:
        keys += [k for k in row if k not in BOOKKEEPING_KEYS and k not in keys]
    return keys


def _plot_series(axes, rows: Rows, x_key: str, keys: Sequence[str],
                 xlabel: str, title: str) -> None:
    for key in keys:
        points = [(row[x_key], row[key]) for row in rows if key in row]
        axes.plot(*zip(*points),
                  label=key,
                  marker='.' if len(points) < 30 else None)
    axes.set_xlabel(xlabel)
    axes.set_title(title)
    axes.grid(alpha=0.3)
    axes.legend(fontsize='small')


def plot_curves(train: Rows, val: Rows, loss_keys: Sequence[str],
                metrics: Sequence[str], out_file: str) -> None:
    """Draw losses (left) and validation metrics (right) into a PNG."""
    panels = [
        p for p, rows, keys in (('loss', train, loss_keys),
                                ('val', val, metrics)) if rows and keys
    ]
    if not panels:
        raise ValueError('nothing to plot: no loss or metric values found')
    figure, axes = plt.subplots(1,
                                len(panels),
                                figsize=(6 * len(panels), 4.5),
                                squeeze=False)
    for axis, panel in zip(axes[0], panels):
        if panel == 'loss':
            x_key = 'iter' if all('iter' in row for row in train) else 'step'
            _plot_series(axis, train, x_key, loss_keys, x_key, 'losses')
        else:
            _plot_series(axis, val, 'step', metrics,
                         'step (epoch or iteration)', 'validation metrics')
    figure.tight_layout()
    figure.savefig(out_file, dpi=100)
    plt.close(figure)


def main(argv=None) -> None:
    args = parse_args(argv)
    try:
        path = find_scalars(args.work_dir)
        train, val, loss_keys = load_scalars(path, args.loss_patterns)
        metrics = args.metrics or metric_keys(val)
        out_file = args.out or osp.join(args.work_dir, 'curves.png')
        plot_curves(train, val, loss_keys, metrics, out_file)
    except (FileNotFoundError, ValueError) as error:
        raise SystemExit(f'plot_curves.py: error: {error}') from error
    print(f'curves of {path} written to {out_file}')


if __name__ == '__main__':
    main()
