"""SIGKILL while the shipped demo config writes a checkpoint, then
``--resume``: the run ends where an unbroken run ends.

``configs/mrpan_demo_cpu.py`` as a user runs it: ``tools/train.py`` in a
fresh interpreter with the default thread count (no ``OMP_NUM_THREADS``)
and one data-loader worker, on 4 training images at 36x48 (two steps per
epoch), checkpoints every epoch (``max_keep_ckpts=2`` as shipped).  The
killed run is watched from this process: the moment the atomic writer's
temporary file of ``epoch_2.pth`` appears it gets SIGKILL, and the test
checks that the kill landed inside the write (temporary file left behind,
no ``epoch_2.pth``).  A demo checkpoint with Adam's state is about 80 MB,
long enough to write that sub-millisecond polling catches it (a kill that
comes too late is retried in a new run, at most ``KILL_ATTEMPTS`` times).

The unbroken and the killed run train at the same time; the resumed run
must then match the unbroken one exactly (weights, optimizer state,
validation metrics).  The augmentations are random (flip, photometric
distortion), but MMEngine seeds a non-persistent worker identically each
epoch, so both runs see the same batches."""
import glob
import json
import os
import os.path as osp
import signal
import subprocess
import time

import pytest
import torch

from mrpan_mm.testing import make_nyu_fixture
from mrpan_mm.utils import CheckpointFileError, load_checkpoint_file
from tools_runner import REPO, data_root_options, tool_command, tool_env

pytestmark = pytest.mark.slow  # end-to-end: three fresh training processes

DEMO_CONFIG = osp.join(REPO, 'configs', 'mrpan_demo_cpu.py')
EPOCHS = 2  # the kill lands in the write of epoch_2.pth; epoch_1.pth must
# survive (MMEngine deletes the oldest checkpoint before writing a new one)
STEPS = 2  # per epoch: 4 images, batch 2
KILL_ATTEMPTS = 3  # a kill after the write was complete starts a new run
RUN_TIMEOUT = 600  # seconds, for a loaded machine


def user_env() -> dict:
    """The tools' environment less the one-thread setting: torch picks
    its default thread count, as in a user's shell."""
    env = tool_env()
    for name in ('OMP_NUM_THREADS', 'MKL_NUM_THREADS'):
        env.pop(name, None)
    return env


def start_training(work_dir: str, root: str, *extra: str
                   ) -> subprocess.Popen:
    """``tools/train.py`` on the demo config in a new interpreter (and a
    new process group, so that its data-loader worker can be reaped);
    output goes to ``<work_dir>.log``."""
    args = [
        DEMO_CONFIG, '--work-dir', work_dir, *extra, '--cfg-options',
        *data_root_options(root), f'train_cfg.max_epochs={EPOCHS}',
        f'train_cfg.val_interval={EPOCHS}', 'train_dataloader.batch_size=2',
        'train_dataloader.num_workers=1',
        'default_hooks.checkpoint.interval=1',
        'default_hooks.visualization.draw=False'
    ]
    with open(f'{work_dir}.log', 'a') as log:
        return subprocess.Popen(
            tool_command('train.py', *args), cwd=REPO, env=user_env(),
            stdout=log, stderr=subprocess.STDOUT, start_new_session=True)


def finish(proc: subprocess.Popen, work_dir: str) -> str:
    """Wait for a training that must succeed; returns its output."""
    try:
        status = proc.wait(timeout=RUN_TIMEOUT)
    finally:
        reap(proc)
    with open(f'{work_dir}.log') as f:
        output = f.read()
    assert status == 0, output[-3000:]
    return output


def reap(proc: subprocess.Popen) -> None:
    """End what is left of a training's process group (all of it after a
    timeout; a data-loader worker that outlived a killed main process)."""
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def being_written(work_dir: str, name: str) -> bool:
    """Whether a write of ``name`` has begun in ``work_dir``: the atomic
    writer's temporary file (``.<name>.<random>.tmp``,
    mrpan_mm.utils.atomic_write_bytes) or, from a writer that is not
    atomic, ``name`` itself."""
    return any(entry == name or entry.startswith(f'.{name}.')
               for entry in os.listdir(work_dir))


def complete(path: str) -> bool:
    """Whether ``path`` exists and loads as a checkpoint."""
    try:
        load_checkpoint_file(path, map_location='cpu')
    except (FileNotFoundError, CheckpointFileError):
        return False
    return True


def kill_while_writing(proc: subprocess.Popen, work_dir: str,
                       name: str) -> bool:
    """SIGKILL ``proc`` the moment its write of ``name`` begins; False
    when the kill came too late (``name`` complete by then)."""
    previous = f'epoch_{EPOCHS - 1}.pth'
    deadline = time.monotonic() + RUN_TIMEOUT
    try:
        # coarse polling until the checkpoint before, then sub-millisecond
        for target, interval in ((previous, 0.05), (None, 0.0002)):
            while not (osp.exists(osp.join(work_dir, target)) if target
                       else being_written(work_dir, name)):
                assert proc.poll() is None, 'training ended before the kill'
                assert time.monotonic() < deadline, f'no {name} written'
                time.sleep(interval)
        proc.send_signal(signal.SIGKILL)
        assert proc.wait(timeout=RUN_TIMEOUT) == -signal.SIGKILL
    finally:
        reap(proc)
    return not complete(osp.join(work_dir, name))


