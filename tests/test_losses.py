"""MRPAN losses against independent NumPy / plain-torch computations."""
import numpy as np
import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F
from mmengine.model import BaseModel
from scipy.ndimage import correlate

from mmseg.registry import MODELS
from mrpan_mm.models.losses import (DepthLogL1Loss, MultiScaleDepthLoss,
                                    SobelGradientLoss, SurfaceNormalLoss,
                                    resize_depth_target, sobel_gradients,
                                    valid_depth_mask)

KX = np.array([[1., 0., -1.], [2., 0., -2.], [1., 0., -1.]])
KY = np.array([[1., 2., 1.], [0., 0., 0.], [-1., -2., -1.]])
TOL = 1e-6
SIZES = [(4, 5), (7, 9), (13, 17)]  # three pyramid levels of a 13x17 gt


# ---------------------------------------------------------------- NumPy side
def np_valid(gt):
    finite = np.isfinite(gt)
    return finite & (np.where(finite, gt, 0.) > 0)


def np_sobel(batch):
    """(N, H, W) -> dx, dy, each (N, H, W); zero padding via scipy."""
    dx = np.stack([correlate(img, KX, mode='constant') for img in batch])
    dy = np.stack([correlate(img, KY, mode='constant') for img in batch])
    return dx, dy


def np_erode(valid):
    """A pixel survives if every in-image pixel of its 3x3 window is valid."""
    n, h, w = valid.shape
    out = np.zeros_like(valid)
    for b in range(n):
        for i in range(h):
            for j in range(w):
                out[b, i, j] = valid[b,
                                     max(i - 1, 0):i + 2,
                                     max(j - 1, 0):j + 2].all()
    return out


def np_mean(values, mask):
    return values.mean() if mask is None else values[mask].mean()


def np_terms(pred, gt, masked=True):
    """Paper formulas on (N, H, W) arrays; returns depth, grad, normal."""
    valid = np_valid(gt) if masked else None
    gt = np.where(valid, gt, 0.) if masked else gt
    grad_valid = np_erode(valid) if masked else None
    l_depth = np_mean(np.log(np.abs(pred - gt) + 0.5), valid)
    (pdx, pdy), (gdx, gdy) = np_sobel(pred), np_sobel(gt)
    l_grad = (np_mean(np.log(np.abs(pdx - gdx) + 0.5), grad_valid) +
              np_mean(np.log(np.abs(pdy - gdy) + 0.5), grad_valid))
    n_pred = np.stack([-pdx, -pdy, np.ones_like(pdx)], axis=-1)
    n_gt = np.stack([-gdx, -gdy, np.ones_like(gdx)], axis=-1)
    cos = (n_pred * n_gt).sum(-1) / (np.linalg.norm(n_pred, axis=-1) *
                                     np.linalg.norm(n_gt, axis=-1))
    l_normal = np_mean(1. - cos, grad_valid)
    return l_depth, l_grad, l_normal


def np_normalised_bilinear(gt, valid, size):
    """align_corners=True bilinear of gt*valid over valid, by loops."""
    n, hi, wi = gt.shape
    ho, wo = size
    num = np.zeros((n, ho, wo))
    den = np.zeros((n, ho, wo))
    for i in range(ho):
        y = i * (hi - 1) / (ho - 1)
        y0 = int(np.floor(y))
        y1, wy = min(y0 + 1, hi - 1), y - y0
        for j in range(wo):
            x = j * (wi - 1) / (wo - 1)
            x0 = int(np.floor(x))
            x1, wx = min(x0 + 1, wi - 1), x - x0
            for yy, ay in ((y0, 1 - wy), (y1, wy)):
                for xx, ax in ((x0, 1 - wx), (x1, wx)):
                    m = valid[:, yy, xx] * ay * ax
                    num[:, i,
                        j] += m * np.where(valid[:, yy, xx], gt[:, yy, xx], 0.)
                    den[:, i, j] += m
    out_valid = den > 0
    return np.where(out_valid, num / np.where(out_valid, den, 1.), 0.), \
        out_valid


