"""What the product code may import.

The demo world (:mod:`mrpan_mm.demo`) and the benchmarks
(:mod:`mrpan_mm.benchmark`) are side wings: they use the product, the
product never uses them, so a user's inference or training never depends
on the demo renderer or the benchmark harness (issue #24, item 2).
"""
import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PRODUCT = sorted(
    [p for part in ('apis', 'datasets', 'deploy', 'engine', 'evaluation',
                    'models', 'utils', 'visualization')
     for p in (ROOT / 'mrpan_mm' / part).rglob('*.py')] +
    [ROOT / 'tools' / 'infer.py', ROOT / 'tools' / 'webapp.py'])
SIDE_WINGS = ('mrpan_mm.demo', 'mrpan_mm.benchmark')


def imported_modules(path: Path):
    """Absolute names of the modules ``path`` imports (relative imports
    resolved against its package)."""
    package = path.relative_to(ROOT).with_suffix('').parts[:-1]
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = list(package[:len(package) - node.level + 1]) \
                if node.level else []
            yield '.'.join(base + ([node.module] if node.module else []))


@pytest.mark.parametrize('path', PRODUCT,
                         ids=lambda p: str(p.relative_to(ROOT)))
def test_product_code_does_not_import_demo_or_benchmark(path):
    """Catches e.g. ``from ..demo.camera import scaled_intrinsics`` in the
    web page (the NYU intrinsics now live in ``mrpan_mm.utils``)."""
    wrong = [name for name in imported_modules(path)
             if name.startswith(SIDE_WINGS)]
    assert not wrong, f'{path.relative_to(ROOT)} imports {wrong}'


WRITERS = [ROOT / p for p in (
    'tools/infer.py', 'mrpan_mm/apis/depth_inferencer.py',
    'mrpan_mm/engine/prediction_writer.py', 'mrpan_mm/deploy/webapp.py')]


@pytest.mark.parametrize('path', WRITERS,
                         ids=lambda p: str(p.relative_to(ROOT)))
def test_prediction_files_have_one_writer(path):
    """Catches a caller that writes a prediction's depth PNG, array,
    colour map or point cloud itself instead of through
    ``mrpan_mm.utils.prediction_files.PredictionFiles`` (four callers had
    four naming schemes before, issue #24 item 1)."""
    calls = {ast.unparse(node.func)
             for node in ast.walk(ast.parse(path.read_text()))
             if isinstance(node, ast.Call)}
    assert 'PredictionFiles' in calls
    assert not calls & {'write_depth_png', 'write_ply', 'np.save',
                        'cv2.imwrite', 'mmcv.imwrite'}


EVERY_MODULE = sorted([*(ROOT / 'mrpan_mm').rglob('*.py'),
                       *(ROOT / 'tools').rglob('*.py')])


def names_used(path: Path):
    """Dotted names ``path`` mentions (``torch.autocast``) and the
    ``module.name`` of every name it imports from a module."""
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Attribute):
            yield ast.unparse(node)
        elif isinstance(node, ast.ImportFrom) and node.module:
            yield from (f'{node.module}.{alias.name}' for alias in node.names)


#: What decides an autocast dtype.  Allowed only in the precision policy's
#: home, ``mrpan_mm/utils/precision.py`` (every caller asks its
#: ``autocast_dtype`` and autocasts with its ``autocast``).
DTYPE_DECISIONS = {
    'torch.autocast', 'torch.amp.autocast', 'torch.cpu.amp.autocast',
    'torch.cuda.amp.autocast', 'mmengine.runner.amp.autocast',
    'mmengine.runner.autocast', 'torch.bfloat16', 'torch.float16',
    'torch.half'
}
PRECISION_HOME = ROOT / 'mrpan_mm' / 'utils' / 'precision.py'


@pytest.mark.parametrize('path', EVERY_MODULE,
                         ids=lambda p: str(p.relative_to(ROOT)))
def test_one_module_decides_the_autocast_dtype(path):
    """Catches a second precision decision, e.g. ``torch.autocast('cpu',
    dtype=torch.bfloat16)`` in the inferencer (issue #24 item 3: the
    optimizer wrapper fell back to fp32 on emulated bf16 while the
    inferencer and ``tools/test.py`` only warned and the benchmarks never
    looked at the CPU)."""
    if path == PRECISION_HOME:
        return
    wrong = set(names_used(path)) & DTYPE_DECISIONS
    assert not wrong, (f'{path.relative_to(ROOT)} decides a dtype with '
                       f'{sorted(wrong)}; ask mrpan_mm.utils.precision')


#: MMEngine's loaders that compare a state dict with a model themselves.
OTHER_COMPARISONS = {
    'mmengine.runner.checkpoint._load_checkpoint_to_model',
    'mmengine.runner.checkpoint.load_state_dict',
    'mmengine.runner.checkpoint.load_checkpoint',
    'mmengine.runner.load_state_dict', 'mmengine.runner.load_checkpoint',
    '_load_checkpoint_to_model'
}
STATE_DICT_HOME = ROOT / 'mrpan_mm' / 'utils' / 'state_dict.py'


@pytest.mark.parametrize('path', EVERY_MODULE,
                         ids=lambda p: str(p.relative_to(ROOT)))
def test_one_state_dict_comparison(path):
    """Catches a second comparison of a checkpoint with a model: MMEngine's
    private ``_load_checkpoint_to_model`` (the inferencer's before) or its
    ``load_state_dict`` / ``load_checkpoint``, or a module of ours that
    words the missing and unexpected keys itself (the strict hook and the
    encoders' pretrained loading each had their own before issue #24)."""
    if path == STATE_DICT_HOME:
        return
    tree = ast.parse(path.read_text())
    docstrings = {id(node.value) for node in ast.walk(tree)
                  if isinstance(node, ast.Expr)}
    messages = ' '.join(
        node.value for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and isinstance(node.value, str)
        and id(node) not in docstrings)
    wrong = {name for name in names_used(path) if name in OTHER_COMPARISONS}
    wrong |= {node.id for node in ast.walk(tree)
              if isinstance(node, ast.Name) and node.id in OTHER_COMPARISONS}
    wrong |= {words for words in ('missing keys', 'unexpected keys')
              if words in messages}
    assert not wrong, (f'{path.relative_to(ROOT)}: {sorted(wrong)}; compare '
                       'with mrpan_mm.utils.check_state_dict')
