"""The order in which ``make test`` hands test modules to the workers:
longest first, by the seconds each module took in a full run
(``tests/module_seconds.json``), so that the last modules to finish are
short ones and no worker idles while another runs a long module."""
import json
import os.path as osp
from typing import Dict, List

MODULE_SECONDS = osp.join(osp.dirname(osp.abspath(__file__)),
                          'module_seconds.json')


def module_of(nodeid: str) -> str:
    """``tests/test_x.py`` of ``tests/test_x.py::test_y[param]``."""
    return nodeid.split('::')[0]


def read_module_seconds(path: str = MODULE_SECONDS) -> Dict[str, float]:
    with open(path) as f:
        return json.load(f)


def longest_modules_first(items: List, seconds: Dict[str, float]) -> None:
    """Sort test items (anything with a ``nodeid``) in place: modules by
    decreasing seconds (0 for a module not in ``seconds``), ties in their
    collection order, each module's tests together in their own order."""
    first_seen = {}
    for item in items:
        first_seen.setdefault(module_of(item.nodeid), len(first_seen))
    items.sort(key=lambda item: (-seconds.get(module_of(item.nodeid), 0),
                                 first_seen[module_of(item.nodeid)]))
