"""Config preparation of the tools and the CPU mixed-precision wrapper."""
import pytest
import torch
from mmengine.config import Config
from mmseg.registry import OPTIM_WRAPPERS

from mrpan_mm.engine import (AnyDeviceAmpOptimWrapper, ChannelsLastHook,
                             enable_amp, enable_visualization, load_config,
                             setup_cpu_distributed)

cpu_only = pytest.mark.skipif(
    torch.cuda.is_available(), reason='checks the CPU fallback')


def make_wrapper(**kwargs):
    model = torch.nn.Sequential(torch.nn.Conv2d(3, 4, 3), torch.nn.ReLU())
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    return model, AnyDeviceAmpOptimWrapper(optimizer=optimizer, **kwargs)


@cpu_only
def test_cpu_amp_wrapper_autocasts_to_bf16_and_steps():
    model, wrapper = make_wrapper(emulated_bf16=True)
    before = model[0].weight.detach().clone()
    with wrapper.optim_context(model):
        out = model(torch.randn(2, 3, 8, 8))
    assert out.dtype == torch.bfloat16
    wrapper.update_params(out.float().mean())
    assert not torch.equal(before, model[0].weight)
    state = wrapper.state_dict()
    _, fresh = make_wrapper()
    fresh.load_state_dict(state)
    assert fresh.param_groups[0]['lr'] == pytest.approx(0.1)


@cpu_only
@pytest.mark.parametrize('native', [True, False])
def test_cpu_amp_wrapper_uses_bf16_only_where_the_cpu_has_it(
        monkeypatch, native):
    monkeypatch.setattr('mrpan_mm.utils.precision.cpu_has_native_bf16',
                        lambda: native)
    model, wrapper = make_wrapper()
    with wrapper.optim_context(model):
        out = model(torch.randn(2, 3, 8, 8))
    assert out.dtype == (torch.bfloat16 if native else torch.float32)
    wrapper.update_params(out.float().mean())


@pytest.mark.parametrize('flags, oneDNN, native', [
    ('fpu avx2 avx512f avx512bw avx512_vnni', True, False),
    ('fpu avx2 avx512f avx512bw avx512_bf16', True, True),
    ('fpu avx2 amx_tile amx_bf16', True, True),
    ('fpu avx2 avx512_bf16', False, False),
])
def test_native_bf16_needs_bf16_instructions(monkeypatch, tmp_path, flags,
                                              oneDNN, native):
    """oneDNN reports bf16 on every AVX-512 CPU; one without AVX-512 BF16 or
    AMX (this project's machine of 2026-12-03) runs bf16 2x slower than
    fp32, so it must not count as native."""
    from mrpan_mm.utils import precision
    cpuinfo = tmp_path / 'cpuinfo'
    cpuinfo.write_text(f'processor\t: 0\nflags\t\t: {flags}\n')
    monkeypatch.setattr(precision, 'mkldnn_bf16_supported', lambda: oneDNN)
    read_flags = precision.cpu_flags
    monkeypatch.setattr(precision, 'cpu_flags',
                        lambda: read_flags(str(cpuinfo)))
    monkeypatch.setattr(precision.platform, 'system', lambda: 'Linux')
    precision.cpu_has_native_bf16.cache_clear()
    try:
        assert precision.cpu_has_native_bf16() is native
    finally:
        precision.cpu_has_native_bf16.cache_clear()


@cpu_only
def test_cpu_amp_wrapper_rejects_fp16():
    with pytest.raises(ValueError, match='bfloat16'):
        make_wrapper(dtype='float16')


def test_channels_last_hook_keeps_parameters_and_the_optimizer_working():
    model, wrapper = make_wrapper()
    params = list(model.parameters())
    runner = type('Runner', (), dict(model=model))()
    ChannelsLastHook().before_run(runner)
    weight = model[0].weight
    assert weight.is_contiguous(memory_format=torch.channels_last)
    assert not weight.is_contiguous()
    assert list(model.parameters()) == params  # same objects: optimizer ok
    before = weight.detach().clone()
    x = torch.randn(2, 3, 8, 8)
    with wrapper.optim_context(model):
        out = model(x)
    assert out.is_contiguous(memory_format=torch.channels_last)
    wrapper.update_params(out.float().mean())
    assert not torch.equal(before, weight)
    # loading NCHW weights keeps the channels-last storage
    model.load_state_dict({k: v.contiguous() for k, v in
                           model.state_dict().items()})
    assert model[0].weight.is_contiguous(memory_format=torch.channels_last)


def test_wrapper_is_registered():
    assert OPTIM_WRAPPERS.get('AnyDeviceAmpOptimWrapper') is \
        AnyDeviceAmpOptimWrapper


def write_config(tmp_path, text):
    path = tmp_path / 'cfg.py'
    path.write_text(text)
    return str(path)


def test_load_config_work_dir_priority(tmp_path):
    path = write_config(tmp_path, "optim_wrapper = dict(type='OptimWrapper')")
    assert load_config(path, None, None, 'none').work_dir == \
        './work_dirs/cfg'
    cfg = load_config(path, {'work_dir': 'from_opts'}, None, 'none')
    assert cfg.work_dir == 'from_opts'
    assert load_config(path, None, 'cli', 'none').work_dir == 'cli'


def test_enable_amp_switches_wrapper_and_refuses_unknown(tmp_path):
    cfg = Config(dict(optim_wrapper=dict(type='OptimWrapper')))
    enable_amp(cfg)
    assert cfg.optim_wrapper.type == 'AnyDeviceAmpOptimWrapper'
    # --amp is an explicit request (mrpan_mm/utils/precision.py), also on a
    # config whose wrapper autocasts only where bf16 is native
    assert cfg.optim_wrapper.emulated_bf16
    cfg = Config(dict(optim_wrapper=dict(type='AnyDeviceAmpOptimWrapper')))
    enable_amp(cfg)
    assert cfg.optim_wrapper.emulated_bf16
    with pytest.raises(ValueError, match='OptimWrapper'):
        enable_amp(Config(dict(optim_wrapper=dict(type='ZeroOptimizer'))))


@cpu_only
def test_cpu_distributed_config_without_launcher_is_untouched():
    cfg = Config(dict(launcher='none'))
    setup_cpu_distributed(cfg)
    assert 'model_wrapper_cfg' not in cfg


@cpu_only
def test_sync_bn_on_cpu_is_refused():
    cfg = Config(dict(launcher='pytorch', sync_bn='torch'))
    with pytest.raises(ValueError, match='sync_bn needs CUDA'):
        setup_cpu_distributed(cfg)


def test_visualization_needs_hook():
    with pytest.raises(ValueError, match='visualization'):
        enable_visualization(Config(dict(default_hooks={})), False, 'x', 1)
    cfg = Config(dict(default_hooks=dict(visualization=dict(draw=False)),
                      visualizer=dict(type='Visualizer')))
    enable_visualization(cfg, False, 'panels', 1)
    assert cfg.default_hooks.visualization.draw
    assert cfg.visualizer.save_dir == 'panels'
