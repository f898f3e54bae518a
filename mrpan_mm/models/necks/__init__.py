from .attention import ScaleAttention, SpatialAttention
from .maca_neck import LevelAggregation, MACANeck
from .up_projection import UpProjection

__all__ = [
    'ScaleAttention', 'SpatialAttention', 'LevelAggregation', 'MACANeck',
    'UpProjection'
]
