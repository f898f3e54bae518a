"""NYU Depth v2 40-class semantic segmentation (Gupta et al.'s grouping)."""
from mmseg.datasets import BaseSegDataset
from mmseg.registry import DATASETS

from .nyu_metadata import load_classes40


@DATASETS.register_module()
class NYU40SegDataset(BaseSegDataset):
    """The 1449 labelled NYUv2 frames with 40-class label maps.

    Layout written by ``tools/dataset_converters/nyu_labeled.py --labels``::

        data_root/images/{train,test}/<scene>_<index>.jpg
        data_root/seg_annotations/{train,test}/<scene>_<index>.png

    Label maps are uint8: 0 = unlabelled, 1..40 = the classes of the shipped
    ``classes40.txt``.  ``reduce_zero_label=True`` (the default) maps them to
    255 (ignored) and 0..39, the indices of ``METAINFO['classes']``.  No
    palette is defined: mmseg's ``BaseSegDataset`` draws a fixed one
    (seed 42).

    Args:
        img_suffix (str): Image file suffix. Defaults to '.jpg'.
        seg_map_suffix (str): Label file suffix. Defaults to '.png'.
        reduce_zero_label (bool): Ignore label 0 and shift the others down.
            Defaults to True.
        **kwargs: Other arguments of ``BaseSegDataset``, e.g.
            ``data_prefix=dict(img_path='images/train',
            seg_map_path='seg_annotations/train')``.
    """

    METAINFO = dict(classes=load_classes40())

    def __init__(self,
                 img_suffix: str = '.jpg',
                 seg_map_suffix: str = '.png',
                 reduce_zero_label: bool = True,
                 **kwargs) -> None:
        super().__init__(
            img_suffix=img_suffix,
            seg_map_suffix=seg_map_suffix,
            reduce_zero_label=reduce_zero_label,
            **kwargs)
