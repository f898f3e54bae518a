"""Subprocess entry point: one peak-memory measurement, printed as JSON.

``python -m mrpan_mm.benchmark.worker '<task json>'`` prints one line
``RESULT {...}``.  Tasks: ``{"kind": "model", "case": {...}, "train": bool,
"steps": int}`` or ``{"kind": "sam", "channels": C, "kv_stride": s,
"qk_ratio": r, "height": H, "width": W, "batch": N, "naive": bool,
"train": bool, "amp": bool}``.
"""
import json
import sys
import time

import mrpan_mm  # noqa: F401  (first: installs the mmcv-lite shim)

import torch

from mrpan_mm.benchmark.measure import (Case, build_sam, device_name,
                                        peak_memory, sam_step, variant_dtype)


def run(task):
    device = device_name()
    t0 = time.perf_counter()
    if task['kind'] == 'model':
        case = Case(**task['case']).build(task['train'])
        step = case.train_step if task['train'] else case.infer_step
        with peak_memory(device) as mem:
            for _ in range(task.get('steps', 1)):
                step()
    elif task['kind'] == 'sam':
        module = build_sam(task['channels'], task['kv_stride'], task['naive'],
                           task.get('qk_ratio', 8)).to(device)
        x = torch.randn(task['batch'], task['channels'], task['height'],
                        task['width'], device=device,
                        requires_grad=task['train'])
        if not task['train']:
            module.eval()
        with peak_memory(device) as mem:
            sam_step(module, x, task['train'],
                     variant_dtype(device, task.get('amp', False)))
    else:
        raise ValueError(f'unknown task kind {task["kind"]!r}')
    mem['seconds'] = time.perf_counter() - t0
    return mem


if __name__ == '__main__':
    print('RESULT ' + json.dumps(run(json.loads(sys.argv[1]))), flush=True)
