"""Depth loading and augmentation transforms (registered in mmseg)."""
from .geometric import CenterCropDepth, KBCrop, PillowResize
from .loading import (LoadBoundaryMap, LoadCheckedDepth, LoadCheckedImage,
                      LoadInferenceImage)
from .photometric import PCALighting, RandomOrderColorJitter

__all__ = [
    'LoadCheckedImage', 'LoadCheckedDepth', 'LoadInferenceImage',
    'LoadBoundaryMap', 'PillowResize', 'CenterCropDepth', 'KBCrop',
    'PCALighting', 'RandomOrderColorJitter'
]
