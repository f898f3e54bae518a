"""The benchmark behind ``tools/benchmark.py`` (not imported by the models):
model cases and measurements (``measure``), the tables (``runner``)."""
from ..utils.timing import time_interleaved
from .measure import (Case, count_flops, count_parameters, run_worker,
                      sam_level_shapes)
from .models import PRESETS, spec_config, parse_spec, synthetic_batch
from .naive_sam import NaiveSpatialAttention, sam_flops
from .table import markdown_table

__all__ = [
    'Case', 'count_flops', 'count_parameters', 'run_worker',
    'sam_level_shapes', 'time_interleaved', 'PRESETS', 'spec_config',
    'parse_spec', 'synthetic_batch', 'NaiveSpatialAttention', 'sam_flops',
    'markdown_table'
]
