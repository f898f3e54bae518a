"""Tests of the MRPAN residual pyramid depth head and its refine blocks."""
import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F
from mmcv.cnn import ConvModule
from mmengine.config import ConfigDict
from mmengine.registry import DefaultScope
from mmengine.structures import PixelData
from mmseg.registry import MODELS
from mmseg.structures import SegDataSample

from mrpan_mm.models.decode_heads import (BasicRefine, MRPANHead,
                                          ResidualRefinementModule)

FUSED_CHANNELS = (8, 16, 32, 64, 128)
TOP_CHANNELS = 256
BACKBONE_CHANNELS = (16, 32, 64, 128, 256)
SIZES_228x304 = [(114, 152), (57, 76), (29, 38), (15, 19), (8, 10)]
SIZES_ODD = [(33, 42), (17, 21), (9, 11), (5, 6), (3, 3)]


class HeadTestL1Loss(nn.Module):
    """Masked L1 over every scale (gt resized by nearest), for these tests."""

    def forward(self, preds, gt):
        total = 0
        for pred in preds:
            target = F.interpolate(gt, size=pred.shape[-2:], mode='nearest')
            valid = target > 0
            total = total + (pred - target).abs()[valid].mean()
        return dict(loss_l1=total, num_scales=torch.tensor(float(len(preds))))


class HeadTestPyramidBackbone(nn.Module):
    """Five stride-2 conv-BN-ReLU stages: levels at 1/2 .. 1/32."""

    def __init__(self, channels=BACKBONE_CHANNELS):
        super().__init__()
        ins = (3, ) + tuple(channels[:-1])
        self.stages = nn.ModuleList(
            ConvModule(i, o, 3, stride=2, padding=1, norm_cfg=dict(type='BN'))
            for i, o in zip(ins, channels))

    def forward(self, x):
        feats = []
        for stage in self.stages:
            x = stage(x)
            feats.append(x)
        return tuple(feats)


@pytest.fixture(autouse=True)
def stand_in_modules():
    """Register this file's stand-in loss and backbone for one test only."""
    modules = (HeadTestL1Loss, HeadTestPyramidBackbone)
    for module in modules:
        MODELS.register_module(module=module)
    yield
    for module in modules:
        MODELS._module_dict.pop(module.__name__)


def make_inputs(sizes, batch=2, seed=0):
    gen = torch.Generator().manual_seed(seed)
    fused = [
        torch.randn(batch, c, h, w, generator=gen)
        for c, (h, w) in zip(FUSED_CHANNELS, sizes)
    ]
    top = torch.randn(batch, TOP_CHANNELS, *sizes[-1], generator=gen)
    return tuple(fused) + (top, )


def build_head(**kwargs):
    cfg = dict(
        type='MRPANHead',
        in_channels=FUSED_CHANNELS,
        top_channels=TOP_CHANNELS,
        top_proj_channels=32,
        loss_decode=dict(type='HeadTestL1Loss'))
    cfg.update(kwargs)
    return MODELS.build(cfg)


def make_samples(batch, size, seed=0):
    gen = torch.Generator().manual_seed(seed)
    samples = []
    for _ in range(batch):
        depth = torch.rand(1, *size, generator=gen) * 5 + 0.5
        depth[:, :2] = 0  # a band of invalid pixels
        sample = SegDataSample(
            metainfo=dict(
                img_shape=size,
                ori_shape=size,
                pad_shape=size,
                padding_size=[0, 0, 0, 0]))
        sample.gt_depth_map = PixelData(data=depth)
        samples.append(sample)
    return samples


def zero_refine_outputs(head):
    """Make every refine block the identity (its last conv outputs 0)."""
    for refine in head.decoder.refines:
        last = refine.residual[-1] if isinstance(refine,
                                                 BasicRefine) else refine.head
        nn.init.zeros_(last.weight)
        nn.init.zeros_(last.bias)


@pytest.mark.parametrize('sizes', [SIZES_228x304, SIZES_ODD])
@pytest.mark.parametrize('refine', ['basic', 'rrm'])
def test_forward_returns_five_depths_finest_first(sizes, refine):
    head = build_head(refine=refine).eval()
    with torch.no_grad():
        depths = head(make_inputs(sizes))
    assert len(depths) == 5
    for depth, (h, w) in zip(depths, sizes):
        assert depth.shape == (2, 1, h, w)
        assert torch.isfinite(depth).all()


