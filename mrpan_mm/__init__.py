"""MRPAN for OpenMMLab: monocular depth estimation components for MMSegmentation.

Importing this package (``custom_imports=dict(imports=['mrpan_mm'])``)
registers every MRPAN component into MMSegmentation's registries and changes
nothing else, with one exception that must precede the first ``mmseg``
import: with ``mmcv-lite`` (no compiled ``mmcv._ext``) it installs the
``mmcv.ops`` stand-in of :mod:`mrpan_mm.compat.mmcv_ops`; with a full
mmcv nothing.  Safe checkpoint loading, strict key matching, atomic
checkpoint writing and the non-finite-loss stop are switched on by config
(see ``configs/_base_/schedules/schedule_20e_adam.py``,
``configs/_base_/default_runtime.py`` and docs/reliability.md).
"""
from .compat import install_mmcv_ops_fallback

install_mmcv_ops_fallback()

from . import (datasets, engine, evaluation, models,  # noqa: E402,F401
               visualization)
from . import apis  # noqa: E402,F401
from .version import __version__  # noqa: E402,F401
