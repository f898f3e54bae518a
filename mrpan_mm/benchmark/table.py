"""Markdown tables."""
from typing import Any, Dict, List, Sequence


def _fmt(value: Any) -> str:
    if value is None:
        return '-'
    if isinstance(value, float):
        if value != value:  # NaN
            return '-'
        if abs(value) >= 100:
            return f'{value:.0f}'
        if abs(value) >= 10:
            return f'{value:.1f}'
        return f'{value:.3g}' if abs(value) < 1 else f'{value:.2f}'
    return str(value)


def markdown_table(rows: List[Dict[str, Any]],
                   columns: Sequence[str]) -> str:
    """A GitHub-markdown table of ``rows`` restricted to ``columns``."""
    lines = ['| ' + ' | '.join(columns) + ' |',
             '|' + '|'.join('---' for _ in columns) + '|']
    for row in rows:
        lines.append('| ' + ' | '.join(_fmt(row.get(c)) for c in columns) +
                     ' |')
    return '\n'.join(lines)
