"""Compatibility code, all of it: where mrpan-mm works around a missing
piece or a version difference of its dependencies.

* :mod:`.mmcv_ops`: the pure-PyTorch ``mmcv.ops`` stand-in that mmseg 1.2.2
  needs with ``mmcv-lite`` (installed by ``import mrpan_mm``, before any
  mmseg import).
* :mod:`.torch_versions`: torch APIs that differ between releases
  (the weights-only unpickler's own allow-list and zip reader, the CPU
  fused attention op, oneDNN's bf16 check).
"""
from .mmcv_ops import (has_compiled_mmcv_ops, install_mmcv_ops_fallback,
                       sigmoid_focal_loss)
from .torch_versions import (CPU_FLASH_SDPA_OP, is_torch_zip,
                             mkldnn_bf16_supported,
                             weights_only_default_globals, zip_pickle_records)

__all__ = [
    'has_compiled_mmcv_ops', 'install_mmcv_ops_fallback',
    'sigmoid_focal_loss', 'CPU_FLASH_SDPA_OP', 'is_torch_zip',
    'mkldnn_bf16_supported', 'weights_only_default_globals',
    'zip_pickle_records'
]
