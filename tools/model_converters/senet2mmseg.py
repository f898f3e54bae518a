"""Check an ImageNet SENet checkpoint and write its backbone weights.

Cadene's (``senet154-c7b49a05.pth``, ``se_resnet50-ce0d4300.pth``, ...) and
timm's ``legacy_*`` files already use the parameter names of
``mrpan_mm``'s ``SENet``, so no key is renamed. The tool reads SRC the way
``SENet(init_cfg=dict(type='Pretrained', checkpoint=SRC))`` does, drops the
ImageNet classifier, adds the BatchNorm counters that pre-0.4.1 PyTorch files
lack, refuses a file of another architecture, and writes an MMEngine-style
``{'state_dict': ..., 'meta': ...}`` file -- a quick check of a downloaded
file before a long training job.

Usage:
    python tools/model_converters/senet2mmseg.py SRC DST [--arch senet154]
"""
import argparse
import os.path as osp

import mrpan_mm  # noqa: F401  (first: installs the mmcv-lite shim)

import torch
from mmengine.utils import mkdir_or_exist

from mrpan_mm.models.backbones import SENet, checked_state_dict
from mrpan_mm.utils import use_safe_checkpoint_loader


def convert(src: str, dst: str, arch: str) -> int:
    """Write the checked backbone weights of ``src`` to ``dst``.

    Returns:
        int: Number of tensors written.
    """
    with torch.device('meta'):
        model = SENet(arch)
    state_dict = checked_state_dict(
        model,
        dict(checkpoint=src),
        target=f'SENet({arch})',
        ignore_keys=SENet.classifier_keys)
    mkdir_or_exist(osp.dirname(osp.abspath(dst)))
    torch.save(
        dict(state_dict=state_dict, meta=dict(arch=arch, source=src)), dst)
    return len(state_dict)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='Check an ImageNet SENet checkpoint (Cadene / timm / '
        'MMEngine) against an architecture and save its backbone weights.')
    parser.add_argument('src', help='source checkpoint')
    parser.add_argument('dst', help='output path')
    parser.add_argument(
        '--arch',
        default='senet154',
        choices=sorted(SENet.arch_settings),
        help='architecture the checkpoint must match')
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    use_safe_checkpoint_loader()  # the file is read without running code
    count = convert(args.src, args.dst, args.arch)
    print(f'{args.src} -> {args.dst}: {count} tensors of SENet({args.arch})')


if __name__ == '__main__':
    main()
