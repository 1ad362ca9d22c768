"""Tables that fit the terminal: columns dropped in a stated order, paths shortened in the middle.

A plan table on an 80-column terminal keeps its step and counts: what matters least goes first
(:data:`PLAN_DROP_ORDER`), a header never breaks inside a word, and the results path keeps its
start and its file name with ``…`` between them. A pipe or a log file is 200 columns wide
(:func:`importer.cli.printing.console`), so nothing is dropped there.
"""

from __future__ import annotations

import textwrap
from collections.abc import Sequence
from typing import TextIO

from rich.console import Console
from rich.measure import Measurement
from rich.table import Table

__all__ = ["PLAN_DROP_ORDER", "middle", "fitted_table", "print_fitted"]

# The plan table's columns, the first dropped first while the table is too wide.
PLAN_DROP_ORDER = ("elapsed", "calls/record", "entity", "skipped", "queued", "not processed", "read")
SHORTEST_PATH = 16


def middle(text: str, width: int) -> str:
    """``text`` in at most ``width`` characters: its start and its end with ``…`` between; the
    file name (after the last ``/``) is kept whole when there is room for it."""
    if len(text) <= width:
        return text
    width = max(width, 5)
    name = len(text) - text.rfind("/")
    tail = name if name + 4 <= width else (width - 1) * 2 // 3
    return text[: width - 1 - tail] + "…" + text[len(text) - tail:]


def _room_for(rows: Sequence[dict[str, str]], column: str) -> int:
    """The width the column needs to show each path's file name whole, with a little of its start."""
    names = [len(row[column]) - row[column].rfind("/") + 4 for row in rows]
    return max([SHORTEST_PATH, len(column), *names])


def _table(title: str, columns: Sequence[str], rows: Sequence[dict[str, str]]) -> Table:
    table = Table(title=title)
    for column in columns:
        table.add_column(column, no_wrap=True, overflow="ellipsis")
    for row in rows:
        table.add_row(*(row[c] for c in columns))
    return table


def _width(out: Console, table: Table) -> int:
    return Measurement.get(out, out.options, table).maximum


def fitted_table(out: Console, title: str, columns: Sequence[str], rows: Sequence[dict[str, str]],
                 drop_order: Sequence[str], path_column: str | None = None) -> Table:
    """A table of ``rows`` no wider than ``out``: columns dropped in ``drop_order`` while it is
    too wide, then the ``path_column``'s cells shortened in the middle to what is left."""
    kept = list(columns)
    rest = [c for c in kept if c != path_column]
    for name in drop_order:
        shortest = _room_for(rows, path_column) if path_column else 0
        if _width(out, _table(title, rest, rows)) + shortest + 3 <= out.width:
            break
        if name in rest:
            rest.remove(name)
            kept.remove(name)
    if path_column is not None and path_column in kept:
        room = max(out.width - _width(out, _table(title, rest, rows)) - 3, SHORTEST_PATH)
        rows = [{**row, path_column: middle(row[path_column], room)} for row in rows]
    return _table(title, kept, rows)


def print_fitted(text: str, out: Console, stream: TextIO) -> None:
    """Print ``text``; on a terminal each line too wide for it goes on at the next, indented,
    broken between words (a pipe or a log file keeps each line whole)."""
    if not out.is_terminal:
        print(text, file=stream)
        return
    for line in text.splitlines() or [""]:
        wrapped = textwrap.wrap(line, out.width, subsequent_indent="  ", break_on_hyphens=False,
                                drop_whitespace=True) if len(line) > out.width else [line]
        for part in wrapped:
            print(part, file=stream)
