from . import (backbones, decode_heads, losses, necks,  # noqa: F401
               segmentors, torch_default_init)
