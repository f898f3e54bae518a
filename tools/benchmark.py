"""Benchmark MRPAN configs: parameters, FLOPs, latency, training step, memory.

Usage::

    python tools/benchmark.py CONFIG [CONFIG ...] [--shape H W] [--batch B]
        [--train] [--amp] [--channels-last] [--repeat N] [--sweep]

``CONFIG`` is a config path optionally followed by ``:``-separated overrides
(``key=value`` or a preset: baseline, maca, full, nosam, nogam, sarpn_order, lowres_order),
e.g. ``configs/mrpan_demo_cpu.py:baseline``.  ``--encoder ARCH`` swaps the
SENet arch of every config (e.g. ``seresnext26_32x4d``) and fixes the neck's
input channels.  All cases of one table are timed interleaved (A, B, A, B
...) after warm-up; the median is reported with its ratio to the first row
(``x first``) and to the same config in fp32/contiguous (``x plain``).
``--amp`` and ``--channels-last`` add those variants next to the plain one.

``--sweep`` repeats the table at several input sizes and adds the SAM-only
sweep (efficient SDPA SAM vs the naive softmax(Q^T K) reference: peak
memory and time vs pixels) and the check of the first config's SAM levels
at ``--sam-fit-shape`` / ``--sam-fit-batch`` in training.

FLOPs are counted by ``torch.utils.flop_counter.FlopCounterMode`` on one
batch-1 inference; its stock table misses the CPU fused attention kernel, so
the SDPA FLOPs are added by a formula and shown separately (``SDPA GF``).
Peak memory: one fresh subprocess per measurement (CPU: growth of the peak
RSS over the RSS after building the model and batch; CUDA:
``max_memory_allocated``).
"""
import argparse
import os
import platform
import shlex
import sys
import time
from typing import Any, Dict, List

import mrpan_mm  # noqa: F401  (mmcv-lite shim before any mmseg import)

import torch
from mmengine.config import DictAction

from mrpan_mm.benchmark import (Case, count_flops, count_parameters,
                                markdown_table, run_worker, sam_flops,
                                sam_level_shapes, time_interleaved)
from mrpan_mm.benchmark.measure import build_sam, device_name, median, sam_step
from mrpan_mm.utils import cpu_has_native_bf16

VARIANTS = ('fp32', 'bf16', 'channels_last', 'bf16+channels_last')

MODEL_COLUMNS = [
    'config', 'variant', 'input', 'params M', 'GFLOPs', 'SDPA GF',
    'infer ms', 'x first', 'x plain', 'train s', 'train x first',
    'train x plain', 'infer mem MiB', 'train mem MiB', 'train peak RSS MiB'
]
SAM_COLUMNS = [
    'impl', 'mode', 'HxW', 'pixels', 'kv pixels', 'GFLOPs', 'ms',
    'mem MiB', 'mem x prev size', 'pixels x prev'
]


