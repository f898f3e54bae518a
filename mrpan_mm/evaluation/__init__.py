"""Depth evaluation: protocols, alignment, metrics and boundary metrics;
per-class IoU for segmentation."""
from .boundary import (canny_depth_edges, depth_boundary_errors,
                       edge_precision_recall_f1, sobel_magnitude)
from .class_iou_metric import ClassIoUMetric, class_iou
from .nyu_depth_metric import NYUDepthMetric
from .alignment import ALIGNMENTS, align_prediction
from .protocols import (DEPTH_EVAL_PROTOCOLS, KITTI_CROPS, DepthEvalProtocol,
                        EigenProtocol, Hu2019Protocol, KITTIProtocol,
                        build_protocol)

__all__ = [
    'ClassIoUMetric', 'class_iou', 'NYUDepthMetric', 'DEPTH_EVAL_PROTOCOLS',
    'DepthEvalProtocol',
    'EigenProtocol', 'Hu2019Protocol', 'KITTIProtocol', 'KITTI_CROPS',
    'build_protocol', 'ALIGNMENTS', 'align_prediction', 'sobel_magnitude',
    'edge_precision_recall_f1', 'canny_depth_edges', 'depth_boundary_errors'
]
