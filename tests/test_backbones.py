"""Tests of the SENet backbone family against timm's ``legacy_*`` models
(random weights, no download) and of its checkpoint handling."""
import math
from collections import OrderedDict

import pytest
import timm  # required: make test installs it (requirements/tests.txt)
import torch
from torch.nn.modules.batchnorm import _BatchNorm

from mmseg.registry import MODELS
from mrpan_mm.models.backbones import SENet
from tools_runner import load_tool


ODD_INPUT = (1, 3, 65, 81)
BN_STATS = ('weight', 'bias', 'running_mean', 'running_var')


def build_timm(arch, device='cpu'):
    """timm's reference model for ``arch`` with random weights."""
    return timm.create_model(
        f'legacy_{arch}', pretrained=False, device=device)


def randomize_bn_(model, seed=0):
    """Give every BN non-trivial statistics and affine parameters, so that
    a BN loaded into the wrong place would show in the features."""
    gen = torch.Generator().manual_seed(seed)
    for m in model.modules():
        if isinstance(m, _BatchNorm):
            for name, (low, high) in dict(
                    running_mean=(-0.2, 0.2),
                    running_var=(0.5, 1.5),
                    weight=(0.5, 1.0),
                    bias=(-0.1, 0.1)).items():
                tensor = getattr(m, name).data
                tensor.copy_(
                    torch.rand(tensor.shape, generator=gen) * (high - low) +
                    low)
    return model


def bn_modules(module):
    return [m for m in module.modules() if isinstance(m, _BatchNorm)]


def bn_means(module):
    return [m.running_mean.clone() for m in bn_modules(module)]


def timm_levels(model, x):
    """The five levels of a timm legacy SENet: ``layer0`` (before
    ``pool0``) and ``layer1``..``layer4``, read with forward hooks."""
    feats = []
    hooks = [
        getattr(model, f'layer{i}').register_forward_hook(
            lambda module, args, out: feats.append(out.clone()))
        for i in range(5)
    ]
    with torch.no_grad():
        model(x)
    for hook in hooks:
        hook.remove()
    return feats


def save_checkpoint(state_dict, path, style):
    """Write ``state_dict`` as a released file of the given ``style``."""
    if style == 'cadene':
        # Cadene's files predate PyTorch 0.4.1: no BN batch counters.
        payload = OrderedDict((k, v) for k, v in state_dict.items()
                              if not k.endswith('num_batches_tracked'))
    elif style == 'mmengine':
        payload = dict(
            state_dict=OrderedDict(
                [(f'backbone.{k}', v) for k, v in state_dict.items()] +
                [('decode_head.conv.weight', torch.zeros(1, 8, 3, 3))]),
            meta=dict(epoch=1))
    else:
        payload = state_dict
    torch.save(payload, path)
    return str(path)


