"""Tests of the residual pyramid segmentation head (MRPANSegHead)."""
import os.path as osp

import pytest
import torch
import torch.nn.functional as F
from mmengine.config import Config
from mmengine.registry import DefaultScope
from mmengine.structures import PixelData
from mmseg.registry import MODELS
from mmseg.structures import SegDataSample

from mrpan_mm.models.decode_heads.refine_modules import (
    BasicRefine, ResidualRefinementModule)

NUM_CLASSES = 5
IGNORE = 255
FUSED_CHANNELS = (8, 16, 16, 32, 32)
TOP_CHANNELS = 64
# Level sizes of a 32x40 input (1/2 .. 1/32, ceil) and of an odd 65x83 one.
SIZES_32x40 = [(16, 20), (8, 10), (4, 5), (2, 3), (1, 2)]
SIZES_ODD = [(33, 42), (17, 21), (9, 11), (5, 6), (3, 3)]
SCALE_WEIGHTS = (1.0, 0.5, 0.25, 2.0, 0.0)
NYU40_CONFIG = osp.join(
    osp.dirname(osp.dirname(osp.abspath(__file__))), 'configs',
    'mrpan_seg_nyu40.py')


def build_head(**kwargs):
    cfg = dict(
        type='MRPANSegHead',
        num_classes=NUM_CLASSES,
        in_channels=FUSED_CHANNELS,
        top_channels=TOP_CHANNELS,
        top_proj_channels=16)
    cfg.update(kwargs)
    return MODELS.build(cfg)


def make_inputs(sizes, batch=2, seed=0):
    gen = torch.Generator().manual_seed(seed)
    fused = tuple(
        torch.randn(batch, c, h, w, generator=gen)
        for c, (h, w) in zip(FUSED_CHANNELS, sizes))
    return fused + (torch.randn(
        batch, TOP_CHANNELS, *sizes[-1], generator=gen), )


def make_labels(batch, size, seed=0, ignore_fraction=0.2):
    """Labels (N, 1, H, W) in 0..K-1 with a fraction set to IGNORE."""
    gen = torch.Generator().manual_seed(seed)
    labels = torch.randint(0, NUM_CLASSES, (batch, 1, *size), generator=gen)
    ignored = torch.rand(labels.shape, generator=gen) < ignore_fraction
    return labels.masked_fill(ignored, IGNORE)


def make_samples(labels):
    return [
        SegDataSample(gt_sem_seg=PixelData(data=label)) for label in labels
    ]


def make_logits(sizes, batch=2, seed=1):
    gen = torch.Generator().manual_seed(seed)
    return [
        torch.randn(batch, NUM_CLASSES, h, w, generator=gen)
        for h, w in sizes
    ]


def nearest_by_index(labels, size):
    """Nearest-neighbour resize written out: output row i reads input row
    floor(i * H_in / H_out), the same for columns."""
    in_h, in_w = labels.shape[-2:]
    rows = torch.arange(size[0]) * in_h // size[0]
    cols = torch.arange(size[1]) * in_w // size[1]
    return labels[..., rows[:, None], cols[None, :]]


def manual_loss(logits, labels, weights):
    """sum_t w_t * mean over non-ignored pixels of level t's cross-entropy."""
    total = 0.0
    for pred, weight in zip(logits, weights):
        target = nearest_by_index(labels, pred.shape[-2:]).squeeze(1)
        total = total + weight * F.cross_entropy(
            pred, target, ignore_index=IGNORE)
    return total


@pytest.mark.parametrize('sizes', [SIZES_32x40, SIZES_ODD])
@pytest.mark.parametrize('refine', ['rrm', 'basic'])
def test_logits_at_every_level(sizes, refine):
    head = build_head(refine=refine)
    logits = head(make_inputs(sizes))
    assert [tuple(x.shape) for x in logits] == [(2, NUM_CLASSES, h, w)
                                                for h, w in sizes]
    refine_type = ResidualRefinementModule if refine == 'rrm' \
        else BasicRefine
    assert all(isinstance(m, refine_type) for m in head.decoder.refines)
    assert not hasattr(head, 'conv_seg')


def test_coarse_to_fine():
    """The coarsest logits do not depend on the finer levels; the finest
    depend on every level."""
    head = build_head().eval()
    inputs = make_inputs(SIZES_32x40)
    changed = (inputs[0] + 1.0, ) + inputs[1:]
    with torch.no_grad():
        base, other = head(inputs), head(changed)
    torch.testing.assert_close(base[-1], other[-1])
    assert not torch.allclose(base[0], other[0])


def test_rejects_wrong_inputs():
    head = build_head()
    with pytest.raises(ValueError, match='fused levels then the deepest'):
        head(make_inputs(SIZES_32x40)[:-1])
    with pytest.raises(ValueError, match='non-negative'):
        build_head(scale_weights=(1.0, 1.0))
    with pytest.raises(ValueError, match='refine'):
        build_head(refine='unknown')


@pytest.mark.parametrize('sizes,label_size',
                         [(SIZES_32x40, (32, 40)), (SIZES_ODD, (65, 83))])
