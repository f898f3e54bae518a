"""Loading transforms that refuse broken NYU files with a clear message.

They replace mmcv's ``LoadImageFromFile`` and mmseg's ``LoadDepthAnnotation``
in NYU pipelines; the outputs are the same.  Every problem raises
:class:`~mrpan_mm.datasets.integrity.NYUDataError` naming the file.
``LoadInferenceImage`` is mmseg's ``InferencerLoader`` with such a checked
file loader.
"""
from typing import Optional

import cv2
import mmcv
import numpy as np
from mmcv.transforms import BaseTransform, LoadImageFromFile
from mmseg.datasets.transforms import LoadDepthAnnotation
from mmseg.datasets.transforms.loading import InferencerLoader
from mmseg.registry import TRANSFORMS

from ..integrity import (UNDECODABLE_FILE, NYUDataError, check_complete,
                         check_depth_array, check_same_size, decode,
                         read_bytes)


@TRANSFORMS.register_module()
class LoadCheckedImage(LoadImageFromFile):
    """``LoadImageFromFile`` that reports missing, empty, truncated and
    undecodable files by name (it never skips a sample).

    Required keys: ``img_path``.  Added keys: ``img`` (H x W x 3, uint8 BGR
    unless ``to_float32``), ``img_shape``, ``ori_shape`` (H, W).

    Args:
        to_float32: Convert the image to float32.
        color_type: ``flag`` of :func:`mmcv.imfrombytes`.
        imdecode_backend: ``backend`` of :func:`mmcv.imfrombytes`.
        backend_args: mmengine file backend arguments.
    """

    def __init__(self,
                 to_float32: bool = False,
                 color_type: str = 'color',
                 imdecode_backend: str = 'cv2',
                 backend_args: Optional[dict] = None) -> None:
        super().__init__(
            to_float32=to_float32,
            color_type=color_type,
            imdecode_backend=imdecode_backend,
            ignore_empty=False,
            backend_args=backend_args)

    def transform(self, results: dict) -> dict:
        path = results['img_path']
        data = read_bytes(path, self.backend_args)
        check_complete(path, data)
        try:
            img = mmcv.imfrombytes(
                data, flag=self.color_type, backend=self.imdecode_backend)
        except Exception as error:  # decoders raise assorted types
            raise NYUDataError(path, UNDECODABLE_FILE,
                               f'{type(error).__name__}: {error}') from error
        if img is None:
            raise NYUDataError(path, UNDECODABLE_FILE,
                               'not an image, or corrupt')
        if self.to_float32:
            img = img.astype(np.float32)
        results['img'] = img
        results['img_shape'] = img.shape[:2]
        results['ori_shape'] = img.shape[:2]
        return results


@TRANSFORMS.register_module()
class LoadCheckedDepth(LoadDepthAnnotation):
    """``LoadDepthAnnotation`` for NYU's 16-bit millimetre PNGs, with checks.

    Raises :class:`NYUDataError` for a missing, empty, truncated or
    undecodable file, a stored dtype other than ``expected_dtype`` (an 8-bit
    PNG is not millimetres), a multi-channel map, NaN/inf or negative values,
    a map without any valid (non-zero) pixel, and a map whose size differs
    from the original size of the image loaded before it (``ori_shape``).

    A sample without ``depth_map_path`` has no ground truth (a dataset whose
    ``data_prefix`` names no depth folder, or an image given for inference,
    e.g. to ``mmseg.apis.inference_model``) and passes through unchanged;
    the evaluator then refuses it unless it only saves predictions
    (``NYUDepthMetric(format_only=True)``).

    Required keys: ``seg_fields``; ``ori_shape`` if set.  Optional key:
    ``depth_map_path``.
    Added keys: ``gt_depth_map`` (H x W, float32 metres with the default
    factor; 0 = no measurement), ``depth_rescale_factor``; ``gt_depth_map``
    is appended to ``seg_fields`` so that mmseg's geometric transforms move
    it with the image (nearest-neighbour, see ``configs/_base_/datasets``).

    Args:
        to_float32: Convert the map to float32 before rescaling.
        depth_rescale_factor: Stored unit to metres; 1e-3 for millimetres.
        expected_dtype: The dtype the files must be stored with.
        backend_args: mmengine file backend arguments.
    """

    def __init__(self,
                 to_float32: bool = True,
                 depth_rescale_factor: float = 1e-3,
                 expected_dtype: str = 'uint16',
                 backend_args: Optional[dict] = None) -> None:
        super().__init__(
            decode_backend='cv2',
            to_float32=to_float32,
            depth_rescale_factor=depth_rescale_factor,
            backend_args=backend_args)
        self.expected_dtype = np.dtype(expected_dtype).name

    def transform(self, results: dict) -> dict:
        if 'depth_map_path' not in results:
            return results
        path = results['depth_map_path']
        depth = decode(path, read_bytes(path, self.backend_args),
                       cv2.IMREAD_UNCHANGED)
        check_depth_array(path, depth, self.expected_dtype)
        if 'ori_shape' in results:
            check_same_size(path, depth.shape, results['img_path'],
                            results['ori_shape'])
        if self.to_float32:
            depth = depth.astype(np.float32)
        results['gt_depth_map'] = depth * self.depth_rescale_factor
        results['seg_fields'].append('gt_depth_map')
        results['depth_rescale_factor'] = self.depth_rescale_factor
        return results

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(to_float32={self.to_float32}, '
                f'depth_rescale_factor={self.depth_rescale_factor}, '
                f"expected_dtype='{self.expected_dtype}')")


