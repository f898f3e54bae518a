"""NYU loading and augmentation transforms (registered in mmseg)."""
from .geometric import CenterCropDepth, PillowResize
from .loading import (LoadBoundaryMap, LoadCheckedDepth, LoadCheckedImage,
                      LoadInferenceImage)
from .photometric import (PCALighting, RandomChannelSwap,
                          RandomOrderColorJitter)

__all__ = [
    'LoadCheckedImage', 'LoadCheckedDepth', 'LoadInferenceImage',
    'LoadBoundaryMap', 'PillowResize', 'CenterCropDepth', 'PCALighting',
    'RandomOrderColorJitter',
    'RandomChannelSwap'
]
