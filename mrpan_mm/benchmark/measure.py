"""Measurements: parameters, FLOPs, latency, training-step time, memory.

Timings interleave the cases (A, B, A, B, ...) after warm-up and report the
median (:mod:`mrpan_mm.utils.timing`), so that ratios between cases
measured in one run survive a noisy, shared machine.  Peak memory is
measured in a fresh subprocess per measurement
(:mod:`mrpan_mm.benchmark.worker`): on the CPU it is the growth
of the peak resident set (``VmHWM``, the value ``getrusage`` reports as
``ru_maxrss``) over the resident set after the model and batch are built,
the peak being reset first through ``/proc/self/clear_refs``; on CUDA it is
``torch.cuda.max_memory_allocated``.
"""
import contextlib
import gc
import json
import os
import subprocess
import sys
from dataclasses import dataclass, field, replace
from typing import Any, Callable, Dict, List, Optional, Sequence

import torch
from torch.utils.flop_counter import FlopCounterMode

from ..compat import CPU_FLASH_SDPA_OP
from ..utils.precision import autocast, autocast_dtype
from .models import (build_model, build_optim_wrapper, spec_config,
                     synthetic_batch)

MIB = 1024 * 1024


def device_name() -> str:
    return 'cuda' if torch.cuda.is_available() else 'cpu'


def variant_dtype(device: str, amp: bool) -> Optional[torch.dtype]:
    """The autocast dtype of a ``bf16`` variant (None for fp32): an
    explicit bf16 request, so bf16 is measured where the CPU emulates it
    too (with a warning)."""
    return autocast_dtype(device, 'explicit', 'benchmark bf16 variant',
                          'bfloat16') if amp else None


def count_parameters(model: torch.nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def _sdpa_flops(query_shape, key_shape, value_shape, *args, **kwargs) -> int:
    """FLOPs of one attention call: 2*B*H*N*M*(E + Ev)."""
    b, h, n, e = query_shape
    m, ev = key_shape[-2], value_shape[-1]
    return 2 * b * h * n * m * (e + ev)


def count_flops(fn: Callable[[], Any]) -> Dict[str, int]:
    """Total and SDPA FLOPs of ``fn()`` with torch's FlopCounterMode.

    The stock counter has no formula for the CPU flash-attention kernel
    (``aten._scaled_dot_product_flash_attention_for_cpu``): SAM's attention
    would count 0.  It is added here (``sdpa``), as executed, i.e. with Q
    and K zero-padded to C channels.  ``total`` includes it;
    ``total - sdpa`` is what the stock counter (and mmengine's module-hook
    counter, which sees no functional call) reports.
    """
    mapping = {}
    if CPU_FLASH_SDPA_OP is not None:
        mapping[CPU_FLASH_SDPA_OP] = _sdpa_flops
    counter = FlopCounterMode(display=False, custom_mapping=mapping)
    with counter:
        fn()
    sdpa = 0
    for op, count in counter.get_flop_counts().get('Global', {}).items():
        if 'scaled_dot_product' in str(op) or 'attention' in str(op):
            sdpa += count
    return dict(total=counter.get_total_flops(), sdpa=sdpa)


@dataclass
class Case:
    """One model variant ready to run inference / training steps.

    The first fields describe the case (:meth:`describe` passes them to a
    memory subprocess); :meth:`build` fills the last six.
    """
    spec: str
    shape: Sequence[int]
    batch: int
    amp: bool = False
    channels_last: bool = False
    encoder: Optional[str] = None
    cfg_options: Optional[Dict[str, Any]] = None
    seed: int = 0
    device: Optional[str] = field(default=None, repr=False)
    model: Any = field(default=None, repr=False)
    cfg: Any = field(default=None, repr=False)
    data: Any = field(default=None, repr=False)
    optim_wrapper: Any = field(default=None, repr=False)
    dtype: Optional[torch.dtype] = field(default=None, repr=False)

    @property
    def variant(self) -> str:
        """``'fp32'``, ``'bf16'``, ``'channels_last'`` or
        ``'bf16+channels_last'``."""
        return '+'.join(name for name, on in (
            ('bf16', self.amp), ('channels_last', self.channels_last))
            if on) or 'fp32'

    def build(self, train: bool) -> 'Case':
        torch.manual_seed(self.seed)
        self.device = device_name()
        self.dtype = variant_dtype(self.device, self.amp)
        self.cfg = spec_config(self.spec, self.encoder, self.cfg_options,
                               self.shape)
        self.model = build_model(self.cfg).to(self.device)
        if self.channels_last:
            self.model = self.model.to(memory_format=torch.channels_last)
        self.data = synthetic_batch(self.batch, *self.shape, seed=self.seed)
        if train:
            self.model.train()
            self.optim_wrapper = build_optim_wrapper(self.model, self.cfg,
                                                     self.amp)
        else:
            self.model.eval()
        return self

    def first_sample(self) -> 'Case':
        """This built case on the first sample of its batch (same model)."""
        return replace(
            self, batch=1, data={k: v[:1] for k, v in self.data.items()})

    def infer_step(self) -> Any:
        self.model.eval()
        with torch.no_grad(), autocast(self.device, self.dtype):
            return self.model.test_step(self.data)

    def train_step(self) -> Any:
        """One training step.

        Raises:
            ValueError: The step failed; for a batch of one whose deepest
                map is 1x1 (training-mode BatchNorm then sees one value per
                channel) the message names the case and ``--batch``.
        """
        self.model.train()
        try:
            return self.model.train_step(self.data, self.optim_wrapper)
        except ValueError as error:
            if 'more than 1 value per channel' not in str(error):
                raise
            raise ValueError(
                f'{self.spec}: a training step at batch {self.batch} and '
                f'{self.shape[0]}x{self.shape[1]} fails ({error}); train '
                'with --batch 2 or more, or a larger --shape') from error

    def describe(self) -> Dict[str, Any]:
        return dict(spec=self.spec, shape=list(self.shape), batch=self.batch,
                    amp=self.amp, channels_last=self.channels_last,
                    encoder=self.encoder, cfg_options=self.cfg_options,
                    seed=self.seed)


# ---------------------------------------------------------------------------
# Peak memory, in a fresh subprocess per measurement.


def _proc_status_kib(key: str) -> int:
    with open('/proc/self/status') as f:
        for line in f:
            if line.startswith(key + ':'):
                return int(line.split()[1])
    raise KeyError(key)


def reset_peak_rss() -> bool:
    """Reset VmHWM to the current RSS (Linux >= 4.0); False if impossible."""
    try:
        with open('/proc/self/clear_refs', 'w') as f:
            f.write('5')
        return True
    except OSError:
        return False


@contextlib.contextmanager
def peak_memory(device: str):
    """Yield a dict filled with ``peak_mib``/``growth_mib`` on exit."""
    result: Dict[str, float] = {}
    gc.collect()
    if device == 'cuda':
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
        base = torch.cuda.memory_allocated()
        yield result
        torch.cuda.synchronize()
        peak = torch.cuda.max_memory_allocated()
        result.update(peak_mib=peak / MIB, growth_mib=(peak - base) / MIB,
                      base_mib=base / MIB, kind='cuda_allocated')
        return
    base = _proc_status_kib('VmRSS')
    exact = reset_peak_rss()
    yield result
    peak = _proc_status_kib('VmHWM')
    result.update(peak_mib=peak / 1024, growth_mib=max(peak - base, 0) / 1024,
                  base_mib=base / 1024, kind='cpu_rss',
                  peak_reset=exact)


def run_worker(task: Dict[str, Any], timeout: float = 600) -> Dict[str, Any]:
    """Run one measurement task in a fresh Python process."""
    cmd = [sys.executable, '-m', 'mrpan_mm.benchmark.worker', json.dumps(task)]
    env = dict(os.environ)
    env.setdefault('OMP_NUM_THREADS', str(torch.get_num_threads()))
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True,
                              timeout=timeout, env=env)
    except subprocess.TimeoutExpired:
        return dict(error=f'timeout after {timeout:.0f} s')
    for line in reversed(proc.stdout.splitlines()):
        if line.startswith('RESULT '):
            return json.loads(line[len('RESULT '):])
    tail = (proc.stderr or proc.stdout).strip().splitlines()[-3:]
    return dict(error=f'worker failed (rc={proc.returncode}): ' +
                ' | '.join(tail))


