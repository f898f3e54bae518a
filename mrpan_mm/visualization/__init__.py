"""Depth and class-map visualisation: panels from arrays and mmseg
visualizers."""
from .depth_panel import (ERROR_COLOURS, GOOD, NO_DEPTH, OVER, UNDER,
                          classify_errors, colorize_depth,
                          render_depth_colormap, render_depth_panel,
                          render_error_map)
from .depth_panel_visualizer import DepthPanelVisualizer
from .seg_panel_visualizer import (SegPanelVisualizer, colorize_labels,
                                   render_seg_panel)

__all__ = [
    'DepthPanelVisualizer', 'SegPanelVisualizer', 'colorize_labels',
    'render_seg_panel', 'render_depth_panel', 'render_depth_colormap',
    'colorize_depth', 'classify_errors', 'render_error_map', 'ERROR_COLOURS',
    'NO_DEPTH', 'GOOD', 'OVER', 'UNDER'
]
