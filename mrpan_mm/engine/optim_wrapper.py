"""Mixed-precision optimizer wrapper that also runs on the CPU."""
from contextlib import AbstractContextManager
from typing import Optional, Union

import torch
from mmengine.device import is_cuda_available
from mmengine.optim import AmpOptimWrapper, OptimWrapper
from mmseg.registry import OPTIM_WRAPPERS

from mrpan_mm.utils.precision import autocast_dtype


@OPTIM_WRAPPERS.register_module()
class AnyDeviceAmpOptimWrapper(AmpOptimWrapper):
    """MMEngine's :class:`AmpOptimWrapper`, usable without an accelerator.

    The autocast dtype comes from
    :func:`~mrpan_mm.utils.precision.autocast_dtype` (the package's one
    precision policy).  On a GPU this is exactly ``AmpOptimWrapper`` (fp16
    with dynamic loss scaling, or the configured ``dtype``).  MMEngine
    refuses to build that wrapper on a CPU; here it autocasts to bfloat16,
    which needs no loss scaling (bf16 has the exponent range of fp32), so
    the scaler is a disabled ``torch.amp.GradScaler`` and checkpoints keep
    the same keys.  On a CPU that emulates bf16 (several times slower than
    fp32) a config's wrapper trains in fp32 and logs why; ``--amp`` of
    ``tools/train.py`` (``emulated_bf16=True``) trains in bf16 there too,
    with a warning.

    Args:
        loss_scale: As ``AmpOptimWrapper`` (ignored on the CPU).
        dtype: Autocast dtype. On the CPU only ``None`` / ``'bfloat16'``.
        emulated_bf16: The user asked for mixed precision: bf16 even on a
            CPU that emulates it. Default False: fp32 there.
        **kwargs: Passed to :class:`OptimWrapper`.
    """

    def __init__(self,
                 loss_scale: Union[str, float, dict] = 'dynamic',
                 dtype: Optional[Union[str, torch.dtype]] = None,
                 emulated_bf16: bool = False,
                 **kwargs):
        device = 'cuda' if is_cuda_available() else 'cpu'
        cast_dtype = autocast_dtype(
            device, 'explicit' if emulated_bf16 else 'auto',
            'AnyDeviceAmpOptimWrapper', dtype)
        if device == 'cuda':
            super().__init__(loss_scale=loss_scale, dtype=cast_dtype,
                             **kwargs)
            return
        OptimWrapper.__init__(self, **kwargs)
        self._scale_update_param = None
        self.loss_scaler = torch.amp.GradScaler('cpu', enabled=False)
        self.cast_dtype = cast_dtype

    def optim_context(self, model: torch.nn.Module) -> AbstractContextManager:
        """As ``AmpOptimWrapper``'s, without autocast when training in fp32
        (``cast_dtype`` None on a CPU that emulates bf16)."""
        if self.cast_dtype is None:
            return OptimWrapper.optim_context(self, model)
        return super().optim_context(model)
