from .checkpoint_io import (MMENGINE_CHECKPOINT_GLOBALS, TRUSTED_GLOBALS_ENV,
                            AtomicLocalBackend, CheckpointFileError,
                            UnsafeCheckpointError, atomic_write_bytes,
                            drop_config_text, load_checkpoint_file,
                            use_safe_checkpoint_loader)
from .precision import cpu_has_native_bf16, warn_if_emulated_bf16

__all__ = [
    'AtomicLocalBackend', 'CheckpointFileError', 'MMENGINE_CHECKPOINT_GLOBALS',
    'TRUSTED_GLOBALS_ENV', 'UnsafeCheckpointError', 'atomic_write_bytes',
    'drop_config_text', 'load_checkpoint_file', 'use_safe_checkpoint_loader',
    'cpu_has_native_bf16', 'warn_if_emulated_bf16'
]