def test_pyramid_is_coarse_to_fine_residual():
    """With identity refines, d_t = branch_t(F_t) + up(d_{t+1})."""
    head = build_head(refine='basic').eval()
    zero_refine_outputs(head)
    inputs = make_inputs(SIZES_ODD, seed=3)
    dec = head.decoder
    with torch.no_grad():
        depths = head(inputs)
        top = torch.cat([dec.top_proj(inputs[5]), inputs[4]], dim=1)
        expected = dec.branches[4](top)
        torch.testing.assert_close(depths[4], expected)
        for t in (3, 2, 1, 0):
            up = F.interpolate(
                expected,
                size=SIZES_ODD[t],
                mode='bilinear',
                align_corners=True)
            expected = dec.branches[t](inputs[t]) + up
            torch.testing.assert_close(depths[t], expected)


def test_channel_widths_follow_sarpn():
    head = build_head(refine='basic')
    dec = head.decoder
    assert dec.top_proj.conv.kernel_size == (1, 1)
    assert dec.branches[4][0].conv.in_channels == 32 + 128
    assert [b[0].conv.out_channels for b in dec.branches] == [8, 16, 32, 64,
                                                             128]
    assert all(b[1].bias is None and b[1].out_channels == 1
               for b in dec.branches)
    assert [r.residual[0].conv.out_channels
            for r in dec.refines] == [4, 8, 16, 32, 64]


@pytest.mark.parametrize('channels', [1, 5])
def test_refine_blocks_are_residual_for_any_prediction_width(channels):
    pred = torch.randn(2, channels, 9, 11)
    feat = torch.randn(2, 12, 9, 11)
    blocks = [
        BasicRefine(channels, 6),
        ResidualRefinementModule(channels, 12, 6)
    ]
    for block in blocks:
        block.eval()
        assert block(pred, feat).shape == pred.shape
    rrm = blocks[1]
    assert rrm.blocks[1].conv1.dilation == (2, 2)
    assert rrm.blocks[0].conv1.dilation == (1, 1)
    with torch.no_grad():
        # the RRM looks at the features, the basic refine does not
        other = torch.randn_like(feat)
        assert not torch.allclose(rrm(pred, feat), rrm(pred, other))
        assert torch.equal(blocks[0](pred, feat), blocks[0](pred, other))
        for last in (blocks[0].residual[-1], rrm.head):
            nn.init.zeros_(last.weight)
            nn.init.zeros_(last.bias)
        for block in blocks:
            assert torch.equal(block(pred, feat), pred)


@pytest.mark.parametrize('out_act,check', [
    ('relu', lambda d: (d >= 0).all()),
    ('softplus', lambda d: (d > 0).all()),
])
def test_output_activation(out_act, check):
    head = build_head(out_act=out_act).eval()
    with torch.no_grad():
        depths = head(make_inputs(SIZES_ODD))
    assert all(check(d) for d in depths)


def test_identity_activation_keeps_negative_values():
    head = build_head(out_act='identity').eval()
    with torch.no_grad():
        nn.init.constant_(head.decoder.refines[0].head.bias, -100.0)
        depths = head(make_inputs(SIZES_ODD))
    assert (depths[0] < 0).any()


def test_loss_uses_all_scales_and_reaches_every_parameter():
    head = build_head()
    samples = make_samples(2, (66, 84))
    losses = head.loss(make_inputs(SIZES_ODD), samples, train_cfg=None)
    assert set(losses) == {'loss_l1', 'num_scales'}
    assert losses['num_scales'] == 5
    losses['loss_l1'].backward()
    for name, param in head.named_parameters():
        assert param.grad is not None and param.grad.abs().sum() > 0, name


def test_loss_with_multi_scale_depth_loss_sums_the_five_scales():
    """The head hands all five depths and the stacked ground truth to the
    loss: each term is the sum of the term computed scale by scale."""
    head = build_head(
        loss_decode=dict(type='MultiScaleDepthLoss'), out_act='softplus')
    samples = make_samples(2, (66, 84), seed=1)
    inputs = make_inputs(SIZES_ODD)
    losses = head.loss(inputs, samples, train_cfg=None)
    terms = ('loss_depth', 'loss_grad', 'loss_normal')
    assert set(terms) <= set(losses)
    gt = torch.stack([s.gt_depth_map.data for s in samples])
    with torch.no_grad():
        depths = head(inputs)
        per_scale = [head.loss_decode([d], gt) for d in depths]
    for term in terms:
        torch.testing.assert_close(
            losses[term].detach(), sum(s[term] for s in per_scale))
    sum(losses[k] for k in terms).backward()
    assert head.decoder.top_proj.conv.weight.grad.abs().sum() > 0


