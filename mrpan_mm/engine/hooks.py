"""Runner hooks."""
import math
from typing import Optional

import torch
import torch.nn as nn
from mmengine.dist import all_reduce
from mmengine.hooks import Hook
from mmengine.model import BaseTTAModel, is_model_wrapper
from mmengine.runner import find_latest_checkpoint
from mmseg.registry import HOOKS

from ..utils import (CheckpointMismatchError, check_state_dict,
                     drop_config_text, use_safe_checkpoint_loader)


@HOOKS.register_module()
class ChannelsLastHook(Hook):
    """Store the model's 4-D parameters and buffers channels-last (NHWC).

    Convolutions then run on NHWC tensors from the first layer on (an NCHW
    input meeting an NHWC weight gives an NHWC output).  With bf16 autocast on
    an x86 CPU this is the faster layout (docs/benchmarks.md, section 3);
    without autocast it can be slower, so it is opt-in::

        custom_hooks = [dict(type='ChannelsLastHook')]

    The conversion happens in ``before_run``, after the optimizer is built:
    ``Module.to`` swaps each parameter's storage in place, so the optimizer
    keeps the same parameter objects, and weights loaded or resumed later are
    copied into the channels-last storage.
    """

    priority = 'VERY_HIGH'

    def before_run(self, runner) -> None:
        model = runner.model.module if is_model_wrapper(
            runner.model) else runner.model
        model.to(memory_format=torch.channels_last)


@HOOKS.register_module()
class SafeCheckpointLoadHook(Hook):
    """Load checkpoints without running code from them, and only if they fit.

    ``before_run`` makes :func:`~mrpan_mm.utils.load_checkpoint_file` (
    ``torch.load(weights_only=True)`` plus the objects MMEngine checkpoints
    hold) MMEngine's loader for local files, so ``load_from``, ``--resume``
    and ``tools/test.py`` refuse a file holding anything else.  After a
    checkpoint is read for ``load_from`` / ``--resume`` / testing (by any
    loader, remote URLs included), the config text it holds is dropped
    before ``Runner.resume`` would execute it, and its ``state_dict`` is
    compared with the model (:func:`~mrpan_mm.utils.check_state_dict`):
    with ``strict=True`` the run stops on missing, unexpected or mis-shaped
    keys (MMEngine itself only warns), listing them.  Our configs enable it::

        default_hooks = dict(
            checkpoint_loading=dict(type='SafeCheckpointLoadHook',
                                    strict=True))

    Args:
        strict: Stop on a checkpoint that does not match the model. With
            ``False`` MMEngine loads the matching part and warns.
        max_listed: Keys listed per kind of mismatch (the count is given).
    """

    priority = 'VERY_HIGH'

    def __init__(self, strict: bool = True, max_listed: int = 20) -> None:
        self.strict = strict
        self.max_listed = max_listed

    def before_run(self, runner) -> None:
        use_safe_checkpoint_loader()

    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        drop_config_text(checkpoint)
        if not self.strict:
            return
        try:
            check_state_dict(bare_model(runner.model),
                             checkpoint.get('state_dict', checkpoint),
                             source=checkpoint_source(runner),
                             max_listed=self.max_listed)
        except CheckpointMismatchError as error:
            raise CheckpointMismatchError(
                f'{error}\nFix the config or the checkpoint, or load the '
                'matching part with '
                'default_hooks.checkpoint_loading.strict=False.') from None


def bare_model(model: nn.Module) -> nn.Module:
    """The model inside DDP-style and test-time-augmentation wrappers, as
    MMEngine's ``load_state_dict`` sees it."""
    while is_model_wrapper(model) or isinstance(model, BaseTTAModel):
        model = model.module
    return model


def checkpoint_source(runner) -> str:
    """The file the runner loads or resumes from, as its config says."""
    load_from = runner.cfg.get('load_from')
    if load_from:
        return load_from
    if runner.cfg.get('resume'):
        return find_latest_checkpoint(runner.work_dir) or '(latest)'
    return '(unknown file)'


@HOOKS.register_module()
class NonFiniteLossHook(Hook):
    """Stop training in the iteration whose loss is NaN or infinite.

    Runs after the iteration's update and before the logger and checkpoint
    hooks, so the latest checkpoint on disk stays the last good one.  The
    error names the iteration, every loss term and the batch's image files.
    In a distributed run every process stops in the same iteration (one
    all-reduced flag per iteration).  A loss-scaler's skipped fp16 steps are
    not affected: only the logged loss values are checked.  Our configs
    enable it::

        default_hooks = dict(non_finite_loss=dict(type='NonFiniteLossHook'))
    """

    priority = 'ABOVE_NORMAL'

    def after_train_iter(self,
                         runner,
                         batch_idx: int,
                         data_batch: Optional[dict] = None,
                         outputs: Optional[dict] = None) -> None:
        terms = {k: float(v) for k, v in (outputs or {}).items()
                 if 'loss' in k}
        bad_here = not all(math.isfinite(v) for v in terms.values())
        flag = torch.tensor([int(bad_here)])
        all_reduce(flag)
        if not flag.item():
            return
        if not bad_here:
            raise NonFiniteLossError(
                f'iteration {runner.iter + 1}: the loss of another process '
                'is NaN or infinite (its log names the batch); stopped')
        listed = ', '.join(f'{k}={v:.6g}' for k, v in terms.items())
        files = [
            sample.metainfo.get('img_path', '?')
            for sample in (data_batch or {}).get('data_samples', [])
        ]
        raise NonFiniteLossError(
            f'iteration {runner.iter + 1} (epoch {runner.epoch + 1}, batch '
            f'{batch_idx + 1}): the loss is NaN or infinite: {listed}; batch '
            f'images: {", ".join(files) or "unknown"}. Training stopped; the '
            'latest checkpoint is the last one saved before this iteration.')


class NonFiniteLossError(RuntimeError):
    """Training produced a NaN or infinite loss."""
