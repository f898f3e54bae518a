"""Whole-dataset scan of an NYU layout, used by ``tools/check_dataset.py``."""
import os.path as osp
from collections import defaultdict
from typing import Dict, Iterable, List, Sequence, Union

from mmengine import fileio

from .integrity import (PROBLEM_KINDS, NYUDataError, as_suffixes,
                        check_pair, empty_split_error)


def scan_nyu_split(data_root: str,
                   split: str,
                   img_suffix: Union[str, Sequence[str]] = ('.jpg',
                                                            '.png'),
                   depth_suffix: str = '.png',
                   expected_depth_dtype: str = 'uint16',
                   nyu_names: bool = True) -> List[NYUDataError]:
    """Check every pair of ``images/<split>`` / ``annotations/<split>``.

    Runs the checks of ``LoadCheckedImage`` / ``LoadCheckedDepth`` and, with
    ``nyu_names``, of ``NYUDepthDataset``'s file names on each pair (depth
    files are matched by stem, as mmseg's ``NYUDataset`` does); without it,
    any name passes, as in ``DepthFolderDataset``.

    Returns:
        Every problem found, in file order.
    """
    img_dir = osp.join(data_root, 'images', split)
    depth_dir = osp.join(data_root, 'annotations', split)
    names = sorted(
        fileio.list_dir_or_file(
            img_dir, list_dir=False, suffix=as_suffixes(img_suffix),
            recursive=True)) if osp.isdir(img_dir) else []
    if not names:
        return [empty_split_error(img_dir, img_suffix)]
    problems = []
    for name in names:
        depth_name = osp.splitext(name)[0] + depth_suffix
        problems += check_pair(
            osp.join(img_dir, name), osp.join(depth_dir, depth_name),
            expected_depth_dtype, nyu_names=nyu_names)
    return problems


def group_by_kind(
        problems: Iterable[NYUDataError]) -> Dict[str, List[NYUDataError]]:
    """Problems per kind, kinds in :data:`PROBLEM_KINDS` order."""
    groups = defaultdict(list)
    for problem in problems:
        groups[problem.kind].append(problem)
    return {kind: groups[kind] for kind in PROBLEM_KINDS if kind in groups}


def format_problem_table(problems: Iterable[NYUDataError],
                         max_files: int = 3) -> str:
    """A text table: problem kind, count, the first ``max_files`` files."""
    groups = group_by_kind(problems)
    if not groups:
        return 'No problems found.'
    width = max(len(kind) for kind in groups)
    lines = [f'{"problem":<{width}}  {"count":>6}  first files',
             '-' * (width + 30)]
    for kind, items in groups.items():
        lines.append(f'{kind:<{width}}  {len(items):>6}  {items[0].path}')
        lines += [f'{"":<{width}}  {"":>6}  {item.path}'
                  for item in items[1:max_files]]
    lines.append('')
    lines.append('First message of each kind:')
    lines += [f'  {items[0]}' for items in groups.values()]
    return '\n'.join(lines)
