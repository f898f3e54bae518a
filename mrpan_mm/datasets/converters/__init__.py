"""Converters of NYU Depth v2, KITTI and zero-shot depth sets to mmseg's
folder layouts."""
from .folder_layout import FolderLayoutWriter
from .kitti import (KITTI_DEPTH_SCALE, convert_kitti, read_split_file,
                    shipped_split)
from .nyu_hu_csv import DEPTH_ENCODINGS, convert_hu_csv, read_depth_mm
from .nyu_labeled import (convert_nyu_labeled, official_splits,
                          read_splits_mat)
from .nyu_layout import NYULayoutWriter
from .zero_shot import (convert_diode, convert_ibims1, convert_sunrgbd,
                        sunrgbd_depth_mm)

__all__ = [
    'DEPTH_ENCODINGS', 'convert_hu_csv', 'read_depth_mm',
    'convert_nyu_labeled', 'official_splits', 'read_splits_mat',
    'NYULayoutWriter', 'FolderLayoutWriter', 'KITTI_DEPTH_SCALE',
    'convert_kitti', 'read_split_file', 'shipped_split', 'convert_diode',
    'convert_ibims1', 'convert_sunrgbd', 'sunrgbd_depth_mm'
]
