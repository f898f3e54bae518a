from .checkpoint_io import (MMENGINE_CHECKPOINT_GLOBALS, TRUSTED_GLOBALS_ENV,
                            AtomicLocalBackend, CheckpointFileError,
                            UnsafeCheckpointError, atomic_write_bytes,
                            drop_config_text, load_checkpoint_file,
                            use_safe_checkpoint_loader)
from .precision import autocast, autocast_dtype, cpu_has_native_bf16
from .state_dict import (CheckpointMismatchError, check_state_dict,
                         strip_ddp_prefix)

__all__ = [
    'AtomicLocalBackend', 'CheckpointFileError', 'MMENGINE_CHECKPOINT_GLOBALS',
    'TRUSTED_GLOBALS_ENV', 'UnsafeCheckpointError', 'atomic_write_bytes',
    'drop_config_text', 'load_checkpoint_file', 'use_safe_checkpoint_loader',
    'autocast', 'autocast_dtype', 'cpu_has_native_bf16',
    'CheckpointMismatchError', 'check_state_dict', 'strip_ddp_prefix'
]
