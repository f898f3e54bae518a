"""Config changes for ``tools/test.py``'s ``--save-pred``, ``--format-only``,
``--amp`` and ``--tta``."""
from typing import Optional

import torch
from mmengine.config import Config

from mrpan_mm.utils import warn_if_emulated_bf16


def enable_test_amp(cfg: Config) -> None:
    """Autocast at test time (``--amp``): MMEngine's ``TestLoop(fp16=True)``
    runs ``mmengine.runner.amp.autocast``, i.e. fp16 on CUDA and bf16 on
    the CPU."""
    test_cfg = cfg.get('test_cfg') or dict(type='TestLoop')
    test_cfg['fp16'] = True
    cfg.test_cfg = test_cfg
    if not torch.cuda.is_available():
        warn_if_emulated_bf16('tools/test.py --amp')


def enable_save_pred(cfg: Config, out_dir: Optional[str],
                     format_only: bool) -> None:
    """Save every prediction (``--save-pred DIR``); with ``format_only``
    the test images need no depth files and nothing is scored.

    Raises:
        ValueError: ``format_only`` without an output folder.
    """
    if format_only and not out_dir:
        raise ValueError('--format-only scores nothing; give --save-pred DIR '
                         'to keep the predictions')
    if out_dir:
        cfg.custom_hooks = list(cfg.get('custom_hooks') or []) + [
            dict(type='SaveDepthPredictionHook', out_dir=out_dir)
        ]
    if format_only:
        cfg.test_dataloader.dataset.data_prefix.pop('depth_map_path', None)
        cfg.test_evaluator['format_only'] = True


def enable_tta(cfg: Config) -> None:
    """Wrap the model in ``cfg.tta_model`` and test on ``cfg.tta_pipeline``
    (``--tta``)."""
    if 'tta_pipeline' not in cfg or 'tta_model' not in cfg:
        raise ValueError('--tta needs tta_pipeline and tta_model in the '
                         'config (see configs/_base_/datasets/nyu.py)')
    cfg.test_dataloader.dataset.pipeline = cfg.tta_pipeline
    cfg.tta_model.module = cfg.model
    cfg.model = cfg.tta_model
