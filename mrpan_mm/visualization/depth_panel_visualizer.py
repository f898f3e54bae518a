"""Visualizer drawing depth panels from mmseg data samples."""
from typing import Optional, Sequence

import numpy as np
from mmengine.structures import PixelData
from mmseg.registry import VISUALIZERS
from mmseg.structures import SegDataSample

from .depth_panel import render_depth_panel
from .panel_visualizer import PanelVisualizer


def _depth_array(pixel_data: PixelData) -> np.ndarray:
    """``PixelData.data`` (1, H, W) tensor -> (H, W) float32 array."""
    return pixel_data.data.detach().cpu().float().numpy()[0]


def crop_to_evaluated_region(image: np.ndarray, metainfo: dict) -> np.ndarray:
    """The part of ``image`` (the file as read) that the depth maps cover.

    A test pipeline with ``CenterCropDepth`` evaluates a crop of the
    resized frame (``crop_bbox`` in resized pixels, ``scale_factor`` =
    (w_scale, h_scale) of the resize); that window, mapped back to the
    file's pixels, is returned. Without ``crop_bbox``: ``image`` itself.
    """
    if 'crop_bbox' not in metainfo:
        return image
    w_scale, h_scale = metainfo.get('scale_factor', (1.0, 1.0))
    x1, y1, x2, y2 = metainfo['crop_bbox']
    return image[int(round(y1 / h_scale)):int(round(y2 / h_scale)),
                 int(round(x1 / w_scale)):int(round(x2 / w_scale))]


@VISUALIZERS.register_module()
class DepthPanelVisualizer(PanelVisualizer):
    """Draws RGB | ground truth | prediction | error-map panels.

    A drop-in visualizer for mmseg's ``SegVisualizationHook``: with
    ``visualizer=dict(type='DepthPanelVisualizer',
    vis_backends=[dict(type='LocalVisBackend')])`` in the config,
    ``tools/test.py --show-dir DIR`` writes one panel per test image to
    ``DIR/vis_data/vis_image/<name>_<step>.png``. The panel layout is the
    one of :func:`render_depth_panel`. When the test pipeline crops
    (``crop_bbox`` in the sample's meta), the RGB shown is the cropped
    window of the image, aligned with the depth maps.

    Args:
        name: Instance name (MMEngine visualizers are named singletons).
        vis_backends: MMEngine visualization backend configs.
        save_dir: Root folder of the backends' output.
        depth_range: (vmin, vmax) of the colour map in metres, shared by all
            panels; default: each image's valid ground-truth range.
        cmap: Matplotlib colour map name for depth.
        delta: Ratio threshold separating good pixels from misestimates.
        band: Height in pixels of the title and legend bands.
    """

    def __init__(self,
                 name: str = 'visualizer',
                 vis_backends: Optional[Sequence[dict]] = None,
                 save_dir: Optional[str] = None,
                 depth_range: Optional[Sequence[float]] = None,
                 cmap: str = 'magma_r',
                 delta: float = 1.25,
                 band: int = 20) -> None:
        super().__init__(name=name,
                         vis_backends=vis_backends,
                         save_dir=save_dir,
                         band=band)
        self.depth_range = tuple(depth_range) if depth_range else None
        self.cmap = cmap
        self.delta = delta

    def render_panel(self, image: np.ndarray, data_sample: SegDataSample,
                     draw_gt: bool, draw_pred: bool) -> np.ndarray:
        """:func:`render_depth_panel` of ``gt_depth_map`` /
        ``pred_depth_map`` (``PixelData``, (1, H, W), metres) over the
        evaluated region of ``image``; the error map needs both."""
        gt = _depth_array(data_sample.gt_depth_map) if (
            draw_gt and 'gt_depth_map' in data_sample) else None
        pred = _depth_array(data_sample.pred_depth_map) if (
            draw_pred and 'pred_depth_map' in data_sample) else None
        image = crop_to_evaluated_region(image, data_sample.metainfo)
        return render_depth_panel(image, pred, gt, self.depth_range,
                                  self.cmap, self.delta, self.band)
