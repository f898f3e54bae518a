"""MRPAN depth losses (Hu et al.'s three terms, per scale and summed)."""
from .depth_terms import (DepthLogL1Loss, DepthTermLoss, SobelGradientLoss,
                          SurfaceNormalLoss, masked_mean, sobel_valid_mask,
                          valid_depth_mask)
from .multi_scale_depth_loss import MultiScaleDepthLoss, resize_depth_target
from .sobel import sobel_gradients

__all__ = [
    'DepthTermLoss', 'DepthLogL1Loss', 'SobelGradientLoss',
    'SurfaceNormalLoss', 'MultiScaleDepthLoss', 'sobel_gradients',
    'masked_mean', 'resize_depth_target', 'sobel_valid_mask',
    'valid_depth_mask'
]
