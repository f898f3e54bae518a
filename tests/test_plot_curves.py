"""tools/analysis/plot_curves.py on the work dir of a real tools/train.py
run (the shared ``tiny_training``: 2 epochs of 2 iterations, validation
after the last), checked against the run's own text log."""
import glob
import os.path as osp
import re

import cv2
import matplotlib.pyplot as plt
import numpy as np
import pytest

from tools_runner import load_tool, run_tool

plot_curves = load_tool('analysis/plot_curves.py')


def logged_values(work_dir, mode):
    """``[{key: value}]`` of the ``Epoch(<mode>)`` lines of the run's text
    log (``<work_dir>/<time>/<time>.log``) that carry losses or metrics,
    bookkeeping keys left out; values as printed (4 decimals)."""
    [log] = glob.glob(osp.join(work_dir, '*', '*.log'))
    rows = []
    for line in open(log):
        if f'Epoch({mode})' not in line:
            continue
        values = {
            key: float(value)
            for key, value in re.findall(r'(\S+): (-?[\d.]+(?:e-?\d+)?)',
                                         line)
            if key not in plot_curves.BOOKKEEPING_KEYS and key != 'eta'
        }
        if values:
            rows.append(values)
    return rows


@pytest.mark.slow  # starts from tiny_training (tools/train.py)
def test_plots_the_losses_and_metrics_of_a_training_run(
        tiny_training, tmp_path):
    """The tool, run on a real work dir, finds the run's scalars.json and
    draws both panels; the series it plots are the losses and metrics
    tools/train.py printed in its text log, iteration for iteration.
    Catches a scalars.json layout the tool does not find, training rows
    taken for validation rows (or the reverse), missing loss keys (the
    head logs its per-scale ones as decode.s<k>_...) and
    values plotted against the wrong iterations."""
    _, work_dir = tiny_training
    out = tmp_path / 'curves.png'
    proc = run_tool('analysis/plot_curves.py', [work_dir, '--out', str(out)])
    assert str(out) in proc.stdout
    image = cv2.imread(str(out))
    assert image.shape == (450, 1200, 3)  # two 6x4.5 in panels at 100 dpi
    # matplotlib's first series colour: a loss curve on the left, a
    # metric's single validation point (and its legend entry) on the right
    c0_bgr = np.array([180, 119, 31])
    is_c0 = np.abs(image.astype(int) - c0_bgr).max(axis=2) < 30
    assert is_c0[:, :600].sum() > 100 and is_c0[:, 600:].sum() > 20

    train, val, losses = plot_curves.load_scalars(
        plot_curves.find_scalars(work_dir),
        plot_curves.DEFAULT_LOSS_PATTERNS)
    logged_train = logged_values(work_dir, 'train')
    logged_val = logged_values(work_dir, 'val')
    assert len(train) == len(logged_train) == 4
    assert losses == list(logged_train[0])
    assert plot_curves.metric_keys(val) == list(logged_val[-1])
    figure, axes = plt.subplots(1, 2)
    plot_curves._plot_series(axes[0], train, 'iter', losses, 'iter', 'l')
    plot_curves._plot_series(axes[1], val, 'step', list(logged_val[-1]),
                             'step', 'v')
    plotted = [{line.get_label(): line.get_xydata() for line in ax.get_lines()}
               for ax in axes]
    plt.close(figure)
    for key in losses:
        np.testing.assert_allclose(plotted[0][key][:, 0], [1, 2, 3, 4])
        np.testing.assert_allclose(plotted[0][key][:, 1],
                                   [row[key] for row in logged_train],
                                   atol=5e-4, rtol=0)
    for key, value in logged_val[-1].items():
        np.testing.assert_allclose(plotted[1][key], [[2, value]], atol=5e-4,
                                   rtol=0)


def test_errors_name_the_problem(tmp_path):
    with pytest.raises(SystemExit, match='no vis_data/scalars.json'):
        plot_curves.main([str(tmp_path)])
    vis = tmp_path / '20260101_000000' / 'vis_data'
    vis.mkdir(parents=True)
    (vis / 'scalars.json').write_text('{"loss": 1.0, "iter": 1}\n{broken\n')
    with pytest.raises(SystemExit, match='line 2: not JSON'):
        plot_curves.main([str(tmp_path)])