@TRANSFORMS.register_module()
class LoadBoundaryMap(BaseTransform):
    """Load a ground-truth depth-boundary map (e.g. iBims-1's edge maps).

    The file is a PNG of the image's size, read as grayscale; non-zero
    pixels are boundaries.  It is stored as ``gt_edge_map`` (uint8,
    1 = boundary), the edge field mmseg's ``PackSegInputs`` packs and its
    data preprocessor pads, and appended to ``seg_fields`` so that geometric
    transforms move it with the image by nearest neighbour (as
    ``Scale_iBims1`` of the reference ``nyu_transform.py`` resizes its
    ``edges``).
    :class:`~mrpan_mm.evaluation.NYUDepthMetric` reads it for ``dbe_acc`` /
    ``dbe_comp`` (``boundary_key='gt_edge_map'``).

    Raises :class:`NYUDataError` for a missing, empty, truncated or
    undecodable file and a map whose size differs
    from the original size of the image (``ori_shape``).

    Required keys: ``boundary_map_path`` (set by ``NYUDepthDataset`` with
    ``data_prefix['boundary_map_path']``; without it, e.g. for mmseg's
    ``inference_model``, the sample passes unchanged), ``seg_fields``;
    ``ori_shape`` if set.  Added keys: ``gt_edge_map`` (H x W, uint8 in {0, 1}).

    Args:
        backend_args: mmengine file backend arguments.
    """

    def __init__(self, backend_args: Optional[dict] = None) -> None:
        self.backend_args = backend_args

    def transform(self, results: dict) -> dict:
        if 'boundary_map_path' not in results:  # an image to predict only
            return results
        path = results['boundary_map_path']
        edges = decode(path, read_bytes(path, self.backend_args),
                       cv2.IMREAD_GRAYSCALE)
        if 'ori_shape' in results:
            check_same_size(path, edges.shape, results['img_path'],
                            results['ori_shape'])
        results['gt_edge_map'] = (edges > 0).astype(np.uint8)
        results['seg_fields'].append('gt_edge_map')
        return results


@TRANSFORMS.register_module()
class LoadInferenceImage(InferencerLoader):
    """mmseg's ``InferencerLoader`` reading files with a config's own loader.

    Takes an image path, a BGR ``uint8`` array (H x W x 3) or a dict with
    ``img_path`` or ``img``, as mmseg's inferencers do; a path is read by
    ``file_loader`` (e.g. ``LoadCheckedImage``, so that a broken file is
    named), an array by mmcv's ``LoadImageFromNDArray`` (``img_path`` None).
    ``DepthInferencer`` puts it in place of the test pipeline's loader.

    Args:
        file_loader: Config of the transform that reads a path.
        **kwargs: ``LoadImageFromNDArray`` arguments (e.g. ``to_float32``).
    """

    def __init__(self, file_loader: dict, **kwargs) -> None:
        super().__init__(**kwargs)
        self.from_file = TRANSFORMS.build(file_loader)
