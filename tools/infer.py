"""Predict depth for an image, a folder of images or a video.

    python tools/infer.py INPUT --config C --checkpoint K --out DIR \
        [--device cpu] [--batch-size N] [--flip-aug] [--amp] [--ply \
        [--fx FX --fy FY --cx CX --cy CY]] [--skip-bad] [--cfg-options ...]

INPUT is an image, a folder (its images, sorted by name) or a video file
(every frame, named ``<video stem>_<frame:06d>``).  An image's ``<name>``
is its file name without the extension, so a folder holding two images of
one name (``a.jpg`` and ``a.png``) is refused before anything is written:
their outputs would overwrite each other.  For every input ``<name>`` it
writes, at the input's own size:

* ``<name>_depth.png``: uint16, millimetres, 0 = none; depth beyond
  65.535 m is clipped (one warning for the whole run);
* ``<name>_depth.npy``: float32 metres, unclipped;
* ``<name>_color.png``: the colour-mapped depth with its range (metres)
  written in a colour bar below it;
* ``<name>.ply`` with ``--ply``: the coloured point cloud (metres, camera
  frame: x right, y down, z forward) of every pixel with depth.

The intrinsics are ``--fx --fy --cx --cy`` in pixels of the input.  Without
them a config whose test set is NYU Depth v2 (``NYUDepthDataset``, the demo
included: its rooms are rendered with the same camera) uses the Kinect
colour camera's (fx 518.8579, fy 519.4696, cx 325.5824, cy 253.7362 at
640x480), scaled to each input's size.  An input that cannot be read stops
the run with its name, or with ``--skip-bad`` is skipped and listed at the
end.
"""
import argparse
import os
import os.path as osp
import sys
import warnings
from typing import Iterator, List, Optional, Tuple

import mrpan_mm  # noqa: F401  (first: installs the mmcv-lite shim)
import cv2
import numpy as np
from mmengine.config import Config, DictAction
from tqdm import tqdm

from mrpan_mm.apis import DepthInferencer
from mrpan_mm.utils import CheckpointFileError
from mrpan_mm.utils.depth_io import MAX_PNG_DEPTH
from mrpan_mm.utils.intrinsics import scaled_intrinsics
from mrpan_mm.utils.prediction_files import PredictionFiles

IMAGE_EXTENSIONS = ('.jpg', '.jpeg', '.png', '.bmp', '.tif', '.tiff', '.webp')
VIDEO_EXTENSIONS = ('.mp4', '.avi', '.mov', '.mkv', '.webm', '.mpg', '.mpeg')
NYU_DATASETS = ('NYUDepthDataset', 'NYUDataset')
Frame = Tuple[str, Optional[np.ndarray], str]  # name, BGR image, problem


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Monocular depth inference with an mmseg DepthEstimator')
    parser.add_argument('input', help='an image, a folder of images or a '
                        'video file')
    parser.add_argument('--config', required=True, help='model config file')
    parser.add_argument('--checkpoint', required=True, help='checkpoint file')
    parser.add_argument('--out', required=True, help='output folder')
    parser.add_argument('--device', default='cpu', help='e.g. cpu, cuda:0')
    parser.add_argument('--batch-size', type=int, default=1)
    parser.add_argument('--flip-aug', action='store_true',
                        help='average with the mirrored prediction')
    parser.add_argument('--amp', action='store_true',
                        help='autocast: fp16 on CUDA, bf16 on the CPU '
                        '(mrpan_mm/utils/precision.py)')
    parser.add_argument('--ply', action='store_true',
                        help='also write a coloured point cloud per input')
    for name in ('fx', 'fy', 'cx', 'cy'):
        parser.add_argument(f'--{name}', type=float,
                            help='intrinsics of the input, pixels')
    parser.add_argument('--skip-bad', action='store_true',
                        help='skip unreadable inputs, list them at the end')
    parser.add_argument('--cmap', default='magma_r',
                        help='matplotlib colour map')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override config entries')
    return parser.parse_args(argv)


def list_images(path: str) -> List[str]:
    """The sorted image files directly in a folder.

    Raises:
        FileNotFoundError: The folder holds no image.
        ValueError: Two images share a name without extension (their
            output files would have the same names).
    """
    images = sorted(
        osp.join(path, name) for name in os.listdir(path)
        if name.lower().endswith(IMAGE_EXTENSIONS))
    if not images:
        raise FileNotFoundError(
            f'no image ({", ".join(IMAGE_EXTENSIONS)}) in folder {path}')
    seen = {}
    for image in images:
        stem = osp.splitext(osp.basename(image))[0]
        if stem in seen:
            raise ValueError(
                f'{seen[stem]} and {image} would both write {stem}_depth.* '
                'and the other outputs of that name: rename one of them')
        seen[stem] = image
    return images


def read_image(path: str) -> Frame:
    """(stem, BGR image or None, problem) of an image file."""
    name = osp.splitext(osp.basename(path))[0]
    image = cv2.imread(path, cv2.IMREAD_COLOR)
    if image is None:
        return name, None, (f'cannot read image {path}: missing, corrupt or '
                            'not an image format OpenCV decodes')
    return name, image, ''


