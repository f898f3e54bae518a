"""Deployment: ONNX export of the depth network (``tools/deployment``) and
the inference behind the web page (``tools/webapp.py``)."""
from .onnx_export import (DEFAULT_OPSET, DepthNetwork, Parity, check_onnx,
                          compare_latency, compare_with_pytorch, export_onnx,
                          onnxruntime_session, preprocessing_metadata,
                          sample_input)

__all__ = [
    'DEFAULT_OPSET', 'DepthNetwork', 'Parity', 'check_onnx', 'compare_latency',
    'compare_with_pytorch', 'export_onnx', 'onnxruntime_session',
    'preprocessing_metadata', 'sample_input'
]
