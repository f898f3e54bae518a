"""Multi-seed ablation of MRPAN's parts on the CPU demo (issue #29).

Trains the demo config (``configs/mrpan_demo_cpu.py``) with MRPAN's parts
switched off, several seeds each, on the embedded procedural rooms, and
reports the mean and standard deviation over seeds of AbsRel, RMS, δ<1.25
and Hu et al.'s depth-edge F1 (``NYUDepthMetric(boundary_metrics=True)``):

    python tools/analysis/ablate_demo.py --seeds 0 1 2 --jobs 2 --threads 1

Each run writes ``<work-dir>/<variant>/seed<k>/result.json`` when it has
finished; a run whose file exists is skipped, so an interrupted ablation
resumes where it stopped. Outputs in ``<work-dir>``: ``summary.json``,
``table.md`` (printed too) and ``ablation.png`` (bars: mean, error bars:
one standard deviation over seeds).
"""
import argparse
import concurrent.futures as futures
import contextlib
import json
import multiprocessing
import os
import os.path as osp
import statistics
import time
from typing import Dict, List, Sequence, Tuple

import mrpan_mm  # noqa: F401  (registers components; must precede mmseg)

from mmengine.config import Config, DictAction
from tqdm import tqdm

# The variants, as `--cfg-options` strings on the demo config: the one place
# that names the switches of the neck (GAM, SAM) and head (refinement).
VARIANTS: Dict[str, List[str]] = {
    'baseline': [
        'model.neck.use_gam=False', 'model.neck.use_sam=False',
        'model.decode_head.refine=basic'
    ],
    '+GAM': ['model.neck.use_sam=False', 'model.decode_head.refine=basic'],
    '+SAM': ['model.neck.use_gam=False', 'model.decode_head.refine=basic'],
    '+MACA': ['model.decode_head.refine=basic'],  # the demo config
    '+MACA+RRM': ['model.decode_head.refine=rrm'],  # the paper's model
}
# Every run also scores the depth edges (Hu et al.'s F1 at three thresholds).
BOUNDARY_OPTIONS = [
    'val_evaluator.boundary_metrics=True',
    'test_evaluator.boundary_metrics=True'
]
# (result key, table / chart label, True if higher is better)
METRICS: List[Tuple[str, str, bool]] = [
    ('abs_rel', 'AbsRel', False),
    ('rmse', 'RMS (m)', False),
    ('d1', 'δ<1.25', True),
    ('edge_f1_0.25', 'edge F1 (t=0.25)', True),
    ('edge_f1_0.5', 'edge F1 (t=0.5)', True),
    ('edge_f1_1', 'edge F1 (t=1)', True),
]
RESULT_FILE = 'result.json'


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='Multi-seed ablation of GAM, SAM and the RRM on the '
        'CPU demo')
    parser.add_argument('--config', default='configs/mrpan_demo_cpu.py')
    parser.add_argument('--work-dir', default='work_dirs/ablate_demo')
    parser.add_argument('--data-root', default='data/demo_rooms',
                        help='rendered if missing, as tools/run_demo.py')
    parser.add_argument('--num-train', type=int, default=1200,
                        help='training views to render if missing')
    parser.add_argument('--num-test', type=int, default=80,
                        help='test views to render if missing')
    parser.add_argument('--variants', nargs='+', default=list(VARIANTS),
                        choices=list(VARIANTS))
    parser.add_argument('--seeds', nargs='+', type=int, default=[0, 1, 2])
    parser.add_argument('--jobs', type=int, default=1,
                        help='runs trained at the same time')
    parser.add_argument('--threads', type=int, default=None,
                        help='torch threads per run (default: CPUs / jobs)')
    parser.add_argument(
        '--cfg-options', nargs='+', action=DictAction, default={},
        help='override entries of the config in every run')
    return parser.parse_args(argv)


def options_dict(options: Sequence[str]) -> dict:
    """``['a.b=1', ...]`` parsed as ``--cfg-options`` parses it."""
    parser = argparse.ArgumentParser()
    parser.add_argument('--o', nargs='*', action=DictAction, default={})
    return parser.parse_args(['--o', *options]).o


