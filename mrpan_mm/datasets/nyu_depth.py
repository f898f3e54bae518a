"""mmseg's ``NYUDataset`` with clear errors on an empty split or bad names."""
import os.path as osp
from typing import List

from mmseg.datasets import NYUDataset
from mmseg.registry import DATASETS

from .integrity import empty_split_error, scene_of_file_name


@DATASETS.register_module()
class NYUDepthDataset(NYUDataset):
    """NYU Depth v2 in mmseg's layout, refusing what mmseg mishandles.

    Same layout and arguments as :class:`mmseg.datasets.NYUDataset`::

        data_root/images/<split>/<scene>_<index>.jpg
        data_root/annotations/<split>/<scene>_<index>.png  (uint16, mm)

    Differences: a missing image folder or a folder without images raises
    :class:`~mrpan_mm.datasets.integrity.NYUDataError` (``empty split``)
    instead of a bare ``FileNotFoundError`` or an empty dataset, and a file
    name without the ``<scene>_<index>`` pattern raises ``bad file name``
    instead of ``StopIteration``.  Pixels are checked when loaded, by
    ``LoadCheckedImage`` / ``LoadCheckedDepth``.
    """

    def _get_category_id_from_filename(self, image_fname: str) -> int:
        """Index of the file's scene in ``classes``; -1 if not listed."""
        scene = scene_of_file_name(osp.join(self.data_prefix['img_path'],
                                            image_fname))
        classes = self._metainfo['classes']
        return classes.index(scene) if scene in classes else -1

    def load_data_list(self) -> List[dict]:
        img_dir = self.data_prefix['img_path']
        if not osp.isdir(img_dir):
            raise empty_split_error(img_dir, self.img_suffix)
        data_list = super().load_data_list()
        if not data_list:
            raise empty_split_error(img_dir, self.img_suffix)
        return data_list
