"""Config preparation shared by ``tools/train.py`` and ``tools/test.py``.

Each function edits an MMEngine config in place for one command-line
option, with the behaviour MMSegmentation users know from mmseg's tools,
plus what is needed to run the same commands on a machine without CUDA.
"""
import argparse
import gc
import logging
import os
import os.path as osp
import re
import subprocess
from contextlib import contextmanager
from typing import Iterator, Optional

import torch
import torch.distributed as dist
from mmengine.config import Config, DictAction
from mmengine.logging import print_log


def add_common_args(parser: argparse.ArgumentParser) -> None:
    """Options shared by the train and test tools, as in mmseg's tools."""
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override config entries, e.g. train_cfg.max_epochs=2 '
        'or key="[a,b]" for lists (no spaces)')
    parser.add_argument(
        '--launcher',
        choices=['none', 'pytorch', 'slurm', 'mpi'],
        default='none',
        help='job launcher')
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)


def load_config(config_path: str,
                cfg_options: Optional[dict] = None,
                work_dir: Optional[str] = None,
                launcher: str = 'none') -> Config:
    """Read a config, apply ``--cfg-options`` and settle ``work_dir``.

    The work dir is taken from the command line, else the config, else
    ``./work_dirs/<config name>``.
    """
    cfg = Config.fromfile(config_path)
    cfg.launcher = launcher
    if cfg_options:
        cfg.merge_from_dict(cfg_options)
    if work_dir is not None:
        cfg.work_dir = work_dir
    elif cfg.get('work_dir') is None:
        name = osp.splitext(osp.basename(config_path))[0]
        cfg.work_dir = osp.join('./work_dirs', name)
    return cfg


def config_from_args(args: argparse.Namespace) -> Config:
    """The config of a tool's parsed arguments (see :func:`add_common_args`).

    Exports ``LOCAL_RANK`` for launchers that pass ``--local-rank``, then
    reads the config with :func:`load_config`.
    """
    os.environ.setdefault('LOCAL_RANK', str(args.local_rank))
    return load_config(args.config, args.cfg_options, args.work_dir,
                       args.launcher)


def enable_amp(cfg: Config) -> None:
    """Turn on mixed precision (``--amp``), an explicit request.

    GPU: fp16 with dynamic loss scaling, as mmseg's ``--amp``.  CPU: bf16
    autocast through :class:`AnyDeviceAmpOptimWrapper`, with
    ``emulated_bf16=True`` (bf16 even where the CPU emulates it, with a
    warning; :mod:`mrpan_mm.utils.precision`).
    """
    wrapper_type = cfg.optim_wrapper.get('type', 'OptimWrapper')
    if wrapper_type == 'AmpOptimWrapper':
        print_log('Mixed precision is already enabled in the config.',
                  logger='current', level=logging.WARNING)
        return
    if wrapper_type not in ('OptimWrapper', 'AnyDeviceAmpOptimWrapper'):
        raise ValueError('--amp needs optim_wrapper.type="OptimWrapper", '
                         f'got {wrapper_type!r}')
    if wrapper_type == 'OptimWrapper' and torch.cuda.is_available():
        cfg.optim_wrapper.loss_scale = 'dynamic'
    cfg.optim_wrapper.type = 'AnyDeviceAmpOptimWrapper'
    cfg.optim_wrapper.emulated_bf16 = True


def enable_tensorboard(cfg: Config) -> None:
    """Also log to TensorBoard (``--tensorboard``).

    Adds MMEngine's ``TensorboardVisBackend`` next to the config's
    visualizer backends: scalars (losses, learning rate, metrics) go to
    event files in ``<work_dir>/<timestamp>/vis_data/``, read with
    ``tensorboard --logdir <work_dir>``.  Needs the ``tensorboard``
    package (the ``tensorboard`` extra).
    """
    backends = list(cfg.visualizer.get('vis_backends') or [])
    if all(b.get('type') != 'TensorboardVisBackend' for b in backends):
        backends.append(dict(type='TensorboardVisBackend'))
    cfg.visualizer.vis_backends = backends


