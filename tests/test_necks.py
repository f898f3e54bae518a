"""Tests of the MACA neck and its attention / up-projection blocks."""
import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from mmseg.registry import MODELS
from torch.nn.attention import SDPBackend, sdpa_kernel

from mrpan_mm.models.necks import (GlobalAttentionModule, MACANeck,
                                   SpatialAttentionModule, UpProjection)

IN_CHANNELS = (16, 32, 64, 128, 256)
FUSE_CHANNELS = (10, 20, 40, 80, 160)
OUT_CHANNELS = (8, 16, 32, 64, 128)
# Level sizes of a SENet-like backbone for a 228x304 and a 65x83 input.
SIZES_228x304 = [(114, 152), (57, 76), (29, 38), (15, 19), (8, 10)]
SIZES_ODD = [(33, 42), (17, 21), (9, 11), (5, 6), (3, 3)]


def make_feats(sizes, batch=2, channels=IN_CHANNELS, seed=0):
    gen = torch.Generator().manual_seed(seed)
    return [
        torch.randn(batch, c, h, w, generator=gen)
        for c, (h, w) in zip(channels, sizes)
    ]


def build_neck(**kwargs):
    cfg = dict(
        type='MACANeck',
        in_channels=IN_CHANNELS,
        fuse_channels=FUSE_CHANNELS,
        out_channels=OUT_CHANNELS)
    cfg.update(kwargs)
    return MODELS.build(cfg)


def np_softmax(x, axis):
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def np_clipped_avg_pool(x, stride):
    """Average pool (N, C, H, W) by ``stride``; border windows are clipped."""
    n, c, h, w = x.shape
    out = np.zeros((n, c, math.ceil(h / stride), math.ceil(w / stride)))
    for i in range(out.shape[2]):
        for j in range(out.shape[3]):
            window = x[:, :, i * stride:(i + 1) * stride,
                       j * stride:(j + 1) * stride]
            out[:, :, i, j] = window.mean(axis=(2, 3))
    return out


def np_conv1x1(x, conv):
    weight = conv.weight.detach().double().numpy()[:, :, 0, 0]
    bias = conv.bias.detach().double().numpy()
    return np.einsum('oc,nchw->nohw', weight, x) + bias[None, :, None, None]


def naive_spatial_attention(module, x):
    """DANet-style reference in float64 NumPy with the full affinity."""
    x = x.double().numpy()
    n, c, h, w = x.shape
    kv = x if module.kv_stride == 1 else np_clipped_avg_pool(
        x, module.kv_stride)
    q = np_conv1x1(x, module.query).reshape(n, -1, h * w)
    k = np_conv1x1(kv, module.key).reshape(n, q.shape[1], -1)
    v = np_conv1x1(kv, module.value).reshape(n, c, -1)
    affinity = np.einsum('ndi,ndj->nij', q, k) / math.sqrt(q.shape[1])
    attn = np_softmax(affinity, axis=2)
    context = np.einsum('ncj,nij->nci', v, attn).reshape(n, c, h, w)
    gamma = module.gamma.item()
    return torch.from_numpy(x + gamma * context)


@pytest.mark.parametrize('sizes', [SIZES_228x304, SIZES_ODD])
@pytest.mark.parametrize('attention', [False, True])
def test_neck_output_contract(sizes, attention):
    neck = build_neck(use_gam=attention, use_sam=attention)
    feats = make_feats(sizes)
    with torch.no_grad():
        outs = neck(feats)
    assert len(outs) == 6
    for out, c, (h, w) in zip(outs[:5], OUT_CHANNELS, sizes):
        assert out.shape == (2, c, h, w)
        assert torch.isfinite(out).all()
    assert outs[5] is feats[-1]


