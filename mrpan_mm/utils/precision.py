"""Whether this CPU computes in bfloat16 natively.

bf16 autocast is the largest CPU speed lever where oneDNN has bf16 kernels
(CPUs with AVX-512 BF16 / AMX): about 2.2x fp32 on the machine of
``docs/benchmarks.md`` section 3.  Elsewhere PyTorch emulates bf16: the
same demo training step ran 10x *slower* than fp32 on an AVX2-only CPU
(section 9), a neck convolution 2x slower on an AVX-512 CPU without
AVX-512 BF16 (section 11c).  Callers that turn bf16 on by default
check here first.
"""
import contextlib
import functools
import logging
import platform
from typing import Optional

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


def warn_if_emulated_bf16(what: str) -> bool:
    """Log one warning when bf16 on this CPU is emulated.

    Args:
        what: The feature asking for bf16, e.g. ``'tools/test.py --amp'``.

    Returns:
        bool: True if the CPU has native bf16 (nothing was logged).
    """
    if cpu_has_native_bf16():
        return True
    print_log(
        f'{what}: this CPU has no native bfloat16 (no AVX-512 BF16, AMX or '
        'Arm BF16 instructions); PyTorch emulates it, which is several times '
        'slower than fp32 here (docs/benchmarks.md section 9).',
        logger='current', level=logging.WARNING)
    return False


def bf16_autocast(device: str, enabled: bool):
    """bf16 autocast on ``device`` (``'cpu'`` or ``'cuda'``) when
    ``enabled``, else a context that changes nothing.  Unlike the tools'
    ``--amp``, it does not look at the CPU: the benchmarks and the ONNX
    latency comparison time bf16 where it is emulated too."""
    if not enabled:
        return contextlib.nullcontext()
    return torch.autocast(device_type=device, dtype=torch.bfloat16)
