"""Depth evaluation: NYU protocols, metrics and boundary metrics."""
from .boundary import (canny_depth_edges, depth_boundary_errors,
                       edge_precision_recall_f1, sobel_magnitude)
from .nyu_depth_metric import NYUDepthMetric
from .protocols import (DEPTH_EVAL_PROTOCOLS, DepthEvalProtocol, EigenProtocol,
                        Hu2019Protocol, build_protocol)

__all__ = [
    'NYUDepthMetric', 'DEPTH_EVAL_PROTOCOLS', 'DepthEvalProtocol',
    'EigenProtocol', 'Hu2019Protocol', 'build_protocol', 'sobel_magnitude',
    'edge_precision_recall_f1', 'canny_depth_edges', 'depth_boundary_errors'
]
