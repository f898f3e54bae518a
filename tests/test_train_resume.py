"""tools/train.py and tools/test.py on the tiny fixture: the checkpoints a
training writes and the test tool's report.  Resuming is tested on the
shipped demo config, after a SIGKILL, in test_kill_resume.py."""
import glob
import os.path as osp

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
    """Catches: a checkpoint missing or misnamed, wrong epoch/iteration
    counters in its meta, ``last_checkpoint`` not naming the latest."""
    _, work_dir = trained
    names = sorted(osp.basename(p) for p in glob.glob(f'{work_dir}/*.pth'))
    assert names == ['epoch_1.pth', 'epoch_2.pth']
    ckpt = load(osp.join(work_dir, 'epoch_2.pth'))
    assert ckpt['meta']['epoch'] == 2 and ckpt['meta']['iter'] == 4
    with open(osp.join(work_dir, 'last_checkpoint')) as f:
        assert f.read().strip().endswith('epoch_2.pth')


def test_test_tool_reports_metrics_and_per_image_files(trained, tmp_path):
    """Catches: tools/test.py not loading a trained checkpoint, its metric
    table or ``--out``'s per-image CSV missing."""
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
