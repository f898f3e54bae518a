"""``tools/test.py --amp`` (bf16 autocast on the CPU) and ``--tta`` on a
briefly trained demo-config checkpoint."""
import os.path as osp

import pytest

from tools_runner import (REPO, data_root_options, logged_test_metrics,
                          run_tool)

DEMO = osp.join(REPO, 'configs', 'mrpan_demo_cpu.py')
TABLE_I = ('abs_rel', 'rmse', 'log10', 'd1', 'd2', 'd3')


@pytest.mark.slow
def test_bf16_metrics_within_1_percent_and_flip_tta(tmp_path):
    """bf16 keeps every Table I metric within 1 % (relative) of fp32.

    The demo config already averages each prediction with its mirrored
    mirror image (``test_cfg.mode='slide_flip'``), so ``--tta``'s flip
    average must give the fp32 metrics again (up to float rounding): a
    check that the TTA model runs and that the weights reach the wrapped
    model.
    """
    data = str(tmp_path / 'rooms')
    run_tool('make_demo_data.py', [
        '--out', data, '--num-train', '16', '--num-test', '8', '--height',
        '60', '--width', '80', '--workers', '1'
    ])
    loader = ['num_workers=0', 'persistent_workers=False']
    options = data_root_options(data) + [
        f'{split}_dataloader.{option}' for split in ('train', 'val', 'test')
        for option in loader
    ]
    work = str(tmp_path / 'work')
    run_tool('train.py', [
        DEMO, '--work-dir', work, '--cfg-options', 'train_cfg.max_epochs=1',
        'train_cfg.val_interval=2', 'train_dataloader.batch_size=8',
        'default_hooks.visualization.draw=False', *options
    ], timeout=600)
    checkpoint = osp.join(work, 'epoch_1.pth')
    test = [DEMO, checkpoint, '--work-dir', work, '--cfg-options', *options]
    fp32 = logged_test_metrics(run_tool('test.py', test))
    bf16 = logged_test_metrics(run_tool('test.py', test + ['--amp']))
    tta = logged_test_metrics(run_tool('test.py', test + ['--tta']))
    for key in TABLE_I:
        assert abs(bf16[key] - fp32[key]) <= 0.01 * abs(fp32[key]), key
        assert tta[key] == pytest.approx(fp32[key], rel=1e-4), key
