"""Tiny NYU-format RGB-D fixtures generated at test time.

The layout is the one read by mmseg's ``NYUDataset``::

    root/images/{train,test}/<scene>_<index>.jpg        RGB, 8 bit
    root/annotations/{train,test}/<scene>_<index>.png   depth, uint16, mm

Each sample is a tilted floor plane with one box in front of it; the RGB
image is shaded from the depth so that it carries depth cues.  Nothing here
is meant to be learned well; it exercises loading, training and evaluation.
"""
from typing import Callable, Dict, List, Tuple

import numpy as np

from ..datasets.converters.nyu_layout import NYULayoutWriter
from ..datasets.nyu_metadata import SPLITS
from ..utils.depth_io import metres_to_mm

#: Makes one sample: a BGR image (H x W x 3, uint8) and its annotation
#: (H x W, uint8 or uint16).
SampleMaker = Callable[[], Tuple[np.ndarray, np.ndarray]]


def synthetic_depth(height: int, width: int,
                    rng: np.random.Generator) -> np.ndarray:
    """Depth in metres (float32, H x W) of a slanted plane with a box."""
    rows = np.linspace(0.0, 1.0, height, dtype=np.float32)[:, None]
    cols = np.linspace(0.0, 1.0, width, dtype=np.float32)[None, :]
    far, slope = rng.uniform(3.0, 6.0), rng.uniform(1.0, 2.5)
    depth = far - slope * rows + 0.3 * (cols - 0.5) * rng.uniform(-1, 1)
    depth = np.broadcast_to(depth, (height, width)).copy()
    top, left = rng.integers(0, height // 2), rng.integers(0, width // 2)
    box_h = rng.integers(height // 4, height // 2)
    box_w = rng.integers(width // 4, width // 2)
    depth[top:top + box_h, left:left + box_w] = rng.uniform(1.0, 2.5)
    return depth.astype(np.float32)


def shade_rgb(depth: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """An 8-bit BGR image whose brightness falls off with depth."""
    base = rng.uniform(0.4, 1.0, size=3).astype(np.float32)
    intensity = np.clip(1.5 / depth, 0.0, 1.0)[..., None]
    noise = rng.normal(0.0, 0.03, size=depth.shape + (3, ))
    image = np.clip(intensity * base + noise, 0.0, 1.0) * 255.0
    return image.astype(np.uint8)


def write_nyu_layout(root: str, annotation: str, counts: Tuple[int, int],
                     scene: str,
                     make_sample: SampleMaker) -> Dict[str, List[str]]:
    """Write generated samples in the NYU layout, ``train`` split first.

    Sample ``index`` of a split is written by :class:`NYULayoutWriter` as
    ``root/images/<split>/<scene>_<index:05d>.jpg`` and its annotation PNG.

    Args:
        root: Output folder (created).
        annotation: ``'depth'`` (uint16 millimetres, ``annotations/``) or
            ``'labels'`` (uint8 class labels, ``seg_annotations/``).
        counts: Number of (train, test) samples.
        scene: Scene name prefix of the file names.
        make_sample: Called once per sample, in writing order.

    Returns:
        The written image paths per split.
    """
    writer = NYULayoutWriter(root)
    write_annotation = dict(
        depth=writer.write_depth_mm, labels=writer.write_labels)[annotation]
    written: Dict[str, List[str]] = {}
    for split, count in zip(SPLITS, counts):
        written[split] = []
        for index in range(count):
            image, annotation_map = make_sample()
            stem = f'{scene}_{index:05d}'
            writer.start_sample(split, stem, root)
            written[split].append(writer.write_image(split, stem, image))
            write_annotation(split, stem, annotation_map)
    return written


def make_nyu_fixture(root: str,
                     num_train: int = 4,
                     num_test: int = 2,
                     size: Tuple[int, int] = (64, 80),
                     scene: str = 'kitchen',
                     seed: int = 0) -> Dict[str, List[str]]:
    """Write a tiny NYU-layout dataset under ``root``.

    Args:
        root: Output folder (created).
        num_train: Number of training samples.
        num_test: Number of test samples.
        size: Image size (height, width) in pixels.
        scene: Scene name prefix; NYU file names are ``<scene>_<index>``.
        seed: Seed of the generator: the same arguments give the same files.

    Returns:
        The written image paths per split.
    """
    rng = np.random.default_rng(seed)

    def make_sample() -> Tuple[np.ndarray, np.ndarray]:
        depth = synthetic_depth(size[0], size[1], rng)
        image = shade_rgb(depth, rng)
        return image, metres_to_mm(depth, 'synthetic depth')

    return write_nyu_layout(root, 'depth', (num_train, num_test),
                            scene, make_sample)
