"""Depth sets other than NYU in mmseg's folder layout (KITTI, iBims-1,
DIODE, SUN RGB-D), as the converters of ``tools/dataset_converters`` write
them."""
from mmseg.registry import DATASETS

from .nyu_depth import NYUDepthDataset


@DATASETS.register_module()
class DepthFolderDataset(NYUDepthDataset):
    """Images and depth maps of the same stem in two folders, any names::

        data_root/images/<split>/<name><img_suffix>
        data_root/annotations/<split>/<name><depth_map_suffix>

    The checks and options of :class:`NYUDepthDataset` (empty split, boundary
    maps) without its ``<scene>_<index>`` file names: KITTI's
    ``2011_09_26_drive_0002_sync_0000000069`` or DIODE's
    ``00019_00183_indoors_000_010`` are valid names, and no scene category
    is looked up (``category_id`` is -1).  The depth unit is the loader's
    ``depth_rescale_factor`` (1/256 for KITTI's PNGs, 1e-3 for millimetres).
    """

    def _get_category_id_from_filename(self, image_fname: str) -> int:
        """No scene categories: always -1."""
        return -1
