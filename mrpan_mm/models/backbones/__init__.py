from .five_level_encoder import FiveLevelEncoder
from .senet import SEBottleneck, SEModule, SENet
from .strict_pretrained import (checked_state_dict, load_pretrained,
                                pretrained_entry, read_state_dict)

__all__ = [
    'FiveLevelEncoder', 'SENet', 'SEBottleneck', 'SEModule',
    'checked_state_dict', 'load_pretrained', 'pretrained_entry',
    'read_state_dict'
]
