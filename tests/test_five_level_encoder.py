"""FiveLevelEncoder: any four-level encoder under MRPAN's neck and heads.

Unit tests on a small ResNetV1c; then every shipped config that uses the
wrapper builds, trains one step and predicts at a small input (slow), and
each encoder's ImageNet weights load strictly from a state dict saved from
its own library's classifier, in the layout of that library's releases (no
download).
"""
import glob
import os.path as osp

import pytest
import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope
from mmengine.structures import PixelData
from mmseg.registry import MODELS

from mrpan_mm.benchmark.models import build_optim_wrapper, synthetic_batch
from mrpan_mm.models.backbones import read_state_dict

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))


def configs_using_the_wrapper():
    return [
        path
        for path in sorted(glob.glob(osp.join(REPO, 'configs', '*.py')))
        if Config.fromfile(path).model.backbone.type == 'FiveLevelEncoder'
    ]


WRAPPER_CONFIGS = configs_using_the_wrapper()
SMALL_RESNET = dict(type='ResNetV1c', depth=18, out_indices=(0, 1, 2, 3))
RESNET18_CHANNELS = (64, 128, 256, 512)


def build_encoder(**kwargs):
    init_default_scope('mmseg')
    cfg = dict(
        type='FiveLevelEncoder',
        encoder=SMALL_RESNET,
        encoder_channels=RESNET18_CHANNELS)
    cfg.update(kwargs)
    return MODELS.build(cfg)


def test_levels_strides_and_channels():
    model = build_encoder(stem_channels=(16, 24)).eval()
    with torch.no_grad():
        levels = model(torch.rand(2, 3, 65, 97))
    assert model.out_channels == (24, ) + RESNET18_CHANNELS
    assert [tuple(x.shape[1:]) for x in levels] == [(24, 33, 49),
                                                    (64, 17, 25),
                                                    (128, 9, 13),
                                                    (256, 5, 7),
                                                    (512, 3, 4)]
    # The stem is three-channel in, stride 2 first, then stride 1.
    assert [m.conv.stride for m in model.stem] == [(2, 2), (1, 1)]


