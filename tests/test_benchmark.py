"""tools/benchmark.py and mrpan_mm.benchmark: the table's numbers against
independent computations; naive SAM == SDPA SAM; the commands of
docs/benchmarks.md at reduced sizes."""
import importlib.util
import json
import os
import re
import shlex

import pytest
import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope
from mmseg.registry import MODELS

from mrpan_mm.benchmark import (NaiveSpatialAttention, parse_spec, runner,
                                sam_flops, worker)
from mrpan_mm.benchmark.measure import Case, build_sam, count_flops
from mrpan_mm.benchmark.models import spec_config
from mrpan_mm.benchmark.runner import MODEL_COLUMNS, model_table
from mrpan_mm.models.necks.maca_attention import SpatialAttentionModule
from small_paper_model import SMALL_ENCODER, small_paper_model_args

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEMO_CONFIG = os.path.join(ROOT, 'configs', 'mrpan_demo_cpu.py')


def _load_tool():
    spec = importlib.util.spec_from_file_location(
        'benchmark_tool', os.path.join(ROOT, 'tools', 'benchmark.py'))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize('kv_stride,size', [(1, (7, 9)), (2, (9, 11)),
                                            (4, (6, 5))])
def test_naive_sam_matches_sdpa(kv_stride, size):
    torch.manual_seed(0)
    efficient = SpatialAttentionModule(16, kv_stride=kv_stride)
    with torch.no_grad():
        efficient.gamma.fill_(0.7)
    naive = NaiveSpatialAttention.from_efficient(efficient)
    x = torch.randn(2, 16, *size, requires_grad=True)
    x2 = x.detach().clone().requires_grad_()
    out, ref = efficient(x), naive(x2)
    torch.testing.assert_close(out, ref, rtol=1e-5, atol=1e-5)
    out.square().sum().backward()
    ref.square().sum().backward()
    torch.testing.assert_close(x.grad, x2.grad, rtol=1e-4, atol=1e-5)
    for (name, p), q in zip(efficient.named_parameters(), naive.parameters()):
        torch.testing.assert_close(p.grad, q.grad, rtol=1e-4, atol=1e-5,
                                   msg=name)


def test_sdpa_flops_are_counted():
    sam = build_sam(16, 1, naive=False).eval()
    x = torch.randn(1, 16, 6, 8)
    flops = count_flops(lambda: sam(x))
    # The attention (padded to C) dominates; formula and counter agree.
    assert flops['sdpa'] == 2 * 48 * 48 * (16 + 16)
    assert flops['total'] == pytest.approx(
        sam_flops(1, 16, 2, 6, 8, 1), rel=0.05)


def table_rows(text):
    """The rows of the model table in ``text`` as dicts column -> cell."""
    lines = [line for line in text.splitlines() if line.startswith('| ')]
    columns = [c.strip() for c in lines[0].strip('|').split('|')]
    assert columns == MODEL_COLUMNS
    return [
        dict(zip(columns, (c.strip() for c in line.strip('|').split('|'))))
        for line in lines[1:]
    ]


@pytest.mark.parametrize('cin,cout,k,stride,groups,size', [
    (3, 8, 3, 1, 1, (10, 12)),
    (6, 4, 5, 2, 2, (11, 9)),
    (8, 8, 3, 1, 8, (7, 7)),
])
def test_conv_flops_match_formula(cin, cout, k, stride, groups, size):
    conv = torch.nn.Conv2d(cin, cout, k, stride=stride, padding=k // 2,
                           groups=groups, bias=False)
    x = torch.randn(1, cin, *size)
    h, w = conv(x).shape[-2:]
    # One multiply-add (2 FLOPs) per weight of a group per output pixel.
    expected = 2 * cin * cout * k * k * h * w // groups
    assert count_flops(lambda: conv(x)) == dict(total=expected, sdpa=0)


def test_model_table_parameters_ratios_and_variants():
    tool = _load_tool()
    args = tool.parse_args([
        DEMO_CONFIG, '--shape', '32', '40', '--variants', 'fp32',
        'channels_last', '--repeat', '1', '--warmup', '0', '--no-memory'
    ])
    rows = table_rows(model_table(args, (32, 40)))
    assert [row['variant'] for row in rows] == ['fp32', 'channels_last']
    assert rows[0]['x first'] == rows[0]['x plain'] == '1.00'
    # Parameters of the model built from the config on its own.
    init_default_scope('mmseg')
    cfg = Config.fromfile(DEMO_CONFIG)
    cfg.model.backbone.init_cfg = None
    expected = sum(p.numel() for p in MODELS.build(cfg.model).parameters())
    for row in rows:
        assert float(row['params M']) == pytest.approx(expected / 1e6,
                                                       abs=0.05)
    # FLOPs are counted once per config, on the fp32 row.
    assert float(rows[0]['GFLOPs']) > 0
    assert rows[1]['GFLOPs'] == '-'


def test_train_step_at_batch_one_names_the_remedy():
    """The demo's deepest level is 1x1 at its 36x48 input: training-mode
    BatchNorm cannot normalise one value per channel."""
    case = Case(spec=DEMO_CONFIG, shape=(32, 40), batch=1).build(train=True)
    with pytest.raises(ValueError, match='at batch 1 and 32x40.*--batch 2'):
        case.train_step()


