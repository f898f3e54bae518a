"""NYU loading and augmentation transforms (registered in mmseg)."""
from .loading import (LoadCheckedDepth, LoadCheckedImage,
                      LoadInferenceImage)
from .photometric import RandomChannelSwap

__all__ = [
    'LoadCheckedImage', 'LoadCheckedDepth', 'LoadInferenceImage',
    'RandomChannelSwap'
]