def test_neck_switches_build_the_ablation_modules():
    baseline = build_neck(use_gam=False, use_sam=False)
    maca = build_neck(sam_levels=(0, 3), sam_kv_stride=(4, 1))
    assert not any(
        isinstance(m, (GlobalAttentionModule, SpatialAttentionModule))
        for m in baseline.modules())
    assert all(
        isinstance(level.scale_attention, GlobalAttentionModule)
        for level in maca.levels)
    # each GAM works on the level's per-scale branch width fuse // 5
    assert [lvl.scale_attention.mlp[0].in_features
            for lvl in maca.levels] == [2, 4, 8, 16, 32]
    strides = [
        None if lvl.spatial_attention is None else
        lvl.spatial_attention.kv_stride for lvl in maca.levels
    ]
    assert strides == [4, None, None, 1, None]
    # the baseline's parameters are a subset of MACA's, by name and shape
    maca_shapes = {k: v.shape for k, v in maca.state_dict().items()}
    for name, value in baseline.state_dict().items():
        assert maca_shapes[name] == value.shape


def test_baseline_level_matches_manual_fusion():
    """Fused level t = fuse(concat_i(UpProj_i(resize(x_i to t)))), in order
    (SARPN's literal order; the factored one is compared with it below)."""
    neck = build_neck(use_gam=False, use_sam=False,
                      projection_order='resize_first').eval()
    feats = make_feats(SIZES_ODD, seed=1)
    target = 2
    level = neck.levels[target]
    size = feats[target].shape[-2:]
    with torch.no_grad():
        projected = [
            proj(
                F.interpolate(
                    x, size=size, mode='bilinear', align_corners=True))
            for x, proj in zip(feats, level.projections)
        ]
        expected = level.fuse(torch.cat(projected, dim=1))
        actual = neck(feats)[target]
    torch.testing.assert_close(actual, expected, rtol=1e-5, atol=1e-6)


def random_bn_stats(module, seed=0):
    gen = torch.Generator().manual_seed(seed)
    for bn in (m for m in module.modules()
               if isinstance(m, torch.nn.BatchNorm2d)):
        for tensor, low, high in ((bn.running_mean, -0.5, 0.5),
                                  (bn.running_var, 0.5, 2.0),
                                  (bn.weight.data, 0.5, 1.5),
                                  (bn.bias.data, -0.5, 0.5)):
            tensor.copy_(low + (high - low) *
                         torch.rand(tensor.shape, generator=gen))


def neck_outputs_and_gradients(neck, feats, weights):
    """Outputs and gradients (input levels, every parameter) of a weighted
    sum of the neck's fused levels, by name."""
    outs = neck(feats)
    loss = sum((out * w).sum() for out, w in zip(outs, weights))
    params = dict(neck.named_parameters())
    grads = torch.autograd.grad(loss, feats + list(params.values()))
    names = [f'output {i}' for i in range(5)] + \
        [f'input {i}' for i in range(5)] + list(params)
    return dict(zip(names, list(outs[:5]) + list(grads)))


