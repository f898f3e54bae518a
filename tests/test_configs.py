"""Every shipped config builds (on the meta device: no memory, no
initialisation); the paper configs' parameter counts equal an independent
count from the architecture table; SENet-154's levels at the paper's
228x304 input are the spec table's; the paper configs run forward/backward
(slow)."""
import glob
import os.path as osp

import pytest
import timm  # required: make test installs it (requirements/tests.txt)
import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope
from mmengine.structures import PixelData
from mmseg.registry import MODELS
from mmseg.structures import SegDataSample

from mrpan_mm.testing import build_weightless


REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
CONFIGS = sorted(glob.glob(osp.join(REPO, 'configs', '*.py')))
PAPER_ROWS = {
    'mrpan_baseline_nyu.py': (False, False, 'basic'),
    'mrpan_maca_nyu.py': (True, True, 'basic'),
    'mrpan_nyu.py': (True, True, 'rrm'),
}
# Spec table: (channels, height, width) of the five SENet-154 levels.
SENET154_LEVELS = [(128, 114, 152), (256, 57, 76), (512, 29, 38),
                   (1024, 15, 19), (2048, 8, 10)]


def build_model(cfg, device='cpu'):
    init_default_scope('mmseg')
    with torch.device(device):
        return MODELS.build(cfg.model)


def num_params(module):
    return sum(p.numel() for p in module.parameters())


@pytest.mark.parametrize('path', CONFIGS, ids=osp.basename)
def test_config_builds(path):
    cfg = Config.fromfile(path)
    model = build_weightless(cfg)
    assert cfg.default_scope == 'mmseg'
    parts = [model.backbone, model.neck, model.decode_head]
    assert num_params(model) == sum(num_params(m) for m in parts)
    assert all(num_params(m) > 0 for m in parts)


# Independent parameter count of the paper models from the architecture
# table (/work/shared/spec/architecture.md): a convolution followed by a
# norm has no bias; a norm has a weight and a bias per channel.
def conv(c_in, c_out, k, bias=False):
    return c_in * c_out * k * k + (c_out if bias else 0)


def conv_bn(c_in, c_out, k):
    return conv(c_in, c_out, k) + 2 * c_out


