"""The CPU demo (tools/run_demo.py): its computed closing claim, and end to
end on a tiny rendered dataset: data generation, one training step of
configs/mrpan_demo_cpu.py (bf16, channels-last, fused Adam), flip-TTA
evaluation, panels and the summary."""
import glob
import json
import os.path as osp

import pytest

from tools_runner import load_tool, run_tool


@pytest.mark.parametrize('model_abs_rel, model_d1, ratio', [
    (0.1075, 0.874, '2.99x'),  # 0.3214 / 0.1075 = 2.9898
    (0.0950, 0.891, '3.38x'),  # 0.3214 / 0.0950 = 3.3832
])
def test_improvement_claim_is_computed(model_abs_rel, model_d1, ratio):
    """The closing sentence divides the two AbsRel values of the run."""
    claim = load_tool('run_demo.py').improvement_claim(
        dict(abs_rel=model_abs_rel, d1=model_d1),
        dict(abs_rel=0.3214, d1=0.441))
    assert claim.startswith(f'AbsRel {ratio} lower')
    assert f'(0.3214 / {model_abs_rel:.4f})' in claim
    assert f'δ<1.25 {model_d1:.3f} (training-mean depth: 0.441)' in claim


@pytest.mark.slow  # end-to-end: a tool subprocess
def test_run_demo_trains_evaluates_and_writes_summary(tmp_path):
    """``make demo``'s command, in a new interpreter as a user starts it."""
    data, work = tmp_path / 'rooms', tmp_path / 'work'
    proc = run_tool('run_demo.py', [
        '--data-root', str(data), '--work-dir', str(work), '--num-train',
        '16', '--num-test', '4', '--cfg-options', 'train_cfg.max_epochs=1',
        'train_cfg.val_interval=1', 'default_hooks.logger.interval=1',
        'default_hooks.visualization.interval=1'
    ], timeout=600, fresh=True)
    with open(data / 'meta.json') as f:
        assert json.load(f)['parameters']['rig'] == 'tripod'
    with open(work / 'demo_summary.json') as f:
        summary = json.load(f)
    metrics = summary['metrics']
    assert set(metrics) == {'abs_rel', 'rmse', 'log10', 'd1', 'd2', 'd3'}
    assert all(v == v and v >= 0 for v in metrics.values())  # not NaN
    assert summary['mean_depth_baseline']['abs_rel'] > 0
    assert summary['panels'] and all(osp.isfile(p) for p in summary['panels'])
    assert 'MRPAN CPU demo finished' in proc.stdout
    ratio = summary['abs_rel_improvement']
    assert ratio == pytest.approx(
        summary['mean_depth_baseline']['abs_rel'] / metrics['abs_rel'])
    assert f'AbsRel {ratio:.2f}x lower' in proc.stdout
    log = glob.glob(str(work / '*' / '*.log'))[0]
    with open(log) as f:
        assert 'ChannelsLastHook' in f.read()
