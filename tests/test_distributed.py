"""Two gloo processes through tools/dist_train.sh match one process.

The tiny config uses GroupNorm, no random augmentation and an unshuffled
sampler, so a 2-process run with 2 images per rank sees the same 4 images
per step as a 1-process run with batch 4, and DDP's gradient averaging
equals the 1-process gradient of the batch mean (all fixture pixels are
valid, so each rank's pixel mean weighs equally).  The only difference is
floating-point summation order.  SGD is used because Adam divides by the
root of tiny second moments and so magnifies rounding noise in near-zero
gradients up to the size of a step; with SGD a weight difference is lr times
a gradient difference, and 1e-6 on the weights after a step of lr 0.01
allows gradient noise far above float32 rounding while a wrong
averaging (sum instead of mean, a rank's gradient missing) moves weights by
orders of magnitude more.  One step only: early in training the predicted
depth is nearly flat, so the sign terms of the log-L1 gradient loss flip on
rounding-level differences and a second step would compare chaos, not DDP.
"""

import os.path as osp
import socket

import pytest
import torch

from mrpan_mm.testing import make_nyu_fixture
from mrpan_mm.utils import load_checkpoint_file
from tools_runner import REPO, TINY_CONFIG, data_root_options, run_tool

pytestmark = pytest.mark.slow  # end-to-end: tool subprocesses


def free_port():
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


def weights(work_dir):
    ckpt = load_checkpoint_file(osp.join(work_dir, 'epoch_1.pth'),
                                map_location='cpu')
    return ckpt['state_dict']


def test_two_gloo_ranks_match_one_process(tmp_path):
    """Catches: DDP gradients summed instead of averaged, a rank's
    gradient or half of the data missing, a CPU run not going through
    gloo (``dist_train.sh`` on the tiny config; see the module text)."""
    root = str(tmp_path / 'nyu')
    make_nyu_fixture(root, num_train=4, num_test=2)  # one step
    common = [*data_root_options(root), 'train_cfg.max_epochs=1',
              'optim_wrapper.optimizer._delete_=True',  # not Adam's betas
              'optim_wrapper.optimizer.type=SGD',
              'optim_wrapper.optimizer.lr=0.01']

    single = str(tmp_path / 'single')
    run_tool('train.py', [TINY_CONFIG, '--work-dir', single, '--cfg-options',
                          *common, 'train_dataloader.batch_size=4'])

    dist = str(tmp_path / 'dist')
    proc = run_tool('dist_train.sh', [
        TINY_CONFIG, '2', '--work-dir', dist, '--cfg-options', *common,
        'train_dataloader.batch_size=2'
    ], extra_env=dict(PORT=str(free_port()), MASTER_ADDR='127.0.0.1'))
    log = proc.stdout + proc.stderr
    # mmengine reports the world size as its "GPU number", devices or not.
    assert 'Distributed training: True' in log, log[-2000:]
    assert 'GPU number: 2' in log, log[-2000:]

    ours, reference = weights(dist), weights(single)
    for name in reference:
        torch.testing.assert_close(
            ours[name], reference[name], rtol=0, atol=1e-6,
            msg=f'{name}: 2-rank DDP differs from 1 process')


def test_demo_config_dist_train_and_dist_test_exit_cleanly(tmp_path):
    """``tools/dist_train.sh`` then ``tools/dist_test.sh`` on the shipped
    demo config (bf16 wrapper, channels-last hook, warm-up + cosine
    schedule), 2 gloo processes, as a user runs them: each exits 0, saves
    or scores, and no rank aborts at exit.

    Catches: the process group left alive at interpreter exit (gloo's
    workers then free tensors during finalization and a rank dies with
    ``terminate called without an active exception``: removing
    ``distributed_session`` from the tools makes that line appear in
    some runs; the check on the log is the one that is reliable only
    over repetitions), a shipped config that cannot be wrapped in DDP.
    """
    demo = osp.join(REPO, 'configs', 'mrpan_demo_cpu.py')
    root = str(tmp_path / 'nyu')
    make_nyu_fixture(root, num_train=4, num_test=2, size=(36, 48))
    work = str(tmp_path / 'work')
    env = dict(MASTER_ADDR='127.0.0.1')
    train = run_tool('dist_train.sh', [
        demo, '2', '--work-dir', work, '--cfg-options',
        *data_root_options(root), 'train_cfg.max_epochs=1',
        'train_dataloader.batch_size=2',
        'default_hooks.visualization.draw=False'
    ], extra_env=dict(env, PORT=str(free_port())))
    test = run_tool('dist_test.sh', [
        demo, osp.join(work, 'epoch_1.pth'), '2', '--work-dir', work,
        '--cfg-options', *data_root_options(root)
    ], extra_env=dict(env, PORT=str(free_port())))
    for proc in (train, test):
        log = proc.stdout + proc.stderr
        assert 'terminate called' not in log, log[-2000:]
        assert 'GPU number: 2' in log, log[-2000:]
    assert 'Epoch(test)' in test.stdout + test.stderr
