"""Predict depth for one image or a folder of images.

    python tools/infer.py IMG_OR_DIR --config C --checkpoint K --out DIR \
        [--device cpu]

For every image ``<stem>.<ext>`` it writes ``<stem>_depth.png`` (uint16,
millimetres, 0 = none) and ``<stem>_color.png`` (colour-mapped depth, range
of that image's prediction) at the image's own size.
"""
import argparse
import os
import os.path as osp
from typing import List

import mrpan_mm  # noqa: F401  (registers modules; must precede mmseg)

import cv2
import numpy as np
from mmengine.config import Config
from mmengine.runner import load_checkpoint
from mmseg.apis import inference_model, init_model
from tqdm import tqdm

from mrpan_mm.utils import CheckpointFileError, use_safe_checkpoint_loader
from mrpan_mm.visualization import colorize_depth

IMAGE_EXTENSIONS = ('.jpg', '.jpeg', '.png', '.bmp', '.tif', '.tiff', '.webp')
MAX_DEPTH_MM = np.iinfo(np.uint16).max


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Monocular depth inference with an mmseg DepthEstimator')
    parser.add_argument('input', help='an image file or a folder of images')
    parser.add_argument('--config', required=True, help='model config file')
    parser.add_argument('--checkpoint', required=True, help='checkpoint file')
    parser.add_argument('--out', required=True, help='output folder')
    parser.add_argument('--device', default='cpu', help='e.g. cpu, cuda:0')
    parser.add_argument('--cmap',
                        default='magma_r',
                        help='matplotlib colour map')
    return parser.parse_args(argv)


def list_images(path: str) -> List[str]:
    """The image itself, or the sorted image files directly in a folder."""
    if osp.isfile(path):
        return [path]
    if not osp.isdir(path):
        raise FileNotFoundError(f'no such image or folder: {path}')
    images = sorted(
        osp.join(path, name) for name in os.listdir(path)
        if name.lower().endswith(IMAGE_EXTENSIONS))
    if not images:
        raise FileNotFoundError(
            f'no image ({", ".join(IMAGE_EXTENSIONS)}) in folder {path}')
    return images


def read_image(path: str) -> np.ndarray:
    """BGR uint8 image (H, W, 3); ValueError naming the file if unreadable."""
    image = cv2.imread(path, cv2.IMREAD_COLOR)
    if image is None:
        raise ValueError(f'cannot read image {path}: missing, corrupt or not '
                         'an image format OpenCV decodes')
    return image


def build_model(config: str, checkpoint: str, device: str):
    """Model in eval mode with weights from ``checkpoint``.

    ``mmseg.apis.init_model`` requires ``meta`` in the checkpoint; the
    weights are loaded here instead, so a bare ``{'state_dict': ...}``
    works too. Annotation loaders are dropped from the test pipeline that
    ``inference_model`` runs (it only removes ``LoadAnnotations``).  The
    file is read without running code from it and must match the model
    (README, "Reliability and security").
    """
    cfg = Config.fromfile(config)
    cfg.test_pipeline = [
        step for step in cfg.test_pipeline if 'Annotation' not in step['type']
    ]
    model = init_model(cfg, checkpoint=None, device=device)
    use_safe_checkpoint_loader()
    load_checkpoint(model, checkpoint, map_location='cpu', strict=True)
    return model.to(device)


def save_depth(depth: np.ndarray, stem: str, out_dir: str, cmap: str) -> None:
    """Write ``<stem>_depth.png`` (uint16 mm) and ``<stem>_color.png``."""
    depth_mm = np.clip(np.round(depth * 1000.0), 0, MAX_DEPTH_MM)
    cv2.imwrite(osp.join(out_dir, f'{stem}_depth.png'),
                depth_mm.astype(np.uint16))
    low, high = float(depth.min()), float(depth.max())
    colour = colorize_depth(depth, low, high if high > low else low + 1.0,
                            cmap)
    cv2.imwrite(osp.join(out_dir, f'{stem}_color.png'), colour[..., ::-1])


def run(args: argparse.Namespace) -> List[str]:
    """Predict and save every input image; returns the input paths."""
    images = list_images(args.input)
    model = build_model(args.config, args.checkpoint, args.device)
    os.makedirs(args.out, exist_ok=True)
    for path in tqdm(images,
                     desc='depth',
                     unit='img',
                     disable=len(images) == 1):
        result = inference_model(model, read_image(path))
        depth = result.pred_depth_map.data[0].float().cpu().numpy()
        save_depth(depth,
                   osp.splitext(osp.basename(path))[0], args.out, args.cmap)
    return images


def main(argv=None) -> None:
    args = parse_args(argv)
    try:
        run(args)
    except (FileNotFoundError, ValueError, CheckpointFileError) as error:
        raise SystemExit(f'infer.py: error: {error}') from error


if __name__ == '__main__':
    main()