def read_video(path: str) -> Iterator[Frame]:
    """(``<stem>_<frame:06d>``, BGR frame, '') for every frame of a video."""
    capture = cv2.VideoCapture(path)
    if not capture.isOpened():
        yield osp.basename(path), None, f'cannot open video {path}'
        return
    stem, index = osp.splitext(osp.basename(path))[0], 0
    try:
        while True:
            ok, frame = capture.read()
            if not ok:
                break
            yield f'{stem}_{index:06d}', frame, ''
            index += 1
    finally:
        capture.release()
    if index == 0:
        yield osp.basename(path), None, f'no frame decoded from video {path}'


def read_inputs(path: str) -> Iterator[Frame]:
    """Every input frame of an image, a folder or a video."""
    if osp.isdir(path):
        for image in list_images(path):
            yield read_image(image)
    elif not osp.isfile(path):
        raise FileNotFoundError(f'no such image, video or folder: {path}')
    elif path.lower().endswith(VIDEO_EXTENSIONS):
        yield from read_video(path)
    else:
        yield read_image(path)


def count_inputs(path: str) -> Optional[int]:
    """Number of frames to expect (None if a video does not say)."""
    if osp.isdir(path):
        return len(list_images(path))
    if path.lower().endswith(VIDEO_EXTENSIONS):
        capture = cv2.VideoCapture(path)
        frames = int(capture.get(cv2.CAP_PROP_FRAME_COUNT))
        capture.release()
        return frames if frames > 0 else None
    return 1


def default_intrinsics(cfg: Config) -> bool:
    """Whether the config's test set is NYU (Kinect intrinsics apply)."""
    return cfg.test_dataloader.dataset.get('type') in NYU_DATASETS


def intrinsics_for(args: argparse.Namespace, nyu: bool,
                   shape: Tuple[int, int]) -> Tuple[float, ...]:
    """(fx, fy, cx, cy) for an input of ``shape`` (H, W), pixels."""
    given = (args.fx, args.fy, args.cx, args.cy)
    if all(value is not None for value in given):
        return given
    if any(value is not None for value in given) or not nyu:
        raise ValueError('--ply needs all of --fx --fy --cx --cy (pixels '
                         'of the input) for a config whose test set is not '
                         'NYU Depth v2')
    return scaled_intrinsics(*shape)


def batches(frames: Iterator[Frame], size: int,
            skipped: Optional[List[str]]) -> Iterator[List[Frame]]:
    """Readable frames in lists of ``size``; unreadable ones go to
    ``skipped`` if that is a list, else stop the run."""
    batch: List[Frame] = []
    for frame in frames:
        if frame[1] is None:
            if skipped is None:
                raise ValueError(frame[2])
            skipped.append(frame[2])
            continue
        batch.append(frame)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def run(args: argparse.Namespace) -> List[str]:
    """Predict and save every input; returns the output names."""
    if args.batch_size < 1:
        raise ValueError(f'--batch-size must be >= 1, got {args.batch_size}')
    cfg = Config.fromfile(args.config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    total = count_inputs(args.input)
    inferencer = DepthInferencer(cfg, args.checkpoint, args.device,
                                 show_progress=False, amp=args.amp)
    nyu = default_intrinsics(cfg)
    files = PredictionFiles(
        args.out, ('npy', 'png', 'color') + (('ply', ) if args.ply else ()),
        args.cmap, lambda shape: intrinsics_for(args, nyu, shape))
    skipped = [] if args.skip_bad else None
    names: List[str] = []
    with tqdm(total=total, desc='depth', unit='img',
              disable=total == 1) as progress:
        for batch in batches(read_inputs(args.input), args.batch_size,
                             skipped):
            images = [image for _, image, _ in batch]
            depths = inferencer(images, batch_size=len(images),
                                flip_aug=args.flip_aug)['predictions']
            if len(images) == 1:
                depths = [depths]
            for (name, image, _), depth in zip(batch, depths):
                files.write(name, depth, image)
                names.append(name)
            # inputs done so far, skipped ones included
            progress.update(len(names) + len(skipped or []) - progress.n)
    if files.clipped:
        warnings.warn(f'depth beyond {MAX_PNG_DEPTH} m clipped in the PNGs '
                      f'of {len(files.clipped)} input(s), e.g. '
                      f'{files.clipped[0]} (the .npy files keep it)')
    if skipped:
        print(f'infer.py: skipped {len(skipped)} unreadable input(s):',
              *skipped, sep='\n  ', file=sys.stderr)
    if not names:
        raise ValueError(f'no readable input in {args.input}')
    return names


def main(argv=None) -> None:
    args = parse_args(argv)
    try:
        run(args)
    except (FileNotFoundError, ValueError, CheckpointFileError) as error:
        raise SystemExit(f'infer.py: error: {error}') from error


if __name__ == '__main__':
    main()
