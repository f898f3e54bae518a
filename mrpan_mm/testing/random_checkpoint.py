"""Checkpoints of randomly initialised models, for tests of the tools."""
from typing import Optional

import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope

from ..models.necks.maca_attention import SpatialAttentionModule


def save_random_checkpoint(config: str, path: str, seed: int = 0,
                           sam_gamma: float = 1.0,
                           cfg_options: Optional[dict] = None) -> None:
    """Save ``{'state_dict': ...}`` of ``config``'s model, random weights.

    The pretrained encoder is not loaded (``init_cfg=None``).  Every SAM's
    ``gamma`` (0 after initialisation, which makes the attention a no-op) is
    set to ``sam_gamma`` so that the attention contributes to the output.
    ``cfg_options`` (dotted keys, as ``--cfg-options`` gives them) change
    the config first, e.g. to a smaller model of the same design.
    """
    from mmseg.registry import MODELS
    init_default_scope('mmseg')
    cfg = Config.fromfile(config)
    if cfg_options:
        cfg.merge_from_dict(cfg_options)
    cfg.model.backbone.init_cfg = None
    torch.manual_seed(seed)
    model = MODELS.build(cfg.model)
    for module in model.modules():
        if isinstance(module, SpatialAttentionModule):
            module.gamma.data.fill_(sam_gamma)
    torch.save({'state_dict': model.state_dict()}, path)
