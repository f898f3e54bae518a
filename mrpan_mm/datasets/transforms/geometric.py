"""Hu et al.'s (WACV 2019) resize and centre crop, for mmseg pipelines.

Hu et al.'s loader (``nyu_transform.py``, reused unchanged by SARPN and
MRPAN) works on Pillow images: ``Scale`` resizes the RGB frame with
``Image.BILINEAR`` and the depth with ``Image.NEAREST``, ``CenterCrop``
crops both at the centre and resizes the depth once more with Pillow's
default filter.  The transforms here call Pillow the same way, so that
the arrays equal theirs pixel for pixel:

* Pillow's BILINEAR widens its triangle filter when it shrinks (an
  antialiased resize); OpenCV's ``INTER_LINEAR`` (mmseg's ``Resize``) does
  not.  Halving a row, Pillow weighs 4 pixels by (1, 3, 3, 1) / 8, OpenCV
  2 pixels by (1, 1) / 2.
* Pillow's NEAREST samples the input pixel under the output pixel's
  centre, ``floor((i + 0.5) * in / out)``: halving keeps the odd rows and
  columns.  OpenCV's ``INTER_NEAREST`` and torch's ``'nearest'`` use
  ``floor(i * in / out)`` (the even ones); torch's ``'nearest-exact'``
  equals Pillow.
"""
from typing import Optional, Sequence, Tuple

import numpy as np
from mmcv.transforms import BaseTransform
from mmseg.registry import TRANSFORMS
from PIL import Image


def pil_resize(array: np.ndarray, size_hw: Tuple[int, int],
               resample: int) -> np.ndarray:
    """Resize an (H, W) or (H, W, 3) array with Pillow, keeping its dtype.

    Args:
        array: uint8 (H, W, 3) image, or a 2-D uint8, int32 or float32 map
            (Pillow modes ``RGB``, ``L``, ``I``, ``F``). Other dtypes are
            converted to float32 for NEAREST (which only copies values) and
            refused otherwise.
        size_hw: Output size (height, width).
        resample: A Pillow filter (``Image.BILINEAR``, ...).
    """
    height, width = size_hw
    if array.shape[:2] == (height, width):
        return array
    dtype = array.dtype
    if array.ndim == 3 and dtype != np.uint8:
        raise TypeError('pil_resize resizes 3-channel images as Pillow RGB, '
                        f'which must be uint8; got {dtype}')
    if array.ndim == 2 and dtype not in (np.uint8, np.int32, np.float32):
        if resample != Image.NEAREST:
            raise TypeError(f'pil_resize cannot filter a {dtype} map')
        array = array.astype(np.float32)
    resized = np.array(
        Image.fromarray(np.ascontiguousarray(array)).resize((width, height),
                                                              resample))
    return resized.astype(dtype, copy=False)


@TRANSFORMS.register_module()
class PillowResize(BaseTransform):
    """Hu et al.'s ``Scale``: the shorter side to ``short_side``, with Pillow.

    Mirrors ``Scale.changeScale`` of Hu's ``nyu_transform.py``: for an image
    W x H with H <= W the output is ``int(short_side * W / H)`` x
    ``short_side`` (640x480 -> 320x240), and the other way round for
    portrait images; an image whose shorter side already has the length is
    left as it is.  ``img`` is resized with Pillow's BILINEAR (antialiased
    when shrinking), every key in ``seg_fields`` (depth, boundary maps)
    with Pillow's NEAREST, so depth values are copied, never blended.

    Required keys: ``img`` (uint8), ``seg_fields``.  Modified keys: ``img``,
    the ``seg_fields``, ``img_shape``.  Added keys: ``scale_factor``
    (w_scale, h_scale), ``keep_ratio`` (True).

    Args:
        short_side: Length of the shorter side after resizing, pixels.
    """

    def __init__(self, short_side: int = 240) -> None:
        if short_side <= 0:
            raise ValueError(f'short_side must be positive, got {short_side}')
        self.short_side = short_side

    def output_size(self, height: int, width: int) -> Tuple[int, int]:
        """(H, W) Hu's ``changeScale`` gives an H x W image."""
        if min(height, width) == self.short_side:
            return height, width
        if width < height:
            return int(self.short_side * height / width), self.short_side
        return self.short_side, int(self.short_side * width / height)

    def transform(self, results: dict) -> dict:
        height, width = results['img'].shape[:2]
        size = self.output_size(height, width)
        results['img'] = pil_resize(results['img'], size,
                                    Image.BILINEAR)
        for key in results.get('seg_fields', []):
            results[key] = pil_resize(results[key], size,
                                      Image.NEAREST)
        results['img_shape'] = size
        results['scale_factor'] = (size[1] / width, size[0] / height)
        results['keep_ratio'] = True
        return results

    def __repr__(self) -> str:
        return f'{self.__class__.__name__}(short_side={self.short_side})'


