"""Export a depth model to ONNX and check it against PyTorch.

    python tools/deployment/pytorch2onnx.py CONFIG CHECKPOINT --shape H W \
        --output-file F [--dynamic] [--opset 18] [--latency N] \
        [--cfg-options ...]

Exports the inference branch (encoder, neck, head: normalised image
(N, 3, H, W) -> finest depth map in metres, (N, 1, H, W), clamped to the
head's depth range), validates the file with ``onnx.checker``, runs it once
in ONNX Runtime (CPU) on a random image of ``--shape`` and prints the
largest absolute and relative difference from PyTorch.  ``--dynamic``
makes batch, height and width dynamic.  ``--latency N`` also times ONNX
Runtime, PyTorch fp32 and (on CPUs with native bf16, as
``mrpan_mm/utils/precision.py`` decides a default) PyTorch bf16 autocast,
interleaved, N runs each, with as many threads as PyTorch uses.  Needs the
``deploy`` extra (``pip install -e .[deploy]``).
"""
import argparse
import gc
import os
import os.path as osp

import mrpan_mm  # noqa: F401  (first: installs the mmcv-lite shim)

import torch
from mmengine.config import Config, DictAction

from mrpan_mm.apis import DepthInferencer
from mrpan_mm.deploy import (DEFAULT_OPSET, DepthNetwork, check_onnx,
                             compare_latency, compare_with_pytorch,
                             export_onnx, onnxruntime_session, sample_input)
from mrpan_mm.utils import autocast_dtype


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Export a depth model to ONNX and compare ONNX Runtime '
        'with PyTorch')
    parser.add_argument('config', help='model config file')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument('--shape', type=int, nargs=2, required=True,
                        metavar=('H', 'W'), help='network input size')
    parser.add_argument('--output-file', required=True, help='.onnx file')
    parser.add_argument('--dynamic', action='store_true',
                        help='dynamic batch, height and width')
    parser.add_argument('--opset', type=int, default=DEFAULT_OPSET,
                        help='ONNX opset version (>= 17)')
    parser.add_argument('--latency', type=int, default=0, metavar='N',
                        help='also time ONNX Runtime vs PyTorch, N runs')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override config settings, key=value')
    return parser.parse_args(argv)


def run(args: argparse.Namespace) -> None:
    if min(args.shape) < 1:
        raise ValueError(f'--shape must be positive, got {args.shape}')
    cfg = Config.fromfile(args.config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    estimator = DepthInferencer(cfg, args.checkpoint, 'cpu',
                                show_progress=False).model
    network = DepthNetwork(estimator).eval()
    inputs = sample_input(estimator, args.shape)
    folder = osp.dirname(osp.abspath(args.output_file))
    os.makedirs(folder, exist_ok=True)
    operators = export_onnx(network, inputs, args.output_file, args.dynamic,
                            args.opset)
    gc.collect()  # the exported program's copy of the weights
    check_onnx(args.output_file)
    print(f'wrote {args.output_file} (opset {args.opset}, '
          f'{"dynamic" if args.dynamic else "static"} shape); '
          f'onnx.checker passed; operators: {" ".join(operators)}')
    session = onnxruntime_session(args.output_file, torch.get_num_threads())
    parity = compare_with_pytorch(network, session, inputs)
    print(f'ONNX Runtime vs PyTorch, input {tuple(inputs.shape)}: '
          f'max abs diff {parity.max_abs:.3e} m, '
          f'max rel diff {parity.max_rel:.3e}')
    if args.latency > 0:
        dtype = autocast_dtype('cpu', 'auto',
                               'pytorch2onnx.py --latency (PyTorch bf16)')
        times = compare_latency(network, session, inputs, args.latency,
                                dtype)
        print('latency (median ms, {} threads): '.format(
            torch.get_num_threads()) + ', '.join(
                f'{name} {ms:.1f}' for name, ms in times.items()))


def main(argv=None) -> None:
    args = parse_args(argv)
    try:
        run(args)
    except (FileNotFoundError, ValueError, ImportError) as error:
        raise SystemExit(f'pytorch2onnx.py: error: {error}') from error


if __name__ == '__main__':
    main()
