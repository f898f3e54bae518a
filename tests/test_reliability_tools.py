"""docs/reliability.md end to end: tools/train.py, test.py and infer.py on
the NYU fixture with a hostile, a mismatching and a truncated checkpoint,
and a resumed run whose loss turns NaN; every path that reads a checkpoint
(the tools, the web page, ONNX export, ``DepthInferencer``, mmseg's
``init_model``) with checkpoints made to run code.

The shared tiny training (``tiny_training``) makes the good checkpoint;
every failing run (each stops while loading or in its first iteration) is
forked from the preloaded interpreter, but one, a hostile ``--resume``,
which starts a new interpreter as a shell does."""
import glob
import os
import os.path as osp
import subprocess
import traceback

import pytest
import torch

from mrpan_mm.apis import DepthInferencer
from mrpan_mm.utils import TRUSTED_GLOBALS_ENV, load_checkpoint_file
from tools_runner import (PRELOADED, REPO, TINY_CONFIG, data_root_options,
                          tool_command, tool_env)

pytestmark = pytest.mark.slow


class CreatesFile:
    """Unpickling this object creates ``path`` (``open(path, 'w')``)."""

    def __init__(self, path):
        self.path = str(path)

    def __reduce__(self):
        return open, (self.path, 'w')


class ReadsLine:
    """Unpickles as ``traceback.FrameSummary(path, 1, 'f')``, whose
    constructor reads a line of ``path`` (torch.distributed puts the class
    in torch's process-wide safe list)."""

    def __init__(self, path):
        self.path = str(path)

    def __reduce__(self):
        return traceback.FrameSummary, (self.path, 1, 'f')


def work_dir_resuming(path, checkpoint):
    """A work dir whose ``last_checkpoint`` points at ``checkpoint``."""
    os.makedirs(path)
    with open(osp.join(path, 'last_checkpoint'), 'w') as f:
        f.write(checkpoint)
    return path


