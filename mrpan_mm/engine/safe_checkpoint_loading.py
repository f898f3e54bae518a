"""Importing this module makes MMEngine read local checkpoints with
:func:`mrpan_mm.utils.load_checkpoint_file` (no code from the file, config
text dropped) in this process.

Our configs import it (``custom_imports`` in
``configs/_base_/default_runtime.py``), so every process that reads one of
them loads checkpoints safely, from its first checkpoint on: the tools, and
also mmseg's ``init_model`` and any script building a runner from the
config, which no hook of ours reaches.  ``import mrpan_mm`` alone does not
change MMEngine's loader.
"""
from ..utils import use_safe_checkpoint_loader

use_safe_checkpoint_loader()
