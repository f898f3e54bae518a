"""Build a config's model without memory or initialisation, to check that
it builds (registered names, channel contracts) and count its parameters.
"""
import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope

# Encoders that read tensor values (their drop-path rates) while they are
# built, which meta tensors do not hold: built on the CPU.
READ_VALUES_WHILE_BUILT = ('mmpretrain.ConvNeXt', 'mmpretrain.SwinTransformer')


def build_weightless(cfg: Config) -> torch.nn.Module:
    """``cfg.model`` built on the meta device (no memory, no
    initialisation: SENet-154 alone would allocate and initialise 113 M
    parameters), or on the CPU where its encoder's constructor reads tensor
    values (:data:`READ_VALUES_WHILE_BUILT`)."""
    from mmseg.registry import MODELS
    init_default_scope('mmseg')
    encoder = cfg.model.backbone.get('encoder', cfg.model.backbone)
    device = 'cpu' if encoder.type in READ_VALUES_WHILE_BUILT else 'meta'
    with torch.device(device):
        return MODELS.build(cfg.model)