@pytest.fixture(scope='module')
def runs(tmp_path_factory, tiny_training):
    tmp = tmp_path_factory.mktemp('reliability')
    root, trained_dir = tiny_training
    data = data_root_options(root)
    good = osp.join(trained_dir, 'epoch_1.pth')

    evil = str(tmp / 'evil.pth')
    marker = tmp / 'created_by_unpickling'
    torch.save({'state_dict': {}, 'meta': {'x': CreatesFile(marker)}}, evil)

    ckpt = load_checkpoint_file(good)
    state = ckpt['state_dict']
    del state['decode_head.decoder.top_proj.conv.weight']
    state['decode_head.extra.weight'] = torch.zeros(1)
    state['neck.levels.0.spatial_attention.gamma'] = torch.zeros(3)
    mismatch = str(tmp / 'mismatch.pth')
    torch.save({'meta': ckpt['meta'], 'state_dict': state}, mismatch)
    truncated = str(tmp / 'truncated.pth')
    with open(good, 'rb') as src, open(truncated, 'wb') as dst:
        dst.write(src.read(osp.getsize(good) // 2))

    nan_dir = str(tmp / 'nan')
    os.makedirs(nan_dir)
    os.link(good, osp.join(nan_dir, 'epoch_1.pth'))
    with open(osp.join(nan_dir, 'last_checkpoint'), 'w') as f:
        f.write(osp.join(nan_dir, 'epoch_1.pth'))

    image = sorted(glob.glob(osp.join(root, 'images', 'test', '*.jpg')))[0]
    train = ['train.py', TINY_CONFIG, '--work-dir']
    commands = {
        'evil_test': ['test.py', TINY_CONFIG, evil, '--work-dir',
                      str(tmp / 'w_test'), '--cfg-options', *data],
        'evil_infer': ['infer.py', image, '--config', TINY_CONFIG,
                       '--checkpoint', evil, '--out', str(tmp / 'w_infer')],
        'evil_load_from': [*train, str(tmp / 'w_load'), '--cfg-options',
                           *data, f'load_from={evil}'],
        'evil_resume': [*train, work_dir_resuming(str(tmp / 'w_res'), evil),
                        '--resume', '--cfg-options', *data],
        'mismatch_load_from': [*train, str(tmp / 'w_mload'), '--cfg-options',
                               *data, f'load_from={mismatch}'],
        'mismatch_resume': [
            *train, work_dir_resuming(str(tmp / 'w_mres'), mismatch),
            '--resume', '--cfg-options', *data],
        'truncated_test': ['test.py', TINY_CONFIG, truncated, '--work-dir',
                           str(tmp / 'w_trunc'), '--cfg-options', *data],
        'nan': [*train, nan_dir, '--resume', '--cfg-options', *data,
                'train_cfg.max_epochs=2',
                'model.decode_head.loss_decode.term_weights.depth=nan'],
    }
    # one run in a new interpreter: what a shell starts refuses it too
    results = {name: (run_fresh if name == 'evil_resume' else run_forked)(
        args, timeout=600) for name, args in commands.items()}
    return dict(results=results, tmp=tmp, marker=marker, evil=evil,
                mismatch=mismatch, truncated=truncated, nan_dir=nan_dir,
                root=root)


@pytest.mark.parametrize(
    'name', ['evil_test', 'evil_infer', 'evil_load_from', 'evil_resume'])
def test_hostile_checkpoint_runs_no_code(runs, name):
    """Catches: a tool reading checkpoints with ``weights_only=False``
    (unpickling runs the file's code) or an error not naming the file."""
    rc, output = runs['results'][name]
    assert rc != 0, output[-2000:]
    assert f'refusing to load checkpoint {runs["evil"]}' in output
    assert 'io.open' in output
    assert not runs['marker'].exists()
    assert not glob.glob(osp.join(runs['tmp'], 'w_*', '*.pth'))


@pytest.mark.parametrize('name', ['mismatch_load_from', 'mismatch_resume'])
def test_mismatching_checkpoint_stops_listing_keys(runs, name):
    """Catches: ``load_from`` / ``--resume`` going on with the part that
    fits (MMEngine's default: a warning), an error not listing the keys."""
    rc, output = runs['results'][name]
    assert rc != 0, output[-2000:]
    assert f'checkpoint {runs["mismatch"]} does not match' in output
    for line in ('1 missing keys', 'decode_head.decoder.top_proj.conv.weight',
                 '1 unexpected keys', 'decode_head.extra.weight',
                 '1 mis-shaped keys',
                 'neck.levels.0.spatial_attention.gamma: checkpoint (3,), '
                 'model (1,)'):
        assert line in output, line


def test_truncated_checkpoint_is_named(runs):
    """Catches: a bare zip/pickle error that does not name the file."""
    rc, output = runs['results']['truncated_test']
    assert rc != 0
    assert f'checkpoint {runs["truncated"]} is truncated or corrupt' in output


def test_nan_loss_stops_in_that_iteration_keeping_last_checkpoint(runs):
    """Catches: training (and saving) on after a NaN loss, an error
    without the iteration, the loss terms or the batch's files."""
    rc, output = runs['results']['nan']
    assert rc != 0, output[-2000:]
    assert 'iteration 3 (epoch 2, batch 1): the loss is NaN' in output
    assert 'decode.loss_depth=nan' in output
    assert osp.join(runs['root'], 'images', 'train', 'kitchen_0000') in output
    assert 'Epoch(train) [2]' not in output  # stopped before logging it
    nan_dir = runs['nan_dir']
    assert sorted(glob.glob(osp.join(nan_dir, '*.pth'))) == [
        osp.join(nan_dir, 'epoch_1.pth')]
    with open(osp.join(nan_dir, 'last_checkpoint')) as f:
        assert f.read().strip() == osp.join(nan_dir, 'epoch_1.pth')


INIT_MODEL_SCRIPT = """import sys
import mrpan_mm
from mmseg.apis import init_model
init_model(sys.argv[1], sys.argv[2], device='cpu')
print('init_model loaded', sys.argv[2])
"""


def run_forked(args, extra_env=None, timeout=300):
    """``tools/<args[0]>`` (or a script path) forked from the preloaded
    interpreter; returns (exit status, stdout + stderr)."""
    command = tool_command(*args)
    if osp.isabs(args[0]):
        command[1] = args[0]
    proc = PRELOADED.run(command, dict(tool_env(), **(extra_env or {})),
                         timeout)
    return proc.returncode, proc.stdout + proc.stderr


def run_fresh(args, timeout=300):
    """``tools/<args[0]>`` in a new interpreter, as a shell starts it;
    returns (exit status, stdout + stderr)."""
    proc = subprocess.run(tool_command(*args), cwd=REPO, env=tool_env(),
                          capture_output=True, text=True, timeout=timeout)
    return proc.returncode, proc.stdout + proc.stderr


@pytest.fixture(scope='module')
def attacks(tmp_path_factory, tiny_training):
    """One real checkpoint, made hostile three ways: config text that
    creates ``marker`` when executed (MMEngine's ``Config.fromstring``),
    an ``io.open`` object creating ``marker`` when unpickled, and a
    ``FrameSummary`` reading a line of a file."""
    tmp = tmp_path_factory.mktemp('attacks')
    root, trained_dir = tiny_training
    marker = tmp / 'created_by_the_checkpoint'
    checkpoint = load_checkpoint_file(osp.join(trained_dir, 'epoch_1.pth'))
    code = f'open({str(marker)!r}, "w").close()\n'
    checkpoint['meta'].update(config=code, cfg=code)
    checkpoint['message_hub']['runtime_info']['cfg'] = code
    paths = dict(config=str(tmp / 'config_code.pth'),
                 unpickle=str(tmp / 'opens_a_file.pth'),
                 frame=str(tmp / 'reads_a_line.pth'))
    torch.save(checkpoint, paths['config'])
    torch.save(dict(checkpoint, extra=CreatesFile(marker)), paths['unpickle'])
    secret = tmp / 'secret.txt'
    secret.write_text('a line of a local file\n')
    torch.save(dict(checkpoint, extra=ReadsLine(secret)), paths['frame'])
    script = tmp / 'init_model.py'
    script.write_text(INIT_MODEL_SCRIPT)
    return dict(tmp=tmp, root=root, marker=marker, script=str(script),
                image=sorted(glob.glob(osp.join(root, 'images', 'test',
                                                '*.jpg')))[0], **paths)


def test_config_text_in_checkpoint_never_runs(attacks):
    """--resume (MMEngine executes ``meta['config']``), load_from through
    tools/test.py, tools/infer.py: all load the file, none runs its
    config.  Catches: config text in a checkpoint reaching
    ``Config.fromstring``."""
    tmp, data = attacks['tmp'], data_root_options(attacks['root'])
    resume_dir = work_dir_resuming(str(tmp / 'resume'), attacks['config'])
    for args in (
        ['train.py', TINY_CONFIG, '--work-dir', resume_dir, '--resume',
         '--cfg-options', *data, 'train_cfg.max_epochs=1'],
        ['test.py', TINY_CONFIG, attacks['config'], '--work-dir',
         str(tmp / 'test'), '--cfg-options', *data],
        ['infer.py', attacks['image'], '--config', TINY_CONFIG,
         '--checkpoint', attacks['config'], '--out', str(tmp / 'infer')],
    ):
        status, output = run_forked(args)
        assert status == 0, output[-3000:]
        assert not attacks['marker'].exists(), args[0]
    assert 'resumed epoch: 1' in open(glob.glob(
        osp.join(resume_dir, '*', '*.log'))[0]).read()


def test_inferencer_needs_a_config(attacks):
    """Catches: MMEngine building the model from the checkpoint's config
    text (code) when no config is given."""
    with pytest.raises(ValueError, match='needs a config'):
        DepthInferencer(None, attacks['config'], 'cpu')
    assert not attacks['marker'].exists()


@pytest.mark.parametrize('path', ['webapp', 'onnx', 'init_model'])
def test_other_loading_paths_refuse_hostile_checkpoints(attacks, path):
    """The web page's and ONNX export's start, and mmseg's ``init_model``
    on our config (whose loader no hook of ours switches).  Catches: a
    loading path that bypasses the safe loader."""
    args, hostile = {
        'webapp': (['webapp.py', '--config', TINY_CONFIG, '--checkpoint',
                    attacks['unpickle'], '--port', '0'], 'unpickle'),
        'onnx': (['deployment/pytorch2onnx.py', TINY_CONFIG,
                  attacks['unpickle'], '--shape', '64', '80',
                  '--output-file', str(attacks['tmp'] / 'm.onnx')],
                 'unpickle'),
        'init_model': ([attacks['script'], TINY_CONFIG, attacks['frame']],
                       'frame'),
    }[path]
    status, output = run_forked(args)
    assert status != 0, output[-3000:]
    assert f'refusing to load checkpoint {attacks[hostile]}' in output
    assert ('io.open' if hostile == 'unpickle' else
            'traceback.FrameSummary') in output
    assert not attacks['marker'].exists()
    assert not osp.exists(attacks['tmp'] / 'm.onnx')


def test_trusting_the_attack_itself_is_refused(attacks):
    """Catches: the trusted-globals variable letting the hostile file's own
    function (``io.open``) into the unpickler of tools/test.py, or a
    refusal that does not reach the user.  The other names a user must
    not trust: test_checkpoint_io.py (in-process)."""
    trusted = 'io.open'
    status, output = run_forked(
        ['test.py', TINY_CONFIG, attacks['unpickle'], '--work-dir',
         str(attacks['tmp'] / 'trusted'), '--cfg-options',
         *data_root_options(attacks['root'])], {TRUSTED_GLOBALS_ENV: trusted})
    assert status != 0, output[-3000:]
    assert f'cannot load checkpoint {attacks["unpickle"]}' in output
    assert f'{TRUSTED_GLOBALS_ENV}: {trusted!r} is refused' in output
    assert not attacks['marker'].exists()