# ----------------------------------------------------------------- fixtures
def random_depth(rng, shape, low=0.5, high=5.):
    return rng.uniform(low, high, size=shape)


def gt_with_holes(rng, shape=(2, 13, 17)):
    """Depth with a large zero block, scattered zeros, NaN and negatives."""
    gt = random_depth(rng, shape)
    gt[0, :, :6] = 0.
    gt[1, 8:, 10:] = np.nan
    gt[0, 10, 12] = -1.
    gt[1, 2, 3] = 0.
    gt[1, 5, 14] = np.nan
    return gt


def t(array, requires_grad=False):
    return torch.tensor(
        array, dtype=torch.float64).unsqueeze(1).requires_grad_(requires_grad)


def total(losses):
    return sum(v for k, v in losses.items() if k.startswith('loss'))


# ------------------------------------------------------------------- terms
def test_sobel_filter_matches_explicit_loops():
    rng = np.random.default_rng(0)
    img = rng.normal(size=(2, 5, 7))
    padded = np.pad(img, ((0, 0), (1, 1), (1, 1)))
    expected = np.zeros((2, 2, 5, 7))
    for c, k in enumerate((KX, KY)):
        for i in range(5):
            for j in range(7):
                expected[:, c, i, j] = (padded[:, i:i + 3, j:j + 3] * k).sum(
                    (1, 2))
    out = torch.cat(sobel_gradients(t(img)), dim=1).numpy()
    assert np.abs(out - expected).max() < 1e-12
    with pytest.raises(ValueError, match='N, 1, H, W'):
        sobel_gradients(torch.zeros(1, 2, 4, 4))


@pytest.mark.parametrize('masked', [True, False])
def test_terms_match_numpy(masked):
    rng = np.random.default_rng(1)
    pred = random_depth(rng, (2, 13, 17))
    gt = gt_with_holes(rng) if masked else random_depth(rng, (2, 13, 17))
    expected = np_terms(pred, gt, masked=masked)
    got = [
        cls(ignore_invalid=masked)(t(pred), t(gt)).item()
        for cls in (DepthLogL1Loss, SobelGradientLoss, SurfaceNormalLoss)
    ]
    diffs = np.abs(np.array(got) - np.array(expected))
    assert diffs.max() < TOL, f'term max |diff|: {diffs.max():.3e}'
    assert all(np.isfinite(got))


def test_term_loss_weight_and_name():
    rng = np.random.default_rng(2)
    pred, gt = t(random_depth(rng, (1, 6, 6))), t(random_depth(rng, (1, 6, 6)))
    for cls, name in ((DepthLogL1Loss, 'loss_depth'),
                      (SobelGradientLoss, 'loss_grad'), (SurfaceNormalLoss,
                                                         'loss_normal')):
        base = cls()(pred, gt)
        assert torch.allclose(cls(loss_weight=2.5)(pred, gt), 2.5 * base)
        assert cls().loss_name == name
        assert isinstance(MODELS.build(dict(type=cls.__name__)), cls)
    with pytest.raises(ValueError, match='same shape'):
        DepthLogL1Loss()(pred, gt[..., :5])


def test_low_precision_prediction_is_upcast():
    rng = np.random.default_rng(12)
    gt = torch.from_numpy(random_depth(rng, (1, 1, 13, 17))).float()
    preds = [
        torch.from_numpy(random_depth(rng, (1, 1) + s)).bfloat16()
        for s in SIZES
    ]
    losses = MultiScaleDepthLoss()(preds, gt)
    expected = MultiScaleDepthLoss()([p.float() for p in preds], gt)
    for key in expected:
        assert losses[key].dtype == torch.float32
        assert torch.equal(losses[key], expected[key])
    assert DepthLogL1Loss()(preds[-1], gt).dtype == torch.float32


