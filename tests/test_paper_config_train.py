"""One training iteration of the paper's config through tools/train.py:
its data pipeline (Hu et al.'s chain from 640x480 frames to the 228x304
crop), its model's neck and head design, loss, optimizer, schedule and
hooks, batch 1.  The model is the config's at test size
(:mod:`small_paper_model`: SE-ResNeXt-26 and a 16-channel neck and head
instead of SENet-154, 45 s of CPU at full size); SENet-154 itself is
tested in test_backbones.py and test_configs.py."""
import os.path as osp

import pytest

from mrpan_mm.testing import make_nyu_fixture
from mrpan_mm.utils import load_checkpoint_file
from small_paper_model import small_paper_model_args
from tools_runner import REPO, data_root_options, run_tool

pytestmark = pytest.mark.slow  # end-to-end: tool subprocesses


def test_one_iteration_of_mrpan_nyu(tmp_path):
    root = str(tmp_path / 'nyu')
    make_nyu_fixture(root, num_train=1, num_test=1, size=(480, 640))
    work_dir = str(tmp_path / 'work')
    run_tool('train.py', [
        osp.join(REPO, 'configs', 'mrpan_nyu.py'), '--work-dir', work_dir,
        '--cfg-options', *data_root_options(root),
        *small_paper_model_args(), 'train_dataloader.batch_size=1',
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
