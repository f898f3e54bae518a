"""MRPAN for OpenMMLab: monocular depth estimation components for MMSegmentation.

Importing this package (``custom_imports=dict(imports=['mrpan_mm'])``)
registers every MRPAN component into MMSegmentation's registries.  The
mmcv-lite compatibility shim must run before the first ``mmseg`` import, so
it comes first here.
"""
from .utils.mmcv_ops_fallback import install_mmcv_ops_fallback

install_mmcv_ops_fallback()

from .utils.checkpoint_io import install_checkpoint_io  # noqa: E402

install_checkpoint_io()

from . import (datasets, engine, evaluation, models,  # noqa: E402,F401
               visualization)
from . import apis  # noqa: E402,F401
from .version import __version__  # noqa: E402,F401