def check_variant_keys(cfg: Config) -> None:
    """Refuse option keys the config does not have (e.g. after a rename):
    merging them would add unused entries and train the wrong model."""
    for name, options in VARIANTS.items():
        for key in options_dict(options):
            node = cfg
            for part in key.split('.'):
                if not isinstance(node, (Config, dict)) or part not in node:
                    raise KeyError(
                        f'ablate_demo.py: variant {name!r} sets {key!r}, '
                        f'which {cfg.filename} does not have; update '
                        'VARIANTS in tools/analysis/ablate_demo.py')
                node = node[part]


def run_dir(work_dir: str, variant: str, seed: int) -> str:
    return osp.join(work_dir, variant, f'seed{seed}')


def pending_runs(work_dir: str, variants: Sequence[str],
                 seeds: Sequence[int]) -> List[Tuple[str, int]]:
    """The (variant, seed) runs without a result file, seed by seed (an
    ablation stopped early has as many seeds of every variant, +-1)."""
    return [(v, s) for s in seeds for v in variants if not osp.isfile(
        osp.join(run_dir(work_dir, v, s), RESULT_FILE))]


def load_results(work_dir: str, variants: Sequence[str],
                 seeds: Sequence[int]) -> List[dict]:
    """The finished runs' result records."""
    results = []
    for variant in variants:
        for seed in seeds:
            path = osp.join(run_dir(work_dir, variant, seed), RESULT_FILE)
            if osp.isfile(path):
                with open(path) as f:
                    results.append(json.load(f))
    return results


def train_one(config: str, data_root: str, out_dir: str, variant: str,
              seed: int, threads: int, common_options: dict) -> dict:
    """Train and evaluate one variant with one seed; write its result.

    The run's log goes to ``<out_dir>/run.log``; the result file is written
    last (through a temporary name), so it exists only for finished runs.
    """
    import torch
    from mmengine.runner import Runner

    from mrpan_mm.engine import load_config

    torch.set_num_threads(threads)
    os.makedirs(out_dir, exist_ok=True)
    options = options_dict(VARIANTS[variant] + BOUNDARY_OPTIONS +
                           [f'randomness.seed={seed}'])
    options.update(common_options)
    cfg = load_config(config, options, out_dir, 'none')
    for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        cfg[loader].dataset.data_root = data_root
    start = time.perf_counter()
    with open(osp.join(out_dir, 'run.log'), 'w') as log, \
            contextlib.redirect_stdout(log), contextlib.redirect_stderr(log):
        runner = Runner.from_cfg(cfg)
        runner.train()
    scalars = runner.message_hub.log_scalars
    result = dict(
        variant=variant,
        seed=seed,
        options=VARIANTS[variant],
        metrics={
            key[len('val/'):]: float(buffer.current())
            for key, buffer in scalars.items()
            if key.startswith('val/') and 'time' not in key
        },
        iterations=runner.iter,
        seconds=round(time.perf_counter() - start, 1),
        threads=threads)
    path = osp.join(out_dir, RESULT_FILE)
    with open(path + '.tmp', 'w') as f:
        json.dump(result, f, indent=2)
    os.replace(path + '.tmp', path)
    return result


def aggregate(results: Sequence[dict],
              variants: Sequence[str]) -> Dict[str, dict]:
    """Mean, standard deviation (over seeds, n - 1 in the denominator; 0
    for one seed) and run count per variant and metric."""
    summary = {}
    for variant in variants:
        runs = [r for r in results if r['variant'] == variant]
        if not runs:
            continue
        summary[variant] = {'seeds': sorted(r['seed'] for r in runs)}
        for key, _, _ in METRICS:
            values = [r['metrics'][key] for r in runs if key in r['metrics']]
            if values:
                summary[variant][key] = dict(
                    mean=statistics.fmean(values),
                    std=statistics.stdev(values) if len(values) > 1 else 0.0,
                    n=len(values))
    return summary


