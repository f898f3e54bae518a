"""High-level inference API."""
from .depth_inferencer import DepthInferencer, inference_pipeline

__all__ = ['DepthInferencer', 'inference_pipeline']
