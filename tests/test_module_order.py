"""``longest_modules_first``: the scheduling order of ``make test``."""
import os.path as osp
from types import SimpleNamespace

from module_order import longest_modules_first, read_module_seconds


def test_modules_longest_first_tests_kept_together_in_order():
    """Catches a sort that splits a module (its module fixtures would be
    built twice) or reorders the tests inside it."""
    ids = ['t/a.py::x', 't/b.py::x', 't/d.py::x', 't/a.py::y', 't/c.py::x',
           't/b.py::y']
    items = [SimpleNamespace(nodeid=nodeid) for nodeid in ids]
    longest_modules_first(items, {'t/b.py': 30.0, 't/c.py': 90.0})
    assert [item.nodeid for item in items] == [
        't/c.py::x', 't/b.py::x', 't/b.py::y', 't/a.py::x', 't/a.py::y',
        't/d.py::x'
    ]


def test_shipped_table_names_existing_modules():
    """A renamed module would silently lose its place in the order."""
    root = osp.dirname(osp.dirname(osp.abspath(__file__)))
    for module, seconds in read_module_seconds().items():
        assert osp.isfile(osp.join(root, module)), module
        assert seconds >= 0
