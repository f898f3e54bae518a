"""Every shipped depth config, with random weights saved as a checkpoint,
through what users run: the Python API (``DepthInferencer``, mmseg's
``init_model`` + ``inference_model``), ``tools/infer.py``, ``tools/test.py
--save-pred`` (and ``--format-only``) and ``tools/eval_predictions.py``,
on generated 640x480 frames.

Configs are found by globbing ``configs/*.py`` (model type
``DepthEstimator``, NYU-layout test set), so a new config is covered without
editing this file.
A network input above 96x128 (the SENet-154 configs' 240x320 frame and
228x304 crop) is reduced to 96x128 (crop 72x96) through ``--cfg-options``
on the config's own test pipeline and evaluator: a SENet-154 forward at
228x304 takes seconds on a CPU.  The SENet-154 configs' model is reduced to
the same design at test size (:mod:`small_paper_model`): their 1.1 GB
checkpoints are not what these paths are about.

The end-to-end tests run once per distinct path: the inference paths once
per test pipeline, evaluation protocol and encoder type
(:data:`DISTINCT_CONFIGS`; ``mrpan_baseline_nyu.py``, ``mrpan_maca_nyu.py``
and ``mrpan_nyu.py`` differ in neck and head switches only), the scoring
paths (``test.py --save-pred``, ``eval_predictions.py``) once per test
pipeline and protocol (:data:`SCORING_CONFIGS`: the encoder does not enter
them).
"""
import glob
import os
import os.path as osp

import cv2
import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope
from mmseg.apis import inference_model, init_model
from mmseg.registry import DATASETS

from mrpan_mm.apis import DepthInferencer
from mrpan_mm.datasets.integrity import as_suffixes
from mrpan_mm.engine import enable_tta
from mrpan_mm.models.necks.maca_attention import SpatialAttentionModule
from mrpan_mm.testing import make_nyu_fixture
from mrpan_mm.utils.depth_io import depth_to_mm, read_depth_png
from mrpan_mm.utils.point_cloud import PLY_VERTEX
from small_paper_model import SMALL_PAPER_MODEL, option_args
from tools_runner import (REPO, data_root_options, load_tool,
                          logged_test_metrics, run_tool)

eval_predictions = load_tool('eval_predictions.py')


def on_nyu_frames(cfg: Config) -> bool:
    """Whether a config is a depth model tested on NYU-layout JPEG frames,
    the fixtures here; the configs of other sets (KITTI, zero-shot sets)
    are run by tests/test_kitti.py and tests/test_zero_shot.py."""
    dataset = cfg.test_dataloader.dataset
    return (cfg.model.type == 'DepthEstimator'
            and dataset.type == 'NYUDepthDataset'
            and '.jpg' in as_suffixes(dataset.get('img_suffix', '.jpg')))


DEPTH_CONFIGS = [
    path for path in sorted(glob.glob(osp.join(REPO, 'configs', '*.py')))
    if on_nyu_frames(Config.fromfile(path))
]
SMALL_SCALE = (128, 96)  # (W, H), mmseg's Resize convention
SMALL_SIDE = 96  # PillowResize: 640x480 -> 128x96
SMALL_CROP = (72, 96)  # CenterCropDepth and the hu2019 window (H, W)
RANDOM_MODEL_DEPTH = 3.0  # metres added to a random model's raw output
SAM_GAMMA = 1.0  # every spatial attention's weight in the random models
FRAME = (480, 640)  # NYU's frame (H, W)
TABLE_I = ('abs_rel', 'rmse', 'log10', 'd1', 'd2', 'd3')


def test_depth_configs_found():
    names = [osp.basename(path) for path in DEPTH_CONFIGS]
    assert 'mrpan_nyu.py' in names and 'mrpan_demo_cpu.py' in names
    assert not any('seg' in name for name in names)


def small_input_options(cfg: Config) -> dict:
    """``--cfg-options`` shrinking larger test inputs: mmseg's ``Resize`` to
    ``SMALL_SCALE``; Hu's chain (``PillowResize`` + ``CenterCropDepth``) to
    ``SMALL_SIDE`` and ``SMALL_CROP``, with the hu2019 window to match."""
    options = {}
    for key, pipeline in (('test_pipeline', cfg.test_pipeline),
                          ('test_dataloader.dataset.pipeline',
                           cfg.test_dataloader.dataset.pipeline)):
        for index, step in enumerate(pipeline):
            scale = step.get('scale')
            if step['type'] == 'Resize' and scale[0] * scale[1] > \
                    SMALL_SCALE[0] * SMALL_SCALE[1]:
                options[f'{key}.{index}.scale'] = SMALL_SCALE
            elif step['type'] == 'PillowResize':
                options[f'{key}.{index}.short_side'] = SMALL_SIDE
            elif step['type'] == 'CenterCropDepth':
                options[f'{key}.{index}.crop_size'] = SMALL_CROP
    protocol = cfg.test_evaluator.get('protocol')
    if isinstance(protocol, dict) and 'crop_size' in protocol:
        options['test_evaluator.protocol.crop_size'] = SMALL_CROP
    return options


