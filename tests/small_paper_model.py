"""The paper model's design at a CPU test's size: ``--cfg-options`` that
keep every part of a SENet-154 MRPAN config (its neck with the same GAM,
SAM, projection order and initialisation, its head with the same refine
block, loss and depth range) but swap SENet-154 for SE-ResNeXt-26 (32x4d,
the same block types: grouped 3x3 convolutions, SE modules) and narrow
the neck and head to 16 channels per level.  The paper configs' model
goes from 276 M parameters to about 15 M.

Tests whose subject is SENet-154 itself (its layout, its parameter count,
its level shapes at 228x304) build the full model; every other test of a
paper config uses these options.
"""
from typing import Dict, List

SMALL_ENCODER = 'seresnext26_32x4d'
SMALL_ENCODER_CHANNELS = (64, 256, 512, 1024, 2048)
# Five levels of 16 channels: SAM's query/key width 16 // 8 = 2; the neck's
# fusion branches 40 // 5 = 8 channels each.
SMALL_FUSE = (40, ) * 5
SMALL_OUT = (16, ) * 5

SMALL_PAPER_MODEL: Dict[str, object] = {
    'model.backbone.arch': SMALL_ENCODER,
    'model.backbone.init_cfg': None,
    'model.neck.in_channels': SMALL_ENCODER_CHANNELS,
    'model.neck.fuse_channels': SMALL_FUSE,
    'model.neck.out_channels': SMALL_OUT,
    'model.decode_head.in_channels': SMALL_OUT,
    'model.decode_head.top_channels': SMALL_ENCODER_CHANNELS[-1],
    'model.decode_head.top_proj_channels': 16,
}


def option_args(options: Dict[str, object]) -> List[str]:
    """``options`` as ``--cfg-options`` command-line entries."""
    return [
        f'{key}=({",".join(map(str, value))})' if isinstance(value, tuple)
        else f'{key}={value}' for key, value in options.items()
    ]


def small_paper_model_args() -> List[str]:
    """:data:`SMALL_PAPER_MODEL` as ``--cfg-options`` entries."""
    return option_args(SMALL_PAPER_MODEL)