def format_table(summary: Dict[str, dict]) -> str:
    """A Markdown table: one row per variant, ``mean ± std`` per metric."""
    header = ['variant', 'seeds'] + [label for _, label, _ in METRICS]
    lines = [
        '| ' + ' | '.join(header) + ' |',
        '|' + '---|' * len(header)
    ]
    for variant, row in summary.items():
        cells = [variant, str(len(row['seeds']))]
        for key, _, _ in METRICS:
            cells.append(f"{row[key]['mean']:.4f} ± {row[key]['std']:.4f}"
                         if key in row else '–')
        lines.append('| ' + ' | '.join(cells) + ' |')
    return '\n'.join(lines)


def plot_summary(summary: Dict[str, dict], out: str) -> None:
    """Bar chart per metric: the variants' means, error bars one std."""
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt

    variants = list(summary)
    fig, axes = plt.subplots(1, len(METRICS), figsize=(3.2 * len(METRICS),
                                                       3.6))
    for ax, (key, label, higher) in zip(axes, METRICS):
        means = [summary[v][key]['mean'] if key in summary[v] else 0.0
                 for v in variants]
        stds = [summary[v][key]['std'] if key in summary[v] else 0.0
                for v in variants]
        ax.bar(range(len(variants)), means, yerr=stds, capsize=4,
               color='tab:blue' if higher else 'tab:orange')
        ax.set_xticks(range(len(variants)), variants, rotation=40,
                      ha='right')
        ax.set_title(label + (' (higher better)' if higher else
                              ' (lower better)'), fontsize=9)
        low = min(m - s for m, s in zip(means, stds))
        high = max(m + s for m, s in zip(means, stds))
        margin = (high - low) * 0.3 or abs(high) * 0.05 or 1.0
        ax.set_ylim(max(0.0, low - margin), high + margin)
    seeds = sorted({len(row['seeds']) for row in summary.values()})
    fig.suptitle('MRPAN parts on the CPU demo: mean ± std over '
                 f"{'/'.join(map(str, seeds))} seeds")
    fig.tight_layout()
    fig.savefig(out, dpi=100)
    plt.close(fig)


def write_outputs(work_dir: str, summary: Dict[str, dict]) -> str:
    """``summary.json``, ``table.md`` and ``ablation.png`` in ``work_dir``;
    returns the table."""
    table = format_table(summary)
    with open(osp.join(work_dir, 'summary.json'), 'w') as f:
        json.dump(summary, f, indent=2)
    with open(osp.join(work_dir, 'table.md'), 'w') as f:
        f.write(table + '\n')
    plot_summary(summary, osp.join(work_dir, 'ablation.png'))
    return table


def main(argv=None):
    args = parse_args(argv)
    from mrpan_mm.demo import make_demo_dataset
    from mrpan_mm.engine import load_config

    cfg = load_config(args.config, args.cfg_options, args.work_dir, 'none')
    check_variant_keys(cfg)
    make_demo_dataset(args.data_root, args.num_train, args.num_test,
                      train_size=cfg.get('crop_size'),
                      workers=os.cpu_count())
    threads = args.threads or max(1, (os.cpu_count() or 1) // args.jobs)
    todo = pending_runs(args.work_dir, args.variants, args.seeds)
    done = len(args.variants) * len(args.seeds) - len(todo)
    print(f'{done} runs finished before, {len(todo)} to train '
          f'({args.jobs} at a time, {threads} thread(s) each)')
    # spawn: each run starts from a clean interpreter (no forked threads)
    with futures.ProcessPoolExecutor(
            args.jobs, mp_context=multiprocessing.get_context('spawn')) as ex:
        jobs = [
            ex.submit(train_one, args.config, args.data_root,
                      run_dir(args.work_dir, variant, seed), variant, seed,
                      threads, args.cfg_options) for variant, seed in todo
        ]
        with tqdm(total=len(todo), desc='ablation runs', unit='run') as bar:
            for job in futures.as_completed(jobs):
                result = job.result()
                bar.set_postfix_str(
                    f"{result['variant']} seed {result['seed']}: AbsRel "
                    f"{result['metrics']['abs_rel']:.4f}")
                bar.update()
    summary = aggregate(
        load_results(args.work_dir, args.variants, args.seeds),
        args.variants)
    table = write_outputs(args.work_dir, summary)
    print(table)
    print(f"chart: {osp.join(args.work_dir, 'ablation.png')}")


if __name__ == '__main__':
    main()