@TRANSFORMS.register_module()
class CenterCropDepth(BaseTransform):
    """Hu et al.'s ``CenterCrop``: crop image and depth at the centre.

    Mirrors ``CenterCrop`` of Hu's ``nyu_transform.py``: the window of
    ``crop_size`` starts at ``x1 = int(round((W - w) / 2.))``,
    ``y1 = int(round((H - h) / 2.))`` (Python 3 rounding), in ``img`` and in
    every key of ``seg_fields``; then, if ``depth_size`` is given, the
    ``seg_fields`` are resized to it with Pillow's NEAREST (Hu's
    ``depth.resize((ow, oh))`` with the default filter of the Pillow of
    2018-19, which was NEAREST; Pillow >= 7 defaults to BICUBIC).  Hu and
    SARPN train with ``crop_size=(228, 304), depth_size=(114, 152)`` and
    test with ``depth_size`` equal to the crop (no resize).

    With ``crop_is_ori_shape=True`` the crop becomes ``ori_shape``: mmseg's
    ``DepthEstimator`` then returns the prediction at the crop's size, the
    frame Hu's metrics are computed in, instead of resampling it to the
    size of the file (see :class:`~mrpan_mm.evaluation.Hu2019Protocol`).
    Inference on arbitrary images may drop this transform from the test
    pipeline: the prediction then covers the whole (resized) image and is
    returned at the file's size.

    Required keys: ``img``, ``seg_fields``.  Modified keys: ``img``, the
    ``seg_fields``, ``img_shape``, ``ori_shape`` (if
    ``crop_is_ori_shape``).  Added keys: ``crop_bbox`` (x1, y1, x2, y2) in
    the input image, end exclusive.

    Args:
        crop_size: (h, w) of the window; must fit in the image.
        depth_size: (h, w) the cropped ``seg_fields`` are resized to, or
            None to keep them at ``crop_size``.
        crop_is_ori_shape: Set ``ori_shape`` to ``crop_size``.
    """

    def __init__(self,
                 crop_size: Sequence[int] = (228, 304),
                 depth_size: Optional[Sequence[int]] = None,
                 crop_is_ori_shape: bool = False) -> None:
        self.crop_size = tuple(crop_size)
        self.depth_size = None if depth_size is None else tuple(depth_size)
        self.crop_is_ori_shape = crop_is_ori_shape
        for name, size in (('crop_size', self.crop_size),
                           ('depth_size', self.depth_size)):
            if size is not None and (len(size) != 2 or min(size) <= 0):
                raise ValueError(f'{name} must be (h, w) > 0, got {size}')

    def crop_bbox(self, height: int, width: int) -> Tuple[int, int, int, int]:
        """(x1, y1, x2, y2) of the centred window in an H x W image."""
        crop_h, crop_w = self.crop_size
        if crop_h > height or crop_w > width:
            raise ValueError(f'CenterCropDepth: crop {crop_h}x{crop_w} does '
                             f'not fit in the {height}x{width} image')
        x1 = int(round((width - crop_w) / 2.))
        y1 = int(round((height - crop_h) / 2.))
        return x1, y1, x1 + crop_w, y1 + crop_h

    def transform(self, results: dict) -> dict:
        x1, y1, x2, y2 = self.crop_bbox(*results['img'].shape[:2])
        results['img'] = results['img'][y1:y2, x1:x2]
        for key in results.get('seg_fields', []):
            cropped = results[key][y1:y2, x1:x2]
            if self.depth_size is not None:
                cropped = pil_resize(cropped, self.depth_size,
                                     Image.NEAREST)
            results[key] = cropped
        results['img_shape'] = self.crop_size
        results['crop_bbox'] = (x1, y1, x2, y2)
        if self.crop_is_ori_shape:
            results['ori_shape'] = self.crop_size
        return results

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(crop_size={self.crop_size}, '
                f'depth_size={self.depth_size}, '
                f'crop_is_ori_shape={self.crop_is_ori_shape})')


@TRANSFORMS.register_module()
class KBCrop(BaseTransform):
    """The KITTI benchmark crop: the bottom rows, the centre columns.

    KITTI raw frames differ slightly in size per recording day (370x1224 to
    376x1242); the crop of the KITTI depth benchmark (Uhrig et al., 3DV
    2017), which BTS and AdaBins apply at training and test time, keeps the
    bottom ``h`` rows (``top = H - h``) and the centred ``w`` columns
    (``left = (W - w) // 2``) of image and ``seg_fields``, 352x1216 by
    default: every frame then has the same size, a multiple of 32, and
    the windows of Garg and Eigen lie inside it.

    Required keys: ``img``, ``seg_fields``.  Modified keys: ``img``, the
    ``seg_fields``, ``img_shape``, ``ori_shape`` (if ``crop_is_ori_shape``).
    Added keys: ``frame_shape`` (H, W) before the crop and ``crop_offset``
    (top, left), which :class:`~mrpan_mm.evaluation.KITTIProtocol` reads to
    place its window (pack them with ``PackSegInputs(meta_keys=...)``).

    Args:
        crop_size: (h, w) of the crop, (352, 1216) for KITTI.
        crop_is_ori_shape: Set ``ori_shape`` to ``crop_size``, so that the
            model predicts the crop at its size (the test pipeline).
    """

    def __init__(self,
                 crop_size: Sequence[int] = (352, 1216),
                 crop_is_ori_shape: bool = True) -> None:
        if len(crop_size) != 2 or min(crop_size) <= 0:
            raise ValueError(f'crop_size must be (h, w) > 0, got {crop_size}')
        self.crop_size = tuple(crop_size)
        self.crop_is_ori_shape = crop_is_ori_shape

    def transform(self, results: dict) -> dict:
        height, width = results['img'].shape[:2]
        crop_h, crop_w = self.crop_size
        if crop_h > height or crop_w > width:
            raise ValueError(
                f'KBCrop: crop {crop_h}x{crop_w} does not fit in the '
                f'{height}x{width} image {results.get("img_path", "")}')
        top, left = height - crop_h, (width - crop_w) // 2
        results['img'] = results['img'][top:, left:left + crop_w]
        for key in results.get('seg_fields', []):
            results[key] = results[key][top:, left:left + crop_w]
        results['img_shape'] = self.crop_size
        results['frame_shape'] = (height, width)
        results['crop_offset'] = (top, left)
        if self.crop_is_ori_shape:
            results['ori_shape'] = self.crop_size
        return results

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(crop_size={self.crop_size}, '
                f'crop_is_ori_shape={self.crop_is_ori_shape})')
