from .depth_tta import DepthTTAModel

__all__ = ['DepthTTAModel']