def state_of(work_dir: str) -> dict:
    """What a killed run left: its files, the checkpoint ``last_checkpoint``
    names and that checkpoint's epoch (it must load)."""
    with open(osp.join(work_dir, 'last_checkpoint')) as f:
        last = f.read().strip()
    return dict(files=sorted(os.listdir(work_dir)), last_checkpoint=last,
                epoch=load_checkpoint_file(last)['meta']['epoch'])


@pytest.fixture(scope='module')
def runs(tmp_path_factory):
    """Returns the work dirs of the unbroken and the killed-then-resumed
    runs, what the killed one left behind and the resumed run's output."""
    tmp = tmp_path_factory.mktemp('kill_resume')
    root = str(tmp / 'nyu')
    make_nyu_fixture(root, num_train=4, num_test=2, size=(36, 48))
    unbroken = str(tmp / 'unbroken')
    reference = start_training(unbroken, root)
    final = f'epoch_{EPOCHS}.pth'
    try:
        for attempt in range(KILL_ATTEMPTS):
            killed = str(tmp / f'killed_{attempt}')
            if kill_while_writing(start_training(killed, root), killed,
                                  final):
                break
        else:
            pytest.fail(f'{KILL_ATTEMPTS} kills all came after {final} '
                        'was complete')
        at_kill = state_of(killed)
        finish(reference, unbroken)
    finally:
        reap(reference)
    resumed = finish(start_training(killed, root, '--resume'), killed)
    return dict(unbroken=unbroken, killed=killed, at_kill=at_kill,
                resumed=resumed)


def load(work_dir: str, epoch: int) -> dict:
    return load_checkpoint_file(
        osp.join(work_dir, f'epoch_{epoch}.pth'), map_location='cpu')


def validation_metrics(work_dir: str) -> dict:
    """The depth metrics of the last validation logged in ``work_dir``
    (MMEngine's ``<time>/vis_data/scalars.json``), timings left out."""
    logged = []
    for path in sorted(glob.glob(osp.join(work_dir, '*', 'vis_data',
                                          'scalars.json'))):
        with open(path) as f:
            logged += [json.loads(line) for line in f]
    last = [entry for entry in logged if 'abs_rel' in entry][-1]
    return {key: value for key, value in last.items()
            if key not in ('time', 'data_time', 'step')}


def test_sigkill_while_writing_keeps_previous_checkpoint(runs):
    """Catches: a checkpoint written in place (a killed save leaves a
    truncated ``epoch_2.pth`` that ``--resume`` would take), a previous
    checkpoint deleted or damaged before the new one is complete, and
    ``last_checkpoint`` naming a file that was never finished."""
    files = runs['at_kill']['files']
    final, previous = (f'epoch_{e}.pth' for e in (EPOCHS, EPOCHS - 1))
    # the kill came mid-write: the temporary file is there, no final one
    assert any(f.startswith(f'.{final}.') for f in files), files
    assert [f for f in files if f.endswith('.pth')] == [previous], files
    assert runs['at_kill']['last_checkpoint'] == osp.join(
        runs['killed'], previous)
    assert runs['at_kill']['epoch'] == EPOCHS - 1
    # ``--resume`` took the last complete checkpoint
    assert f'resumed epoch: {EPOCHS - 1}, iter: {STEPS * (EPOCHS - 1)}' \
        in runs['resumed']


def test_resume_after_sigkill_matches_unbroken_run(runs):
    """Catches: resume that drops the optimizer state (made to forget
    Adam's state, this test fails on the first weight), the LR schedule
    (warm-up + cosine), the iteration count, or the augmentation seeds of
    the data-loader worker."""
    reference = load(runs['unbroken'], EPOCHS)
    resumed = load(runs['killed'], EPOCHS)
    assert (resumed['meta']['epoch'], resumed['meta']['iter']) == (
        reference['meta']['epoch'], reference['meta']['iter'])
    for name, weight in reference['state_dict'].items():
        torch.testing.assert_close(
            resumed['state_dict'][name], weight, rtol=0, atol=1e-6,
            msg=f'{name} differs between the unbroken and resumed runs')
    # Adam's per-parameter step count carried on from the checkpoint
    steps = {s['step'].item() for s in resumed['optimizer']['state'].values()}
    assert steps == {float(STEPS * EPOCHS)}
    for key in ('exp_avg', 'exp_avg_sq'):
        for index, state in reference['optimizer']['state'].items():
            torch.testing.assert_close(
                resumed['optimizer']['state'][index][key], state[key],
                rtol=0, atol=1e-6)
    assert validation_metrics(runs['killed']) == pytest.approx(
        validation_metrics(runs['unbroken']), rel=0, abs=1e-9)
