"""MRPAN depth losses (Hu et al.'s three terms, per scale and summed)."""
from .depth_mask import (masked_mean, resize_depth_target, sobel_valid_mask,
                         valid_depth_mask)
from .depth_terms import DepthLogL1Loss, SobelGradientLoss, SurfaceNormalLoss
from .multi_scale_depth_loss import MultiScaleDepthLoss
from .sobel import sobel_gradients

__all__ = [
    'DepthLogL1Loss', 'SobelGradientLoss', 'SurfaceNormalLoss',
    'MultiScaleDepthLoss', 'sobel_gradients', 'masked_mean',
    'resize_depth_target', 'sobel_valid_mask', 'valid_depth_mask'
]