def export_slurm_env() -> None:
    """Set torch's ``env://`` variables from those of a Slurm task.

    ``RANK``, ``WORLD_SIZE`` and ``LOCAL_RANK`` come from ``SLURM_PROCID``,
    ``SLURM_NTASKS`` and ``SLURM_LOCALID``; ``MASTER_ADDR`` (unless set) is
    the first host of ``SLURM_NODELIST`` (a list such as ``node[01-04]``
    is expanded by ``scontrol show hostnames``) and ``MASTER_PORT`` (unless
    set) 29500, as MMEngine's Slurm launcher chooses them on CUDA.

    Raises:
        ValueError: A Slurm variable is missing (not run by ``srun``).
    """
    names = ('SLURM_PROCID', 'SLURM_NTASKS', 'SLURM_NODELIST')
    missing = [name for name in names if name not in os.environ]
    if missing:
        raise ValueError(f'--launcher slurm: {", ".join(missing)} not set; '
                         'start the tool with srun (tools/slurm_train.sh)')
    nodes = os.environ['SLURM_NODELIST']
    if 'MASTER_ADDR' not in os.environ:
        os.environ['MASTER_ADDR'] = nodes if re.fullmatch(
            r'[\w.-]+', nodes) else subprocess.check_output(
                ['scontrol', 'show', 'hostnames', nodes], text=True).split()[0]
    os.environ.setdefault('MASTER_PORT', '29500')
    os.environ['RANK'] = os.environ['SLURM_PROCID']
    os.environ['WORLD_SIZE'] = os.environ['SLURM_NTASKS']
    os.environ['LOCAL_RANK'] = os.environ.get('SLURM_LOCALID', '0')


def setup_cpu_distributed(cfg: Config) -> None:
    """Prepare torch DDP over gloo when launched without CUDA.

    MMEngine's launcher calls ``torch.cuda.set_device`` and wraps the model
    with ``device_ids=[LOCAL_RANK]``; both fail for CPU processes.  The
    process group is created here with the gloo backend (MMEngine then skips
    its own initialisation) and the DDP wrapper gets ``device_ids=None``.
    Under ``--launcher slurm`` the rank and world size are first taken
    from Slurm's variables (:func:`export_slurm_env`).  Does nothing for
    single-process runs or when CUDA is available.
    """
    if cfg.launcher == 'none' or torch.cuda.is_available():
        return
    if cfg.get('sync_bn'):
        raise ValueError('sync_bn needs CUDA devices; this run has none. '
                         'Remove sync_bn for CPU training.')
    if not dist.is_initialized():
        if cfg.launcher == 'slurm':
            export_slurm_env()
        dist.init_process_group(backend='gloo')
    wrapper = cfg.get('model_wrapper_cfg') or dict(
        type='MMDistributedDataParallel')
    wrapper['device_ids'] = None
    wrapper.setdefault('broadcast_buffers', False)
    wrapper.setdefault('find_unused_parameters',
                       cfg.get('find_unused_parameters', False))
    cfg.model_wrapper_cfg = wrapper


@contextmanager
def distributed_session(cfg: Config) -> Iterator[None]:
    """Run a tool's work inside the process group of its launch.

    Entering calls :func:`setup_cpu_distributed`.  Leaving, normally or by
    an exception, first collects garbage, then destroys the default process
    group if one exists (the gloo group created here, or the one MMEngine's
    runner created on CUDA), while the interpreter is still whole.

    Both are needed for the group to end here.  A DDP model's reducer
    holds the group, and MMEngine's runner, which holds the model, is in
    reference cycles (its loops point back at it): until a collection the
    model outlives the runner's last name, so ``destroy_process_group``
    only drops the group's name.  Left to the end, the group is destroyed
    during interpreter finalization; gloo's worker threads can then still
    hold finished work items whose tensors, freed there, abort the rank
    (``terminate called without an active exception``, SIGABRT) and
    torchrun reports a completed run as failed.  The work inside the
    ``with`` block must keep no name for the runner (call a function that
    builds and runs it).
    """
    setup_cpu_distributed(cfg)
    try:
        yield
    finally:
        gc.collect()
        if dist.is_initialized():
            dist.destroy_process_group()


def enable_visualization(cfg: Config, show: bool, show_dir: Optional[str],
                         wait_time: float) -> None:
    """Switch on the visualisation hook for ``--show`` / ``--show-dir``:
    a panel for every test image (mmseg's hook draws every 50th batch by
    default)."""
    hooks = cfg.get('default_hooks', {})
    if 'visualization' not in hooks:
        raise ValueError('--show/--show-dir need default_hooks.visualization '
                         "(e.g. dict(type='SegVisualizationHook')).")
    hooks.visualization.draw = True
    hooks.visualization.interval = 1
    if show:
        hooks.visualization.show = True
        hooks.visualization.wait_time = wait_time
    if show_dir:
        cfg.visualizer.save_dir = show_dir
