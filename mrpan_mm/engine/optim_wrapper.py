"""Mixed-precision optimizer wrapper that also runs on the CPU."""
from typing import Optional, Union

import torch
from mmengine.device import is_cuda_available
from mmengine.optim import AmpOptimWrapper, OptimWrapper
from mmseg.registry import OPTIM_WRAPPERS


@OPTIM_WRAPPERS.register_module()
class AnyDeviceAmpOptimWrapper(AmpOptimWrapper):
    """MMEngine's :class:`AmpOptimWrapper`, usable without an accelerator.

    On a GPU this is exactly ``AmpOptimWrapper`` (fp16 with dynamic loss
    scaling, or the configured ``dtype``).  MMEngine refuses to build that
    wrapper on a CPU; here it falls back to bfloat16 autocast, which needs no
    loss scaling (bf16 has the exponent range of fp32), so the scaler is a
    disabled ``torch.amp.GradScaler`` and checkpoints keep the same keys.

    Args:
        loss_scale: As ``AmpOptimWrapper`` (ignored on the CPU).
        dtype: Autocast dtype. On the CPU only ``None`` / ``'bfloat16'``.
        **kwargs: Passed to :class:`OptimWrapper`.
    """

    def __init__(self,
                 loss_scale: Union[str, float, dict] = 'dynamic',
                 dtype: Optional[Union[str, torch.dtype]] = None,
                 **kwargs):
        if is_cuda_available():
            super().__init__(loss_scale=loss_scale, dtype=dtype, **kwargs)
            return
        if dtype not in (None, 'bfloat16', torch.bfloat16):
            raise ValueError('CPU autocast supports only bfloat16, got '
                             f'dtype={dtype!r}')
        OptimWrapper.__init__(self, **kwargs)
        self._scale_update_param = None
        self.loss_scaler = torch.amp.GradScaler('cpu', enabled=False)
        self.cast_dtype = torch.bfloat16
