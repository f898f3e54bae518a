"""A run killed with SIGKILL and resumed ends where an unbroken run ends."""
import glob
import os.path as osp
import signal
import subprocess
import time

import pytest
import torch

from mrpan_mm.testing import make_nyu_fixture
from mrpan_mm.utils import load_checkpoint_file
from tools_runner import TINY_CONFIG, data_root_options, run_tool, start_tool

pytestmark = pytest.mark.slow  # end-to-end: tool subprocesses

EPOCHS = 4


def final_state(work_dir):
    ckpt = load_checkpoint_file(
        osp.join(work_dir, f'epoch_{EPOCHS}.pth'), map_location='cpu')
    return ckpt['meta'], ckpt['state_dict']


def test_sigkill_then_resume_matches_unbroken_run(tmp_path):
    root = str(tmp_path / 'nyu')
    make_nyu_fixture(root, num_train=12, num_test=2)
    options = ['--cfg-options', *data_root_options(root),
               f'train_cfg.max_epochs={EPOCHS}']

    unbroken = str(tmp_path / 'unbroken')
    run_tool('train.py', [TINY_CONFIG, '--work-dir', unbroken, *options])

    broken = str(tmp_path / 'broken')
    proc = start_tool('train.py', [TINY_CONFIG, '--work-dir', broken,
                                   *options], stdout=subprocess.DEVNULL,
                      stderr=subprocess.DEVNULL)
    deadline = time.time() + 240
    while not osp.exists(osp.join(broken, 'epoch_1.pth')):
        assert proc.poll() is None, 'training ended before it was killed'
        assert time.time() < deadline, 'no checkpoint was written'
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert proc.returncode == -signal.SIGKILL
    assert not osp.exists(osp.join(broken, f'epoch_{EPOCHS}.pth'))
    # No partial checkpoint under a final name: temporaries only.
    for path in glob.glob(osp.join(broken, '*.pth')):
        load_checkpoint_file(path, map_location='cpu')

    run_tool('train.py',
             [TINY_CONFIG, '--work-dir', broken, '--resume', *options])
    meta_a, weights_a = final_state(unbroken)
    meta_b, weights_b = final_state(broken)
    assert (meta_a['epoch'], meta_a['iter']) == (meta_b['epoch'],
                                                 meta_b['iter'])
    assert weights_a.keys() == weights_b.keys()
    for name in weights_a:
        torch.testing.assert_close(
            weights_a[name], weights_b[name], rtol=0, atol=1e-6,
            msg=f'{name} differs between the unbroken and resumed runs')
