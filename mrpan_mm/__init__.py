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
try:
    import mmcv  # noqa: F401
except ImportError as error:  # neither mmcv-lite nor the full mmcv
    raise ImportError(
        "mrpan_mm needs mmcv 2.1: pip install 'mrpan-mm[lite]' (mmcv-lite, "
        "CPU or GPU) or install OpenMMLab's full mmcv==2.1.0") from error

from .compat import install_mmcv_ops_fallback  # noqa: E402

install_mmcv_ops_fallback()

from . import (datasets, engine, evaluation, models,  # noqa: E402,F401
               visualization)
from . import apis  # noqa: E402,F401
from . import demo  # noqa: E402,F401  (after datasets: it writes them)
from .utils.config_files import (get_config_path,  # noqa: E402,F401
                                 list_configs)
from .version import __version__  # noqa: E402,F401
