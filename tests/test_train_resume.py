"""tools/train.py and tools/test.py on the fixture: train, resume, test."""
import glob
import os.path as osp
import shutil

import pytest

from mrpan_mm.utils import load_checkpoint_file
from tools_runner import TINY_CONFIG, data_root_options, run_tool

pytestmark = pytest.mark.slow  # end-to-end: tool subprocesses


@pytest.fixture(scope='module')
def trained(tiny_training):
    """Two epochs of the tiny config; returns (data root, work dir)."""
    return tiny_training


def load(path):
    return load_checkpoint_file(path, map_location='cpu')  # weights_only


def test_train_writes_epoch_checkpoints(trained):
    _, work_dir = trained
    names = sorted(osp.basename(p) for p in glob.glob(f'{work_dir}/*.pth'))
    assert names == ['epoch_1.pth', 'epoch_2.pth']
    ckpt = load(osp.join(work_dir, 'epoch_2.pth'))
    assert ckpt['meta']['epoch'] == 2 and ckpt['meta']['iter'] == 4
    with open(osp.join(work_dir, 'last_checkpoint')) as f:
        assert f.read().strip().endswith('epoch_2.pth')


def test_resume_continues_iterations_and_optimizer(trained, tmp_path):
    root, trained_dir = trained
    work_dir = str(tmp_path / 'resumed')  # the shared run stays as it is
    shutil.copytree(trained_dir, work_dir)
    with open(osp.join(work_dir, 'last_checkpoint'), 'w') as f:
        f.write(osp.join(work_dir, 'epoch_2.pth'))
    proc = run_tool('train.py', [
        TINY_CONFIG, '--work-dir', work_dir, '--resume', '--cfg-options',
        *data_root_options(root), 'train_cfg.max_epochs=3'
    ])
    assert 'resumed epoch: 2, iter: 4' in proc.stdout + proc.stderr
    before, after = (load(osp.join(work_dir, f'epoch_{e}.pth'))
                     for e in (2, 3))
    assert after['meta']['epoch'] == 3 and after['meta']['iter'] == 6
    # Adam's per-parameter step count carries on from the checkpoint.
    steps = {s['step'].item() for s in after['optimizer']['state'].values()}
    assert steps == {6.0}
    assert {s['step'].item()
            for s in before['optimizer']['state'].values()} == {4.0}


def test_test_tool_reports_metrics_and_per_image_files(trained, tmp_path):
    root, work_dir = trained
    out = str(tmp_path / 'per_image')
    proc = run_tool('test.py', [
        TINY_CONFIG, osp.join(work_dir, 'epoch_2.pth'), '--work-dir',
        str(tmp_path / 'test'), '--out', out, '--cfg-options',
        *data_root_options(root)
    ])
    log = proc.stdout + proc.stderr
    assert 'AbsRel' in log and 'abs_rel' in log
    assert osp.isfile(osp.join(out, 'per_image_metrics.csv'))