# ---------------------------------------------------------------------------
# SAM-only measurements.


def build_sam(channels: int, kv_stride: int, naive: bool, qk_ratio: int = 8,
              seed: int = 0) -> torch.nn.Module:
    """A SAM with gamma = 1 (so gradients reach every parameter)."""
    from mrpan_mm.models.necks.maca_attention import SpatialAttentionModule

    from .naive_sam import NaiveSpatialAttention
    torch.manual_seed(seed)
    cls = NaiveSpatialAttention if naive else SpatialAttentionModule
    module = cls(channels, qk_ratio=qk_ratio, kv_stride=kv_stride)
    with torch.no_grad():
        module.gamma.fill_(1.0)
    return module


def sam_step(module: torch.nn.Module, x: torch.Tensor, train: bool,
             dtype: Optional[torch.dtype] = None) -> None:
    """One SAM forward (and backward if ``train``), under autocast to
    ``dtype`` (:func:`variant_dtype`) unless it is None."""
    device = x.device.type
    if train:
        with autocast(device, dtype):
            out = module(x)
        out.float().square().mean().backward()
        x.grad = None
        module.zero_grad(set_to_none=True)
    else:
        with torch.no_grad(), autocast(device, dtype):
            module(x)


def sam_level_shapes(spec: str, shape: Sequence[int], batch: int,
                     encoder: Optional[str] = None,
                     cfg_options: Optional[Dict[str, Any]] = None
                     ) -> List[Dict[str, Any]]:
    """SAM configuration of every neck level of a config at an input size.

    The backbone runs on the ``meta`` device (shapes only, no compute).
    """
    cfg = spec_config(spec, encoder, cfg_options)
    model = build_model(cfg)
    backbone = model.backbone.to('meta').eval()
    with torch.no_grad():
        feats = backbone(torch.empty(batch, 3, *shape, device='meta'))
    levels = []
    for t, level in enumerate(model.neck.levels):
        sam = level.spatial_attention
        if sam is None:
            continue
        levels.append(dict(level=t, channels=sam.channels,
                           qk_ratio=sam.channels // sam.qk_channels,
                           kv_stride=sam.kv_stride,
                           height=feats[t].shape[-2], width=feats[t].shape[-1],
                           batch=batch))
    return levels