def test_explicit_valid_mask_is_used():
    rng = np.random.default_rng(3)
    pred, gt = random_depth(rng, (1, 8, 8)), random_depth(rng, (1, 8, 8))
    mask = np.ones((1, 8, 8), dtype=bool)
    mask[0, :3] = False
    loss = DepthLogL1Loss()(t(pred), t(gt), torch.from_numpy(mask)[:, None])
    expected = np.log(np.abs(pred - gt) + 0.5)[mask].mean()
    assert abs(loss.item() - expected) < TOL


# --------------------------------------------------------------- multiscale
def reference_transcription(preds, gt):
    """Plain-torch transcription of the SARPN / Hu et al. training loss."""
    sobel = nn.Conv2d(1, 2, kernel_size=3, stride=1, padding=1, bias=False)
    sobel.weight = nn.Parameter(torch.from_numpy(np.stack(
        (KX, KY))).unsqueeze(1),
                                requires_grad=False)
    cos = nn.CosineSimilarity(dim=1, eps=0)
    depth_sum = grad_sum = normal_sum = 0.
    for output in preds:
        depth = F.interpolate(gt,
                              size=[output.size(2),
                                    output.size(3)],
                              mode='bilinear',
                              align_corners=True)
        ones = torch.ones_like(depth)
        depth_grad, output_grad = sobel(depth), sobel(output)
        depth_dx = depth_grad[:, 0, :, :].contiguous().view_as(depth)
        depth_dy = depth_grad[:, 1, :, :].contiguous().view_as(depth)
        output_dx = output_grad[:, 0, :, :].contiguous().view_as(depth)
        output_dy = output_grad[:, 1, :, :].contiguous().view_as(depth)
        depth_normal = torch.cat((-depth_dx, -depth_dy, ones), 1)
        output_normal = torch.cat((-output_dx, -output_dy, ones), 1)
        depth_sum += torch.log(torch.abs(output - depth) + 0.5).mean()
        grad_sum += (torch.log(torch.abs(output_dx - depth_dx) + 0.5).mean() +
                     torch.log(torch.abs(output_dy - depth_dy) + 0.5).mean())
        normal_sum += torch.abs(1 - cos(output_normal, depth_normal)).mean()
    return depth_sum, grad_sum, normal_sum


def test_reference_exact_matches_transcription():
    rng = np.random.default_rng(4)
    gt = random_depth(rng, (2, 13, 17))
    gt[0, :4, :4] = 0.  # zeros are NOT masked in reference mode
    preds = [t(random_depth(rng, (2, ) + s)) for s in SIZES]
    got = MultiScaleDepthLoss(reference_exact=True)(preds, t(gt))
    expected = reference_transcription(preds, t(gt))
    diffs = [
        abs(got[f'loss_{name}'].item() - ref.item())
        for name, ref in zip(('depth', 'grad', 'normal'), expected)
    ]
    assert max(diffs) < TOL, f'reference_exact max |diff|: {max(diffs):.3e}'
    # The zeros make the default (masked) loss differ from the reference.
    masked = MultiScaleDepthLoss()(preds, t(gt))
    assert abs(masked['loss_depth'].item() - expected[0].item()) > 1e-3


def test_masked_equals_reference_on_fully_valid_gt():
    rng = np.random.default_rng(5)
    gt = t(random_depth(rng, (2, 13, 17)))
    preds = [t(random_depth(rng, (2, ) + s)) for s in SIZES]
    masked = MultiScaleDepthLoss()(preds, gt)
    exact = MultiScaleDepthLoss(reference_exact=True)(preds, gt)
    for key in ('loss_depth', 'loss_grad', 'loss_normal'):
        assert abs(masked[key].item() - exact[key].item()) < 1e-10


