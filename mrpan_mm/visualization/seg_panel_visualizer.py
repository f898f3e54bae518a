"""RGB | ground truth | prediction panels of class maps."""
from typing import Optional, Sequence

import mmcv
import numpy as np
from mmengine.visualization import Visualizer
from mmseg.registry import VISUALIZERS
from mmseg.structures import SegDataSample

from .depth_panel import _put_text

#: Colour of pixels whose class is not in the palette (e.g. 255, ignored).
UNLABELLED_COLOUR = (0, 0, 0)


def colorize_labels(labels: np.ndarray,
                    palette: Sequence[Sequence[int]]) -> np.ndarray:
    """Class map (H, W) -> RGB uint8 (H, W, 3): class k in ``palette[k]``,
    other values (255 = ignored) in :data:`UNLABELLED_COLOUR`."""
    lut = np.array([UNLABELLED_COLOUR] * 256, dtype=np.uint8)
    lut[:len(palette)] = palette
    return lut[labels.astype(np.int64).clip(0, 255)]


def render_seg_panel(image: np.ndarray, tiles: Sequence[tuple],
                     palette: Sequence[Sequence[int]],
                     band: int = 20) -> np.ndarray:
    """Side by side: the RGB image, then each ``(title, class map)`` tile.

    Args:
        image: RGB image (H, W, 3), uint8.
        tiles: ``(title, labels)`` pairs, class maps (H, W) of ints.
        palette: RGB colour of each class.
        band: Height in pixels of the title band above each tile.

    Returns:
        RGB uint8 array (H + band, W * (1 + len(tiles)), 3).
    """
    columns = []
    for title, body in [('RGB', image)] + [
            (title, colorize_labels(labels, palette))
            for title, labels in tiles]:
        header = np.zeros((band, image.shape[1], 3), dtype=np.uint8)
        _put_text(header, title, (0, 0, image.shape[1], band))
        columns.append(np.concatenate([header, body], axis=0))
    return np.concatenate(columns, axis=1)


@VISUALIZERS.register_module()
class SegPanelVisualizer(Visualizer):
    """Draws RGB | ground truth | prediction panels of class maps.

    A drop-in visualizer for mmseg's ``SegVisualizationHook`` (the class
    counterpart of ``DepthPanelVisualizer``): class colours come from the
    dataset's ``palette`` (``dataset_meta``, set by the runner's loops).
    The maps must be the size of the image as read (test pipelines that
    load the labels after resizing).

    Args:
        name: Instance name (MMEngine visualizers are named singletons).
        vis_backends: MMEngine visualization backend configs.
        save_dir: Root folder of the backends' output.
        band: Height in pixels of the title bands.
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
            data_sample: Sample with ``gt_sem_seg`` and/or ``pred_sem_seg``
                (``PixelData``, (1, H, W) class indices).
            draw_gt: Whether to draw the ground truth.
            draw_pred: Whether to draw the prediction.
            show: Display the panel in a window instead of storing it.
            wait_time: Display time in seconds when ``show``.
            out_file: Write the panel to this file instead of the backends.
            step: Global step recorded by the backends.
        """
        data_sample = data_sample or SegDataSample()
        tiles = [(title, data_sample.get(key).data.cpu().numpy()[0])
                 for title, key, wanted in (
                     ('ground truth', 'gt_sem_seg', draw_gt),
                     ('prediction', 'pred_sem_seg', draw_pred))
                 if wanted and key in data_sample]
        panel = render_seg_panel(image, tiles, self.dataset_meta['palette'],
                                 self.band)
        self.set_image(panel)
        if show:
            self.show(panel, win_name=name, wait_time=wait_time)
        if out_file is not None:
            mmcv.imwrite(mmcv.rgb2bgr(panel), out_file)
        else:
            self.add_image(name, panel, step)
