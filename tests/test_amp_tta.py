"""``tools/test.py --amp`` (bf16 autocast on the CPU) and ``--tta`` on the
demo config with random weights whose spatial attention is switched on.

No training: a random checkpoint (:func:`save_random_checkpoint`) sets
every SAM ``gamma`` to 1, so MACA's attention is part of every prediction
compared here (a trained-for-two-steps model still has ``gamma`` near its
initial 0).  The demo network is small, so emulated bf16 on a CPU without
native bf16 costs seconds, not minutes.
"""
import os.path as osp

import pytest

from mrpan_mm.testing import make_nyu_fixture, save_random_checkpoint
from tools_runner import (REPO, data_root_options, logged_test_metrics,
                          run_tool)

pytestmark = pytest.mark.slow  # end-to-end: tool runs

DEMO = osp.join(REPO, 'configs', 'mrpan_demo_cpu.py')
TABLE_I = ('abs_rel', 'rmse', 'log10', 'd1', 'd2', 'd3')
# random weights predict near 0 m; offset them to room-scale depths
OFFSET = 'model.decode_head.depth_offset=3.0'


@pytest.fixture(scope='module')
def demo_test(tmp_path_factory):
    """``run(gamma, *flags, options=())`` runs ``tools/test.py`` on the
    demo config (``--cfg-options`` extended by ``options``) with a random
    checkpoint whose SAM ``gamma`` is ``gamma``, on a 4-image NYU-layout
    set, and returns the logged metrics (each distinct run once)."""
    folder = tmp_path_factory.mktemp('amp_tta')
    root = str(folder / 'nyu')
    make_nyu_fixture(root, num_train=1, num_test=4, size=(60, 80))
    checkpoints, metrics = {}, {}

    def run(gamma, *flags, options=()):
        key = (gamma, flags, tuple(options))
        if key in metrics:  # the same run for both tests
            return metrics[key]
        if gamma not in checkpoints:
            checkpoints[gamma] = str(folder / f'gamma_{gamma}.pth')
            save_random_checkpoint(DEMO, checkpoints[gamma], sam_gamma=gamma)
        proc = run_tool('test.py', [
            DEMO, checkpoints[gamma], '--work-dir', str(folder / 'work'),
            *flags, '--cfg-options', OFFSET, *data_root_options(root),
            *options
        ])
        metrics[key] = logged_test_metrics(proc)
        return metrics[key]

    return run


def test_bf16_keeps_metrics_within_1_percent_with_attention_on(demo_test):
    """bf16 autocast keeps every Table I metric within 1 % (relative) of
    fp32, with the attention contributing.

    Catches: a bf16 path that breaks the attention (or any layer) by more
    than bf16 rounding; ``--amp`` that runs fp32 would pass the tolerance,
    so bf16 must also differ from fp32 somewhere (it rounds).  The gamma=0
    run shows the attention changes the metrics, i.e. it is compared.
    """
    fp32 = demo_test(1.0)
    bf16 = demo_test(1.0, '--amp')
    no_attention = demo_test(0.0)
    for key in TABLE_I:
        assert abs(bf16[key] - fp32[key]) <= 0.01 * abs(fp32[key]), key
    assert any(bf16[key] != fp32[key] for key in TABLE_I), 'not bf16'
    assert any(abs(no_attention[key] - fp32[key]) > 1e-3 * abs(fp32[key])
               for key in TABLE_I), 'gamma=1 changes nothing'


def test_tta_on_whole_mode_equals_slide_flip(demo_test):
    """``--tta`` on a model tested without flipping (``test_cfg.mode=
    'whole'``) gives the metrics of the config's own ``slide_flip`` mode:
    both average f(x) and flip(f(flip(x))) (the demo's slide window is the
    whole input).

    Catches: a ``--tta`` that does nothing or drops the flipped pass (its
    metrics are then the whole-mode ones, which differ), a flipped
    prediction not flipped back, weights not reaching the TTA model.
    """
    whole = ['model.test_cfg.mode=whole']
    plain = demo_test(1.0, options=whole)
    tta = demo_test(1.0, '--tta', options=whole)
    slide_flip = demo_test(1.0)
    assert any(abs(plain[key] - slide_flip[key]) > 1e-3 * abs(
        slide_flip[key]) for key in TABLE_I), 'flip changes nothing here'
    for key in TABLE_I:
        # logged to 4 decimals: 1e-4 is one unit of the last digit
        assert tta[key] == pytest.approx(slide_flip[key], abs=1e-4), key