def test_multiscale_matches_numpy_with_holes():
    """Per scale: numpy normalised resize, then the numpy paper terms."""
    rng = np.random.default_rng(6)
    gt = gt_with_holes(rng)
    preds = [random_depth(rng, (2, ) + s) for s in SIZES]
    got = MultiScaleDepthLoss()([t(p) for p in preds], t(gt))
    expected = np.zeros(3)
    for pred in preds:
        target, valid = np_normalised_bilinear(gt, np_valid(gt),
                                               pred.shape[1:])
        if pred.shape[1:] == gt.shape[1:]:
            target, valid = np.where(np_valid(gt), gt, 0.), np_valid(gt)
        expected += np_terms(pred, np.where(valid, target, np.nan))
    diffs = np.abs(
        np.array([
            got['loss_depth'].item(), got['loss_grad'].item(),
            got['loss_normal'].item()
        ]) - expected)
    assert diffs.max() < TOL, f'multiscale max |diff|: {diffs.max():.3e}'


@pytest.mark.parametrize('mode', ['bilinear', 'nearest'])
def test_resize_does_not_blend_invalid_depth(mode):
    rng = np.random.default_rng(7)
    holes = ~np_valid(gt_with_holes(rng))
    gt = np.full(holes.shape, 2.)
    gt[holes] = 0.
    gt = t(gt)
    depth, valid = resize_depth_target(gt, valid_depth_mask(gt), (7, 9), mode)
    assert valid.any() and not valid.all()
    assert torch.all(depth[valid] == 2.)  # a naive resize gives < 2 here
    assert torch.all(depth[~valid] == 0.)
    if mode == 'bilinear':
        expected, expected_valid = np_normalised_bilinear(
            gt[:, 0].numpy(), ~holes, (7, 9))
        assert np.array_equal(valid[:, 0].numpy(), expected_valid)
        assert np.abs(depth[:, 0].numpy() - expected).max() < 1e-12


@pytest.mark.parametrize('mode', ['bilinear', 'nearest'])
def test_invalid_pixels_do_not_change_loss(mode):
    rng = np.random.default_rng(8)
    gt = t(gt_with_holes(rng))
    preds = [t(random_depth(rng, (2, ) + s)) for s in SIZES]
    loss = MultiScaleDepthLoss(gt_resize_mode=mode)
    base = loss(preds, gt)
    valid = valid_depth_mask(gt)
    perturbed, changed = [], []
    for pred in preds:
        _, mask = resize_depth_target(torch.where(valid, gt, 0.), valid,
                                      pred.shape[-2:], mode)
        assert (~mask).any()
        noise = torch.from_numpy(rng.normal(0, 3, size=pred.shape))
        perturbed.append(torch.where(mask, pred, pred + noise))
        changed.append(torch.where(mask, pred + noise, pred))
    after = loss(perturbed, gt)
    for key in base:
        assert torch.equal(base[key], after[key]), key
    # The same noise on valid pixels does change every term.
    moved = loss(changed, gt)
    for key in ('loss_depth', 'loss_grad', 'loss_normal'):
        assert not torch.isclose(base[key], moved[key])


def test_nan_gt_gives_finite_loss_and_gradients():
    rng = np.random.default_rng(9)
    gt = t(gt_with_holes(rng))
    preds = [
        t(random_depth(rng, (2, ) + s), requires_grad=True) for s in SIZES
    ]
    losses = MultiScaleDepthLoss()(preds, gt)
    total(losses).backward()
    assert all(torch.isfinite(v) for v in losses.values())
    assert all(torch.isfinite(p.grad).all() for p in preds)
    assert all(p.grad.abs().sum() > 0 for p in preds)


def test_all_invalid_gt_contributes_zero_safely():
    gt = torch.zeros(2, 1, 13, 17, dtype=torch.float64)
    gt[1, 0, 0, 0] = float('nan')
    preds = [
        torch.rand(2, 1, *s, dtype=torch.float64, requires_grad=True)
        for s in SIZES
    ]
    losses = MultiScaleDepthLoss()(preds, gt)
    total(losses).backward()
    assert all(v.item() == 0. for v in losses.values())
    assert all(torch.equal(p.grad, torch.zeros_like(p)) for p in preds)


