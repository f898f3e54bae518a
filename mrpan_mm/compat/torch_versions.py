"""What differs between the torch versions mrpan-mm runs on.

Each name here hides one API that older (or newer) torch releases lack, so
that the rest of the package calls one function whatever the version.
"""
import contextlib
import functools
from typing import Any, ContextManager, Optional

import torch

#: Whether ``torch.load(weights_only=True)`` can be told to allow more
#: classes (``torch.serialization.safe_globals``, torch >= 2.5).
HAS_SAFE_GLOBALS = hasattr(torch.serialization, 'safe_globals')

#: The CPU fused attention kernel of ``F.scaled_dot_product_attention``
#: (torch >= 2.3), or None where torch has none.
CPU_FLASH_SDPA_OP: Optional[Any] = getattr(
    torch.ops.aten, '_scaled_dot_product_flash_attention_for_cpu', None)


def safe_globals(allowed: list) -> ContextManager:
    """``torch.serialization.safe_globals(allowed)``; a context that allows
    nothing more on torch < 2.5 (there only tensors and containers load)."""
    if HAS_SAFE_GLOBALS:
        return torch.serialization.safe_globals(allowed)
    return contextlib.nullcontext()


@functools.lru_cache(maxsize=None)
def mkldnn_bf16_supported() -> bool:
    """oneDNN's own check for native bf16 on this CPU
    (``torch.ops.mkldnn._is_mkldnn_bf16_supported``, the one PyTorch's tests
    use); False where torch lacks it or is built without oneDNN."""
    if not torch.backends.mkldnn.is_available():
        return False
    try:
        return bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())
    except (AttributeError, RuntimeError):
        return False