def scoring_key(path: str) -> str:
    """What ``test.py --save-pred`` and ``eval_predictions.py`` depend on
    in a config: its test pipeline's steps and its evaluation protocol."""
    cfg = Config.fromfile(path)
    protocol = cfg.test_evaluator.get('protocol')
    return str(([step['type'] for step in cfg.test_pipeline],
                protocol.get('type') if isinstance(protocol, dict) else
                protocol))


def path_key(path: str) -> str:
    """What the inference paths depend on in a config besides
    :func:`scoring_key`: its encoder type (the model each path builds and
    loads strictly)."""
    backbone = Config.fromfile(path).model.backbone
    encoder = backbone.get('encoder', backbone)
    return str((scoring_key(path), encoder['type'], backbone.get('arch')))


def distinct_configs(paths, key=path_key):
    """One config per ``key``, preferring one whose neck has spatial
    attention (so that the ``gamma`` checks have something to check)."""
    chosen = {}
    for path in sorted(paths, key=lambda p: not Config.fromfile(
            p).model.neck.get('use_sam', False)):
        chosen.setdefault(key(path), path)
    return sorted(chosen.values())


DISTINCT_CONFIGS = distinct_configs(DEPTH_CONFIGS)
# the scoring paths, chosen among the above (their checkpoints are shared)
SCORING_CONFIGS = distinct_configs(DISTINCT_CONFIGS, scoring_key)


@pytest.fixture(scope='module')
def checkpoints(tmp_path_factory):
    """``{model config: random-weight checkpoint}``: configs with the same
    model (the test-only variants of ``mrpan_nyu.py``) share one file."""
    saved = {}
    yield saved
    for path in saved.values():
        os.remove(path)


@pytest.fixture(scope='module', params=DISTINCT_CONFIGS, ids=osp.basename)
def case(request, checkpoints, tmp_path_factory):
    """(config path, config with small input, its options, checkpoint)."""
    path = request.param
    cfg = Config.fromfile(path)
    options = small_input_options(cfg)
    if cfg.model.backbone.get('arch') == 'senet154':
        options.update(SMALL_PAPER_MODEL)
    # random weights predict near 0; offset them to room-scale depths so
    # that a millimetre of PNG rounding is a small relative error
    options['model.decode_head.depth_offset'] = RANDOM_MODEL_DEPTH
    cfg.merge_from_dict(options)
    key = Config(dict(model=cfg.model)).pretty_text
    if key not in checkpoints:
        torch.manual_seed(0)
        model = init_model(cfg, None, 'cpu')
        # SAM's gamma starts at 0 (attention off): switch MACA's spatial
        # attention on, so that every path below runs it
        for module in model.modules():
            if isinstance(module, SpatialAttentionModule):
                module.gamma.data.fill_(SAM_GAMMA)
        checkpoints[key] = str(
            tmp_path_factory.mktemp('ckpt') / 'random.pth')
        torch.save({'state_dict': model.state_dict(), 'meta': {}},
                   checkpoints[key])
        del model
    return path, cfg, options, checkpoints[key]


@pytest.fixture(scope='module')
def frames(tmp_path_factory):
    """A folder with two generated 640x480 RGB frames."""
    folder = tmp_path_factory.mktemp('frames')
    rng = np.random.default_rng(0)
    for index in range(2):
        image = rng.integers(0, 255, FRAME + (3, ), dtype=np.uint8)
        cv2.imwrite(str(folder / f'frame_{index}.jpg'), image)
    return str(folder)