class ChannelsLast(torch.nn.Module):
    """Four (N, H, W, C) levels, like timm's Swin features."""

    def __init__(self, channels):
        super().__init__()
        self.channels = channels

    def forward(self, x):
        n, _, h, w = x.shape
        return [
            torch.rand(n, h // 2**(i + 2), w // 2**(i + 2), c)
            for i, c in enumerate(self.channels)
        ]


@pytest.fixture
def channels_last_encoder():
    """``ChannelsLast`` registered for one test only."""
    name = 'ChannelsLastTestEncoder'
    MODELS.register_module(name=name, module=ChannelsLast)
    yield dict(type=name, channels=(8, 16, 32, 64))
    MODELS._module_dict.pop(name)


def test_channels_last_outputs(channels_last_encoder):
    model = build_encoder(
        encoder=channels_last_encoder,
        encoder_channels=(8, 16, 32, 64),
        channels_last_outputs=True)
    levels = model(torch.rand(1, 3, 64, 64))
    assert [tuple(x.shape[1:]) for x in levels] == [(64, 32, 32),
                                                    (8, 16, 16), (16, 8, 8),
                                                    (32, 4, 4), (64, 2, 2)]
    model = build_encoder(
        encoder=channels_last_encoder, encoder_channels=(8, 16, 32, 64))
    with pytest.raises(ValueError, match='look channels-last'):
        model(torch.rand(1, 3, 64, 64))


def test_wrong_encoder_levels_are_named():
    model = build_encoder(encoder=dict(SMALL_RESNET, out_indices=(1, 2, 3)))
    with pytest.raises(ValueError) as err:
        model(torch.rand(1, 3, 64, 64))
    assert 'ResNetV1c should give 4 levels with channels (64, 128, 256, ' \
        '512)' in str(err.value) and 'got 3' in str(err.value)
    with pytest.raises(ValueError, match='4 levels'):
        build_encoder(encoder_channels=(64, 128, 256))


def test_unreadable_safetensors_file_is_named(tmp_path):
    path = tmp_path / 'weights.safetensors'
    path.write_text('not a safetensors file')
    model = build_encoder(
        init_cfg=dict(type='Pretrained', checkpoint=str(path)))
    with pytest.raises(ValueError,
                       match=f'{path} is not a readable safetensors file'):
        model.init_weights()
    with pytest.raises(FileNotFoundError):
        read_state_dict(str(tmp_path / 'missing.safetensors'))


def seg_batch(batch, height, width, num_classes):
    data = synthetic_batch(batch, height, width)
    gen = torch.Generator().manual_seed(1)
    for sample in data['data_samples']:
        sample.gt_sem_seg = PixelData(data=torch.randint(
            0, num_classes, (1, height, width), generator=gen))
    return data


@pytest.mark.slow
@pytest.mark.parametrize('path', WRAPPER_CONFIGS, ids=osp.basename)
def test_config_trains_and_predicts_at_small_size(path):
    """One training step of the shipped config (only the padding size is
    shrunk to the 32x48 test input), then inference."""
    torch.manual_seed(0)
    init_default_scope('mmseg')
    cfg = Config.fromfile(path)
    cfg.model.data_preprocessor.size = (32, 48)
    model = MODELS.build(cfg.model)
    segmentation = cfg.model.type == 'EncoderDecoder'
    data = seg_batch(2, 32, 48, cfg.model.decode_head.num_classes) \
        if segmentation else synthetic_batch(2, 32, 48)
    optim_wrapper = build_optim_wrapper(model, cfg, amp=False)
    stem = model.backbone.stem[0].conv.weight
    encoder_params = [
        p for p in model.backbone.encoder.parameters() if p.requires_grad
    ]
    before = (stem.detach().clone(), encoder_params[0].detach().clone())
    model.train()
    losses = model.train_step(data, optim_wrapper)
    assert all(torch.isfinite(v).all() for v in losses.values())
    assert not torch.equal(stem, before[0])
    assert not torch.equal(encoder_params[0], before[1])
    model.eval()
    with torch.no_grad():
        out = model.test_step(data)
    field = 'pred_sem_seg' if segmentation else 'pred_depth_map'
    assert getattr(out[0], field).data.shape == (1, 32, 48)


def perturbed(state_dict, seed=0):
    """Every floating tensor moved off its initial value (so a tensor that
    was not loaded shows); statistics stay positive."""
    gen = torch.Generator().manual_seed(seed)
    return {
        k: v + torch.rand(v.shape, generator=gen) if v.is_floating_point()
        else v
        for k, v in state_dict.items()
    }


def mmpretrain_classifier_file(backbone, channels, path):
    """An MMPretrain ImageNet classifier saved as its releases are:
    ``{'meta': ..., 'state_dict': {'backbone.*', 'head.fc.*'}}``."""
    from mmpretrain.registry import MODELS as PRETRAIN_MODELS
    init_default_scope('mmpretrain')
    classifier = PRETRAIN_MODELS.build(
        dict(
            type='ImageClassifier',
            backbone=backbone,
            neck=dict(type='GlobalAveragePooling'),
            head=dict(
                type='LinearClsHead', num_classes=1000,
                in_channels=channels)))
    init_default_scope('mmseg')
    state_dict = perturbed(classifier.state_dict())
    torch.save(dict(meta=dict(mmpretrain_version='1.2.0'),
                    state_dict=state_dict), path)
    return {
        k[len('backbone.'):]: v
        for k, v in state_dict.items() if k.startswith('backbone.')
    }


def mmseg_resnet_file(path):
    """mmseg's ResNetV1c-50 with a 1000-class ``fc``, as a bare state dict
    (the layout of ``open-mmlab://resnet50_v1c``)."""
    init_default_scope('mmseg')
    state_dict = MODELS.build(dict(type='ResNetV1c', depth=50)).state_dict()
    fc = torch.nn.Linear(2048, 1000)
    state_dict.update({f'fc.{k}': v for k, v in fc.state_dict().items()})
    state_dict = perturbed(state_dict)
    torch.save(state_dict, path)
    return state_dict


def timm_file(path):
    """timm's efficientnet_b3 as released on the Hugging Face hub:
    ``model.safetensors``, a bare state dict with timm's names."""
    import timm
    from safetensors.torch import save_file
    state_dict = perturbed(
        timm.create_model('efficientnet_b3', pretrained=False).state_dict())
    save_file({k: v.contiguous() for k, v in state_dict.items()}, path)
    return state_dict


SWIN = dict(type='SwinTransformer', arch='tiny')
CONVNEXT = dict(type='ConvNeXt', arch='tiny')
# config -> (writer of the library's file, the encoder submodule it loads
# into, model keys the classifier lacks)
LOADERS = {
    'mrpan_resnet50_nyu.py': (mmseg_resnet_file, '', ()),
    'mrpan_convnext_t_nyu.py':
    (lambda p: mmpretrain_classifier_file(CONVNEXT, 768, p), '',
     ('norm0', 'norm1', 'norm2')),
    'mrpan_swin_t_nyu.py': (lambda p: mmpretrain_classifier_file(
        SWIN, 768, p), '', ('norm0', 'norm1', 'norm2')),
    'mrpan_timm_efficientnet_b3_nyu.py': (timm_file, 'timm_model.model.',
                                          ()),
}


def backbone_from(config, checkpoint):
    init_default_scope('mmseg')
    cfg = Config.fromfile(osp.join(REPO, 'configs', config))
    cfg.model.backbone.init_cfg.checkpoint = checkpoint
    return MODELS.build(cfg.model.backbone)


def assert_loaded(backbone, source, submodule, new_prefixes):
    encoder = backbone.encoder.state_dict()
    loaded = 0
    for key, value in encoder.items():
        name = key[len(submodule):]
        if name.startswith(new_prefixes):
            if name.endswith('.weight'):  # new LayerNorms: ones
                assert torch.equal(value, torch.ones_like(value)), key
            continue
        assert torch.equal(value, source[name]), key
        loaded += 1
    assert loaded > 100


@pytest.mark.slow
@pytest.mark.parametrize('config', sorted(LOADERS))
def test_encoder_weights_load_from_the_library_checkpoint(config, tmp_path):
    writer, submodule, new_prefixes = LOADERS[config]
    suffix = '.safetensors' if 'timm' in config else '.pth'
    checkpoint = str(tmp_path / f'imagenet{suffix}')
    source = writer(checkpoint)
    backbone = backbone_from(config, checkpoint)
    backbone.init_weights()
    assert_loaded(backbone, source, submodule, tuple(new_prefixes))


@pytest.mark.slow
def test_swin_file_of_the_older_layout_loads(tmp_path):
    """MMClassification 0.x files name the last norm `norm.` and store the
    shifted windows' `attn_mask` buffers."""
    checkpoint = str(tmp_path / 'swin_old.pth')
    source = mmpretrain_classifier_file(SWIN, 768, checkpoint)
    old = torch.load(checkpoint, weights_only=True)
    state_dict = {
        k.replace('backbone.norm3.', 'backbone.norm.'): v
        for k, v in old['state_dict'].items()
    }
    state_dict['backbone.stages.0.blocks.1.attn.attn_mask'] = torch.zeros(
        4, 49, 49)
    torch.save(dict(state_dict=state_dict), checkpoint)
    backbone = backbone_from('mrpan_swin_t_nyu.py', checkpoint)
    backbone.init_weights()
    assert_loaded(backbone, source, '', ('norm0', 'norm1', 'norm2'))


@pytest.mark.slow
def test_mismatching_checkpoints_are_refused_with_keys(tmp_path):
    checkpoint = str(tmp_path / 'convnext.pth')
    mmpretrain_classifier_file(CONVNEXT, 768, checkpoint)
    full = torch.load(checkpoint, weights_only=True)['state_dict']
    broken = dict(full)
    del broken['backbone.stages.2.4.depthwise_conv.weight']
    broken['backbone.stages.0.0.pointwise_conv1.weight'] = torch.zeros(3, 96)
    broken['backbone.extra.weight'] = torch.zeros(1)
    torch.save(dict(state_dict=broken), checkpoint)
    backbone = backbone_from('mrpan_convnext_t_nyu.py', checkpoint)
    with pytest.raises(ValueError) as err:
        backbone.init_weights()
    message = str(err.value)
    for part in (f'checkpoint {checkpoint} does not match '
                 'mmpretrain.ConvNeXt',
                 '1 missing keys (in the model, not the checkpoint):\n'
                 '    stages.2.4.depthwise_conv.weight',
                 '1 unexpected keys (in the checkpoint, not the model):\n'
                 '    extra.weight',
                 'stages.0.0.pointwise_conv1.weight: checkpoint (3, 96), '
                 'model (384, 96)'):
        assert part in message
    # Another architecture: the ConvNeXt file for the ResNet-50 config.
    torch.save(dict(state_dict=full), checkpoint)
    backbone = backbone_from('mrpan_resnet50_nyu.py', checkpoint)
    with pytest.raises(ValueError, match=r'(?s)does not match ResNetV1c:\n'
                       r'  \d+ missing keys.*\n    stem.0.weight\n.*'
                       r'unexpected keys'):
        backbone.init_weights()
