"""Whether this CPU computes in bfloat16 natively.

bf16 autocast is the largest CPU speed lever where oneDNN has bf16 kernels
(CPUs with AVX-512 BF16 / AMX): about 2.2x fp32 on the machine of
``docs/benchmarks.md`` section 3.  Elsewhere (e.g. an AVX2-only CPU)
PyTorch emulates bf16 convolutions, and the same demo training step ran
10x *slower* than fp32 (section 9).  Callers that turn bf16 on by default
check here first.
"""
import logging

from mmengine.logging import print_log

# oneDNN's own check (the torch-version shim lives in compat), under the
# name callers read: True when bf16 convolutions and matrix products run
# natively on this CPU.
from ..compat import mkldnn_bf16_supported as cpu_has_native_bf16


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
        f'{what}: this CPU has no native bfloat16 (oneDNN reports none, e.g. '
        'no AVX-512 BF16/AMX); PyTorch emulates it, which is several times '
        'slower than fp32 here (docs/benchmarks.md section 9).',
        logger='current', level=logging.WARNING)
    return False
