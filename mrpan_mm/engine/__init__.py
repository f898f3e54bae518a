from .hooks import ChannelsLastHook
from .launch import (add_common_args, config_from_args, enable_amp,
                     enable_visualization, load_config, setup_cpu_distributed)
from .optim_wrapper import AnyDeviceAmpOptimWrapper

__all__ = [
    'AnyDeviceAmpOptimWrapper', 'ChannelsLastHook', 'add_common_args',
    'config_from_args',
    'enable_amp', 'enable_visualization', 'load_config',
    'setup_cpu_distributed'
]
