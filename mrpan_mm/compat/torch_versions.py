"""What differs between the torch versions mrpan-mm runs on.

Each name here hides one API that older (or newer) torch releases lack, so
that the rest of the package calls one function whatever the version.
"""
import functools
from typing import Any, FrozenSet, Iterator, Optional

import torch
from torch import _weights_only_unpickler

#: The CPU fused attention kernel of ``F.scaled_dot_product_attention``
#: (torch >= 2.3), or None where torch has none.
CPU_FLASH_SDPA_OP: Optional[Any] = getattr(
    torch.ops.aten, '_scaled_dot_product_flash_attention_for_cpu', None)


def weights_only_default_globals() -> FrozenSet[str]:
    """The names (``module.qualname``) that torch's weights-only unpickler
    allows by itself: tensor, storage and dtype types, the tensor rebuild
    functions, ``OrderedDict`` and a few builtins.  Not the process-wide
    list that ``torch.serialization.add_safe_globals`` extends (libraries
    such as ``torch.distributed`` add to that one on import)."""
    return frozenset(_weights_only_unpickler._get_allowed_globals())


def is_torch_zip(filename: str) -> bool:
    """Whether ``torch.load`` reads ``filename`` as a zip checkpoint (it
    looks at the first four bytes only, as here)."""
    with open(filename, 'rb') as f:
        return f.read(4) == b'PK\x03\x04'


def zip_pickle_records(filename: str) -> Iterator[bytes]:
    """The pickle records (``*.pkl``) of a zip checkpoint, read by the zip
    reader ``torch.load`` uses, so that they are exactly what it would
    unpickle; raises ``RuntimeError`` for a broken archive."""
    reader = torch._C.PyTorchFileReader(filename)
    for name in reader.get_all_records():
        if name.endswith('.pkl'):
            yield reader.get_record(name)


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