def expected_sizes(size):
    """Level sizes from the convolution arithmetic, written independently:
    stem conv k3/k7 s2 'same' padding, max-pool 3x3 s2 ceil_mode, then
    stride-2 stages with 'same' padding."""
    h0 = (size + 1) // 2
    h1 = math.ceil((h0 - 3) / 2) + 1
    sizes = [h0, h1]
    for _ in range(3):
        sizes.append((sizes[-1] + 1) // 2)
    return sizes


def cadene_senet154_keys():
    """Key names of Cadene's ``senet154-c7b49a05.pth``, enumerated from the
    layout of his ``pretrained-models.pytorch`` SENet: ``layer0`` holds
    conv1/bn1/relu1/../bn3/relu3/pool, blocks hold conv1-3, bn1-3,
    se_module.fc1/fc2 and (first block of a stage) downsample.0/.1."""
    keys = []
    for i in (1, 2, 3):
        keys += [f'layer0.conv{i}.weight'
                 ] + [f'layer0.bn{i}.{s}' for s in BN_STATS]
    for stage, num_blocks in zip((1, 2, 3, 4), (3, 8, 36, 3)):
        for b in range(num_blocks):
            p = f'layer{stage}.{b}.'
            for i in (1, 2, 3):
                keys += [f'{p}conv{i}.weight'
                         ] + [f'{p}bn{i}.{s}' for s in BN_STATS]
            keys += [
                f'{p}se_module.fc{i}.{s}' for i in (1, 2)
                for s in ('weight', 'bias')
            ]
            if b == 0:
                keys += [f'{p}downsample.0.weight'
                         ] + [f'{p}downsample.1.{s}' for s in BN_STATS]
    return set(keys) | {'last_linear.weight', 'last_linear.bias'}


def without_counters(keys):
    return {k for k in keys if not k.endswith('num_batches_tracked')}


@pytest.mark.parametrize('arch', sorted(SENet.arch_settings))
def test_layout_equals_timm_without_classifier(arch):
    with torch.device('meta'):
        ours = SENet(arch).state_dict()
    theirs = build_timm(arch, device='meta').state_dict()
    theirs = {
        k: v
        for k, v in theirs.items() if not k.startswith('last_linear.')
    }
    assert list(ours) == list(theirs)
    assert all(ours[k].shape == theirs[k].shape for k in ours)


def test_senet154_keys_are_cadene_keys():
    with torch.device('meta'):
        ours = SENet('senet154').state_dict()
    timm_keys = build_timm('senet154', device='meta').state_dict().keys()
    cadene = cadene_senet154_keys()
    assert without_counters(ours) == cadene - {
        'last_linear.weight', 'last_linear.bias'
    }
    assert without_counters(timm_keys) == cadene
    # Shapes that pin the SENet-154 layout: 64-group 3x3 convs with 2p
    # input channels, 3x3 projection shortcuts after layer1, 128-ch stem.
    assert ours['layer0.conv3.weight'].shape == (128, 64, 3, 3)
    assert ours['layer1.0.conv2.weight'].shape == (256, 2, 3, 3)
    assert ours['layer1.0.downsample.0.weight'].shape == (256, 128, 1, 1)
    assert ours['layer2.0.downsample.0.weight'].shape == (512, 256, 3, 3)
    assert ours['layer4.2.se_module.fc1.weight'].shape == (128, 2048, 1, 1)


@pytest.mark.parametrize('arch, style', [
    pytest.param('senet154', 'timm', marks=pytest.mark.slow),  # 2 x 113 M
    ('seresnet50', 'cadene'),
    ('seresnext50_32x4d', 'mmengine')
])
def test_pretrained_features_equal_timm(arch, style, tmp_path):
    torch.manual_seed(0)
    reference = randomize_bn_(build_timm(arch)).eval()
    checkpoint = save_checkpoint(reference.state_dict(),
                                 tmp_path / f'{arch}.pth', style)
    model = SENet(
        arch, init_cfg=dict(type='Pretrained', checkpoint=checkpoint))
    model.init_weights()
    model.eval()
    x = torch.randn(ODD_INPUT)
    with torch.no_grad():
        ours = model(x)
    theirs = timm_levels(reference, x)
    assert len(ours) == 5
    diffs = [(a - b).abs().max().item() for a, b in zip(ours, theirs)]
    for a, b in zip(ours, theirs):
        assert a.shape == b.shape
    assert max(diffs) <= 1e-5, f'max abs diff per level: {diffs}'


@pytest.mark.parametrize(
    'arch, expected_channels',
    [('senet154', (128, 256, 512, 1024, 2048)),
     ('seresnet50', (64, 256, 512, 1024, 2048)),
     ('seresnext50_32x4d', (64, 256, 512, 1024, 2048))])
def test_level_shapes_on_odd_input(arch, expected_channels):
    model = MODELS.build(dict(type='SENet', arch=arch)).eval()
    assert model.out_channels == expected_channels
    with torch.no_grad():
        feats = model(torch.rand(ODD_INPUT))
    shapes = [tuple(f.shape) for f in feats]
    assert shapes == [(1, c, h, w)
                      for c, h, w in zip(expected_channels,
                                         expected_sizes(ODD_INPUT[2]),
                                         expected_sizes(ODD_INPUT[3]))]


def test_norm_cfg_is_applied_without_changing_names():
    with torch.device('meta'):
        bn = SENet('seresnet50')
        sync = SENet(
            'seresnet50', norm_cfg=dict(type='SyncBN', requires_grad=False))
    norms = bn_modules(sync)
    assert len(norms) == len(bn_modules(bn)) > 0
    assert all(isinstance(m, torch.nn.SyncBatchNorm) for m in norms)
    assert not any(p.requires_grad for m in norms for p in m.parameters())
    assert list(sync.state_dict()) == list(bn.state_dict())


def test_out_indices_select_levels():
    model = SENet('seresnext26_32x4d', out_indices=(0, 2, 4)).eval()
    with torch.no_grad():
        feats = model(torch.rand(1, 3, 33, 47))
    assert [f.shape[1] for f in feats] == [64, 512, 2048]


@pytest.mark.parametrize('kwargs, message', [
    (dict(arch='senet155'), 'unknown arch'),
    (dict(out_indices=(1, 5)), 'out_indices'),
    (dict(out_indices=(2, 1)), 'out_indices'),
    (dict(out_indices=()), 'out_indices'),
    (dict(frozen_stages=5), 'frozen_stages'),
])
def test_bad_arguments_raise(kwargs, message):
    with torch.device('meta'), pytest.raises((KeyError, ValueError),
                                             match=message):
        SENet(**kwargs)


@pytest.mark.parametrize('frozen_stages', [0, 2])
def test_frozen_stages_freeze_grads_and_bn_stats(frozen_stages):
    model = SENet('seresnext26_32x4d', frozen_stages=frozen_stages)
    model.train()
    frozen = [getattr(model, f'layer{i}') for i in range(frozen_stages + 1)]
    trained = [
        getattr(model, f'layer{i}') for i in range(frozen_stages + 1, 5)
    ]
    before = [bn_means(stage) for stage in frozen + trained]
    model(torch.rand(2, 3, 33, 33))
    after = [bn_means(stage) for stage in frozen + trained]
    for stage, old, new in zip(frozen + trained, before, after):
        is_frozen = any(stage is f for f in frozen)
        assert all(p.requires_grad != is_frozen for p in stage.parameters())
        assert all(m.training != is_frozen for m in bn_modules(stage))
        unchanged = all(torch.equal(a, b) for a, b in zip(old, new))
        assert unchanged == is_frozen


def test_norm_eval_keeps_bn_statistics():
    model = SENet('seresnext26_32x4d', norm_eval=True)
    model.train()
    assert model.training
    assert not any(m.training for m in bn_modules(model))
    before = bn_means(model)
    model(torch.rand(2, 3, 33, 33))
    assert all(torch.equal(a, b) for a, b in zip(before, bn_means(model)))
    assert all(p.requires_grad for p in model.parameters())


def test_gradient_checkpointing_gives_same_gradients():
    torch.manual_seed(0)
    plain = SENet('seresnext26_32x4d', out_indices=(4, ))
    ckpt = SENet('seresnext26_32x4d', out_indices=(4, ), with_cp=True)
    ckpt.load_state_dict(plain.state_dict())
    x = torch.rand(2, 3, 33, 33)
    grads = []
    for model in (plain, ckpt):
        model.train()
        inp = x.clone().requires_grad_()
        model(inp)[0].square().mean().backward()
        grads.append(inp.grad)
    torch.testing.assert_close(grads[0], grads[1], rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize('source_arch, target_arch, kind, key', [
    ('seresnet50', 'senet154', 'missing keys', 'layer0.conv2.weight'),
    ('seresnet101', 'seresnet50', 'unexpected keys', 'layer3.6.conv1.weight'),
    ('seresnet50', 'seresnext50_32x4d', 'mis-shaped keys',
     'layer1.0.conv1.weight'),
])
def test_wrong_architecture_checkpoint_is_refused(source_arch, target_arch,
                                                  kind, key, tmp_path):
    checkpoint = save_checkpoint(
        build_timm(source_arch).state_dict(), tmp_path / 'wrong.pth', 'timm')
    # The check runs before any tensor is copied, so a 'meta' model will do.
    with torch.device('meta'):
        model = SENet(
            target_arch,
            init_cfg=dict(type='Pretrained', checkpoint=checkpoint))
    with pytest.raises(ValueError) as err:
        model.init_weights()
    message = str(err.value)
    assert checkpoint in message and f'SENet({target_arch})' in message
    assert kind in message and key in message


def test_bad_checkpoint_files_raise(tmp_path):
    text = tmp_path / 'notes.txt'
    text.write_text('not a checkpoint')
    listing = tmp_path / 'list.pth'
    torch.save([torch.zeros(1)], listing)
    for path, message in [(text, 'not a readable PyTorch checkpoint'),
                          (listing, 'holds a list')]:
        model = SENet(
            'seresnext26_32x4d',
            init_cfg=dict(type='Pretrained', checkpoint=str(path)))
        with pytest.raises(ValueError, match=message) as err:
            model.init_weights()
        assert str(path) in str(err.value)


def test_prefix_selects_submodule_and_missing_prefix_raises(tmp_path):
    source = SENet('seresnext26_32x4d')
    randomize_bn_(source, seed=1)
    checkpoint = save_checkpoint(source.state_dict(), tmp_path / 'seg.pth',
                                 'mmengine')
    model = SENet(
        'seresnext26_32x4d',
        init_cfg=dict(
            type='Pretrained', checkpoint=checkpoint, prefix='backbone.'))
    model.init_weights()
    for k, v in source.state_dict().items():
        assert torch.equal(model.state_dict()[k], v), k
    model = SENet(
        'seresnext26_32x4d',
        init_cfg=dict(type='Pretrained', checkpoint=checkpoint,
                      prefix='neck.'))
    with pytest.raises(ValueError, match="no key starting with 'neck.'"):
        model.init_weights()


def test_default_init_without_checkpoint():
    model = SENet('seresnext26_32x4d')
    model.init_weights()
    bn = model.layer1[0].bn1
    assert torch.equal(bn.weight, torch.ones_like(bn.weight))
    assert torch.equal(bn.bias, torch.zeros_like(bn.bias))
    # Kaiming normal, fan_out, ReLU gain: std = sqrt(2 / (C_out * k * k)).
    weight = model.layer3[0].conv3.weight
    expected_std = math.sqrt(2 / weight.shape[0])
    assert abs(weight.std().item() / expected_std - 1) < 0.05


def test_converter_cli_writes_loadable_backbone_weights(tmp_path):
    converter = load_tool('model_converters/senet2mmseg.py')
    reference = randomize_bn_(build_timm('seresnext26_32x4d')).eval()
    src = save_checkpoint(reference.state_dict(), tmp_path / 'src.pth',
                          'cadene')
    dst = str(tmp_path / 'out' / 'dst.pth')
    converter.main([src, dst, '--arch', 'seresnext26_32x4d'])
    written = torch.load(dst, weights_only=True)
    assert written['meta']['arch'] == 'seresnext26_32x4d'
    assert not any(k.startswith('last_linear') for k in written['state_dict'])
    model = SENet(
        'seresnext26_32x4d', init_cfg=dict(type='Pretrained', checkpoint=dst))
    model.init_weights()
    model.eval()
    x = torch.rand(1, 3, 37, 45)
    with torch.no_grad():
        ours = model(x)
    for a, b in zip(ours, timm_levels(reference, x)):
        assert (a - b).abs().max().item() <= 1e-5
    with pytest.raises(ValueError, match='does not match SENet'):
        converter.main([src, dst, '--arch', 'seresnet50'])
