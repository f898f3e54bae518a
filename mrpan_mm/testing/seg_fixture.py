"""Tiny NYU-layout segmentation fixtures generated at test time.

The layout is the one read by :class:`NYU40SegDataset`::

    root/images/{train,test}/<scene>_<index>.jpg            BGR, 8 bit
    root/seg_annotations/{train,test}/<scene>_<index>.png   uint8 labels

Labels follow the NYU40 convention: 0 = unlabelled, 1..K = classes.  Each
sample is a background of class 1 with a few axis-aligned rectangles of the
other classes; every class has its own flat colour, so the label of a pixel
is a function of its colour and a segmenter can learn it.  A frame of
``border`` pixels keeps the image content but is labelled 0 (unlabelled),
as NYU's unlabelled pixels are.
"""
from typing import Dict, List, Tuple

import numpy as np
from .nyu_fixture import write_nyu_layout

#: BGR colour of classes 1, 2, ... (entry k - 1 is the colour of class k).
CLASS_COLOURS = ((128, 128, 128), (0, 0, 255), (0, 255, 0), (255, 0, 0),
                 (0, 255, 255), (255, 0, 255), (255, 255, 0), (0, 0, 0))


def synthetic_labels(height: int, width: int, num_classes: int,
                     num_rects: int, border: int,
                     rng: np.random.Generator) -> np.ndarray:
    """Label map (uint8, H x W): class 1 with rectangles of classes 2..K."""
    labels = np.ones((height, width), dtype=np.uint8)
    for _ in range(num_rects):
        rect_h = rng.integers(height // 4, height // 2 + 1)
        rect_w = rng.integers(width // 4, width // 2 + 1)
        top = rng.integers(0, height - rect_h + 1)
        left = rng.integers(0, width - rect_w + 1)
        labels[top:top + rect_h, left:left + rect_w] = \
            rng.integers(2, num_classes + 1)
    if border:
        labels[:border] = labels[-border:] = 0
        labels[:, :border] = labels[:, -border:] = 0
    return labels


def paint(labels: np.ndarray, background: int = 1) -> np.ndarray:
    """BGR image (uint8) with each class in its colour; label 0 pixels take
    the ``background`` class colour."""
    palette = np.array(CLASS_COLOURS, dtype=np.uint8)
    return palette[np.where(labels == 0, background, labels) - 1]


def make_seg_fixture(root: str,
                     num_train: int = 4,
                     num_test: int = 2,
                     size: Tuple[int, int] = (48, 64),
                     num_classes: int = 4,
                     num_rects: int = 3,
                     border: int = 2,
                     scene: str = 'office',
                     seed: int = 0) -> Dict[str, List[str]]:
    """Write a tiny NYU-layout segmentation dataset under ``root``.

    Args:
        root, num_train, num_test, size, scene, seed: As
            :func:`make_nyu_fixture`.
        num_classes: Classes used, labels 1..num_classes (at most
            ``len(CLASS_COLOURS)``).
        num_rects: Rectangles per image.
        border: Width of the unlabelled (0) frame, in pixels.

    Returns:
        The written image paths per split.
    """
    if not 2 <= num_classes <= len(CLASS_COLOURS):
        raise ValueError(f'num_classes must be in [2, {len(CLASS_COLOURS)}]'
                         f', got {num_classes}')
    rng = np.random.default_rng(seed)

    def make_sample() -> Tuple[np.ndarray, np.ndarray]:
        labels = synthetic_labels(size[0], size[1], num_classes, num_rects,
                                  border, rng)
        return paint(labels), labels

    return write_nyu_layout(root, 'labels', (num_train, num_test),
                            scene, make_sample)
