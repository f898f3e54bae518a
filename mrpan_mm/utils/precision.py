"""The precision policy: the one place that decides the autocast dtype.

Training (``AnyDeviceAmpOptimWrapper``, ``tools/train.py --amp``), testing
(``tools/test.py --amp``), inference (``DepthInferencer(amp=True)``,
``tools/infer.py --amp``), the benchmarks and the ONNX latency comparison
all ask :func:`autocast_dtype` and autocast with :func:`autocast`:

===========================  =====================  =====================
device                       ``request='auto'``     ``request='explicit'``
===========================  =====================  =====================
CUDA                         ``dtype``, else fp16   ``dtype``, else fp16
CPU with native bf16         bf16                   bf16
CPU, bf16 emulated           None (fp32), logged    bf16, with a warning
===========================  =====================  =====================

``'auto'`` is a default nobody asked for at run time: a config's
``AnyDeviceAmpOptimWrapper``, the ONNX tool's PyTorch bf16 column.
``'explicit'`` is a user's request: ``--amp`` of the tools,
``DepthInferencer(amp=True)``, ``emulated_bf16=True``, the benchmark's
bf16 variants.  An explicit request is honoured; a default never picks a
path several times slower than fp32 without saying so.

Why the CPU decides: bf16 autocast is the largest CPU speed lever where
oneDNN has bf16 kernels (CPUs with AVX-512 BF16 / AMX): about 2.2x fp32
on the machine of ``docs/benchmarks.md`` section 3.  Elsewhere PyTorch
emulates bf16: the same demo training step ran 10x *slower* than fp32 on
an AVX2-only CPU (section 9), a neck convolution 2x slower on an AVX-512
CPU without AVX-512 BF16 (section 11c).  The policy in prose:
``docs/architecture.md``, section "Precision".
"""
import contextlib
import functools
import logging
import platform
from typing import ContextManager, Optional, Union

import torch
from mmengine.logging import print_log

from ..compat import mkldnn_bf16_supported

#: /proc/cpuinfo flags of the bf16 instructions oneDNN's fast bf16 kernels
#: use: AVX-512 BF16 and AMX on x86-64, the BF16 extension on Arm.
BF16_CPU_FLAGS = frozenset({'avx512_bf16', 'amx_bf16', 'bf16'})


def cpu_flags(cpuinfo: str = '/proc/cpuinfo') -> Optional[frozenset]:
    """The CPU's feature flags as Linux lists them (``flags`` on x86-64,
    ``Features`` on Arm), or None where that file cannot be read."""
    try:
        with open(cpuinfo) as f:
            for line in f:
                key, _, value = line.partition(':')
                if key.strip() in ('flags', 'Features'):
                    return frozenset(value.split())
    except OSError:
        return None
    return None


@functools.lru_cache(maxsize=None)
def cpu_has_native_bf16() -> bool:
    """True when bf16 convolutions and matrix products run natively here.

    oneDNN's check (:func:`mrpan_mm.compat.mkldnn_bf16_supported`) is True
    on every AVX-512 CPU, including those without bf16 instructions, where
    its bf16 kernels convert to fp32 and run about 2x slower than fp32
    (``docs/benchmarks.md`` section 11c).  So on Linux the CPU must also
    list a bf16 instruction flag (:data:`BF16_CPU_FLAGS`); elsewhere
    (no ``/proc/cpuinfo``) oneDNN's answer stands.
    """
    if not mkldnn_bf16_supported():
        return False
    flags = cpu_flags()
    if flags is None or platform.system() != 'Linux':
        return True
    return bool(flags & BF16_CPU_FLAGS)


REQUESTS = ('auto', 'explicit')


def autocast_dtype(device: Union[str, torch.device],
                   request: str,
                   what: str,
                   dtype: Optional[Union[str, torch.dtype]] = None
                   ) -> Optional[torch.dtype]:
    """The autocast dtype for ``device``, or None for fp32 (see the module
    docstring's table).

    Logs the decision, one line per call: a warning when an ``'explicit'``
    request gets bf16 that this CPU emulates, else an info line (an
    ``'auto'`` request given fp32 says why).

    Args:
        device: ``'cpu'``, ``'cuda'``, ``'cuda:1'`` or a ``torch.device``.
        request: ``'auto'`` (a default) or ``'explicit'`` (the user asked).
        what: Who asks, named in the log, e.g. ``'tools/test.py --amp'``.
        dtype: A configured dtype (``'float16'``, ``'bfloat16'`` or a
            ``torch.dtype``), as MMEngine's ``AmpOptimWrapper`` takes it;
            on the CPU only bfloat16.  Default: fp16 on an accelerator,
            bf16 on the CPU.

    Raises:
        ValueError: An unknown ``request``, or a CPU ``dtype`` other than
            bfloat16.
    """
    if request not in REQUESTS:
        raise ValueError(f'{what}: request must be one of {REQUESTS}, got '
                         f'{request!r}')
    if isinstance(dtype, str):
        dtype = getattr(torch, dtype)
    if torch.device(device).type != 'cpu':
        dtype = dtype or torch.float16
        _log(f'{what}: {str(dtype).split(".")[-1]} autocast')
        return dtype
    if dtype not in (None, torch.bfloat16):
        raise ValueError(f'{what}: CPU autocast supports only bfloat16, got '
                         f'dtype={dtype}')
    if cpu_has_native_bf16():
        _log(f'{what}: bf16 autocast (this CPU has native bfloat16)')
        return torch.bfloat16
    emulated = ('this CPU has no native bfloat16 (no AVX-512 BF16, AMX or Arm '
                'BF16 instructions); PyTorch emulates it, several times '
                'slower than fp32 here (docs/architecture.md, "Precision")')
    if request == 'auto':
        _log(f'{what}: fp32, not bf16 autocast: {emulated}')
        return None
    _log(f'{what}: bf16 autocast as asked, but {emulated}', logging.WARNING)
    return torch.bfloat16


def _log(message: str, level: int = logging.INFO) -> None:
    print_log(message, logger='current', level=level)


def autocast(device: Union[str, torch.device],
             dtype: Optional[torch.dtype]) -> ContextManager:
    """``torch.autocast`` on ``device`` to ``dtype`` (from
    :func:`autocast_dtype`); with ``dtype`` None, a context that changes
    nothing (fp32)."""
    if dtype is None:
        return contextlib.nullcontext()
    return torch.autocast(device_type=torch.device(device).type, dtype=dtype)
