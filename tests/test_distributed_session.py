"""``distributed_session``: the tools' process group ends before the
interpreter does (in this process: a one-rank gloo group)."""
import gc
import socket
import weakref
from contextlib import nullcontext

import pytest
import torch
import torch.distributed as dist
from torch.nn.parallel import DistributedDataParallel
from mmengine.config import Config

from mrpan_mm.engine import distributed_session


@pytest.fixture
def one_rank(monkeypatch):
    """The environment torchrun gives a single rank."""
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        port = sock.getsockname()[1]
    for key, value in dict(MASTER_ADDR='127.0.0.1', MASTER_PORT=str(port),
                           RANK='0', LOCAL_RANK='0',
                           WORLD_SIZE='1').items():
        monkeypatch.setenv(key, value)
    yield
    if dist.is_initialized():  # a failed test must not leak its group
        dist.destroy_process_group()


@pytest.mark.parametrize('fails', [False, True], ids=['returns', 'raises'])
def test_group_destroyed_on_leaving(one_rank, fails):
    """Catches: a process group left alive after the tool's work, which
    gloo tears down during interpreter finalization, where freeing a
    tensor it holds aborts the rank (``terminate called without an active
    exception``); also after an exception in the run."""
    cfg = Config(dict(launcher='pytorch'))
    with pytest.raises(RuntimeError) if fails else nullcontext():
        with distributed_session(cfg):
            assert dist.get_backend() == 'gloo'
            assert cfg.model_wrapper_cfg.device_ids is None
            if fails:
                raise RuntimeError('the run failed')
    assert not dist.is_initialized()


def test_single_process_runs_start_no_group():
    """Catches: a process group started for runs without a launcher."""
    with distributed_session(Config(dict(launcher='none'))):
        assert not dist.is_initialized()


def ddp_model_in_a_cycle() -> weakref.ref:
    """A DDP model reachable only through a reference cycle, as MMEngine's
    runner leaves its model when the tool's work returns."""
    holder = {}
    holder['self'] = holder
    holder['model'] = DistributedDataParallel(torch.nn.Linear(2, 1))
    return weakref.ref(holder['model'])


def test_ddp_model_freed_before_the_group_ends(one_rank):
    """Catches: the group destroyed while a DDP model in a cycle still
    holds it (``destroy_process_group`` then only drops its name, and
    the group ends in interpreter finalization, where gloo's threads abort
    the rank: seen as ``terminate called without an active exception`` in
    ``dist_train.sh`` runs).  Automatic collection is off here, so only
    the session's own collection can free the model."""
    gc.disable()
    try:
        with distributed_session(Config(dict(launcher='pytorch'))):
            model = ddp_model_in_a_cycle()
            assert model() is not None
    finally:
        gc.enable()
    assert model() is None