@pytest.fixture(scope='module')
def nyu640(tmp_path_factory):
    """NYU layout, 640x480, 2 test images, each with an iBims-style
    boundary map (``edges/test``, a vertical and a horizontal line)."""
    root = str(tmp_path_factory.mktemp('nyu640'))
    make_nyu_fixture(root, num_train=1, num_test=2, size=FRAME)
    edges = np.zeros(FRAME, np.uint8)
    edges[:, FRAME[1] // 2] = edges[FRAME[0] // 2] = 255
    os.makedirs(osp.join(root, 'edges', 'test'))
    for image in glob.glob(osp.join(root, 'images', 'test', '*.jpg')):
        name = osp.splitext(osp.basename(image))[0] + '.png'
        cv2.imwrite(osp.join(root, 'edges', 'test', name), edges)
    return root


def tta_test_sets():
    """``{config path: its test set with --tta}``, one config per distinct
    test set (configs that share a test set load the same samples)."""
    distinct = {}
    for path in DEPTH_CONFIGS:
        cfg = Config.fromfile(path)
        enable_tta(cfg)
        dataset = cfg.test_dataloader.dataset
        distinct.setdefault(Config(dict(dataset=dataset)).pretty_text,
                            (path, dataset))
    return dict(distinct.values())


def test_tta_pipeline_flips_image_not_ground_truth(nyu640):
    init_default_scope('mmseg')
    for path, dataset in tta_test_sets().items():
        dataset.data_root = nyu640
        item = DATASETS.build(dataset)[0]
        first, second = item['data_samples']
        assert (first.flip, second.flip) == (False, True), path
        assert torch.equal(first.gt_depth_map.data, second.gt_depth_map.data)
        assert torch.equal(item['inputs'][0].flip(-1), item['inputs'][1])


@pytest.mark.slow
def test_api_mmseg_apis_and_infer_tool_agree(case, frames, tmp_path):
    """``DepthInferencer``, mmseg's ``inference_model`` and ``infer.py``
    give the same depth from a checkpoint whose SAM ``gamma`` is 1.

    Catches: a path that loses the attention's weight (``gamma`` back at
    its initial 0, e.g. a key dropped on loading: the model check below and
    the comparison with the other paths), an inferencer that predicts
    differently from mmseg's API or the tool (wrong resize, un-flip or
    depth scaling), a PNG/NPY/PLY writer that disagrees with the arrays.
    """
    path, cfg, options, checkpoint = case
    images = sorted(glob.glob(osp.join(frames, '*.jpg')))
    inferencer = DepthInferencer(cfg, checkpoint, 'cpu', show_progress=False)
    depths = inferencer(frames, batch_size=2)['predictions']
    from_array = inferencer(cv2.imread(images[0]))['predictions']
    del inferencer
    assert len(depths) == 2
    for depth in depths:
        assert depth.shape == FRAME and depth.dtype == np.float32
        assert np.isfinite(depth).all() and (depth > 0).all()
    np.testing.assert_allclose(from_array, depths[0], rtol=1e-5, atol=1e-5)

    model = init_model(cfg, checkpoint, 'cpu')
    gammas = [float(module.gamma) for module in model.modules()
              if isinstance(module, SpatialAttentionModule)]
    assert all(gamma == SAM_GAMMA for gamma in gammas), gammas
    mmseg_depth = inference_model(model, images[0]).pred_depth_map.data[0]
    del model
    crops = [step['crop_size'] for step in cfg.test_pipeline
             if step['type'] == 'CenterCropDepth']
    if crops:  # Table I's test pipeline: mmseg predicts its centre crop
        assert tuple(mmseg_depth.shape) == tuple(crops[0])
    else:
        assert tuple(mmseg_depth.shape) == FRAME
        np.testing.assert_allclose(mmseg_depth.numpy(), depths[0],
                                   rtol=1e-5, atol=1e-5)

    out = tmp_path / 'out'
    run_tool('infer.py', [
        frames, '--config', path, '--checkpoint', checkpoint, '--out',
        str(out), '--batch-size', '2', '--ply'
    ] + (['--cfg-options', *option_args(options)] if options else []))
    for image, depth in zip(images, depths):
        name = osp.splitext(osp.basename(image))[0]
        metres = np.load(out / f'{name}_depth.npy')
        np.testing.assert_allclose(metres, depth, rtol=1e-5, atol=1e-5)
        png = cv2.imread(str(out / f'{name}_depth.png'), cv2.IMREAD_UNCHANGED)
        assert np.array_equal(png, depth_to_mm(metres)[0])
        assert cv2.imread(str(out / f'{name}_color.png')).shape[1] == FRAME[1]
        ply = (out / f'{name}.ply').read_bytes()
        body = ply[ply.index(b'end_header\n') + 11:]
        assert len(body) == PLY_VERTEX.itemsize * int((metres > 0).sum())


@pytest.mark.slow
@pytest.mark.parametrize('case', SCORING_CONFIGS, indirect=True,
                         ids=osp.basename)
def test_saved_predictions_score_like_the_online_run(case, nyu640, tmp_path):
    """``test.py --save-pred`` writes one PNG per test image at its ground
    truth's size (the 640x480 frame, or Table I's centre crop), and
    ``eval_predictions.py`` scores them as the online run did.

    Tolerance: the PNG rounds each prediction to the millimetre, an error
    of at most 0.5 mm per pixel.  RMSE moves by at most that (triangle
    inequality); AbsRel by at most 0.5 mm / min(gt) <= 5e-4 (the fixture's
    depth is >= 1 m); log10 by at most log10(1 + 0.5 mm / min(pred)),
    < 2.2e-4 for predictions >= 1 m (the random models are offset by
    ``RANDOM_MODEL_DEPTH``; near the 1 mm clamp the bound would not hold);
    1e-3 bounds all three.  A delta accuracy only changes for pixels whose
    ratio lies within 0.5 mm / pred (< 2e-4 relative) of a threshold; a
    random model's smooth prediction against the fixture's smooth depth can
    put a band of pixels there (up to 1.9e-3 of them measured, ResNet-50
    and EfficientNet-B3 configs), so the deltas get 5e-3.
    """
    path, cfg, options, checkpoint = case
    crops = [step['crop_size'] for step in cfg.test_dataloader.dataset.pipeline
             if step['type'] == 'CenterCropDepth']
    size = tuple(crops[0]) if crops else FRAME
    preds = tmp_path / 'preds'
    proc = run_tool('test.py', [
        path, checkpoint, '--work-dir',
        str(tmp_path / 'work'), '--save-pred',
        str(preds), '--cfg-options', *data_root_options(nyu640),
        'test_dataloader.num_workers=0',
        'test_dataloader.persistent_workers=False', *option_args(options)
    ])
    online = logged_test_metrics(proc)
    names = sorted(os.listdir(preds))
    assert names == ['kitchen_00000.png', 'kitchen_00001.png']
    assert all(read_depth_png(str(preds / n)).shape == size for n in names)
    offline = eval_predictions.main([
        str(preds), '--config', path, '--cfg-options',
        f'test_dataloader.dataset.data_root={nyu640}', *option_args(options)
    ])
    for key in TABLE_I:
        tolerance = 5e-3 if key.startswith('d') else 1e-3
        assert abs(offline[key] - online[key]) <= tolerance, key


@pytest.mark.slow
def test_format_only_saves_predictions_without_ground_truth(tmp_path):
    config = osp.join(REPO, 'configs', 'mrpan_demo_cpu.py')
    root = str(tmp_path / 'nyu')
    make_nyu_fixture(root, num_train=1, num_test=2, size=(60, 80))
    os.rename(osp.join(root, 'annotations'), osp.join(root, 'moved'))
    torch.manual_seed(0)
    checkpoint = str(tmp_path / 'random.pth')
    torch.save({'state_dict': init_model(config, None, 'cpu').state_dict()},
               checkpoint)
    preds = tmp_path / 'preds'
    args = [config, checkpoint, '--work-dir', str(tmp_path / 'work'),
            '--cfg-options', *data_root_options(root),
            'test_dataloader.num_workers=0',
            'test_dataloader.persistent_workers=False']
    with pytest.raises(AssertionError, match='kitchen_00000.png: missing'):
        run_tool('test.py', args + ['--save-pred', str(preds)])
    run_tool('test.py', args + ['--save-pred', str(preds), '--format-only'])
    assert sorted(os.listdir(preds)) == [
        'kitchen_00000.png', 'kitchen_00001.png'
    ]


def test_eval_predictions_names_missing_extra_and_wrong_size(
        nyu_root, tmp_path, capsys):
    config = osp.join(REPO, 'configs', 'mrpan_demo_cpu.py')
    preds = tmp_path / 'preds'
    preds.mkdir()
    args = [str(preds), '--config', config, '--cfg-options',
            f'test_dataloader.dataset.data_root={nyu_root}']
    depth = np.full((64, 80), 2000, np.uint16)
    cv2.imwrite(str(preds / 'kitchen_00000.png'), depth)
    with pytest.raises(SystemExit, match=r'kitchen_00001\.png \(for '):
        eval_predictions.main(args)
    cv2.imwrite(str(preds / 'kitchen_00001.png'), depth[:32])
    cv2.imwrite(str(preds / 'other.png'), depth)
    with pytest.raises(SystemExit, match=r'kitchen_00001\.png is 32x80'):
        eval_predictions.main(args)
    assert 'other.png' in capsys.readouterr().err