# -------------------------------------------------------- weights and keys
def test_scale_and_term_weights():
    rng = np.random.default_rng(10)
    gt = t(gt_with_holes(rng))
    preds = [t(random_depth(rng, (2, ) + s)) for s in SIZES]
    weights = (0.5, 2., 0.25)
    single = [MultiScaleDepthLoss()([p], gt) for p in preds]
    weighted = MultiScaleDepthLoss(scale_weights=weights)(preds, gt)
    for name in ('depth', 'grad', 'normal'):
        expected = sum(w * s[f'loss_{name}'] for w, s in zip(weights, single))
        assert torch.allclose(weighted[f'loss_{name}'], expected)
    for i, (w, s) in enumerate(zip(weights, single)):
        assert torch.allclose(weighted[f's{i}_total'], w * total(s))

    plain = MultiScaleDepthLoss()(preds, gt)
    reweighted = MultiScaleDepthLoss(term_weights=dict(depth=3., normal=0.))(
        preds, gt)
    assert torch.allclose(reweighted['loss_depth'], 3 * plain['loss_depth'])
    assert torch.equal(reweighted['loss_grad'], plain['loss_grad'])
    assert reweighted['loss_normal'].item() == 0.


def test_output_keys_and_mmengine_sum():
    rng = np.random.default_rng(11)
    gt = t(random_depth(rng, (1, 13, 17)))
    preds = [t(random_depth(rng, (1, ) + s)) for s in SIZES]
    losses = MODELS.build(dict(type='MultiScaleDepthLoss'))(preds, gt)
    assert set(losses) == {
        'loss_depth', 'loss_grad', 'loss_normal', 's0_total', 's1_total',
        's2_total'
    }
    assert not any(v.requires_grad for k, v in losses.items() if 'total' in k)
    parsed, log_vars = BaseModel.parse_losses(None, losses)
    assert torch.allclose(parsed, total(losses))
    assert torch.allclose(parsed, sum(losses[f's{i}_total'] for i in range(3)))

    aux = MultiScaleDepthLoss(loss_name='loss_aux')(preds, gt)
    assert set(aux) == {
        'loss_aux_depth', 'loss_aux_grad', 'loss_aux_normal', 'aux_s0_total',
        'aux_s1_total', 'aux_s2_total'
    }


def test_config_and_input_errors():
    gt = torch.rand(1, 1, 8, 8) + 1
    preds = [torch.rand(1, 1, 4, 4), torch.rand(1, 1, 8, 8)]
    with pytest.raises(ValueError, match='scale_weights has 3 entries'):
        MultiScaleDepthLoss(scale_weights=[1., 1., 1.])(preds, gt)
    assert len(MultiScaleDepthLoss()(preds[:1], gt)) == 4  # None: any count
    with pytest.raises(ValueError, match='unknown term_weights'):
        MultiScaleDepthLoss(term_weights=dict(edge=1.))
    with pytest.raises(ValueError, match='reference_exact'):
        MultiScaleDepthLoss(reference_exact=True, gt_resize_mode='nearest')
    with pytest.raises(ValueError, match='gt_resize_mode'):
        MultiScaleDepthLoss(gt_resize_mode='bicubic')
    with pytest.raises(ValueError, match="start with 'loss'"):
        MultiScaleDepthLoss(loss_name='depth')
    with pytest.raises(ValueError, match='prediction 1'):
        MultiScaleDepthLoss()([preds[0], torch.rand(2, 1, 8, 8)], gt)
    with pytest.raises(ValueError, match='gt of shape'):
        MultiScaleDepthLoss()(preds, gt[:, 0])
    with pytest.raises(ValueError, match='no predictions'):
        MultiScaleDepthLoss()([], gt)
