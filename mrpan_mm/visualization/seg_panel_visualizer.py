"""RGB | ground truth | prediction panels of class maps."""
from typing import Sequence

import numpy as np
from mmseg.registry import VISUALIZERS
from mmseg.structures import SegDataSample

from .depth_panel import _put_text
from .panel_visualizer import PanelVisualizer

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
class SegPanelVisualizer(PanelVisualizer):
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

    def render_panel(self, image: np.ndarray, data_sample: SegDataSample,
                     draw_gt: bool, draw_pred: bool) -> np.ndarray:
        """RGB | ``gt_sem_seg`` | ``pred_sem_seg`` (``PixelData``, (1, H, W)
        class indices), each map drawn when present and asked for."""
        tiles = [(title, data_sample.get(key).data.cpu().numpy()[0])
                 for title, key, wanted in (
                     ('ground truth', 'gt_sem_seg', draw_gt),
                     ('prediction', 'pred_sem_seg', draw_pred))
                 if wanted and key in data_sample]
        return render_seg_panel(image, tiles, self.dataset_meta['palette'],
                                self.band)
