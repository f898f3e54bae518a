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