def test_benchmarked_shape_is_the_network_input():
    """Catches a benchmark that times a paper config at its 228x304 crop
    whatever ``--shape`` says (its preprocessor pads every input to
    ``size``)."""
    paper = os.path.join(ROOT, 'configs', 'mrpan_nyu.py')
    assert spec_config(paper).model.data_preprocessor.size == (228, 304)
    cfg = spec_config(paper, shape=(32, 40))
    assert tuple(cfg.model.data_preprocessor.size) == (32, 40)


def test_parse_spec():
    path, over = parse_spec('a.py:baseline:model.neck.sam_kv_stride=(4,1)')
    assert path == 'a.py'
    assert over['model.neck.use_sam'] is False
    assert over['model.neck.sam_kv_stride'] == (4, 1)
    with pytest.raises(ValueError):
        parse_spec('a.py:nonsense')


@pytest.mark.slow  # builds and times one model, two memory subprocesses
def test_benchmark_tool_measures_memory_in_fresh_processes(capsys):
    """The memory columns come from the worker subprocesses: numbers, not
    the error text of a worker that failed (the docs' commands below run
    their measurements in-process)."""
    tool = _load_tool()
    # batch 2: the demo's deepest level is 1x1 at its input size, and
    # training-mode BatchNorm needs more than one value per channel
    tool.main([DEMO_CONFIG, '--shape', '32', '40', '--batch', '2', '--train',
               '--variants', 'fp32', '--repeat', '1', '--warmup', '0',
               '--memory-steps', '1', '--no-flops'])
    row, = table_rows(capsys.readouterr().out)
    assert float(row['infer mem MiB']) >= 0
    assert float(row['train mem MiB']) > 0
    assert float(row['train peak RSS MiB']) > 0


def documented_commands():
    """``python tools/benchmark.py ...`` command lines of the code blocks of
    docs/benchmarks.md (backslash continuations joined; the usage line,
    with its ``[...]`` placeholders, left out), as argument lists."""
    with open(os.path.join(ROOT, 'docs', 'benchmarks.md')) as f:
        text = f.read()
    commands = []
    for block in re.findall(r'```[^\n]*\n(.*?)```', text, re.S):
        for line in block.replace('\\\n', ' ').splitlines():
            if line.startswith(TOOL_COMMAND) and '[' not in line:
                commands.append(shlex.split(line)[len(TOOL_COMMAND.split()):])
    return commands


TOOL_COMMAND = 'python tools/benchmark.py'
# What the documented commands get appended, for a test's time: a tiny
# input, batch 2 (the smallest that trains BatchNorm at 32x40), one timed
# run each, the paper configs' design at test size (small_paper_model.py).
SIZE_OPTIONS = [
    '--shape', '32', '40', '--batch', '2', '--repeat', '1', '--warmup', '0',
    '--time-budget', '0', '--sweep-shapes', '32x40', '--sam-sizes', '6x8',
    '--sam-channels', '16', '--sam-fit-shape', '32', '40',
    '--sam-fit-batch', '1', '--memory-steps', '1', '--encoder',
    SMALL_ENCODER, '--cfg-options', *small_paper_model_args()
]


def test_docs_give_benchmark_commands():
    commands = documented_commands()
    assert len(commands) >= 10, commands
    assert all(command for command in commands)


@pytest.mark.slow  # builds 25 small models
@pytest.mark.parametrize('argv', documented_commands(),
                         ids=lambda argv: ' '.join(argv)[:60])
def test_documented_command_prints_its_tables(argv, capsys, monkeypatch):
    """Every command docs/benchmarks.md gives for its figures, as written
    and with :data:`SIZE_OPTIONS` appended, prints its header, every
    table it asks for (a model table: each config in each variant, in
    order; a SAM sweep; a SAM fit check) and its closing line.

    Catches a documented command that the tool no longer accepts (a
    renamed option, preset or config key) or that fails on the way to its
    table.  Each memory measurement runs the worker's code in this process
    (a fresh process per measurement would cost an interpreter start, 19
    of them here; the test above runs real ones).  ``--threads`` sets
    torch's and OpenMP's thread counts: restored afterwards."""
    tool = _load_tool()
    monkeypatch.chdir(ROOT)  # the commands name configs from the clone
    monkeypatch.setattr(
        runner, 'run_worker',
        lambda task, timeout: worker.run(json.loads(json.dumps(task))))
    monkeypatch.setenv('OMP_NUM_THREADS', os.environ.get('OMP_NUM_THREADS',
                                                         '1'))
    threads = torch.get_num_threads()
    try:
        tool.main(argv + SIZE_OPTIONS)
    finally:
        torch.set_num_threads(threads)
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert lines[0].startswith('command: python tools/benchmark.py ')
    assert 'native bf16: ' in lines[1] and 'load average' in lines[1]
    assert 'load average now' in lines[-1]
    args = tool.parse_args(argv + SIZE_OPTIONS)
    if not args.sam_only:
        rows = table_rows(out)
        assert [(row['config'], row['variant']) for row in rows] == [
            (config, variant) for config in args.configs
            for variant in runner.variant_names(args)
        ]
        assert rows[0]['x first'] == '1.00'
        assert all(float(row['params M']) > 0 for row in rows)
        if args.train:
            assert all(float(row['train s']) > 0 for row in rows)
        if not args.no_memory:
            assert all(float(row['infer mem MiB']) >= 0 for row in rows)
    if args.sweep:
        assert '### SAM only' in out and '| SDPA | infer | 6x8 |' in out
    if args.sweep and not args.no_sam_fit:
        assert '### SAM fit check' in out and 'sum of peak growths' in out
