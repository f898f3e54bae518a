"""Score saved depth predictions against a config's test set.

    python tools/eval_predictions.py PRED_DIR --config C \
        [--protocol hu2019|eigen|kitti] [--out DIR] [--cfg-options ...]

``PRED_DIR`` holds one uint16 millimetre PNG (0 = none) per test image,
named like the image (``<stem>.png``): what ``tools/test.py --save-pred``
writes, or another method's released maps renamed to the test images.  The
ground truth is the one the online evaluation uses (the config's test
dataset and pipeline) and the metric is the config's ``NYUDepthMetric``;
``--protocol`` replaces its protocol, ``--out`` writes per-image metrics.

Every test image needs a prediction of its ground truth's size: missing or
wrongly sized predictions are listed by file name and stop the run (exit
status 1); files that match no test image are listed and ignored.
"""
import argparse
import os
import os.path as osp
import sys
from typing import Dict, List

import mrpan_mm  # noqa: F401  (first: installs the mmcv-lite shim)
import torch
from mmengine.config import Config, DictAction
from mmengine.registry import init_default_scope
from mmseg.registry import DATASETS, METRICS

from mrpan_mm.utils.depth_io import read_depth_png


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Score saved 16-bit depth PNGs with NYUDepthMetric')
    parser.add_argument('pred_dir', help='folder of <image stem>.png files')
    parser.add_argument('--config', required=True,
                        help='config whose test set and metric are used')
    parser.add_argument('--protocol', choices=['hu2019', 'eigen', 'kitti'],
                        help='evaluation protocol (default: the config\'s)')
    parser.add_argument('--out', help='folder for per-image metrics')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override config entries')
    return parser.parse_args(argv)


def stem(path: str) -> str:
    return osp.splitext(osp.basename(path))[0]


def match_predictions(pred_dir: str, img_paths: List[str]) -> Dict[str, str]:
    """Test image path -> its prediction file; exits listing the missing.

    Prediction files without a test image are printed and ignored.
    """
    if not osp.isdir(pred_dir):
        raise SystemExit(f'eval_predictions.py: error: no such folder '
                         f'{pred_dir}')
    files = {
        stem(name): osp.join(pred_dir, name)
        for name in os.listdir(pred_dir) if name.lower().endswith('.png')
    }
    missing = [path for path in img_paths if stem(path) not in files]
    extra = sorted(set(files) - {stem(path) for path in img_paths})
    if extra:
        print(f'{len(extra)} prediction(s) match no test image, ignored: '
              + ', '.join(f'{name}.png' for name in extra), file=sys.stderr)
    if missing:
        raise SystemExit(
            f'eval_predictions.py: error: {len(missing)} of {len(img_paths)}'
            f' test images have no prediction in {pred_dir}: ' +
            ', '.join(f'{stem(path)}.png (for {path})' for path in missing))
    return {path: files[stem(path)] for path in img_paths}


def evaluate(args: argparse.Namespace) -> Dict[str, float]:
    """Metrics of the predictions in ``args.pred_dir``."""
    cfg = Config.fromfile(args.config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    init_default_scope(cfg.get('default_scope', 'mmseg'))
    dataset = DATASETS.build(cfg.test_dataloader.dataset)
    metric_cfg = dict(cfg.test_evaluator)
    if args.protocol:
        metric_cfg['protocol'] = args.protocol
    if args.out:
        os.makedirs(args.out, exist_ok=True)
        metric_cfg['output_dir'] = args.out
    metric = METRICS.build(metric_cfg)
    img_paths = [dataset.get_data_info(i)['img_path']
                 for i in range(len(dataset))]
    predictions = match_predictions(args.pred_dir, img_paths)
    wrong_size = []
    for index, img_path in enumerate(img_paths):
        data_sample = dataset[index]['data_samples']
        gt = data_sample.gt_depth_map.data
        pred = torch.from_numpy(read_depth_png(predictions[img_path]))
        if tuple(pred.shape) != tuple(gt.shape[-2:]):
            wrong_size.append(f'{predictions[img_path]} is '
                              f'{pred.shape[0]}x{pred.shape[1]}, ground '
                              f'truth {gt.shape[-2]}x{gt.shape[-1]}')
            continue
        # the metainfo too: KITTIProtocol places its window with it
        metric.process({}, [
            dict(data_sample.metainfo, img_path=img_path,
                 gt_depth_map=dict(data=gt),
                 pred_depth_map=dict(data=pred[None]))
        ])
    if wrong_size:
        raise SystemExit('eval_predictions.py: error: predictions of the '
                         'wrong size (HxW): ' + '; '.join(wrong_size))
    return metric.evaluate(len(img_paths))


def main(argv=None) -> Dict[str, float]:
    metrics = evaluate(parse_args(argv))
    print(' '.join(f'{key}: {value:.6f}' for key, value in metrics.items()))
    return metrics


if __name__ == '__main__':
    main()
