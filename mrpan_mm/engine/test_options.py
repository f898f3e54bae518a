"""Config changes for ``tools/test.py``'s ``--save-pred``, ``--format-only``,
``--amp`` and ``--tta``."""
from typing import List, Optional, Sequence

import torch
from mmengine.config import Config

from mrpan_mm.utils.precision import autocast_dtype


def enable_test_amp(cfg: Config) -> None:
    """Autocast at test time (``--amp``), an explicit request to
    :func:`~mrpan_mm.utils.precision.autocast_dtype`.

    MMEngine's ``TestLoop(fp16=True)`` runs ``mmengine.runner.amp.autocast``
    with the device's default dtype (fp16 on CUDA, bf16 on the CPU), which
    is what the policy gives an explicit request
    (``tests/test_precision_policy.py`` checks that they agree).
    """
    device = 'cuda' if torch.cuda.is_available() else 'cpu'
    test_cfg = cfg.get('test_cfg') or dict(type='TestLoop')
    test_cfg['fp16'] = autocast_dtype(device, 'explicit',
                                      'tools/test.py --amp') is not None
    cfg.test_cfg = test_cfg


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


def flip_tta_pipeline(test_pipeline: Sequence[dict]) -> List[dict]:
    """The flip test-time augmentation of a test pipeline.

    The first step (the image loader) runs once; mmengine's ``TestTimeAug``
    then makes two copies, unflipped and flipped horizontally, and runs
    every later step on each.  The flip comes right after image loading, so
    a ground truth loaded later is never flipped; ``DepthEstimator`` flips
    the mirrored copy's prediction back and ``DepthTTAModel`` averages the
    two.

    Args:
        test_pipeline: Transform configs, the image loader first.

    Returns:
        ``[loader, dict(type='TestTimeAug', transforms=[[no flip, flip],
        [step 1], [step 2], ...])]``.
    """
    loader, *steps = test_pipeline
    flips = [
        dict(type='RandomFlip', prob=prob, direction='horizontal')
        for prob in (0.0, 1.0)
    ]
    return [
        loader,
        dict(type='TestTimeAug',
             transforms=[flips] + [[step] for step in steps])
    ]


def enable_tta(cfg: Config) -> None:
    """Wrap the model in ``cfg.tta_model`` and test on ``cfg.tta_pipeline``
    (``--tta``); without a ``tta_pipeline`` in the config, on the flip
    augmentation of the test loader's pipeline (:func:`flip_tta_pipeline`).

    Raises:
        ValueError: the config has no ``tta_model``.
    """
    if 'tta_model' not in cfg:
        raise ValueError('--tta needs tta_model in the config (see '
                         'configs/_base_/default_runtime.py)')
    pipeline = cfg.get('tta_pipeline') or flip_tta_pipeline(
        cfg.test_dataloader.dataset.pipeline)
    cfg.test_dataloader.dataset.pipeline = pipeline
    cfg.tta_model.module = cfg.model
    cfg.model = cfg.tta_model