def test_loss_decode_list_sums_every_loss_module():
    """mmseg's convention: a list of loss configs, each module called on
    the five depths, the outputs summed key by key."""
    main = dict(type='MultiScaleDepthLoss')
    aux = dict(type='MultiScaleDepthLoss', loss_name='loss_aux',
               term_weights=dict(normal=0.))
    head = build_head(loss_decode=[main, main, aux])
    samples = make_samples(2, (66, 84), seed=2)
    inputs = make_inputs(SIZES_ODD)
    losses = head.loss(inputs, samples, train_cfg=None)
    gt = torch.stack([s.gt_depth_map.data for s in samples])
    with torch.no_grad():
        depths = head(inputs)
        alone = MODELS.build(main)(depths, gt)
        alone_aux = MODELS.build(aux)(depths, gt)
    for key, value in alone.items():
        torch.testing.assert_close(losses[key].detach(), 2 * value)
    for key, value in alone_aux.items():
        torch.testing.assert_close(losses[key].detach(), value)
    assert set(losses) == set(alone) | set(alone_aux)


def test_predict_resizes_to_padded_input_and_clamps():
    head = build_head(min_depth=0.5, max_depth=2.0).eval()
    metas = [dict(img_shape=(60, 80), pad_shape=(64, 84))] * 2
    with torch.no_grad():
        nn.init.constant_(head.decoder.refines[0].head.bias, 100.0)
        depth = head.predict(make_inputs(SIZES_ODD), metas, test_cfg=None)
    assert depth.shape == (2, 1, 64, 84)
    assert depth.min() >= 0.5 and depth.max() <= 2.0
    assert (depth == 2.0).any()
    # sliding inference passes the crop size as a torch.Size img_shape
    metas = [dict(img_shape=torch.Size((40, 50)), pad_shape=(64, 84))]
    with torch.no_grad():
        depth = head.predict(make_inputs(SIZES_ODD, batch=1), metas, None)
    assert depth.shape == (1, 1, 40, 50)


def test_predict_is_the_resized_finest_depth():
    head = build_head(min_depth=1e-3, max_depth=1e3).eval()
    inputs = make_inputs(SIZES_ODD)
    metas = [dict(img_shape=(66, 84), pad_shape=(66, 84))] * 2
    with torch.no_grad():
        finest = head(inputs)[0]
        expected = F.interpolate(
            finest, size=(66, 84), mode='bilinear',
            align_corners=True).clamp(1e-3, 1e3)
        torch.testing.assert_close(
            head.predict(inputs, metas, None), expected)


def test_head_rejects_bad_inputs_and_config():
    head = build_head()
    inputs = make_inputs(SIZES_ODD)
    with pytest.raises(ValueError, match='expects 6 inputs'):
        head(inputs[:5])
    with pytest.raises(ValueError, match='expects 6 inputs'):
        head(inputs[:5] + (torch.randn(2, 8, 3, 3), ))
    with pytest.raises(ValueError, match='refine must be one of'):
        build_head(refine='fancy')
    with pytest.raises(ValueError, match='out_act must be one of'):
        build_head(out_act='sigmoid')
    with pytest.raises(ValueError, match='min_depth'):
        build_head(min_depth=5.0, max_depth=1.0)


def test_head_exposes_depth_estimator_attributes():
    head = build_head()
    assert MODELS.get('MRPANHead') is MRPANHead
    assert head.num_classes == 1 and head.out_channels == 1
    assert head.align_corners is True
    assert not hasattr(head, 'conv_seg')


def build_depth_estimator(test_cfg):
    with DefaultScope.overwrite_default_scope('mmseg'):
        return MODELS.build(
            dict(
                type='DepthEstimator',
                data_preprocessor=dict(
                    type='SegDataPreProcessor',
                    mean=[123.675, 116.28, 103.53],
                    std=[58.395, 57.12, 57.375],
                    bgr_to_rgb=True,
                    size_divisor=8,
                    pad_val=0,
                    seg_pad_val=0,
                    test_cfg=dict(size_divisor=8)),
                backbone=dict(type='HeadTestPyramidBackbone'),
                neck=dict(
                    type='MACANeck',
                    in_channels=BACKBONE_CHANNELS,
                    fuse_channels=(10, 20, 40, 80, 160),
                    out_channels=FUSED_CHANNELS,
                    sam_kv_stride=(2, 1, 1, 1, 1)),
                decode_head=dict(
                    type='MRPANHead',
                    in_channels=FUSED_CHANNELS,
                    top_channels=TOP_CHANNELS,
                    top_proj_channels=32,
                    out_act='softplus',
                    min_depth=1e-3,
                    max_depth=10.0,
                    loss_decode=dict(type='HeadTestL1Loss')),
                test_cfg=ConfigDict(test_cfg)))


