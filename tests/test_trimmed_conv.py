"""PaddingTrimmedConv2d: the taps that only meet zero padding are skipped,
with the outputs and gradients of the full convolution (float64)."""
import copy

import pytest
import torch
import torch.nn as nn

from mrpan_mm.models.backbones.trimmed_conv import (PaddingTrimmedConv2d,
                                                    convert_to_trimmed)


@pytest.mark.parametrize('size', [(1, 1), (2, 3), (4, 6), (9, 12), (1, 5)])
@pytest.mark.parametrize('kernel, groups', [(7, 6), ((5, 3), 1)])
def test_same_outputs_and_gradients_as_the_full_kernel(size, kernel, groups):
    torch.manual_seed(0)
    kh, kw = nn.modules.utils._pair(kernel)
    full = nn.Conv2d(6, 6, (kh, kw), padding=((kh - 1) // 2, (kw - 1) // 2),
                     groups=groups).double()
    trimmed = copy.deepcopy(full)
    assert convert_to_trimmed(trimmed) == 1
    assert isinstance(trimmed, PaddingTrimmedConv2d)
    x = torch.randn(2, 6, *size, dtype=torch.float64)
    x_full, x_trim = x.clone().requires_grad_(), x.clone().requires_grad_()
    y_full, y_trim = full(x_full), trimmed(x_trim)
    assert y_trim.shape == y_full.shape == x.shape
    torch.testing.assert_close(y_trim, y_full, rtol=0, atol=1e-12)
    target = torch.randn_like(y_full)
    ((y_full - target)**2).sum().backward()
    ((y_trim - target)**2).sum().backward()
    torch.testing.assert_close(x_trim.grad, x_full.grad, rtol=0, atol=1e-12)
    torch.testing.assert_close(trimmed.weight.grad, full.weight.grad,
                               rtol=0, atol=1e-12)
    torch.testing.assert_close(trimmed.bias.grad, full.bias.grad, rtol=0,
                               atol=1e-12)


def test_only_stride1_same_padded_convs_are_converted():
    model = nn.Sequential(
        nn.Conv2d(3, 3, 7, padding=3, groups=3),  # converted
        nn.Conv2d(3, 3, 3, padding=1),  # converted
        nn.Conv2d(3, 3, 3, stride=2, padding=1),
        nn.Conv2d(3, 3, 3, padding=2, dilation=2),
        nn.Conv2d(3, 3, 3, padding=0),
        nn.Conv2d(3, 3, 1),
        nn.Conv2d(3, 3, 3, padding=1, padding_mode='reflect'),
        nn.Conv2d(3, 3, 3, padding='same'),
    )
    keys = list(model.state_dict())
    assert convert_to_trimmed(model) == 2
    assert [type(m) is PaddingTrimmedConv2d for m in model] == \
        [True, True] + [False] * 6
    assert list(model.state_dict()) == keys


def test_five_level_encoder_option_on_convnext():
    """The demo encoder's depthwise convs are converted; same outputs."""
    from mmengine.registry import init_default_scope
    from mmseg.registry import MODELS
    init_default_scope('mmseg')
    cfg = dict(
        type='FiveLevelEncoder',
        encoder=dict(type='mmpretrain.ConvNeXt', arch='atto',
                     out_indices=(0, 1, 2, 3), gap_before_final_norm=False),
        encoder_channels=(40, 80, 160, 320),
        stem_channels=(8, 16))
    torch.manual_seed(0)
    plain = MODELS.build(cfg).double().eval()
    trimmed = MODELS.build(dict(cfg, trim_padding_taps=True)).double().eval()
    trimmed.load_state_dict(plain.state_dict())
    kinds = [type(m.depthwise_conv) for m in trimmed.encoder.modules()
             if hasattr(m, 'depthwise_conv')]
    assert len(kinds) == 12 and set(kinds) == {PaddingTrimmedConv2d}
    x = torch.randn(2, 3, 36, 48, dtype=torch.float64)
    with torch.no_grad():
        for a, b in zip(plain(x), trimmed(x)):
            torch.testing.assert_close(b, a, rtol=0, atol=1e-10)
