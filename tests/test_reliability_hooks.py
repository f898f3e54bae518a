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

from mrpan_mm.apis import DepthInferencer
from mrpan_mm.engine import (NonFiniteLossError, NonFiniteLossHook,
                             SafeCheckpointLoadHook)
from mrpan_mm.testing import save_random_checkpoint
from mrpan_mm.utils import CheckpointMismatchError, check_state_dict
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


def mismatch_message(state_dict, **kwargs):
    with pytest.raises(CheckpointMismatchError) as info:
        check_state_dict(Net(), state_dict, 'a.pth', **kwargs)
    return str(info.value)


def test_check_state_dict_lists_every_kind():
    """Catches: a mismatch report that misses a kind (missing, unexpected,
    mis-shaped), trips over DDP's ``module.`` prefix or BN's tolerated
    ``num_batches_tracked``, or lists thousands of keys."""
    text = mismatch_message(mismatching_state_dict())
    assert text.startswith('checkpoint a.pth does not match the model')
    assert '1 missing keys' in text and 'head.bias' in text
    assert '1 unexpected keys' in text and 'extra.weight' in text
    assert ('conv.weight: checkpoint (8, 3, 3, 3), model (4, 3, 3, 3)'
            in text)
    assert 'num_batches_tracked' not in text
    loaded = check_state_dict(Net(), Net().state_dict(), 'a.pth')
    Net().load_state_dict(loaded, strict=True)
    many = {f'k{i}': torch.zeros(1) for i in range(30)}
    assert '... and 20 more' in mismatch_message(many, max_listed=10)


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


def test_inferencer_refuses_a_mismatching_checkpoint_naming_it(tmp_path):
    """``DepthInferencer`` loads through the same comparison (it used
    MMEngine's private ``_load_checkpoint_to_model``, whose error named no
    file)."""
    path = str(tmp_path / 'other.pth')
    save_random_checkpoint(TINY_CONFIG, path)
    checkpoint = torch.load(path, weights_only=True)
    checkpoint['state_dict']['decode_head.extra.weight'] = torch.zeros(1)
    torch.save(checkpoint, path)
    with pytest.raises(CheckpointMismatchError) as info:
        DepthInferencer(TINY_CONFIG, path, 'cpu', show_progress=False)
    message = str(info.value)
    assert message.startswith(f'checkpoint {path} does not match the model')
    assert '1 unexpected keys' in message
    assert 'decode_head.extra.weight' in message


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
