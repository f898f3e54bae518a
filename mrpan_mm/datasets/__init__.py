"""Depth data (NYU Depth v2, KITTI, zero-shot sets): datasets, transforms,
checks and converters."""
from . import transforms  # noqa: F401  (registers the transforms)
from .depth_folder import DepthFolderDataset
from .integrity import NYUDataError
from .nyu_depth import NYUDepthDataset
from .nyu_seg import NYU40SegDataset
from .nyu_metadata import (load_class_mapping_894_to_40, load_classes40,
                           load_official_split, nyu_metadata_path)
from .scan import format_problem_table, scan_nyu_split

__all__ = [
    'DepthFolderDataset', 'NYUDataError', 'NYUDepthDataset',
    'NYU40SegDataset', 'load_class_mapping_894_to_40',
    'load_classes40', 'load_official_split', 'nyu_metadata_path',
    'format_problem_table', 'scan_nyu_split'
]
