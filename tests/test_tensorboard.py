"""tools/train.py --tensorboard: a short run writes TensorBoard events."""
import glob

import pytest
from tensorboard.backend.event_processing.event_accumulator import \
    EventAccumulator

from tools_runner import TINY_CONFIG, data_root_options, run_tool


@pytest.mark.slow
def test_train_writes_tensorboard_events(nyu_root, tmp_path):
    work_dir = str(tmp_path / 'tb')
    run_tool('train.py', [
        TINY_CONFIG, '--work-dir', work_dir, '--tensorboard', '--cfg-options',
        *data_root_options(nyu_root), 'train_cfg.max_epochs=1',
        'train_cfg.val_interval=1', 'default_hooks.logger.interval=1'
    ])
    events = glob.glob(f'{work_dir}/*/vis_data/events.out.tfevents.*')
    assert len(events) == 1, events
    scalars = EventAccumulator(events[0])
    scalars.Reload()
    tags = scalars.Tags()['scalars']
    assert {'loss', 'lr'} <= set(tags), tags
    assert any(tag.startswith('abs_rel') or 'abs_rel' in tag
               for tag in tags), tags  # the validation metrics too
