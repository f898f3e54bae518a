"""tools/analysis/plot_curves.py on a synthetic MMEngine scalars.json."""
import json

import cv2
import matplotlib.pyplot as plt
import numpy as np
import pytest

from tools_runner import load_tool

plot_curves = load_tool('analysis/plot_curves.py')


def write_run(root):
    """work_dir/20260101_000000/vis_data/scalars.json, 2 epochs."""
    vis = root / '20260101_000000' / 'vis_data'
    vis.mkdir(parents=True)
    lines = []
    for it in range(1, 7):
        lines.append(
            dict(lr=1e-4,
                 loss=3.0 / it,
                 loss_depth=1.0 / it,
                 s0_total=1.5 / it,
                 s4_total=0.5 / it,
                 data_time=0.1,
                 time=0.5,
                 memory=0,
                 epoch=1 + it // 4,
                 iter=it,
                 step=it))
        if it % 3 == 0:
            lines.append(
                dict(abs_rel=0.3 / it,
                     d1=0.5 + it / 20,
                     time=0.2,
                     data_time=0.1,
                     step=it // 3))
    (vis /
     'scalars.json').write_text('\n'.join(json.dumps(line)
                                          for line in lines) + '\n')
    return vis / 'scalars.json'


def test_split_and_keys(tmp_path):
    path = write_run(tmp_path)
    assert plot_curves.find_scalars(str(tmp_path)) == str(path)
    train, val, losses = plot_curves.load_scalars(
        str(path), plot_curves.DEFAULT_LOSS_PATTERNS)
    assert len(train) == 6 and len(val) == 2
    assert losses == ['loss', 'loss_depth', 's0_total', 's4_total']
    assert plot_curves.metric_keys(val) == ['abs_rel', 'd1']


def test_writes_png(tmp_path):
    write_run(tmp_path)
    out = tmp_path / 'curves.png'
    plot_curves.main([str(tmp_path), '--out', str(out)])
    image = cv2.imread(str(out))
    assert image.shape == (450, 1200, 3)  # two 6x4.5 in panels at 100 dpi
    # matplotlib draws the first series of each panel in C0 (#1f77b4):
    # both the loss panel (left) and the metric panel (right) hold a curve.
    c0_bgr = np.array([180, 119, 31])
    is_c0 = (np.abs(image.astype(int) - c0_bgr).max(axis=2) < 30)
    assert is_c0[:, :600].sum() > 100 and is_c0[:, 600:].sum() > 100


def test_series_are_plotted_as_logged(tmp_path):
    train, val, losses = plot_curves.load_scalars(
        str(write_run(tmp_path)), plot_curves.DEFAULT_LOSS_PATTERNS)
    figure, axes = plt.subplots()
    plot_curves._plot_series(axes, train, 'iter', losses, 'iter', 'losses')
    lines = {line.get_label(): line.get_xydata() for line in axes.get_lines()}
    plt.close(figure)
    assert list(lines) == losses
    np.testing.assert_allclose(lines['loss'][:, 0], np.arange(1, 7))
    np.testing.assert_allclose(lines['loss'][:, 1], 3.0 / np.arange(1, 7))


def test_errors_name_the_problem(tmp_path):
    with pytest.raises(SystemExit, match='no vis_data/scalars.json'):
        plot_curves.main([str(tmp_path)])
    path = write_run(tmp_path)
    with open(path, 'a') as handle:
        handle.write('{broken\n')
    with pytest.raises(SystemExit, match='line 9: not JSON'):
        plot_curves.main([str(tmp_path)])
