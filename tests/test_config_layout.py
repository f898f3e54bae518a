"""How the configs are composed: every config listed in configs/README.md,
the network input size set by the top-level config and matching its
training pipeline, the test config built from the bases only, and the flip
TTA pipeline derived from a config's test pipeline."""
import ast
import glob
import os.path as osp
import re

import pytest
from mmengine.config import Config

from mrpan_mm.engine import enable_tta, flip_tta_pipeline

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
CONFIG_DIR = osp.join(REPO, 'configs')
CONFIGS = sorted(glob.glob(osp.join(CONFIG_DIR, '*.py')))
MODEL_BASES = sorted(glob.glob(osp.join(CONFIG_DIR, '_base_', 'models',
                                        '*.py')))
DEMO = osp.join(CONFIG_DIR, 'mrpan_demo_cpu.py')
TINY = osp.join(REPO, 'tests', 'configs', 'tiny_fixture.py')


def readme_rows():
    """First cells of the table rows of configs/README.md (`name.py`)."""
    with open(osp.join(CONFIG_DIR, 'README.md')) as f:
        return re.findall(r'^\| `([\w.]+\.py)` \|', f.read(), re.MULTILINE)


def test_configs_readme_has_one_row_per_config():
    names = sorted(osp.basename(path) for path in CONFIGS)
    rows = [row for row in readme_rows() if '/' not in row]
    assert sorted(rows) == names  # no config missing, no stale row


def base_files(path):
    """Every file ``path`` inherits from, through its ``_base_`` chain
    (files of other packages, ``mmseg::...``, left out)."""
    with open(path) as f:
        tree = ast.parse(f.read())
    bases = []
    for node in tree.body:
        if isinstance(node, ast.Assign) and getattr(
                node.targets[0], 'id', None) == '_base_':
            bases = ast.literal_eval(node.value)
    found = []
    for base in [bases] if isinstance(bases, str) else bases:
        if '::' not in base:
            base = osp.normpath(osp.join(osp.dirname(path), base))
            found += [base] + base_files(base)
    return found


def test_base_files_follows_the_chain():
    chain = base_files(osp.join(CONFIG_DIR, 'mrpan_baseline_nyu.py'))
    assert chain[:2] == [osp.join(CONFIG_DIR, 'mrpan_maca_nyu.py'),
                         osp.join(CONFIG_DIR, 'mrpan_nyu.py')]
    assert osp.join(CONFIG_DIR, '_base_', 'datasets', 'nyu.py') in chain


def test_tiny_test_config_is_composed_from_bases_only():
    """A change to a shipped config (the demo's tuning) cannot reach the
    test config: it inherits none of them."""
    chain = base_files(TINY)
    assert osp.join(CONFIG_DIR, '_base_', 'models',
                    'mrpan_seresnext26_demo.py') in chain
    assert all(osp.dirname(base).startswith(osp.join(CONFIG_DIR, '_base_'))
               for base in chain), chain


@pytest.mark.parametrize('path', MODEL_BASES, ids=osp.basename)
def test_model_bases_leave_the_input_size_to_the_config(path):
    model = Config.fromfile(path).get('model')
    if model is not None:  # an encoder-only base defines no model
        assert 'size' not in model.data_preprocessor


def training_input_size(pipeline):
    """(H, W) of the images the training pipeline hands the network."""
    for step in reversed(pipeline):
        if step['type'] in ('CenterCropDepth', 'RandomCrop'):
            return tuple(step['crop_size'])
        if step['type'] == 'Resize' and not step.get('keep_ratio', True):
            return tuple(step['scale'][::-1])  # mmseg's scale is (W, H)
    raise AssertionError(f'no crop or fixed-size resize in {pipeline}')


@pytest.mark.parametrize('path', CONFIGS + [TINY], ids=osp.basename)
def test_network_input_is_the_config_crop_size(path):
    cfg = Config.fromfile(path)
    size = tuple(cfg.model.data_preprocessor['size'])
    assert size == tuple(cfg.crop_size)
    if path != TINY:  # the tiny config pads its unresized fixture images
        assert size == training_input_size(
            cfg.train_dataloader.dataset.pipeline)


# The tta_pipeline configs/mrpan_demo_cpu.py wrote out before it was derived
# (at its network input size).
DEMO_TTA_PIPELINE = [
    dict(type='LoadCheckedImage'),
    dict(
        type='TestTimeAug',
        transforms=[
            [
                dict(type='RandomFlip', prob=0.0, direction='horizontal'),
                dict(type='RandomFlip', prob=1.0, direction='horizontal')
            ],
            [dict(type='Resize', scale=Config.fromfile(DEMO).crop_size[::-1],
                  keep_ratio=False)],
            [dict(type='LoadCheckedDepth', depth_rescale_factor=1e-3)],
            [dict(type='PackSegInputs')],
        ])
]


def test_flip_tta_pipeline_of_the_demo_test_pipeline():
    cfg = Config.fromfile(DEMO)
    assert 'tta_pipeline' not in cfg
    pipeline = cfg.test_dataloader.dataset.pipeline
    assert flip_tta_pipeline(pipeline) == DEMO_TTA_PIPELINE
    assert flip_tta_pipeline(pipeline)[0] is pipeline[0]


def test_enable_tta_derives_the_pipeline_unless_the_config_has_one():
    cfg = Config.fromfile(DEMO)
    model = cfg.model
    enable_tta(cfg)
    assert cfg.test_dataloader.dataset.pipeline == DEMO_TTA_PIPELINE
    assert cfg.model.type == 'DepthTTAModel' and cfg.model.module == model

    own = [dict(type='LoadCheckedImage'), dict(type='PackSegInputs')]
    cfg = Config.fromfile(DEMO)
    cfg.tta_pipeline = own
    enable_tta(cfg)
    assert cfg.test_dataloader.dataset.pipeline == own

    cfg = Config(dict(model=model, test_dataloader=cfg.test_dataloader))
    with pytest.raises(ValueError, match='tta_model'):
        enable_tta(cfg)
