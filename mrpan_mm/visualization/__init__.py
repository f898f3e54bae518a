"""Depth visualisation: panels from arrays and an mmseg visualizer."""
from .depth_panel import (ERROR_COLOURS, GOOD, NO_DEPTH, OVER, UNDER,
                          classify_errors, colorize_depth,
                          render_depth_colormap, render_depth_panel,
                          render_error_map)
from .depth_panel_visualizer import DepthPanelVisualizer

__all__ = [
    'DepthPanelVisualizer', 'render_depth_panel', 'render_depth_colormap',
    'colorize_depth', 'classify_errors', 'render_error_map', 'ERROR_COLOURS',
    'NO_DEPTH', 'GOOD', 'OVER', 'UNDER'
]
