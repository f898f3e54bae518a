"""tools/train.py --tensorboard: the shared tiny training run (started with
the flag by ``tiny_training``) writes TensorBoard events."""
import glob

import pytest
from tensorboard.backend.event_processing.event_accumulator import \
    EventAccumulator

pytestmark = pytest.mark.slow  # reads the shared end-to-end training run


def test_train_writes_tensorboard_events(tiny_training):
    _, work_dir = tiny_training
    events = glob.glob(f'{work_dir}/*/vis_data/events.out.tfevents.*')
    assert len(events) == 1, events
    scalars = EventAccumulator(events[0])
    scalars.Reload()
    assert {'loss', 'lr'} <= set(scalars.Tags()['scalars'])
    # logged every iteration: 2 epochs of 2 batches
    assert [event.step for event in scalars.Scalars('loss')] == [1, 2, 3, 4]
