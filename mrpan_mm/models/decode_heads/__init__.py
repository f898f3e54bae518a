from .mrpan_head import MRPANHead
from .mrpan_seg_head import MRPANSegHead
from .refine import BasicRefine, ResidualRefinementModule
from .residual_pyramid import ResidualPyramidDecoder

__all__ = [
    'MRPANHead', 'MRPANSegHead', 'BasicRefine', 'ResidualRefinementModule',
    'ResidualPyramidDecoder'
]