def make_batch(size, batch=2):
    gen = torch.Generator().manual_seed(5)
    return dict(
        inputs=[
            torch.randint(0, 256, (3, *size), generator=gen,
                          dtype=torch.uint8) for _ in range(batch)
        ],
        data_samples=make_samples(batch, size))


def test_depth_estimator_loss_and_predict():
    torch.manual_seed(0)
    model = build_depth_estimator(dict(mode='whole'))
    size = (45, 61)
    data = model.data_preprocessor(make_batch(size), True)
    losses = model(**data, mode='loss')
    assert set(losses) == {'decode.loss_l1', 'decode.num_scales'}
    parsed, log_vars = model.parse_losses(losses)
    assert torch.isfinite(parsed)
    parsed.backward()
    assert model.neck.levels[0].projections[0].main[0].conv.weight.grad \
        .abs().sum() > 0

    model.eval()
    data = model.data_preprocessor(make_batch(size), False)
    with torch.no_grad():
        results = model(**data, mode='predict')
    assert len(results) == 2
    for result in results:
        pred = result.pred_depth_map.data
        assert pred.shape == (1, *size)
        assert pred.min() >= 1e-3 and pred.max() <= 10.0


def test_depth_estimator_slide_flip_averages_flipped_prediction():
    torch.manual_seed(0)
    size = (40, 56)
    model = build_depth_estimator(
        dict(mode='slide_flip', crop_size=size, stride=(20, 28))).eval()
    data = model.data_preprocessor(make_batch(size, batch=1), False)
    inputs = data['inputs']
    with torch.no_grad():
        results = model(**data, mode='predict')
        metas = [dict(img_shape=size, pad_shape=size)]
        plain = model.encode_decode(inputs, metas)
        flipped = model.encode_decode(inputs.flip(3), metas).flip(3)
    expected = (plain + flipped) / 2
    torch.testing.assert_close(results[0].pred_depth_map.data, expected[0])
    assert not torch.allclose(plain, flipped)


def test_depth_estimator_slide_flip_with_smaller_crops():
    """Overlapping windows, recomputed by hand: the 37x53 input is padded
    to 40x56; 32x32 windows at stride 16 start at rows 0, 8 (the last one
    flush with the border) and columns 0, 16, 24; each window is averaged
    with its mirrored pass, the windows summed and divided by how many
    cover each pixel (1 to 6), then the padding is cut off.  Catches wrong
    window positions, a wrong count normalisation and a missing flip."""
    torch.manual_seed(0)
    size, padded, crop = (37, 53), (40, 56), 32
    model = build_depth_estimator(
        dict(mode='slide_flip', crop_size=(crop, crop),
             stride=(16, 16))).eval()
    data = model.data_preprocessor(make_batch(size, batch=1), False)
    inputs = data['inputs']
    assert inputs.shape[-2:] == padded
    total = torch.zeros(1, 1, *padded)
    count = torch.zeros(1, 1, *padded)
    with torch.no_grad():
        results = model(**data, mode='predict')
        metas = [dict(img_shape=(crop, crop), pad_shape=(crop, crop))]
        for y in (0, 8):
            for x in (0, 16, 24):
                window = inputs[:, :, y:y + crop, x:x + crop]
                plain = model.encode_decode(window, metas)
                mirrored = model.encode_decode(window.flip(3), metas).flip(3)
                total[..., y:y + crop, x:x + crop] += (plain + mirrored) / 2
                count[..., y:y + crop, x:x + crop] += 1
    assert count.min() == 1 and count.max() == 6
    expected = (total / count)[0, :, :size[0], :size[1]]
    torch.testing.assert_close(results[0].pred_depth_map.data, expected)


def test_depth_offset_shifts_every_level_before_the_activation():
    torch.manual_seed(0)
    kwargs = dict(in_channels=(8, 8, 8, 8, 8), top_channels=16,
                  top_proj_channels=8, out_act='softplus',
                  loss_decode=dict(type='MultiScaleDepthLoss'))
    plain = MODELS.build(dict(type='MRPANHead', **kwargs)).eval()
    shifted = MODELS.build(
        dict(type='MRPANHead', depth_offset=2.5, **kwargs)).eval()
    shifted.load_state_dict(plain.state_dict())
    sizes = [(16, 20), (8, 10), (4, 5), (2, 3), (1, 2)]
    inputs = tuple(torch.randn(1, 8, h, w) for h, w in sizes) + (
        torch.randn(1, 16, 1, 2), )
    with torch.no_grad():
        for a, b in zip(plain(inputs), shifted(inputs)):
            raw = torch.log(torch.expm1(a))  # inverse softplus
            torch.testing.assert_close(b, F.softplus(raw + 2.5),
                                       rtol=1e-4, atol=1e-4)
