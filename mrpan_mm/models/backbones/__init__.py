from .senet import SEBottleneck, SEModule, SENet
from .senet_checkpoint import load_backbone_state_dict, match_state_dict

__all__ = [
    'SENet', 'SEBottleneck', 'SEModule', 'load_backbone_state_dict',
    'match_state_dict'
]
