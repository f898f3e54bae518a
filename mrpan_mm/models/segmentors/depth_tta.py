"""Test-time augmentation for depth estimators."""
from typing import List

import torch
from mmengine.model import BaseTTAModel
from mmengine.structures import PixelData
from mmseg.registry import MODELS
from mmseg.utils import SampleList


@MODELS.register_module()
class DepthTTAModel(BaseTTAModel):
    """Average the depth maps of an image's augmented copies.

    Used with a ``tta_pipeline`` whose ``TestTimeAug`` makes flipped and
    unflipped copies (``tools/test.py --tta``).  ``DepthEstimator.predict``
    already undoes the flip and resizes each prediction to ``ori_shape``, so
    the copies are aligned, pixel for pixel, in metres; their mean is the
    prediction (with a horizontal flip: (f(x) + flip(f(flip(x)))) / 2).
    mmseg's ``SegTTAModel`` would merge class probabilities instead.

    The merged sample is the first copy's (ground truth and meta included)
    with ``pred_depth_map.data`` (1, H, W) replaced by the mean.
    """

    def merge_preds(self, data_samples_list: List[SampleList]) -> SampleList:
        """One merged sample per image from its augmented copies' samples."""
        merged = []
        for copies in data_samples_list:
            depth = torch.stack(
                [copy.pred_depth_map.data.float() for copy in copies])
            sample = copies[0]
            sample.set_data({'pred_depth_map': PixelData(data=depth.mean(0))})
            merged.append(sample)
        return merged
