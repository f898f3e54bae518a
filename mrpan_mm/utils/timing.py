"""Wall-clock timing that survives a noisy, shared machine.

Cases are interleaved (A, B, A, B, ...) after warm-up and summarised by
their median, so that ratios between cases timed in one call hold even
when the load changes during it.  Used by the benchmarks
(:mod:`mrpan_mm.benchmark`) and the ONNX latency comparison
(:mod:`mrpan_mm.deploy.onnx_export`).
"""
import statistics
import time
from typing import Any, Callable, List, Optional, Sequence

import torch


def sync(device: str) -> None:
    """Wait for queued CUDA kernels (nothing to wait for on the CPU)."""
    if device == 'cuda':
        torch.cuda.synchronize()


def time_interleaved(steps: Sequence[Callable[[], Any]], repeat: int,
                     warmup: int = 1, device: str = 'cpu',
                     time_budget: Optional[float] = None
                     ) -> List[List[float]]:
    """Seconds per call of each step, interleaved round-robin.

    Each step is warmed up ``warmup`` times, then the steps are called in
    turn ``repeat`` times (stopping early, after at least one round, when
    ``time_budget`` seconds have passed).
    """
    for step in steps:
        for _ in range(warmup):
            step()
            sync(device)
    times: List[List[float]] = [[] for _ in steps]
    start = time.perf_counter()
    for _ in range(repeat):
        for i, step in enumerate(steps):
            sync(device)
            t0 = time.perf_counter()
            step()
            sync(device)
            times[i].append(time.perf_counter() - t0)
        if time_budget is not None and \
                time.perf_counter() - start > time_budget:
            break
    return times


def median(values: Sequence[float]) -> float:
    return statistics.median(values) if values else float('nan')
