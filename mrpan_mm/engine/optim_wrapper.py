"""Mixed-precision optimizer wrapper that also runs on the CPU."""
from contextlib import AbstractContextManager
from typing import Optional, Union

import torch
from mmengine.device import is_cuda_available
from mmengine.optim import AmpOptimWrapper, OptimWrapper
from mmseg.registry import OPTIM_WRAPPERS

from mrpan_mm.utils import warn_if_emulated_bf16


@OPTIM_WRAPPERS.register_module()
class AnyDeviceAmpOptimWrapper(AmpOptimWrapper):
    """MMEngine's :class:`AmpOptimWrapper`, usable without an accelerator.

    On a GPU this is exactly ``AmpOptimWrapper`` (fp16 with dynamic loss
    scaling, or the configured ``dtype``).  MMEngine refuses to build that
    wrapper on a CPU; here it falls back to bfloat16 autocast, which needs no
    loss scaling (bf16 has the exponent range of fp32), so the scaler is a
    disabled ``torch.amp.GradScaler`` and checkpoints keep the same keys.

    bf16 pays off only on CPUs with native bf16 arithmetic
    (:func:`mrpan_mm.utils.cpu_has_native_bf16`); on others it is emulated
    and a training step is several times slower than in fp32, so by default
    such a CPU trains in fp32 and a warning says so.

    Args:
        loss_scale: As ``AmpOptimWrapper`` (ignored on the CPU).
        dtype: Autocast dtype. On the CPU only ``None`` / ``'bfloat16'``.
        emulated_bf16: Autocast to bf16 on a CPU without native bf16 too
            (e.g. to measure it). Default False: fp32 there.
        **kwargs: Passed to :class:`OptimWrapper`.
    """

    def __init__(self,
                 loss_scale: Union[str, float, dict] = 'dynamic',
                 dtype: Optional[Union[str, torch.dtype]] = None,
                 emulated_bf16: bool = False,
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
        native = warn_if_emulated_bf16(
            'AnyDeviceAmpOptimWrapper: training in fp32 instead of bf16'
            if not emulated_bf16 else 'AnyDeviceAmpOptimWrapper')
        self.cast_dtype = torch.bfloat16 if native or emulated_bf16 else None

    def optim_context(self, model: torch.nn.Module) -> AbstractContextManager:
        """As ``AmpOptimWrapper``'s, without autocast when training in fp32
        (``cast_dtype`` None on a CPU without native bf16)."""
        if self.cast_dtype is None and not is_cuda_available():
            return OptimWrapper.optim_context(self, model)
        return super().optim_context(model)