def test_loss_is_weighted_sum_of_ce(sizes, label_size):
    head = build_head(scale_weights=SCALE_WEIGHTS)
    logits = make_logits(sizes)
    labels = make_labels(2, label_size)
    losses = head.loss_by_feat(logits, make_samples(labels))
    expected = manual_loss(logits, labels, SCALE_WEIGHTS)
    torch.testing.assert_close(losses['loss_ce'], expected)
    # acc_seg: finest logits at the label size, ignored pixels excluded.
    finest = F.interpolate(
        logits[0], size=label_size, mode='bilinear', align_corners=True)
    valid = labels.squeeze(1) != IGNORE
    accuracy = (finest.argmax(1) == labels.squeeze(1))[valid].float().mean()
    torch.testing.assert_close(losses['acc_seg'].squeeze(),
                               100 * accuracy)


def test_every_loss_module_summed_over_scales():
    head = build_head(
        scale_weights=SCALE_WEIGHTS,
        loss_decode=[
            dict(type='CrossEntropyLoss', avg_non_ignore=True),
            dict(
                type='CrossEntropyLoss',
                avg_non_ignore=True,
                loss_weight=0.5,
                loss_name='loss_ce_half')
        ])
    logits = make_logits(SIZES_32x40)
    labels = make_labels(2, (32, 40))
    losses = head.loss_by_feat(logits, make_samples(labels))
    expected = manual_loss(logits, labels, SCALE_WEIGHTS)
    torch.testing.assert_close(losses['loss_ce'], expected)
    torch.testing.assert_close(losses['loss_ce_half'], 0.5 * expected)


def test_ignored_pixels_do_not_affect_loss():
    head = build_head(scale_weights=SCALE_WEIGHTS)
    labels = make_labels(2, (32, 40), ignore_fraction=0.4)
    logits = make_logits(SIZES_32x40)
    noisy = []
    for pred in logits:
        ignored = nearest_by_index(labels, pred.shape[-2:]) == IGNORE
        assert ignored.any()
        noisy.append(pred + 50.0 * torch.randn_like(pred) * ignored)
    samples = make_samples(labels)
    torch.testing.assert_close(
        head.loss_by_feat(noisy, samples)['loss_ce'],
        head.loss_by_feat(logits, samples)['loss_ce'])


def test_all_ignored_gives_zero_loss_and_gradient():
    head = build_head()
    logits = [x.requires_grad_() for x in make_logits(SIZES_32x40)]
    labels = torch.full((2, 1, 32, 40), IGNORE)
    loss = head.loss_by_feat(logits, make_samples(labels))['loss_ce']
    loss.backward()
    assert loss.item() == 0.0
    assert all(x.grad.abs().max() == 0 for x in logits)


@pytest.mark.parametrize('sizes,input_size',
                         [(SIZES_32x40, (32, 40)), (SIZES_ODD, (65, 83))])
def test_predict_returns_finest_logits_at_input_size(sizes, input_size):
    head = build_head().eval()
    inputs = make_inputs(sizes)
    metas = [dict(img_shape=input_size, pad_shape=input_size)] * 2
    with torch.no_grad():
        pred = head.predict(inputs, metas, test_cfg=dict())
        finest = head(inputs)[0]
    assert pred.shape == (2, NUM_CLASSES, *input_size)
    torch.testing.assert_close(
        pred,
        F.interpolate(
            finest, size=input_size, mode='bilinear', align_corners=True))


def test_encoder_decoder_with_senet_and_maca_neck():
    """The NYU40 config's model (SENet + MACANeck unchanged) with a light
    encoder: training losses and predictions at the input size."""
    cfg = Config.fromfile(NYU40_CONFIG)
    fused = (16, 16, 32, 32, 64)
    cfg.merge_from_dict({
        'model.backbone.arch': 'seresnext26_32x4d',
        'model.backbone.init_cfg': None,
        'model.neck.in_channels': (64, 256, 512, 1024, 2048),
        'model.neck.fuse_channels': (20, 20, 40, 40, 80),
        'model.neck.out_channels': fused,
        'model.decode_head.in_channels': fused,
        'model.decode_head.top_proj_channels': 32,
        'model.decode_head.num_classes': NUM_CLASSES,
        'model.data_preprocessor.size': (32, 40),
    })
    with DefaultScope.overwrite_default_scope('mmseg'):
        model = MODELS.build(cfg.model)
    images = torch.randint(0, 256, (2, 3, 32, 40), dtype=torch.uint8)
    labels = make_labels(2, (32, 40))
    metas = dict(img_shape=(32, 40), ori_shape=(32, 40), pad_shape=(32, 40))
    samples = make_samples(labels)
    for sample in samples:
        sample.set_metainfo(metas)
    data = model.data_preprocessor(
        dict(inputs=list(images), data_samples=samples), training=True)
    losses = model(**data, mode='loss')
    assert set(losses) == {'decode.loss_ce', 'decode.acc_seg'}
    assert torch.isfinite(losses['decode.loss_ce'])
    losses['decode.loss_ce'].backward()
    stem_weight = next(model.backbone.parameters())
    assert stem_weight.grad is not None and stem_weight.grad.abs().sum() > 0

    model.eval()
    with torch.no_grad():
        results = model(**data, mode='predict')
    assert results[0].seg_logits.data.shape == (NUM_CLASSES, 32, 40)
    assert results[0].pred_sem_seg.data.shape == (1, 32, 40)
    assert int(results[0].pred_sem_seg.data.max()) < NUM_CLASSES
