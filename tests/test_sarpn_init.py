"""The paper configs initialise neck and head convolutions as SARPN's code
does (PyTorch's default), checked against the formula of that default."""
import math
import os.path as osp

import pytest
import torch
import torch.nn as nn
from mmcv.cnn import ConvModule
from mmengine.config import Config
from mmseg.registry import MODELS

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
PAPER_CONFIGS = ('mrpan_baseline_nyu.py', 'mrpan_maca_nyu.py', 'mrpan_nyu.py')
SARPN_INIT = dict(type='TorchDefault', layer='Conv2d')
IN_CHANNELS = (16, 32, 64, 128, 256)
FUSED = (8, 16, 32, 64, 128)


def small_neck_and_head(init_cfg):
    """MACANeck and MRPANHead at narrow widths, initialised."""
    torch.manual_seed(0)
    neck = MODELS.build(
        dict(type='MACANeck', in_channels=IN_CHANNELS,
             fuse_channels=(10, 20, 40, 80, 160), out_channels=FUSED,
             init_cfg=init_cfg))
    head = MODELS.build(
        dict(type='MRPANHead', in_channels=FUSED, top_channels=256,
             top_proj_channels=64, init_cfg=init_cfg))
    for module in (neck, head):
        module.init_weights()
    return neck, head


def torch_default_deviations(module):
    """For every conv with >= 2000 weights: |std / (1 / sqrt(3 fan_in)) - 1|
    and whether weights and bias lie in +-1/sqrt(fan_in) (PyTorch's
    kaiming_uniform_(a=sqrt(5)) and its bias draw)."""
    deviations = {}
    for name, conv in module.named_modules():
        if isinstance(conv, nn.Conv2d) and conv.weight.numel() >= 2000:
            bound = 1 / math.sqrt(conv.weight[0].numel())
            inside = bool(conv.weight.abs().max() <= bound) and (
                conv.bias is None or bool(conv.bias.abs().max() <= bound))
            std = conv.weight.std().item()
            deviations[name] = (abs(std / (bound / math.sqrt(3)) - 1), inside)
    return deviations


@pytest.mark.parametrize('name', PAPER_CONFIGS)
def test_paper_configs_choose_sarpn_init(name):
    model = Config.fromfile(osp.join(REPO, 'configs', name)).model
    assert model.neck.init_cfg == SARPN_INIT
    assert model.decode_head.init_cfg == SARPN_INIT


def test_torch_default_init_matches_pytorch_statistics():
    neck, head = small_neck_and_head(SARPN_INIT)
    for module in (neck, head):
        deviations = torch_default_deviations(module)
        assert len(deviations) > 10
        assert all(inside for _, inside in deviations.values()), deviations
        assert max(dev for dev, _ in deviations.values()) < 0.05, deviations
        for conv_module in module.modules():
            if isinstance(conv_module, ConvModule) and conv_module.with_norm:
                assert torch.all(conv_module.norm.weight == 1)
                assert torch.all(conv_module.norm.bias == 0)


def test_without_the_choice_convmodule_redraws_kaiming_normal():
    """mmcv's default is what the init_cfg undoes: Kaiming-normal with
    fan_out, std sqrt(2 / (out_channels k^2)), up to 28x wider here."""
    neck, _ = small_neck_and_head(None)
    conv = neck.levels[0].projections[4].main[0].conv  # 5x5, 256 -> 2
    fan_out = conv.weight.shape[0] * conv.weight[0, 0].numel()
    assert conv.weight.std().item() == pytest.approx(
        math.sqrt(2 / fan_out), rel=0.05)
    assert max(dev for dev, _ in torch_default_deviations(neck).values()) > 5
