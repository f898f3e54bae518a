from .hooks import (ChannelsLastHook, NonFiniteLossError, NonFiniteLossHook,
                    SafeCheckpointLoadHook)
from .launch import (add_common_args, config_from_args,
                     distributed_session, enable_amp, enable_tensorboard,
                     enable_visualization, load_config,
                     setup_cpu_distributed)
from .optim_wrapper import AnyDeviceAmpOptimWrapper
from .prediction_writer import SaveDepthPredictionHook
from .test_options import (enable_save_pred, enable_test_amp, enable_tta,
                           flip_tta_pipeline)

__all__ = [
    'AnyDeviceAmpOptimWrapper', 'ChannelsLastHook', 'NonFiniteLossError',
    'NonFiniteLossHook', 'SafeCheckpointLoadHook', 'SaveDepthPredictionHook',
    'add_common_args',
    'config_from_args', 'distributed_session', 'enable_amp',
    'enable_save_pred', 'enable_test_amp',
    'enable_tensorboard', 'enable_tta', 'enable_visualization',
    'flip_tta_pipeline', 'load_config', 'setup_cpu_distributed'
]
