"""Write the procedural rooms as an NYU-layout RGB-D dataset with labels.

Layout (the one mmseg's ``NYUDataset`` reads, plus mmseg's ``ann_dir`` of
class maps for ``DemoRoomsSegDataset``)::

    root/images/{train,test}/<scene>_<index>.jpg           BGR, 8 bit
    root/annotations/{train,test}/<scene>_<index>.png      z-depth, uint16, mm
    root/seg_annotations/{train,test}/<scene>_<index>.png  classes, uint8
                                                           (.labels.CLASSES,
                                                           255 = none)
    root/meta.json                                         generation manifest

Sample ``i`` of a split is rendered from its own generator seeded with
``(seed, split, i)``, so the splits never share scenes and the output is
byte-identical for equal parameters.
"""
import json
import multiprocessing
import os
import os.path as osp
import re
from typing import Dict, List, Optional, Tuple

import numpy as np
from tqdm import tqdm

from ..datasets.converters.nyu_layout import (DEPTH_DIR, IMAGE_DIR,
                                              LABEL_DIR, NYULayoutWriter)
from ..datasets.nyu_metadata import SPLITS
from ..utils.depth_io import metres_to_mm
from .render import render_labelled_view
from .scene import DEFAULT_RIG, sample_scene

FORMAT_VERSION = 2  # 2: class maps added
MANIFEST = 'meta.json'
JPEG_QUALITY = 95
#: Names of the sample files written here: ``<scene>_<5 digits>.jpg|png``.
_SAMPLE_FILE = re.compile(r'^[a-z_]+_\d{5}\.(jpg|png)$')


def _split_dirs(root: str, split: str) -> Tuple[str, str, str]:
    """Image, depth and label folders of ``split``."""
    return tuple(
        osp.join(root, folder, split)
        for folder in (IMAGE_DIR, DEPTH_DIR, LABEL_DIR))


def _sample_paths(root: str, split: str, stem: str) -> Tuple[str, str, str]:
    """Image, depth and label file paths of one sample."""
    img_dir, depth_dir, label_dir = _split_dirs(root, split)
    return (osp.join(img_dir, stem + '.jpg'),
            osp.join(depth_dir, stem + '.png'),
            osp.join(label_dir, stem + '.png'))


def _parameters(num_train: int, num_test: int, size: Tuple[int, int],
                train_size: Tuple[int, int], seed: int, rig: str) -> Dict:
    """The generation parameters as stored in the manifest."""
    return dict(format_version=FORMAT_VERSION, num_train=num_train,
                num_test=num_test, size=list(size),
                train_size=list(train_size), seed=seed, rig=rig)


def _is_complete(root: str, params: Dict) -> bool:
    """Whether ``root`` holds every file of a dataset made with ``params``."""
    try:
        with open(osp.join(root, MANIFEST)) as f:
            manifest = json.load(f)
    except (OSError, ValueError):
        return False
    if manifest.get('parameters') != params:
        return False
    return all(
        osp.isfile(path) for split in SPLITS
        for stem in manifest['stems'][split]
        for path in _sample_paths(root, split, stem))


def _remove_samples(root: str) -> None:
    """Delete the manifest and every previously generated sample file."""
    if osp.exists(osp.join(root, MANIFEST)):
        os.remove(osp.join(root, MANIFEST))
    for split in SPLITS:
        for folder in _split_dirs(root, split):
            if not osp.isdir(folder):
                continue
            for name in os.listdir(folder):
                if _SAMPLE_FILE.match(name):
                    os.remove(osp.join(folder, name))


def write_sample(root: str, split: str, index: int, seed: int,
                 size: Tuple[int, int], rig: str) -> str:
    """Render sample ``index`` of ``split`` and write its three files.

    Returns:
        The file stem ``<scene>_<index>``.
    """
    rng = np.random.default_rng([seed, SPLITS.index(split), index])
    scene, camera = sample_scene(rng, rig)
    bgr, depth, labels = render_labelled_view(scene, camera, *size)
    stem = f'{scene.kind}_{index:05d}'
    writer = NYULayoutWriter(root, jpeg_quality=JPEG_QUALITY)
    writer.start_sample(split, stem, root)
    writer.write_image(split, stem, bgr)
    writer.write_depth_mm(split, stem, metres_to_mm(depth, stem))
    writer.write_labels(split, stem, labels)
    return stem


def _write_job(job: Tuple) -> str:
    """:func:`write_sample` on one argument tuple (for a process pool)."""
    return write_sample(*job)


def make_demo_dataset(root: str,
                      num_train: int = 1200,
                      num_test: int = 80,
                      size: Tuple[int, int] = (120, 160),
                      train_size: Optional[Tuple[int, int]] = None,
                      seed: int = 0,
                      force: bool = False,
                      rig: str = DEFAULT_RIG,
                      workers: int = 1) -> bool:
    """Generate the demo dataset under ``root`` unless it is already there.

    A dataset is reused when ``root/meta.json`` records the same parameters
    and all its files exist; otherwise (or with ``force``) previously
    generated samples are deleted and everything is rendered again.

    Args:
        root: Output folder (created).
        num_train: Number of training samples.
        num_test: Number of test samples.
        size: Image size (height, width) in pixels of the test views (and
            of the training views unless ``train_size`` is given).
        train_size: Image size of the training views; default ``size``.
            Rendering them at the network's input size (the size the
            training pipeline resizes to anyway) costs a fraction of a full
            view: the demo renders them at its network input size
            (anti-aliased by the renderer's supersampling).
        seed: Base seed; the same parameters give byte-identical files.
        force: Regenerate even if a complete dataset exists.
        rig: Camera rig, a key of :data:`.scene.CAMERA_RIGS`.
        workers: Processes rendering in parallel (the files do not depend
            on it).

    Returns:
        True if files were (re)generated, False if the dataset was reused.
    """
    train_size = tuple(train_size or size)
    params = _parameters(num_train, num_test, tuple(size), train_size, seed,
                         rig)
    if not force and _is_complete(root, params):
        return False
    _remove_samples(root)
    for split in SPLITS:
        for folder in _split_dirs(root, split):
            os.makedirs(folder, exist_ok=True)
    jobs = [(root, split, i, seed, split_size, rig)
            for split, count, split_size in zip(
                SPLITS, (num_train, num_test), (train_size, tuple(size)))
            for i in range(count)]
    stems: Dict[str, List[str]] = {split: [] for split in SPLITS}
    with multiprocessing.Pool(workers) as pool:
        written = pool.imap(_write_job, jobs, chunksize=8)
        for job, stem in zip(jobs, tqdm(written, total=len(jobs),
                                        desc='demo rooms', unit='img')):
            stems[job[1]].append(stem)
    with open(osp.join(root, MANIFEST), 'w') as f:
        json.dump(dict(parameters=params, stems=stems), f, indent=1)
    return True
