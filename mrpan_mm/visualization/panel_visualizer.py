"""The part of the panel visualizers that does not depend on the task."""
from typing import Optional, Sequence

import mmcv
import numpy as np
from mmengine.visualization import Visualizer
from mmseg.structures import SegDataSample


class PanelVisualizer(Visualizer):
    """An MMEngine visualizer that draws one image panel per data sample.

    Subclasses say what the panel holds: ``render_panel(image,
    data_sample, draw_gt, draw_pred)`` returns the RGB uint8 panel
    (H', W', 3) of ``image`` (RGB (H, W, 3)) and the sample's maps chosen
    by the two flags.  This class shows it, writes it to a file or hands
    it to the backends, as mmseg's ``SegVisualizationHook`` and
    ``tools/test.py --show-dir`` expect.

    Args:
        name: Instance name (MMEngine visualizers are named singletons).
        vis_backends: MMEngine visualization backend configs.
        save_dir: Root folder of the backends' output.
        band: Height in pixels of the title (and legend) bands.
    """

    def __init__(self,
                 name: str = 'visualizer',
                 vis_backends: Optional[Sequence[dict]] = None,
                 save_dir: Optional[str] = None,
                 band: int = 20) -> None:
        super().__init__(name=name,
                         vis_backends=vis_backends,
                         save_dir=save_dir)
        self.band = band

    def add_datasample(self,
                       name: str,
                       image: np.ndarray,
                       data_sample: Optional[SegDataSample] = None,
                       draw_gt: bool = True,
                       draw_pred: bool = True,
                       show: bool = False,
                       wait_time: float = 0,
                       out_file: Optional[str] = None,
                       step: int = 0) -> None:
        """Draw a panel and show it, write it to ``out_file`` or store it.

        Args:
            name: Image identifier (file name stem of the stored panel).
            image: RGB image (H, W, 3), uint8.
            data_sample: Sample with the ground truth and/or prediction.
            draw_gt: Whether to draw the ground truth.
            draw_pred: Whether to draw the prediction.
            show: Display the panel in a window instead of storing it.
            wait_time: Display time in seconds when ``show``.
            out_file: Write the panel to this file instead of the backends.
            step: Global step recorded by the backends.
        """
        panel = self.render_panel(image, data_sample or SegDataSample(),
                                  draw_gt, draw_pred)
        self.set_image(panel)
        if show:
            self.show(panel, win_name=name, wait_time=wait_time)
        if out_file is not None:
            mmcv.imwrite(mmcv.rgb2bgr(panel), out_file)
        else:
            self.add_image(name, panel, step)
