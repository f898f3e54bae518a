"""Runner hooks."""
import torch
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper
from mmseg.registry import HOOKS


@HOOKS.register_module()
class ChannelsLastHook(Hook):
    """Store the model's 4-D parameters and buffers channels-last (NHWC).

    Convolutions then run on NHWC tensors from the first layer on (an NCHW
    input meeting an NHWC weight gives an NHWC output).  With bf16 autocast on
    an x86 CPU this is the faster layout (docs/benchmarks.md, section 3);
    without autocast it can be slower, so it is opt-in::

        custom_hooks = [dict(type='ChannelsLastHook')]

    The conversion happens in ``before_run``, after the optimizer is built:
    ``Module.to`` swaps each parameter's storage in place, so the optimizer
    keeps the same parameter objects, and weights loaded or resumed later are
    copied into the channels-last storage.
    """

    priority = 'VERY_HIGH'

    def before_run(self, runner) -> None:
        model = runner.model.module if is_model_wrapper(
            runner.model) else runner.model
        model.to(memory_format=torch.channels_last)
