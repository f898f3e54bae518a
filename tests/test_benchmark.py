"""tools/benchmark.py and mrpan_mm.benchmark: the table's numbers against
independent computations; naive SAM == SDPA SAM."""
import importlib.util
import os

import pytest
import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope
from mmseg.registry import MODELS

from mrpan_mm.benchmark import NaiveSpatialAttention, parse_spec, sam_flops
from mrpan_mm.benchmark.measure import Case, build_sam, count_flops
from mrpan_mm.benchmark.runner import MODEL_COLUMNS, model_table
from mrpan_mm.models.necks.maca_attention import SpatialAttentionModule

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


def test_parse_spec():
    path, over = parse_spec('a.py:baseline:model.neck.sam_kv_stride=(4,1)')
    assert path == 'a.py'
    assert over['model.neck.use_sam'] is False
    assert over['model.neck.sam_kv_stride'] == (4, 1)
    with pytest.raises(ValueError):
        parse_spec('a.py:nonsense')


@pytest.mark.slow  # builds and times two models, measures memory
def test_benchmark_tool_prints_table(capsys):
    tool = _load_tool()
    # batch 2: the demo's deepest level is 1x1 at its input size, and
    # training-mode BatchNorm needs more than one value per channel
    tool.main([DEMO_CONFIG, '--shape', '32', '40', '--batch', '2', '--train',
               '--variants', 'channels_last', 'fp32', '--repeat', '1',
               '--warmup', '0', '--threads', '1'])
    out = capsys.readouterr().out
    header = out.splitlines()[:2]
    assert header[0].startswith('command: python tools/benchmark.py ')
    assert 'native bf16: ' in header[1] and 'load average' in header[1]
    rows = table_rows(out)
    # The variants asked for, in the order asked.
    assert [(row['config'], row['variant']) for row in rows] == [
        (DEMO_CONFIG, 'channels_last'), (DEMO_CONFIG, 'fp32')]
    assert rows[0]['x first'] == rows[0]['train x first'] == '1.00'
    assert rows[1]['x plain'] == rows[1]['train x plain'] == '1.00'
    assert rows[0]['params M'] == rows[1]['params M']
    for row in rows:  # numbers, not the error of a failed subprocess
        assert float(row['infer mem MiB']) >= 0
        assert float(row['train mem MiB']) > 0
    assert 'load average now' in out.splitlines()[-1]
