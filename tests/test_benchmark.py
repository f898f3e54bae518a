"""tools/benchmark.py runs and prints its table; naive SAM == SDPA SAM."""
import importlib.util
import os

import pytest
import torch

from mrpan_mm.benchmark import NaiveSpatialAttention, parse_spec, sam_flops
from mrpan_mm.benchmark.measure import build_sam, count_flops
from mrpan_mm.models.necks.attention import SpatialAttention

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


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
    efficient = SpatialAttention(16, kv_stride=kv_stride)
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


def test_parse_spec():
    path, over = parse_spec('a.py:baseline:model.neck.sam_kv_stride=(4,1)')
    assert path == 'a.py'
    assert over['model.neck.use_sam'] is False
    assert over['model.neck.sam_kv_stride'] == (4, 1)
    with pytest.raises(ValueError):
        parse_spec('a.py:nonsense')


@pytest.mark.slow  # builds and times two models
def test_benchmark_tool_prints_table(capsys):
    tool = _load_tool()
    cfg = os.path.join(ROOT, 'configs', 'mrpan_demo_cpu.py')
    tool.main([cfg, cfg + ':baseline', '--shape', '32', '40', '--train',
               '--repeat', '1', '--warmup', '0', '--threads', '1'])
    out = capsys.readouterr().out
    header = next(line for line in out.splitlines()
                  if line.startswith('| config'))
    columns = [c.strip() for c in header.strip('|').split('|')]
    assert columns == tool.MODEL_COLUMNS
    rows = [line for line in out.splitlines()
            if line.startswith('| ') and 'mrpan_demo_cpu' in line]
    assert len(rows) == 2
    for row in rows:
        cells = [c.strip() for c in row.strip('|').split('|')]
        values = dict(zip(columns, cells))
        for key in ('params M', 'GFLOPs', 'infer ms', 'train s',
                    'infer mem MiB', 'train mem MiB'):
            float(values[key])  # a number, not '-' or an error
    assert 'load average' in out
