"""Every shipped config builds; the paper configs run forward/backward at
the paper's 228x304 input with the shapes of the spec table."""
import glob
import os.path as osp

import pytest
import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope
from mmengine.structures import PixelData
from mmseg.registry import MODELS
from mmseg.structures import SegDataSample

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


def build(path):
    init_default_scope('mmseg')
    cfg = Config.fromfile(path)
    return cfg, MODELS.build(cfg.model)


@pytest.mark.parametrize('path', CONFIGS, ids=osp.basename)
def test_config_builds(path):
    cfg, model = build(path)
    assert sum(p.numel() for p in model.parameters()) > 0
    assert cfg.default_scope == 'mmseg'


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


@pytest.mark.slow  # SENet-154 at 228x304
@pytest.mark.parametrize('name', sorted(PAPER_ROWS))
def test_paper_config_forward_backward_shapes(name):
    torch.manual_seed(0)
    _, model = build(osp.join(REPO, 'configs', name))
    model.train()
    inputs = torch.randn(2, 3, 228, 304)
    levels = model.backbone(inputs)
    assert [tuple(x.shape[1:]) for x in levels] == SENET154_LEVELS
    fused = model.neck(levels)
    depths = model.decode_head(fused)
    assert [tuple(d.shape[2:]) for d in depths] == [
        (h, w) for _, h, w in SENET154_LEVELS
    ]
    losses = model.decode_head.loss_by_feat(
        depths, depth_samples(2, 228, 304))
    total = sum(v for k, v in losses.items() if k.startswith('loss'))
    total.backward()
    assert model.backbone.layer0.conv1.weight.grad.abs().sum() > 0
    model.eval()
    with torch.no_grad():
        pred = model.predict(inputs[:1], depth_samples(1, 228, 304))
    assert pred[0].pred_depth_map.data.shape == (1, 228, 304)


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
