"""The demo rooms as an mmseg semantic segmentation dataset."""
from mmseg.datasets import BaseSegDataset
from mmseg.registry import DATASETS

from .labels import CLASSES, IGNORE_INDEX, PALETTE


@DATASETS.register_module()
class DemoRoomsSegDataset(BaseSegDataset):
    """Class maps of the procedural rooms (``tools/make_demo_data.py``).

    Layout::

        data_root/images/{train,test}/<scene>_<index>.jpg
        data_root/seg_annotations/{train,test}/<scene>_<index>.png

    Label maps are uint8 class indices of :data:`.labels.CLASSES` (wall,
    floor, ceiling, the furniture kinds, objects) with 255 = no surface
    (ignored); no zero-label reduction.

    Args:
        **kwargs: Arguments of ``BaseSegDataset``, e.g.
            ``data_prefix=dict(img_path='images/train',
            seg_map_path='seg_annotations/train')``.
    """

    METAINFO = dict(classes=CLASSES, palette=[list(c) for c in PALETTE])

    def __init__(self, **kwargs) -> None:
        super().__init__(img_suffix='.jpg', seg_map_suffix='.png',
                         reduce_zero_label=False, ignore_index=IGNORE_INDEX,
                         **kwargs)
