from .mrpan_head import MRPANHead
from .mrpan_seg_head import MRPANSegHead
from .refine_modules import BasicRefine, ResidualRefinementModule
from .residual_pyramid_decoder import ResidualPyramidDecoder

__all__ = [
    'MRPANHead', 'MRPANSegHead', 'BasicRefine', 'ResidualRefinementModule',
    'ResidualPyramidDecoder'
]
