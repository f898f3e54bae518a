"""tools/analysis/ablate_demo.py: resume, aggregation, table and chart on
fake run results; its switches exist in the demo config; end to end on a
tiny rendered dataset (slow)."""
import json

import numpy as np
import pytest
from mmengine.config import Config

from tools_runner import REPO, load_tool, run_tool

ablate = load_tool('analysis/ablate_demo.py')
DEMO_CONFIG = f'{REPO}/configs/mrpan_demo_cpu.py'


def fake_result(work_dir, variant, seed, abs_rel):
    """A result file as a finished run writes it."""
    out = work_dir / variant / f'seed{seed}'
    out.mkdir(parents=True)
    metrics = {
        'abs_rel': abs_rel, 'rmse': 4 * abs_rel, 'd1': 1 - abs_rel,
        'edge_f1_0.25': 0.5 + abs_rel, 'edge_f1_0.5': 0.3 + abs_rel,
        'edge_f1_1': 0.1 + abs_rel
    }
    (out / ablate.RESULT_FILE).write_text(
        json.dumps(dict(variant=variant, seed=seed, metrics=metrics)))


def test_resume_skips_finished_runs_seed_by_seed(tmp_path):
    fake_result(tmp_path, 'baseline', 0, 0.12)
    fake_result(tmp_path, '+MACA', 1, 0.11)
    (tmp_path / '+MACA' / 'seed0').mkdir(parents=True)  # started, unfinished
    assert ablate.pending_runs(str(tmp_path), ['baseline', '+MACA'],
                               [0, 1, 2]) == [('+MACA', 0), ('baseline', 1),
                                              ('baseline', 2), ('+MACA', 2)]


def test_aggregate_mean_and_sample_std(tmp_path):
    values = {'baseline': [0.12, 0.10, 0.13], '+MACA+RRM': [0.09, 0.095]}
    for variant, abs_rels in values.items():
        for seed, value in enumerate(abs_rels):
            fake_result(tmp_path, variant, seed, value)
    variants = ['baseline', '+GAM', '+MACA+RRM']
    summary = ablate.aggregate(
        ablate.load_results(str(tmp_path), variants, [0, 1, 2]), variants)
    assert list(summary) == ['baseline', '+MACA+RRM']  # +GAM: no runs
    for variant, abs_rels in values.items():
        row = summary[variant]
        assert row['seeds'] == list(range(len(abs_rels)))
        assert row['abs_rel']['n'] == len(abs_rels)
        assert row['abs_rel']['mean'] == pytest.approx(np.mean(abs_rels))
        assert row['abs_rel']['std'] == pytest.approx(
            np.std(abs_rels, ddof=1))
        assert row['rmse']['mean'] == pytest.approx(4 * np.mean(abs_rels))
        assert row['d1']['std'] == pytest.approx(np.std(abs_rels, ddof=1))


def test_one_seed_has_zero_std_and_outputs_are_written(tmp_path):
    fake_result(tmp_path, 'baseline', 0, 0.12)
    fake_result(tmp_path, '+SAM', 0, 0.10)
    variants = ['baseline', '+SAM']
    summary = ablate.aggregate(
        ablate.load_results(str(tmp_path), variants, [0]), variants)
    assert summary['+SAM']['abs_rel']['std'] == 0.0
    table = ablate.write_outputs(str(tmp_path), summary)
    lines = table.splitlines()
    assert lines[0].startswith('| variant | seeds | AbsRel |')
    assert lines[2].startswith('| baseline | 1 | 0.1200 ± 0.0000 |')
    assert (tmp_path / 'table.md').read_text() == table + '\n'
    assert json.loads((tmp_path / 'summary.json').read_text()) == summary
    png = (tmp_path / 'ablation.png').read_bytes()
    assert png[:8] == b'\x89PNG\r\n\x1a\n'


def test_variant_switches_exist_in_the_demo_config(monkeypatch):
    cfg = Config.fromfile(DEMO_CONFIG)
    ablate.check_variant_keys(cfg)  # the shipped switches: no error
    for options in ablate.VARIANTS.values():
        merged = Config.fromfile(DEMO_CONFIG)
        merged.merge_from_dict(ablate.options_dict(options))
        assert merged.model.neck.keys() == cfg.model.neck.keys()
    monkeypatch.setitem(ablate.VARIANTS, 'renamed',
                        ['model.neck.with_gam=False'])
    with pytest.raises(KeyError, match="'model.neck.with_gam'"):
        ablate.check_variant_keys(cfg)


@pytest.mark.slow  # trains 1 run of 1 step (batch 2) in a spawned process
def test_tool_trains_resumes_and_reports(tmp_path):
    """One real run through the tool: the variant's options reach the
    config it trains (the paper's RRM, which the demo config lacks), the
    result is written, and a second call trains nothing.  Run order,
    aggregation and resume over many runs: the tests above."""
    work = tmp_path / 'work'
    args = [
        '--data-root', str(tmp_path / 'rooms'), '--num-train', '2',
        '--num-test', '1', '--work-dir', str(work), '--variants',
        '+MACA+RRM', '--seeds', '3', '--jobs', '1', '--threads', '1',
        # the smallest budget: one step of batch 2, one test image
        '--cfg-options', 'train_cfg.max_epochs=1', 'train_cfg.val_interval=1',
        'train_dataloader.batch_size=2', 'val_dataloader.batch_size=1',
        'test_dataloader.batch_size=1'
    ]
    proc = run_tool('analysis/ablate_demo.py', args, timeout=600)
    assert '0 runs finished before, 1 to train' in proc.stdout
    run_dir = work / '+MACA+RRM' / 'seed3'
    result = json.loads((run_dir / 'result.json').read_text())
    assert result['iterations'] == 1
    assert result['options'] == ablate.VARIANTS['+MACA+RRM']
    assert {'abs_rel', 'rmse', 'd1', 'edge_f1_0.5'} <= set(result['metrics'])
    config = (run_dir / 'mrpan_demo_cpu.py').read_text()
    assert 'seed=3' in config and "refine='rrm'" in config
    assert (work / 'ablation.png').is_file()
    again = run_tool('analysis/ablate_demo.py', args, timeout=300)
    assert '1 runs finished before, 0 to train' in again.stdout
    assert '| +MACA+RRM | 1 |' in again.stdout
