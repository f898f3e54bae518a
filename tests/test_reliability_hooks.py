"""SafeCheckpointLoadHook (strict key matching) and NonFiniteLossHook in
isolation, and that every shipped config switches the reliability hooks on."""
import glob
import os.path as osp
from types import SimpleNamespace

import pytest
import torch
import torch.nn as nn
from mmengine.config import Config
from mmseg.models import SegTTAModel
from mmseg.structures import SegDataSample

from mrpan_mm.engine import (CheckpointMismatchError, NonFiniteLossError,
                             NonFiniteLossHook, SafeCheckpointLoadHook,
                             checkpoint_mismatch)
from tools_runner import REPO, TINY_CONFIG

CONFIGS = sorted(glob.glob(osp.join(REPO, 'configs', '*.py'))) + [TINY_CONFIG]


class Net(nn.Module):

    def __init__(self, width=4):
        super().__init__()
        self.conv = nn.Conv2d(3, width, 3)
        self.bn = nn.BatchNorm2d(width)
        self.head = nn.Linear(width, 1)

    def test_step(self, data):  # what SegTTAModel requires of its module
        return []


def mismatching_state_dict():
    state = Net().state_dict()
    del state['head.bias']  # missing
    state['extra.weight'] = torch.zeros(1)  # unexpected
    state['conv.weight'] = torch.zeros(8, 3, 3, 3)  # mis-shaped
    del state['bn.num_batches_tracked']  # tolerated, as MMEngine does
    return {f'module.{k}': v for k, v in state.items()}  # DDP prefix


def test_checkpoint_mismatch_lists_every_kind():
    """Catches: a mismatch report that misses a kind (missing, unexpected,
    mis-shaped), trips over DDP's ``module.`` prefix or BN's tolerated
    ``num_batches_tracked``, or lists thousands of keys."""
    lines = checkpoint_mismatch(Net(), mismatching_state_dict())
    text = '\n'.join(lines)
    assert '1 missing keys' in text and 'head.bias' in text
    assert '1 unexpected keys' in text and 'extra.weight' in text
    assert ('conv.weight: checkpoint (8, 3, 3, 3), model (4, 3, 3, 3)'
            in text)
    assert 'num_batches_tracked' not in text
    assert checkpoint_mismatch(Net(), Net().state_dict()) == []
    many = {f'k{i}': torch.zeros(1) for i in range(30)}
    assert '... and 20 more' in '\n'.join(
        checkpoint_mismatch(Net(), many, max_listed=10))


def stub_runner(model, **cfg):
    return SimpleNamespace(model=model, cfg=Config(cfg), work_dir='/nowhere')


def test_strict_hook_stops_on_mismatch_naming_the_file():
    """Catches: a mismatching checkpoint loaded with a warning only, an
    error without the file or the keys, a TTA-wrapped model compared
    wrapper and all, ``strict=False`` not honoured."""
    hook = SafeCheckpointLoadHook()
    runner = stub_runner(Net(), load_from='/ckpts/other_model.pth')
    checkpoint = {'state_dict': mismatching_state_dict()}
    with pytest.raises(CheckpointMismatchError) as info:
        hook.after_load_checkpoint(runner, checkpoint)
    message = str(info.value)
    assert '/ckpts/other_model.pth' in message
    assert all(k in message for k in ('head.bias', 'extra.weight',
                                      'conv.weight'))
    assert 'strict=False' in message
    # Test-time augmentation wraps the model; the check looks inside.
    tta = stub_runner(SegTTAModel(module=Net()), load_from='a.pth')
    hook.after_load_checkpoint(tta, {'state_dict': Net().state_dict()})
    # The documented opt-out.
    SafeCheckpointLoadHook(strict=False).after_load_checkpoint(
        runner, checkpoint)


def test_hook_drops_config_text_whatever_loaded_it():
    """A checkpoint read by another loader (a URL's) reaches
    ``Runner.resume`` without the config text it would execute.  Catches:
    config text dropped by our file loader only."""
    code = "open('marker', 'w')"
    checkpoint = {'state_dict': Net().state_dict(),
                  'meta': {'config': code, 'cfg': code, 'epoch': 1},
                  'message_hub': {'runtime_info': {'cfg': code}}}
    for strict in (True, False):
        SafeCheckpointLoadHook(strict=strict).after_load_checkpoint(
            stub_runner(Net(), load_from='a.pth'), checkpoint)
        assert checkpoint['meta'] == {'epoch': 1}
        assert checkpoint['message_hub'] == {'runtime_info': {}}


def batch(*paths):
    samples = []
    for path in paths:
        sample = SegDataSample()
        sample.set_metainfo(dict(img_path=path))
        samples.append(sample)
    return dict(inputs=[], data_samples=samples)


@pytest.mark.parametrize('bad', [float('nan'), float('inf')])
def test_non_finite_loss_stops_with_iteration_terms_and_files(bad):
    """Catches: NaN/inf losses let through, an error without the
    1-based iteration, the loss terms or the batch's image files."""
    hook = NonFiniteLossHook()
    runner = SimpleNamespace(iter=6, epoch=1)
    outputs = {'loss': torch.tensor(bad), 'decode.loss_depth':
               torch.tensor(0.5), 'decode.loss_grad': torch.tensor(bad)}
    with pytest.raises(NonFiniteLossError) as info:
        hook.after_train_iter(runner, 2, batch('/d/a.jpg', '/d/b.jpg'),
                              outputs)
    message = str(info.value)
    assert 'iteration 7 (epoch 2, batch 3)' in message
    assert f'decode.loss_grad={bad}' in message
    assert 'decode.loss_depth=0.5' in message
    assert '/d/a.jpg, /d/b.jpg' in message
    hook.after_train_iter(runner, 2, batch('/d/a.jpg'),
                          {'loss': torch.tensor(1.0)})


@pytest.mark.parametrize('path', CONFIGS, ids=osp.basename)
def test_configs_switch_reliability_hooks_on(path):
    """Catches: a shipped config without the atomic checkpoint backend,
    the strict loading hook, the NaN hook or the safe loader's import."""
    cfg = Config.fromfile(path)
    # reading the config switches MMEngine's checkpoint loader
    assert 'mrpan_mm.engine.safe_checkpoint_loading' in \
        cfg.custom_imports.imports
    hooks = cfg.default_hooks
    assert hooks.checkpoint.backend_args == dict(backend='atomic_local')
    assert hooks.checkpoint_loading == dict(
        type='SafeCheckpointLoadHook', strict=True)
    assert hooks.non_finite_loss == dict(type='NonFiniteLossHook')
