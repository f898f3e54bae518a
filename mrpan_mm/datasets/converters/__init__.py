"""Converters of NYU Depth v2 distributions to mmseg's NYU layout."""
from .nyu_hu_csv import DEPTH_ENCODINGS, convert_hu_csv, read_depth_mm
from .nyu_labeled import (convert_nyu_labeled, official_splits,
                          read_splits_mat)
from .nyu_layout import NYULayoutWriter

__all__ = [
    'DEPTH_ENCODINGS', 'convert_hu_csv', 'read_depth_mm',
    'convert_nyu_labeled', 'official_splits', 'read_splits_mat',
    'NYULayoutWriter'
]
