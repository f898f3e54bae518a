"""mmseg's ``NYUDataset`` with clear errors on an empty split or bad names."""
import os.path as osp
from typing import List

from mmseg.datasets import NYUDataset
from mmseg.registry import DATASETS

from .integrity import (MISSING_FILE, NYUDataError, as_suffixes,
                        empty_split_error,
                        scene_of_file_name)


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

    ``img_suffix`` may be a tuple, e.g. ``('.jpg', '.png')``: images of
    every listed suffix are taken (Hu et al.'s training JPEGs and their
    lossless test PNGs, as the converter copies them).

    Boundary maps (e.g. iBims-1's depth edges): with
    ``data_prefix=dict(..., boundary_map_path='edges/test')`` every sample
    also gets ``boundary_map_path``, the PNG of the same name as its image
    in that folder (``data_root/edges/test/<scene>_<index>.png``), for
    ``LoadBoundaryMap``; a missing file raises ``missing file`` naming it
    when the dataset is built.
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
        # mmseg's NYUDataset lists one suffix: list each in turn.
        suffixes, data_list = self.img_suffix, []
        try:
            for self.img_suffix in as_suffixes(suffixes):
                data_list += super().load_data_list()
        finally:
            self.img_suffix = suffixes
        if not data_list:
            raise empty_split_error(img_dir, self.img_suffix)
        data_list.sort(key=lambda info: info['img_path'])
        boundary_dir = self.data_prefix.get('boundary_map_path')
        if boundary_dir:
            for info in data_list:
                info['boundary_map_path'] = boundary_map_file(
                    boundary_dir, info['img_path'])
        return data_list


def boundary_map_file(boundary_dir: str, img_path: str) -> str:
    """``boundary_dir/<image name>.png``; raises if the file is absent."""
    name = osp.splitext(osp.basename(img_path))[0] + '.png'
    path = osp.join(boundary_dir, name)
    if not osp.isfile(path):
        raise NYUDataError(path, MISSING_FILE,
                           f'no boundary map for {img_path}')
    return path
