"""Build benchmark models from config specs and synthetic batches.

A *spec* is ``CONFIG[:OVERRIDE[:OVERRIDE...]]`` where an override is
``dotted.key=value`` (value parsed as a Python literal, else a string) or a
preset name from :data:`PRESETS`, e.g.
``configs/mrpan_demo_cpu.py:baseline`` or
``configs/mrpan_nyu.py:model.neck.projection_order=lower_resolution``.
"""
import ast
import copy
from typing import Any, Dict, List, Optional, Sequence, Tuple

import torch
from mmengine.config import Config

from ..engine.launch import load_config

# Presets: the Table I ablation rows as overrides of any MRPAN config.
PRESETS: Dict[str, Dict[str, Any]] = {
    'baseline': {
        'model.neck.use_gam': False,
        'model.neck.use_sam': False,
        'model.decode_head.refine': 'basic'
    },
    'maca': {
        'model.neck.use_gam': True,
        'model.neck.use_sam': True,
        'model.decode_head.refine': 'basic'
    },
    'full': {
        'model.neck.use_gam': True,
        'model.neck.use_sam': True,
        'model.decode_head.refine': 'rrm'
    },
    'nosam': {'model.neck.use_sam': False},
    'nogam': {'model.neck.use_gam': False},
    # The neck resizes every level to the target size before its 5x5
    # projection (SARPN, literally or factored exactly at the lower
    # resolution), or projects at the lower of the two resolutions.
    'sarpn_order': {'model.neck.projection_order': 'resize_first'},
    'factored_order': {
        'model.neck.projection_order': 'resize_first_factored'
    },
    'lowres_order': {'model.neck.projection_order': 'lower_resolution'},
}

# Five-level channel contract of ``SENet`` archs (level 0 = stem).
ENCODER_CHANNELS = {
    'senet154': (128, 256, 512, 1024, 2048),
}
DEFAULT_ENCODER_CHANNELS = (64, 256, 512, 1024, 2048)


def _literal(value: str) -> Any:
    try:
        return ast.literal_eval(value)
    except (ValueError, SyntaxError):
        return value


def parse_spec(spec: str) -> Tuple[str, Dict[str, Any]]:
    """Split ``CONFIG[:OVERRIDE...]`` into the path and an override dict."""
    parts = spec.split(':')
    path, overrides = parts[0], {}
    for part in parts[1:]:
        if not part:
            continue
        if '=' in part:
            key, value = part.split('=', 1)
            overrides[key.strip()] = _literal(value.strip())
        elif part in PRESETS:
            overrides.update(PRESETS[part])
        else:
            raise ValueError(f'unknown override {part!r} in {spec!r}: use '
                             f'key=value or one of {sorted(PRESETS)}')
    return path, overrides


def spec_config(spec: str,
                encoder: Optional[str] = None,
                cfg_options: Optional[Dict[str, Any]] = None,
                shape: Optional[Sequence[int]] = None) -> Config:
    """Config of a spec; ``encoder`` swaps the SENet arch (and channels).

    The file is read by the tools' :func:`mrpan_mm.engine.load_config`; then
    ``shape``, ``encoder``, ``cfg_options`` and the spec's overrides are
    applied, in that order.  ``shape`` (H, W) becomes the data
    preprocessor's ``size`` where the config pads its inputs to one (the
    paper configs pad to 228x304), so the network runs at the benchmarked
    size.  Pretrained weights are never loaded (``init_cfg=None``):
    benchmarks use random weights.
    """
    path, overrides = parse_spec(spec)
    cfg = load_config(path)
    preprocessor = cfg.model.get('data_preprocessor') or {}
    if shape is not None and preprocessor.get('size') is not None:
        preprocessor['size'] = tuple(shape)
    if encoder is not None:
        channels = ENCODER_CHANNELS.get(encoder, DEFAULT_ENCODER_CHANNELS)
        cfg.merge_from_dict({
            'model.backbone.arch': encoder,
            'model.neck.in_channels': channels,
            'model.decode_head.top_channels': channels[-1],
        })
    if cfg_options:
        cfg.merge_from_dict(cfg_options)
    if overrides:
        cfg.merge_from_dict(overrides)
    cfg.model.backbone.init_cfg = None
    return cfg


def build_model(cfg: Config) -> torch.nn.Module:
    """Build ``cfg.model`` in mmseg's scope (random weights, no init)."""
    from mmengine.registry import init_default_scope
    from mmseg.registry import MODELS
    init_default_scope('mmseg')
    return MODELS.build(copy.deepcopy(cfg.model))


def build_optim_wrapper(model: torch.nn.Module, cfg: Config, amp: bool):
    """The config's optimizer; ``amp`` wraps it in bf16 autocast (an
    explicit request, :mod:`mrpan_mm.utils.precision`)."""
    from mmengine.optim import build_optim_wrapper as _build
    optim_cfg = copy.deepcopy(cfg.get('optim_wrapper', None)) or dict(
        type='OptimWrapper', optimizer=dict(type='Adam', lr=1e-4))
    optim_cfg = dict(type='OptimWrapper', optimizer=optim_cfg['optimizer'])
    if amp:  # bf16 even where it is emulated: that is what is measured
        optim_cfg.update(type='AnyDeviceAmpOptimWrapper', emulated_bf16=True,
                         dtype='bfloat16')
    return _build(model, optim_cfg)


def synthetic_batch(batch: int, height: int, width: int,
                    seed: int = 0) -> Dict[str, List]:
    """A ``train_step``/``test_step`` batch: uint8 images and depth samples.

    Depth is uniform in [0.5, 10) m with ~10 % invalid (0) pixels.
    """
    from mmengine.structures import PixelData
    from mmseg.structures import SegDataSample
    gen = torch.Generator().manual_seed(seed)
    inputs, samples = [], []
    for _ in range(batch):
        inputs.append(
            torch.randint(0, 256, (3, height, width), generator=gen,
                          dtype=torch.uint8))
        depth = 0.5 + 9.5 * torch.rand(1, height, width, generator=gen)
        depth[torch.rand(1, height, width, generator=gen) < 0.1] = 0
        sample = SegDataSample(
            metainfo=dict(
                img_shape=(height, width),
                ori_shape=(height, width),
                pad_shape=(height, width),
                scale_factor=(1.0, 1.0),
                flip=False,
                flip_direction=None))
        sample.gt_depth_map = PixelData(data=depth)
        samples.append(sample)
    return dict(inputs=inputs, data_samples=samples)