def parse_args(argv=None):
    p = argparse.ArgumentParser(
        description=__doc__.split('\n\n')[0],
        formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('configs', nargs='*', help='CONFIG[:OVERRIDE...]')
    p.add_argument('--shape', nargs=2, type=int, default=[228, 304],
                   metavar=('H', 'W'))
    p.add_argument('--batch', type=int, default=1)
    p.add_argument('--train', action='store_true',
                   help='also time a training step (forward + loss + '
                   'backward + optimizer step)')
    p.add_argument('--amp', action='store_true',
                   help='add a bf16-autocast variant of every config')
    p.add_argument('--channels-last', action='store_true',
                   help='add a channels_last variant of every config')
    p.add_argument('--variants', nargs='+', choices=VARIANTS,
                   help='exactly these variants of every config (instead '
                   'of fp32 plus what --amp / --channels-last add)')
    p.add_argument('--repeat', type=int, default=5)
    p.add_argument('--threads', type=int, default=None,
                   help='torch intra-op threads (also for the memory '
                   'subprocesses); default: torch\'s')
    p.add_argument('--warmup', type=int, default=1)
    p.add_argument('--time-budget', type=float, default=240,
                   help='seconds per timing block; stops repeating (after '
                   'one full round) once exceeded')
    p.add_argument('--encoder', default=None,
                   help='SENet arch replacing every config\'s encoder')
    p.add_argument('--cfg-options', nargs='+', action=DictAction,
                   help='overrides applied to every config')
    p.add_argument('--no-memory', action='store_true')
    p.add_argument('--no-flops', action='store_true')
    p.add_argument('--memory-steps', type=int, default=2,
                   help='training steps per memory measurement (the 2nd '
                   'step holds the optimizer state)')
    p.add_argument('--memory-timeout', type=float, default=600)
    p.add_argument('--sweep', action='store_true')
    p.add_argument('--sweep-shapes', nargs='+', default=None,
                   help='HxW sizes of the sweep (default 114x152 228x304 '
                   '480x640)')
    p.add_argument('--sam-only', action='store_true',
                   help='skip the model tables (SAM sweep / fit check only)')
    p.add_argument('--sam-channels', type=int, default=64)
    p.add_argument('--sam-kv-stride', type=int, default=1)
    p.add_argument('--sam-sizes', nargs='+',
                   default=['29x38', '57x76', '114x152'],
                   help='HxW of the SAM-only sweep')
    p.add_argument('--naive-max-pixels', type=int, default=20000,
                   help='skip the naive SAM above this many query pixels')
    p.add_argument('--sam-fit-shape', nargs=2, type=int, default=[480, 640])
    p.add_argument('--sam-fit-batch', type=int, default=4)
    p.add_argument('--no-sam-fit', action='store_true')
    p.add_argument('--sam-fit-budget-gib', type=float, default=24.0)
    return p.parse_args(argv)


def _shape(text: str):
    h, w = text.lower().split('x')
    return int(h), int(w)


def machine_header(argv) -> str:
    cpu = platform.processor() or platform.machine()
    try:
        with open('/proc/cpuinfo') as f:
            for line in f:
                if line.startswith('model name'):
                    cpu = line.split(':', 1)[1].strip()
                    break
    except OSError:
        pass
    try:
        with open('/proc/meminfo') as f:
            mem_gib = int(f.readline().split()[1]) / 1024**2
    except OSError:
        mem_gib = float('nan')
    load = ' '.join(f'{x:.2f}' for x in os.getloadavg())
    gpu = torch.cuda.get_device_name(0) if torch.cuda.is_available() else \
        'none'
    return (f'command: python tools/benchmark.py {shlex.join(argv)}\n'
            f'machine: {cpu}, {os.cpu_count()} CPUs, {mem_gib:.1f} GiB RAM, '
            f'GPU: {gpu}; native bf16: {cpu_has_native_bf16()}; '
            f'torch {torch.__version__}, '
            f'{torch.get_num_threads()} threads; load average {load}')


def make_cases(args, shape) -> List[Case]:
    names = args.variants or [
        name for name, on in zip(VARIANTS, (
            True, args.amp, args.channels_last, args.amp and
            args.channels_last)) if on]
    variants = [('bf16' in name, 'channels_last' in name) for name in names]
    cases = []
    for spec in args.configs:
        for amp, cl in variants:
            name = '+'.join(
                [n for n, on in (('bf16', amp), ('channels_last', cl)) if on]
            ) or 'fp32'
            cases.append(
                Case(label=spec, spec=spec, shape=shape, batch=args.batch,
                     amp=amp, channels_last=cl, encoder=args.encoder,
                     cfg_options=args.cfg_options))
            cases[-1].variant = name
    return cases


def _ratios(rows, key, first_key, plain_key):
    first = rows[0].get(key)
    plain: Dict[str, Any] = {}
    for row in rows:
        if row['variant'] == 'fp32':
            plain[row['config']] = row.get(key)
    for row in rows:
        value = row.get(key)
        if value is None:
            continue
        if first:
            row[first_key] = value / first
        if plain.get(row['config']):
            row[plain_key] = value / plain[row['config']]


def model_table(args, shape) -> str:
    cases = make_cases(args, shape)
    rows: List[Dict[str, Any]] = []
    device = device_name()
    for case in cases:
        case.build(train=args.train)
        row = dict(config=case.spec, variant=case.variant,
                   input=f'{args.batch}x3x{shape[0]}x{shape[1]}')
        row['params M'] = count_parameters(case.model) / 1e6
        if not args.no_flops and case.variant == 'fp32':
            one = Case(label='', **dict(case.describe(), batch=1))
            one.model, one.device = case.model, case.device
            one.data = {k: v[:1] for k, v in case.data.items()}
            flops = count_flops(one.infer_step)
            row['GFLOPs'] = flops['total'] / 1e9
            row['SDPA GF'] = flops['sdpa'] / 1e9
        rows.append(row)
        print(f'# built {case.spec} [{case.variant}]', file=sys.stderr,
              flush=True)
    times = time_interleaved([c.infer_step for c in cases], args.repeat,
                             args.warmup, device, args.time_budget)
    for row, t in zip(rows, times):
        row['infer ms'] = median(t) * 1e3
        row['infer n'] = len(t)
    if args.train:
        times = time_interleaved([c.train_step for c in cases], args.repeat,
                                 args.warmup, device, args.time_budget)
        for row, t in zip(rows, times):
            row['train s'] = median(t)
            row['train n'] = len(t)
    _ratios(rows, 'infer ms', 'x first', 'x plain')
    _ratios(rows, 'train s', 'train x first', 'train x plain')
    # Free the models before the memory subprocesses run.
    descriptions = [c.describe() for c in cases]
    del cases
    if not args.no_memory:
        for row, desc in zip(rows, descriptions):
            res = run_worker(dict(kind='model', case=desc, train=False),
                             args.memory_timeout)
            row['infer mem MiB'] = res.get('growth_mib', res.get('error'))
            if args.train:
                res = run_worker(
                    dict(kind='model', case=desc, train=True,
                         steps=args.memory_steps), args.memory_timeout)
                row['train mem MiB'] = res.get('growth_mib',
                                               res.get('error'))
                row['train peak RSS MiB'] = res.get('peak_mib')
    n = min((r.get('infer n', 0) for r in rows), default=0)
    note = (f'\nmedian of {n} interleaved runs after {args.warmup} warm-up; '
            'mem = peak growth over the built model (fresh process)')
    return markdown_table(rows, MODEL_COLUMNS) + note


def sam_sweep(args) -> str:
    """Efficient vs naive SAM: time and peak memory vs pixels."""
    device = device_name()
    rows = []
    sizes = [_shape(s) for s in args.sam_sizes]
    for train in (False, True):
        for naive in (False, True):
            prev = None
            for h, w in sizes:
                if naive and h * w > args.naive_max_pixels:
                    continue
                s = args.sam_kv_stride
                kv = (-(-h // s)) * (-(-w // s))
                row = dict(impl='naive' if naive else 'SDPA',
                           mode='train' if train else 'infer',
                           HxW=f'{h}x{w}', pixels=h * w, **{'kv pixels': kv})
                row['GFLOPs'] = sam_flops(
                    1, args.sam_channels, max(args.sam_channels // 8, 1), h,
                    w, s, padded=not naive) / 1e9
                module = build_sam(args.sam_channels, s, naive).to(device)
                x = torch.randn(1, args.sam_channels, h, w, device=device,
                                requires_grad=train)
                t = time_interleaved([lambda: sam_step(module, x, train)],
                                     args.repeat, args.warmup, device,
                                     args.time_budget)[0]
                row['ms'] = median(t) * 1e3
                del module, x
                res = run_worker(
                    dict(kind='sam', channels=args.sam_channels, kv_stride=s,
                         height=h, width=w, batch=1, naive=naive,
                         train=train), args.memory_timeout)
                row['mem MiB'] = res.get('growth_mib', res.get('error'))
                if prev is not None and isinstance(row['mem MiB'], float):
                    row['mem x prev size'] = row['mem MiB'] / prev[1]
                    row['pixels x prev'] = h * w / prev[0]
                prev = (h * w, row['mem MiB']) if isinstance(
                    row['mem MiB'], float) else None
                rows.append(row)
                print(f'# SAM {row["impl"]} {row["mode"]} {h}x{w}',
                      file=sys.stderr, flush=True)
    return (markdown_table(rows, SAM_COLUMNS) +
            f'\nSAM C={args.sam_channels}, qk C/8, kv stride '
            f'{args.sam_kv_stride}, batch 1; mem = peak growth (fresh '
            'process), input and module excluded')


def sam_fit(args) -> str:
    """Training memory of the first config's SAM modules at the fit size."""
    spec = args.configs[0]
    levels = sam_level_shapes(spec, args.sam_fit_shape, args.sam_fit_batch,
                              args.encoder, args.cfg_options)
    rows, total = [], 0.0
    for lv in levels:
        res = run_worker(dict(kind='sam', naive=False, train=True, **lv),
                         args.memory_timeout)
        n, c, h, w = lv['batch'], lv['channels'], lv['height'], lv['width']
        s = lv['kv_stride']
        kv = (-(-h // s)) * (-(-w // s))
        growth = res.get('growth_mib')
        row = dict(level=lv['level'], shape=f'{n}x{c}x{h}x{w}',
                   **{'kv stride': s, 'pixels': h * w, 'kv pixels': kv,
                      'input MiB': n * c * h * w * 4 / 2**20,
                      'SDPA train mem MiB': growth if growth is not None
                      else res.get('error'),
                      'SDPA train s': res.get('seconds'),
                      # fp32 affinity: the naive path keeps >= 2 (N x HW x
                      # HW') tensors for backward (logits and softmax).
                      'naive affinity GiB (x1)': n * h * w * kv * 4 / 2**30})
        if growth is not None:
            total += growth
        rows.append(row)
        print(f'# SAM fit level {lv["level"]}', file=sys.stderr, flush=True)
    cols = ['level', 'shape', 'kv stride', 'pixels', 'kv pixels',
            'input MiB', 'SDPA train mem MiB', 'SDPA train s',
            'naive affinity GiB (x1)']
    verdict = ('fits' if total / 1024 < args.sam_fit_budget_gib else
               'does NOT fit')
    return (markdown_table(rows, cols) +
            f'\nSAM modules of {spec} at {args.sam_fit_shape[0]}x'
            f'{args.sam_fit_shape[1]} batch {args.sam_fit_batch}, training '
            f'(forward+backward, each level in its own process): sum of '
            f'peak growths {total / 1024:.2f} GiB -> {verdict} in '
            f'{args.sam_fit_budget_gib:g} GiB (SAM modules only; the rest '
            'of the model is not included)')


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    args = parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
        os.environ['OMP_NUM_THREADS'] = str(args.threads)
    if not args.configs and not (args.sweep and args.sam_only):
        raise SystemExit('give at least one CONFIG')
    print(machine_header(argv))
    start = time.perf_counter()
    if not args.sam_only:
        shapes = [tuple(args.shape)]
        if args.sweep:
            shapes = [_shape(s) for s in (args.sweep_shapes or
                                          ['114x152', '228x304', '480x640'])]
        for shape in shapes:
            print(f'\n### {shape[0]}x{shape[1]}, batch {args.batch}\n')
            print(model_table(args, shape), flush=True)
    if args.sweep:
        print('\n### SAM only: efficient (SDPA) vs naive softmax(Q^T K)\n')
        print(sam_sweep(args), flush=True)
        if args.configs and not args.no_sam_fit:
            print(f'\n### SAM fit check: {args.sam_fit_shape[0]}x'
                  f'{args.sam_fit_shape[1]}, batch {args.sam_fit_batch}, '
                  'training\n')
            print(sam_fit(args), flush=True)
    print(f'\ntotal {time.perf_counter() - start:.0f} s; load average now '
          + ' '.join(f'{x:.2f}' for x in os.getloadavg()))


if __name__ == '__main__':
    main()
