from .maca_attention import GlobalAttentionModule, SpatialAttentionModule
from .maca_neck import LevelAggregation, MACANeck
from .up_projection import UpProjection

__all__ = [
    'GlobalAttentionModule', 'SpatialAttentionModule', 'LevelAggregation',
    'MACANeck',
    'UpProjection'
]
