"""PyTorch's own layer initialisation as an ``init_cfg`` choice.

SARPN's and Hu et al.'s code leave every convolution of the decoder at
PyTorch's default: ``kaiming_uniform_(a=sqrt(5))`` weights, i.e. uniform in
+-1/sqrt(fan_in) (std 1/sqrt(3 fan_in)), and biases uniform in
+-1/sqrt(fan_in).  mmcv's ``ConvModule`` instead re-initialises its conv
with Kaiming-normal (fan_out, ReLU gain) whenever ``init_weights`` runs:
for SENet-154's level-0 up-projection (5x5, 2048 -> 16) a weight std of
0.071 instead of SARPN's 0.0026.
"""
import torch.nn as nn
from mmcv.cnn import ConvModule
from mmengine.model.weight_init import BaseInit, update_init_info
from mmengine.registry import WEIGHT_INITIALIZERS


@WEIGHT_INITIALIZERS.register_module(name='TorchDefault')
class TorchDefaultInit(BaseInit):
    """Reset the chosen layers with their own ``reset_parameters``.

    Every sub-module whose class name is in ``layer`` (e.g. ``'Conv2d'``)
    gets PyTorch's default initialisation again.  A ``ConvModule`` holding
    such a layer is marked initialised, so that its own ``init_weights``
    (Kaiming-normal, run by MMEngine after the parent's ``init_cfg``) does
    not overwrite the choice; its norm layer keeps weight 1, bias 0.

    Registered in MMEngine's root registry, so it builds under any default
    scope: ``init_cfg=dict(type='TorchDefault', layer='Conv2d')``.

    Args:
        layer (str | list[str]): Class names of the layers to reset.
    """

    def __init__(self, layer='Conv2d', **kwargs) -> None:
        super().__init__(layer=layer, **kwargs)

    def __call__(self, module: nn.Module) -> None:
        for sub_module in module.modules():
            if isinstance(sub_module, ConvModule) and \
                    type(sub_module.conv).__name__ in self.layer:
                sub_module.is_init = True
            if type(sub_module).__name__ in self.layer:
                sub_module.reset_parameters()
        if hasattr(module, '_params_init_info'):
            update_init_info(module, init_info=self._get_init_info())

    def _get_init_info(self) -> str:
        return f'{self.__class__.__name__}: layer={self.layer}'
