"""Depth from images with any MRPAN config: an MMEngine inferencer."""
import copy
import os.path as osp
import warnings
from typing import List, Optional, Sequence, Union

import numpy as np
import torch
from mmcv.transforms import Compose
from mmcv.transforms import LoadAnnotations as MMCVLoadAnnotations
from mmcv.transforms import LoadImageFromFile
from mmengine.infer.infer import BaseInferencer, ModelType
from mmengine.model import revert_sync_batchnorm
from mmengine.registry import init_default_scope
from mmseg.datasets.transforms import LoadDepthAnnotation
from mmseg.registry import TRANSFORMS
from mmseg.structures import SegDataSample

from ..datasets.transforms import LoadBoundaryMap
from ..utils.checkpoint_io import use_safe_checkpoint_loader
from ..utils.depth_io import MAX_PNG_DEPTH
from ..utils.precision import autocast, autocast_dtype
from ..utils.prediction_files import PredictionFiles
from ..utils.state_dict import check_state_dict
from ..visualization import render_depth_colormap

InputType = Union[str, np.ndarray]
InputsType = Union[InputType, Sequence[InputType]]


#: Transforms that read ground truth, which an image to predict has not.
LABEL_LOADERS = (MMCVLoadAnnotations, LoadDepthAnnotation, LoadBoundaryMap)


def inference_pipeline(test_pipeline: Sequence[dict]) -> List[dict]:
    """The steps of a test pipeline that apply to an image without labels.

    * The image loader (any ``LoadImageFromFile`` subclass, e.g.
      ``LoadCheckedImage``) becomes ``LoadInferenceImage``, which takes a
      path (read by that loader) or an array, as mmseg's inferencer does.
    * Label loaders (subclasses of mmcv's ``LoadAnnotations`` or mmseg's
      ``LoadDepthAnnotation``, e.g. ``LoadCheckedDepth``, and
      ``LoadBoundaryMap``) are dropped.
    * Crops (any transform whose class name contains ``Crop``) are dropped:
      an evaluation crop selects the region that is scored, but inference
      must predict the whole image.
    * Everything else (``Resize``, ``PackSegInputs``, ...) is kept.

    Raises:
        ValueError: The pipeline has no image loader, or more than one.
    """
    steps, loaders = [], 0
    for step in copy.deepcopy(list(test_pipeline)):
        transform = TRANSFORMS.get(step['type'])
        if transform is None:
            raise KeyError(f'transform {step["type"]!r} is not registered')
        if issubclass(transform, LoadImageFromFile):
            loaders += 1
            kwargs = {k: v for k, v in step.items() if k != 'type'}
            steps.append(
                dict(type='LoadInferenceImage', file_loader=step, **kwargs))
        elif not (issubclass(transform, LABEL_LOADERS)
                  or 'Crop' in transform.__name__):
            steps.append(step)
    if loaders != 1:
        raise ValueError('the test pipeline must load the image once '
                         f'(a LoadImageFromFile subclass); found {loaders} '
                         f'loaders in {[s["type"] for s in test_pipeline]}')
    return steps