def count_neck(in_channels, fuse, out, gam, sam):
    """Baseline fusion: per target level, an up-projection from every input
    level to fuse/5 channels (5x5 conv-BN, 3x3 conv-BN; 5x5 conv-BN), a
    3x3 conv-BN to out; GAM: an MLP (reduction 16) over the fuse/5
    channels; SAM: 1x1 query/key to out/8, 1x1 value, a scalar gamma."""
    total = 0
    for f, o in zip(fuse, out):
        branch = f // len(in_channels)
        total += sum(2 * conv_bn(c, branch, 5) + conv_bn(branch, branch, 3)
                     for c in in_channels)
        total += conv_bn(f, o, 3)
        if gam:
            hidden = max(branch // 16, 4)
            total += branch * hidden + hidden + hidden * branch + branch
        if sam:
            total += 2 * conv(o, o // 8, 1, bias=True) + conv(o, o, 1, True)
            total += 1
    return total


def count_head(in_channels, top, top_proj, refine):
    """Residual pyramid: 1x1 conv-BN of the top level; per level, 3x3
    conv-BN then 3x3 conv to 1 channel (no bias); the refine block."""
    total = conv_bn(top, top_proj, 1)
    for t, c in enumerate(in_channels):
        c_in = c + (top_proj if t == len(in_channels) - 1 else 0)
        total += conv_bn(c_in, c, 3) + conv(c, 1, 3)
        h = c // 2
        if refine == 'basic':  # SARPN's refine: 1 -> h -> h -> 1 (bias)
            total += conv_bn(1, h, 3) + conv_bn(h, h, 3) + conv(h, 1, 3, True)
        else:  # RRM: 3x3 stem on (depth, features), two basic blocks, head
            total += conv_bn(1 + c, h, 3) + 4 * conv_bn(h, h, 3)
            total += conv(h, 1, 3, bias=True)
    return total


@pytest.fixture(scope='module')
def senet154_features_params():
    """timm's ImageNet SENet-154 without its classifier."""
    with torch.device('meta'):
        reference = timm.create_model('legacy_senet154')
    return num_params(reference) - num_params(reference.last_linear)


@pytest.mark.parametrize('name', sorted(PAPER_ROWS))
def test_paper_config_parameter_count_is_the_architecture_table(
        name, senet154_features_params):
    gam, sam, refine = PAPER_ROWS[name]
    model = build_model(Config.fromfile(osp.join(REPO, 'configs', name)),
                        'meta')
    assert num_params(model.backbone) == senet154_features_params
    neck = count_neck((128, 256, 512, 1024, 2048), (80, 160, 320, 640, 1280),
                      (64, 128, 256, 512, 1024), gam, sam)
    head = count_head((64, 128, 256, 512, 1024), 2048, 1024, refine)
    assert num_params(model.neck) == neck
    assert num_params(model.decode_head) == head


def test_ablation_rows_differ_only_by_their_switches():
    flat = {}
    for name in PAPER_ROWS:
        cfg = Config.fromfile(osp.join(REPO, 'configs', name))
        flat[name] = cfg.to_dict()
    full = flat['mrpan_nyu.py']
    for name, (gam, sam, refine) in PAPER_ROWS.items():
        model = flat[name]['model']
        assert (model['neck']['use_gam'], model['neck']['use_sam'],
                model['decode_head']['refine']) == (gam, sam, refine)
        for section in ('backbone', 'data_preprocessor'):
            assert model[section] == full['model'][section]
        for key in ('optim_wrapper', 'param_scheduler', 'train_cfg',
                    'train_dataloader'):
            assert flat[name][key] == full[key], (name, key)


def depth_samples(batch, height, width):
    samples = []
    for _ in range(batch):
        sample = SegDataSample(
            gt_depth_map=PixelData(data=torch.rand(1, height, width) * 9 +
                                   0.5))
        sample.set_metainfo(
            dict(img_shape=(height, width), pad_shape=(height, width),
                 ori_shape=(height, width)))
        samples.append(sample)
    return samples


@pytest.fixture(scope='module')
def paper_model():
    """``configs/mrpan_nyu.py``'s model, random weights; the ablation rows
    swap in their own neck and head (their backbones are the same:
    test_ablation_rows_differ_only_by_their_switches)."""
    torch.manual_seed(0)
    return build_model(Config.fromfile(osp.join(REPO, 'configs',
                                                'mrpan_nyu.py')))


@pytest.mark.slow  # SENet-154 at 228x304 (forward only)
def test_senet154_levels_at_the_paper_input_are_the_spec_table(paper_model):
    """Catches an encoder whose strides, padding or channels differ from
    the spec table at the paper's 228x304 input."""
    paper_model.eval()
    with torch.no_grad():
        levels = paper_model.backbone(torch.randn(1, 3, 228, 304))
    assert [tuple(x.shape[1:]) for x in levels] == SENET154_LEVELS


# The forward/backward runs at a small input: the same layers as at
# 228x304.  Its level sizes follow the encoder's rounding (stem ceil(H/2),
# max-pool ceil((h-1)/2), then halving rounded up).
SMALL_INPUT = (64, 80)
SMALL_LEVELS = [(c, h, w) for (c, _, _), (h, w) in zip(
    SENET154_LEVELS, [(32, 40), (16, 20), (8, 10), (4, 5), (2, 3)])]
# One config per distinct code path: mrpan_baseline_nyu.py (plain fusion,
# SARPN's refine) and mrpan_nyu.py (GAM + SAM, RRM).  mrpan_maca_nyu.py
# runs no code of its own: its neck is mrpan_nyu.py's, its head
# mrpan_baseline_nyu.py's (PAPER_ROWS; only these switches differ).
DISTINCT_PATHS = ('mrpan_baseline_nyu.py', 'mrpan_nyu.py')


@pytest.mark.slow  # SENet-154 forward/backward
@pytest.mark.parametrize('name', DISTINCT_PATHS)
def test_paper_config_forward_backward_shapes(name, paper_model):
    """The paper model of ``name`` trains and predicts: the neck and head
    take the encoder's five levels, the depth pyramid has the levels'
    sizes, the loss reaches the encoder's first layer, prediction is at
    the input size.  Catches a channel or size mismatch between encoder,
    neck and head, or a branch cut off from the gradient."""
    cfg = Config.fromfile(osp.join(REPO, 'configs', name))
    model = paper_model
    model.neck = MODELS.build(cfg.model.neck)
    model.decode_head = MODELS.build(cfg.model.decode_head)
    model.zero_grad()
    model.train()
    inputs = torch.randn(2, 3, *SMALL_INPUT)
    levels = model.backbone(inputs)
    assert [tuple(x.shape[1:]) for x in levels] == SMALL_LEVELS
    fused = model.neck(levels)
    depths = model.decode_head(fused)
    assert [tuple(d.shape[2:]) for d in depths] == [
        (h, w) for _, h, w in SMALL_LEVELS
    ]
    losses = model.decode_head.loss_by_feat(
        depths, depth_samples(2, *SMALL_INPUT))
    total = sum(v for k, v in losses.items() if k.startswith('loss'))
    total.backward()
    assert model.backbone.layer0.conv1.weight.grad.abs().sum() > 0
    model.eval()
    with torch.no_grad():
        pred = model.predict(inputs[:1], depth_samples(1, *SMALL_INPUT))
    assert pred[0].pred_depth_map.data.shape == (1, *SMALL_INPUT)


DEMO = osp.join(REPO, 'configs', 'mrpan_demo_cpu.py')


def test_misspelt_config_key_is_named():
    init_default_scope('mmseg')
    cfg = Config.fromfile(DEMO)
    cfg.model.neck.use_gamm = True
    with pytest.raises(TypeError, match='use_gamm'):
        MODELS.build(cfg.model)


def test_backbone_levels_not_matching_the_neck_are_refused():
    init_default_scope('mmseg')
    cfg = Config.fromfile(
        osp.join(REPO, 'configs/_base_/models/mrpan_seresnext26_demo.py'))
    cfg.model.backbone.out_indices = (1, 2, 3, 4)
    model = MODELS.build(cfg.model)
    with pytest.raises(ValueError, match='expects 5 levels'):
        model.extract_feat(torch.randn(1, 3, 64, 80))