def sarpn_conv_bn(x, conv_module):
    """Conv (no bias, same padding) then eval-mode BN, from raw tensors."""
    conv, bn = conv_module.conv, conv_module.bn
    out = F.conv2d(x, conv.weight, padding=conv.kernel_size[0] // 2)
    return F.batch_norm(out, bn.running_mean, bn.running_var, bn.weight,
                        bn.bias, training=False, eps=bn.eps)


def test_up_projection_matches_functional_reference():
    block = UpProjection(6, 4).eval()
    random_bn_stats(block)
    x = torch.randn(2, 6, 7, 9)
    with torch.no_grad():
        main = sarpn_conv_bn(F.relu(sarpn_conv_bn(x, block.main[0])),
                             block.main[1])
        expected = F.relu(main + sarpn_conv_bn(x, block.shortcut))
        torch.testing.assert_close(block(x), expected, rtol=1e-5, atol=1e-5)
    assert block.main[0].conv.kernel_size == (5, 5)
    assert block.main[1].conv.kernel_size == (3, 3)
    assert block.shortcut.conv.kernel_size == (5, 5)


def test_scale_attention_weights_sum_to_one_and_match_numpy():
    gam = GlobalAttentionModule(channels=32, reduction=16)
    x = torch.randn(3, 5, 32, 6, 7)
    with torch.no_grad():
        weights = gam.scale_weights(x)
        out = gam(x)
    assert weights.shape == (3, 5, 32)
    assert (weights >= 0).all()
    torch.testing.assert_close(weights.sum(dim=1), torch.ones(3, 32))
    # independent NumPy path: GAP -> Linear -> ReLU -> Linear -> softmax(S)
    fc1, fc2 = gam.mlp[0], gam.mlp[2]
    assert fc1.out_features == 4  # max(32 // 16, min_hidden_channels=4)
    pooled = x.double().numpy().mean(axis=(3, 4))
    hidden = np.maximum(
        pooled @ fc1.weight.double().detach().numpy().T +
        fc1.bias.double().detach().numpy(), 0)
    logits = hidden @ fc2.weight.double().detach().numpy().T + \
        fc2.bias.double().detach().numpy()
    expected = np_softmax(logits, axis=1)
    np.testing.assert_allclose(weights.double().numpy(), expected, atol=1e-6)
    torch.testing.assert_close(out, x * weights[..., None, None])


def test_scale_attention_rejects_unstacked_input():
    with pytest.raises(ValueError, match=r'\(N, S, C, H, W\)'):
        GlobalAttentionModule(8)(torch.randn(2, 8, 4, 4))


def test_spatial_attention_starts_as_identity():
    sam = SpatialAttentionModule(16)
    assert sam.gamma.item() == 0
    assert sam.qk_channels == 2
    x = torch.randn(2, 16, 9, 11)
    assert torch.equal(sam(x), x)


@pytest.mark.parametrize('stride,size', [(1, (9, 11)), (2, (8, 10)),
                                         (2, (9, 11)), (4, (7, 13))])
def test_spatial_attention_matches_naive_reference(stride, size):
    torch.manual_seed(stride)
    sam = SpatialAttentionModule(16, qk_ratio=8, kv_stride=stride)
    with torch.no_grad():
        sam.gamma.fill_(0.7)
    x = torch.randn(2, 16, *size)
    with torch.no_grad():
        actual = sam(x)
    expected = naive_spatial_attention(sam, x)
    torch.testing.assert_close(
        actual.double(), expected, rtol=0, atol=1e-5)
    # the attention term is not negligible, so the comparison is meaningful
    assert (actual - x).abs().max() > 1e-2


def test_spatial_attention_runs_on_the_flash_kernel():
    """The fused kernel accepts our q/k/v layout, so no HW x HW matrix."""
    sam = SpatialAttentionModule(16, kv_stride=2)
    x = torch.randn(2, 16, 9, 11, requires_grad=True)
    with sdpa_kernel([SDPBackend.FLASH_ATTENTION]):
        out = sam(x)
    out.sum().backward()
    assert x.grad is not None


def test_spatial_attention_rejects_wrong_channels():
    with pytest.raises(ValueError, match='16 channels'):
        SpatialAttentionModule(16)(torch.randn(1, 8, 4, 4))


def test_neck_gradient_reaches_every_parameter():
    torch.manual_seed(0)
    neck = build_neck(sam_kv_stride=2)
    for module in neck.modules():
        if isinstance(module, SpatialAttentionModule):
            module.gamma.data.fill_(0.5)
    outs = neck(make_feats(SIZES_ODD))
    sum(out.square().mean() for out in outs[:5]).backward()
    for name, param in neck.named_parameters():
        assert param.grad is not None, name
        assert param.grad.abs().sum() > 0, name


def test_gamma_receives_gradient_at_initialisation():
    neck = build_neck()
    outs = neck(make_feats(SIZES_ODD))
    sum(out.mean() for out in outs[:5]).backward()
    for level in neck.levels:
        assert level.spatial_attention.gamma.grad.abs() > 0


def test_neck_rejects_wrong_number_of_levels():
    neck = build_neck()
    with pytest.raises(ValueError, match='expects 5 levels'):
        neck(make_feats(SIZES_ODD)[:4])


def test_neck_rejects_wrong_channels():
    neck = build_neck()
    feats = make_feats(SIZES_ODD, channels=(16, 32, 64, 128, 512))
    with pytest.raises(ValueError, match=r'channels \(16, 32, 64, 128, 512\)'):
        neck(feats)


@pytest.mark.parametrize(
    'kwargs,message',
    [(dict(fuse_channels=(10, 20, 40, 80, 161)), 'divisible'),
     (dict(out_channels=(8, 16, 32, 64)), 'one entry per level'),
     (dict(sam_levels=(0, 1), sam_kv_stride=(2, )), 'one stride per'),
     (dict(sam_levels=(5, ), sam_kv_stride=1), 'not a level'),
     (dict(sam_kv_stride=0, sam_levels=(1, )), 'kv_stride must be')])
def test_neck_rejects_bad_config(kwargs, message):
    with pytest.raises(ValueError, match=message):
        build_neck(**kwargs)


def test_neck_is_registered_and_defaults_follow_senet154():
    assert MODELS.get('MACANeck') is MACANeck
    with torch.device('meta'):  # SENet-154 widths: no weights needed
        neck = MACANeck(in_channels=(128, 256, 512, 1024, 2048))
    assert neck.out_channels == (64, 128, 256, 512, 1024)
    assert [lvl.fuse.conv.in_channels
            for lvl in neck.levels] == [80, 160, 320, 640, 1280]


def test_lower_resolution_order_projects_before_upsampling_only():
    """Coarser levels are projected, then upsampled; finer ones are
    downsampled, then projected."""
    from mrpan_mm.models.necks.maca_neck import LevelAggregation
    torch.manual_seed(0)
    agg = LevelAggregation((4, 8, 6), 6, 6, gam_reduction=None,
                           sam_kv_stride=None, sam_qk_ratio=8,
                           norm_cfg=dict(type='BN'),
                           act_cfg=dict(type='ReLU'), align_corners=True,
                           projection_order='lower_resolution').eval()
    inputs = [torch.randn(1, 4, 12, 16), torch.randn(1, 8, 6, 8),
              torch.randn(1, 6, 3, 4)]
    size = (6, 8)

    def resize(x):
        return F.interpolate(x, size=size, mode='bilinear',
                             align_corners=True)

    fine, same, coarse = agg.projections
    expected = agg.fuse(torch.cat([
        fine(resize(inputs[0])), same(inputs[1]), resize(coarse(inputs[2]))
    ], dim=1))
    torch.testing.assert_close(agg(inputs, torch.Size(size)), expected)
    with pytest.raises(ValueError, match='projection_order'):
        MACANeck((4, 8), (4, 4), (4, 4), use_gam=False, use_sam=False,
                 projection_order='project_first')


# ----- SARPN's "resize, then project", literal and factored -----------------

# (source (h, w), target (H, W)) pairs, upsampling by the encoder's factors
# and by odd ones.
RESIZES = [((8, 10), (114, 152)), ((5, 7), (33, 45)), ((15, 19), (57, 76)),
           ((3, 3), (5, 6)), ((1, 2), (4, 3))]
SIZES_SMALL = [(20, 26), (10, 13), (5, 7), (3, 4), (2, 2)]
SIZES_SMALL_ODD = [(13, 17), (7, 9), (4, 5), (2, 3), (1, 1)]


def assert_rel_close(actual, expected, rel, name='', floor=0.0):
    """max |actual - expected| <= rel * max(max |expected|, floor); the
    floor serves tensors that are zero up to rounding."""
    scale = max(expected.abs().max().item(), floor)
    err = (actual - expected).abs().max().item()
    assert err <= rel * scale, f'{name}: {err:.3g} > {rel} x {scale:.3g}'


# fp64: equal up to the last digits; fp32: up to fp32 rounding.
REL_TOL = {torch.float64: 1e-12, torch.float32: 1e-5}


@pytest.mark.parametrize('align_corners', [True, False])
@pytest.mark.parametrize('dtype', [torch.float64, torch.float32])
@pytest.mark.parametrize('src,dst', RESIZES)
def test_resized_conv2d_equals_conv_of_resized_map(src, dst, dtype,
                                                   align_corners):
    """Output and gradients (input, weights, bias) of the factored form
    equal the literal conv(resize(x)), borders included."""
    from mrpan_mm.models.necks.resized_conv import resized_conv2d
    torch.manual_seed(0)
    convs = [torch.nn.Conv2d(12, 3, 5, padding=2).to(dtype),
             torch.nn.Conv2d(12, 4, 5, padding=2, bias=False).to(dtype)]
    x = torch.randn(2, 12, *src, dtype=dtype, requires_grad=True)
    resized = F.interpolate(x, size=dst, mode='bilinear',
                            align_corners=align_corners)
    expected = [conv(resized) for conv in convs]
    actual = resized_conv2d(x, convs, dst, align_corners)
    weights = [torch.randn_like(out) for out in expected]
    results = []
    for outs in (expected, actual):
        loss = sum((out * w).sum() for out, w in zip(outs, weights))
        params = [x] + [p for conv in convs for p in conv.parameters()]
        results.append(torch.autograd.grad(loss, params))
    for out_a, out_e in zip(actual, expected):
        assert out_a.shape == out_e.shape
        assert_rel_close(out_a, out_e, REL_TOL[dtype], 'output')
    for i, (grad_a, grad_e) in enumerate(zip(*results[::-1])):
        assert_rel_close(grad_a, grad_e, REL_TOL[dtype], f'gradient {i}')


def test_resized_conv2d_rejects_other_convolutions():
    from mrpan_mm.models.necks.resized_conv import resized_conv2d
    x = torch.randn(1, 4, 3, 3)
    for conv in (torch.nn.Conv2d(4, 2, 5, padding=1),
                 torch.nn.Conv2d(4, 2, 4, padding=2),
                 torch.nn.Conv2d(4, 2, 3, padding=1, stride=2)):
        with pytest.raises(ValueError, match='stride-1'):
            resized_conv2d(x, [conv], (6, 6), True)


def test_resized_conv_macs_match_flop_counter():
    """The cost model that chooses the form counts what torch executes."""
    from torch.utils.flop_counter import FlopCounterMode

    from mrpan_mm.models.necks.resized_conv import (resized_conv2d,
                                                    resized_conv_macs)
    conv = torch.nn.Conv2d(24, 6, 5, padding=2, bias=False)
    x = torch.randn(1, 24, 5, 7)
    counter = FlopCounterMode(display=False)
    with counter, torch.no_grad():
        resized_conv2d(x, [conv], (17, 21), True)
    literal, factored = resized_conv_macs(24, 6, 5, (5, 7), (17, 21))
    assert counter.get_total_flops() == 2 * factored
    assert literal == 17 * 21 * 24 * 6 * 25


def test_factoring_is_chosen_where_it_saves_multiply_adds():
    """SENet-154 widths at 228x304: every upsampled level is factored, a
    level at its own size or downsampled never is."""
    with torch.device('meta'):
        neck = MACANeck(in_channels=(128, 256, 512, 1024, 2048))
    sizes = SIZES_228x304
    for t, level in enumerate(neck.levels):
        for s, projection in enumerate(level.projections):
            feat = torch.empty(1, neck.in_channels[s], *sizes[s],
                               device='meta')
            assert projection._factoring_pays(feat, sizes[t]) == (s > t)


@pytest.mark.parametrize('align_corners', [True, False])
@pytest.mark.parametrize('dtype', [torch.float64, torch.float32])
@pytest.mark.parametrize('sizes', [SIZES_SMALL, SIZES_SMALL_ODD])
def test_factored_neck_equals_literal_order(sizes, dtype, align_corners):
    """The MRPAN neck (GAM, SAM at stride 1), training mode: outputs and
    gradients (every input level and every parameter) of
    'resize_first_factored' equal SARPN's literal 'resize_first': in fp64 to
    the last digits, in fp32 no farther from the fp64 literal result than
    twice the fp32 literal result (+ 1e-5 relative); the state dict of
    either loads into the other."""
    torch.manual_seed(0)
    literal = build_neck(sam_kv_stride=1, align_corners=align_corners,
                         projection_order='resize_first')
    for module in literal.modules():
        if isinstance(module, SpatialAttentionModule):
            module.gamma.data.fill_(0.5)
    factored = build_neck(sam_kv_stride=1, align_corners=align_corners)
    assert factored.levels[0].projection_order == 'resize_first_factored'
    factored.load_state_dict(literal.state_dict(), strict=True)
    literal.load_state_dict(factored.state_dict(), strict=True)
    feats = make_feats(sizes)
    weights = [torch.randn(2, c, h, w) for c, (h, w) in zip(OUT_CHANNELS,
                                                           sizes)]

    def run(neck, dtype):
        return neck_outputs_and_gradients(
            neck.to(dtype), [f.to(dtype).requires_grad_() for f in feats],
            [w.to(dtype) for w in weights])

    reference = run(literal, torch.float64)
    results = {'literal': run(literal, dtype),
               'factored': run(factored, dtype)}
    rel = 1e-12 if dtype == torch.float64 else 1e-5
    # some gradients vanish up to rounding (the SAM key bias, GAM biases):
    # those count relative to 1 % of the largest gradient
    floor = 1e-2 * max(g.abs().max().item() for name, g in reference.items()
                       if not name.startswith('output'))
    assert len(reference) == 10 + len(dict(literal.named_parameters()))
    for name, expected in reference.items():
        scale = max(expected.abs().max().item(), floor)
        literal_err = (results['literal'][name].double() -
                       expected).abs().max().item()
        err = (results['factored'][name].double() -
               expected).abs().max().item()
        assert err <= 2 * literal_err + rel * scale, \
            f'{name}: {err:.3g} (literal {literal_err:.3g}, scale {scale:.3g})'


def sarpn_up_projection(x, size, block):
    """SARPN's ``_UpProjection`` as its public code defines it: bilinear
    resize (align_corners=True); 5x5 conv-BN-ReLU then 3x3 conv-BN; a second
    5x5 conv-BN on the resized map; sum; ReLU.  Weights from ``block``."""
    x = F.interpolate(x, size=size, mode='bilinear', align_corners=True)
    branch1 = F.relu(sarpn_conv_bn(x, block.main[0]))
    branch1 = sarpn_conv_bn(branch1, block.main[1])
    branch2 = sarpn_conv_bn(x, block.shortcut)
    return F.relu(branch1 + branch2)


@pytest.mark.parametrize('order', ['resize_first_factored', 'resize_first'])
def test_baseline_neck_equals_sarpn_up_projection_fusion(order):
    """Every fused level of the baseline neck equals SARPN's adaptive dense
    feature fusion computed from raw tensors: the SARPN up-projection of
    every level to the target size, concatenated, 3x3 conv-BN-ReLU."""
    torch.manual_seed(0)
    neck = build_neck(use_gam=False, use_sam=False,
                      projection_order=order).eval()
    random_bn_stats(neck)
    feats = make_feats(SIZES_SMALL_ODD, seed=2)
    with torch.no_grad():
        outs = neck(feats)
        for t, level in enumerate(neck.levels):
            size = feats[t].shape[-2:]
            projected = torch.cat([
                sarpn_up_projection(x, size, block)
                for x, block in zip(feats, level.projections)
            ], dim=1)
            expected = F.relu(sarpn_conv_bn(projected, level.fuse))
            assert_rel_close(outs[t], expected, 1e-5, f'level {t}')
