"""One training iteration of the paper's full model through tools/train.py
(SENet-154, batch 1, 228x304 crop: about 45 s on a 2-core CPU)."""
import os.path as osp

import pytest

from mrpan_mm.testing import make_nyu_fixture
from mrpan_mm.utils import load_checkpoint_file
from tools_runner import REPO, data_root_options, run_tool

pytestmark = pytest.mark.slow  # end-to-end: tool subprocesses


def test_one_iteration_of_mrpan_nyu(tmp_path):
    root = str(tmp_path / 'nyu')
    make_nyu_fixture(root, num_train=1, num_test=1, size=(480, 640))
    work_dir = str(tmp_path / 'work')
    run_tool('train.py', [
        osp.join(REPO, 'configs', 'mrpan_nyu.py'), '--work-dir', work_dir,
        '--cfg-options', *data_root_options(root),
        'model.backbone.init_cfg=None', 'train_dataloader.batch_size=1',
        'train_dataloader.num_workers=0',
        'train_dataloader.persistent_workers=False',
        'val_dataloader.num_workers=0',
        'val_dataloader.persistent_workers=False',
        'test_dataloader.num_workers=0',
        'test_dataloader.persistent_workers=False',
        'train_cfg.max_epochs=1', 'default_hooks.logger.interval=1'
    ], timeout=900)
    ckpt = load_checkpoint_file(osp.join(work_dir, 'epoch_1.pth'),
                                map_location='cpu')
    assert ckpt['meta']['iter'] == 1