class DepthInferencer(BaseInferencer):
    """Predict depth in metres for images, with any depth config.

    Built on MMEngine's ``BaseInferencer`` like mmseg's ``MMSegInferencer``:
    inputs are a path, a folder, a BGR ``uint8`` array (H x W x 3) or a list
    of these; ``batch_size`` and a progress bar are handled by the base
    class.  The pipeline is the config's test pipeline with image loading
    and geometry only (see :func:`inference_pipeline`: no label loaders, no
    crop), so each prediction covers the whole input and is returned at the
    input's own size (``DepthEstimator`` resizes it to ``ori_shape``).  A
    config that runs its model channels-last (``ChannelsLastHook``) does so
    here too.

    Example::

        inferencer = DepthInferencer('configs/mrpan_nyu.py', 'K.pth', 'cpu')
        depth = inferencer('room.jpg')['predictions']  # (H, W) float32, m

    Call arguments besides ``inputs``, ``batch_size`` and
    ``return_datasamples``:

    * ``flip_aug``: average the prediction of the image and of its mirror
      image, mirrored back: (f(x) + flip(f(flip(x)))) / 2.
    * ``pred_out_dir``: write ``<name>_depth.png`` (uint16 millimetres,
      0 = none, clipped at 65.535 m with a warning) and ``<name>_depth.npy``
      (float32 metres); ``<name>`` is the input file's stem, or a running
      8-digit index for arrays.
    * ``img_out_dir`` / ``return_vis``: write ``<name>_color.png`` / return
      the colour-mapped depth with its range in a bar below (RGB,
      (H + 20) x W x 3); ``cmap`` picks the colour map.

    Args:
        model: Config path, ``Config`` or config dict of a depth model.
            Required: the config text a checkpoint holds is never used
            (MMEngine would execute it).
        weights: Checkpoint path; read without running code from it
            (docs/reliability.md) and loaded strictly (every key must
            match).
        device: e.g. ``'cpu'``, ``'cuda:0'``; default: CUDA if available.
        scope: Registry scope, ``'mmseg'``.
        show_progress: Show the base class's progress bar.
        amp: Predict under autocast, in the dtype
            :func:`~mrpan_mm.utils.precision.autocast_dtype` gives an
            explicit request (fp16 on CUDA, bf16 on the CPU, with a warning
            where the CPU emulates bf16).
    """

    preprocess_kwargs: set = set()
    forward_kwargs: set = {'flip_aug'}
    visualize_kwargs: set = {'return_vis', 'img_out_dir', 'cmap'}
    postprocess_kwargs: set = {'pred_out_dir', 'return_datasample'}

    def __init__(self,
                 model: Union[ModelType, str],
                 weights: Optional[str] = None,
                 device: Optional[str] = None,
                 scope: Optional[str] = 'mmseg',
                 show_progress: bool = True,
                 amp: bool = False) -> None:
        if not model:
            raise ValueError(
                'DepthInferencer needs a config (model=...): the config '
                f'stored in a checkpoint ({weights}) is not read, since '
                'building it would run code from the file')
        self.num_pred_imgs = 0
        self.num_visualized_imgs = 0
        self.weights = weights
        init_default_scope(scope)
        use_safe_checkpoint_loader()  # ``weights`` runs no code when read
        super().__init__(model=model, weights=weights, device=device,
                         scope=scope, show_progress=show_progress)
        if not next(self.model.parameters()).is_cuda:
            self.model = revert_sync_batchnorm(self.model)
        if any(hook.get('type') == 'ChannelsLastHook'
               for hook in self.cfg.get('custom_hooks', [])):
            self.model.to(memory_format=torch.channels_last)
        self.autocast_dtype = autocast_dtype(
            next(self.model.parameters()).device, 'explicit',
            'DepthInferencer(amp=True)') if amp else None

    def _load_weights_to_model(self, model: torch.nn.Module,
                               checkpoint: Optional[dict], cfg) -> None:
        if checkpoint is None:
            warnings.warn('no weights given: the depth comes from a randomly '
                          'initialised model')
            return
        model.load_state_dict(
            check_state_dict(model, checkpoint.get('state_dict', checkpoint),
                             source=self.weights),
            strict=True)

    def _init_pipeline(self, cfg) -> Compose:
        return Compose(
            inference_pipeline(cfg.test_dataloader.dataset.pipeline))

    def _init_visualizer(self, cfg) -> None:
        """Colour maps are drawn by :meth:`visualize`, not a visualizer."""
        return None

    def __call__(self,
                 inputs: InputsType,
                 return_datasamples: bool = False,
                 batch_size: int = 1,
                 **kwargs) -> dict:
        """Predict depth; see the class docstring for the arguments.

        Returns:
            ``dict(predictions=..., visualization=...)``: a float32 depth
            map (H, W) in metres per input (a single map for a single
            input), and the colour maps if ``return_vis``; or the
            ``SegDataSample`` s if ``return_datasamples``.
        """
        return super().__call__(inputs, return_datasamples, batch_size,
                                **kwargs)

    @torch.no_grad()
    def forward(self, inputs: dict,
                flip_aug: bool = False) -> List[SegDataSample]:
        """:meth:`predict_same_size` on each group of images of one size
        in the batch (mmseg's data preprocessor stacks a batch, and a
        pipeline that keeps the aspect ratio makes images of different
        sizes); predictions in the order of ``inputs``."""
        groups = {}
        for index, image in enumerate(inputs['inputs']):
            groups.setdefault(tuple(image.shape), []).append(index)
        preds = [None] * len(inputs['inputs'])
        for indices in groups.values():
            group = {key: [inputs[key][i] for i in indices]
                     for key in ('inputs', 'data_samples')}
            for index, pred in zip(indices,
                                   self.predict_same_size(group, flip_aug)):
                preds[index] = pred
        return preds

    def predict_same_size(self, inputs: dict,
                          flip_aug: bool) -> List[SegDataSample]:
        """``model.test_step`` on images of one size, optionally with flip
        averaging, under autocast if the inferencer was built with
        ``amp=True``."""
        mirrored = None
        with autocast(next(self.model.parameters()).device,
                      self.autocast_dtype):
            if flip_aug:
                mirrored = self.model.test_step(
                    dict(inputs=[img.flip(-1) for img in inputs['inputs']],
                         data_samples=copy.deepcopy(inputs['data_samples'])))
            preds = self.model.test_step(inputs)
        for index, pred in enumerate(preds):
            depth = pred.pred_depth_map.data.float()
            if mirrored is not None:
                depth = (depth +
                         mirrored[index].pred_depth_map.data.float().flip(-1)
                         ) / 2
            pred.pred_depth_map.data = depth
        return preds

    def visualize(self,
                  inputs: list,
                  preds: List[SegDataSample],
                  return_vis: bool = False,
                  img_out_dir: str = '',
                  cmap: str = 'magma_r') -> Optional[List[np.ndarray]]:
        """Colour maps (RGB, (H + 20) x W x 3) with the depth range."""
        if not return_vis and not img_out_dir:
            return None
        files = PredictionFiles(img_out_dir, ('color', ), cmap) \
            if img_out_dir else None
        visuals = []
        for pred in preds:
            depth = _depth_array(pred)
            if files:
                files.write(self._output_name(pred, self.num_visualized_imgs),
                            depth)
            self.num_visualized_imgs += 1
            if return_vis:
                visuals.append(render_depth_colormap(depth, cmap=cmap))
        return visuals if return_vis else None

    def postprocess(self,
                    preds: List[SegDataSample],
                    visualization: Optional[List[np.ndarray]],
                    return_datasample: bool = False,
                    pred_out_dir: str = '') -> Union[dict, SegDataSample,
                                                     List[SegDataSample]]:
        """Depth arrays (and their files under ``pred_out_dir``)."""
        if return_datasample:
            return preds[0] if len(preds) == 1 else preds
        depths = [_depth_array(pred) for pred in preds]
        if pred_out_dir:
            files = PredictionFiles(pred_out_dir, ('npy', 'png'))
            for pred, depth in zip(preds, depths):
                files.write(self._output_name(pred, self.num_pred_imgs),
                            depth)
                self.num_pred_imgs += 1
            if files.clipped:
                warnings.warn(f'depth beyond {MAX_PNG_DEPTH} m clipped in '
                              f'{len(files.clipped)} PNG(s), e.g. '
                              f'{files.clipped[0]} (the .npy files keep the '
                              'values)')
        single = len(depths) == 1
        return dict(
            predictions=depths[0] if single else depths,
            visualization=(visualization[0] if single else visualization)
            if visualization else None)

    @staticmethod
    def _output_name(pred: SegDataSample, index: int) -> str:
        """The input file's stem, else the running index (8 digits)."""
        path = pred.metainfo.get('img_path')
        return osp.splitext(osp.basename(path))[0] if path else f'{index:08d}'


def _depth_array(pred: SegDataSample) -> np.ndarray:
    """``pred_depth_map`` (1, H, W) -> float32 array (H, W), metres."""
    return pred.pred_depth_map.data[0].float().cpu().numpy()
