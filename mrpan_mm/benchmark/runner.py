"""The benchmark tables of ``tools/benchmark.py``: cases, variants, sweeps.

:func:`run` takes the tool's parsed arguments and prints a machine header,
one model table per input size (every config in every variant, timed
interleaved), and with ``--sweep`` the SAM-only sweep and the SAM fit check.
"""
import os
import platform
import shlex
import sys
import time
from argparse import Namespace
from typing import Any, Dict, List, Sequence, Tuple

import torch

from ..utils import cpu_has_native_bf16
from ..utils.timing import median, time_interleaved
from .measure import (Case, build_sam, count_flops, count_parameters,
                      device_name, run_worker, sam_level_shapes, sam_step)
from .naive_sam import sam_flops
from .table import markdown_table

#: The variants of a config, named as ``Case.variant``.
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


def _shape(text: str) -> Tuple[int, int]:
    """``'HxW'`` -> (H, W)."""
    h, w = text.lower().split('x')
    return int(h), int(w)


def machine_header(argv: Sequence[str]) -> str:
    """The command line and the machine (CPU, RAM, GPU, bf16, threads,
    load) the tables were measured on."""
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


def variant_names(args: Namespace) -> List[str]:
    """``--variants``, else fp32 plus what ``--amp`` / ``--channels-last``
    add, in the order of :data:`VARIANTS`."""
    return args.variants or [
        name for name, on in zip(VARIANTS, (
            True, args.amp, args.channels_last, args.amp and
            args.channels_last)) if on]


def make_cases(args: Namespace, shape: Sequence[int]) -> List[Case]:
    """Every config in every variant, config by config (not yet built)."""
    variants = [('bf16' in name, 'channels_last' in name)
                for name in variant_names(args)]
    return [
        Case(spec=spec, shape=shape, batch=args.batch, amp=amp,
             channels_last=cl, encoder=args.encoder,
             cfg_options=args.cfg_options)
        for spec in args.configs for amp, cl in variants
    ]


def _ratios(rows: List[Dict[str, Any]], key: str, first_key: str,
            plain_key: str) -> None:
    """``row[first_key]`` = value / first row's, ``row[plain_key]`` =
    value / the same config's fp32 row's."""
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


def model_table(args: Namespace, shape: Sequence[int]) -> str:
    """The markdown table of every case at ``shape`` (see the tool)."""
    cases = make_cases(args, shape)
    rows: List[Dict[str, Any]] = []
    device = device_name()
    for case in cases:
        case.build(train=args.train)
        row = dict(config=case.spec, variant=case.variant,
                   input=f'{args.batch}x3x{shape[0]}x{shape[1]}')
        row['params M'] = count_parameters(case.model) / 1e6
        if not args.no_flops and case.variant == 'fp32':
            flops = count_flops(case.first_sample().infer_step)
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


def sam_sweep(args: Namespace) -> str:
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


def sam_fit(args: Namespace) -> str:
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


def run(args: Namespace, argv: Sequence[str]) -> None:
    """Print the header and every table ``args`` (the tool's parsed
    command line ``argv``) asks for."""
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


