from .checkpoint_io import (AtomicLocalBackend, atomic_write_bytes,
                            install_checkpoint_io, load_local_checkpoint)
from .mmcv_ops_fallback import (has_compiled_mmcv_ops,
                                install_mmcv_ops_fallback, sigmoid_focal_loss)

__all__ = [
    'AtomicLocalBackend', 'atomic_write_bytes', 'install_checkpoint_io',
    'load_local_checkpoint', 'has_compiled_mmcv_ops',
    'install_mmcv_ops_fallback', 'sigmoid_focal_loss'
]
