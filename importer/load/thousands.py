"""A ``;`` file whose amounts read only as thousands: stopped before anything is sent.

A ``;`` file is read with the decimal comma unless ``--decimal-comma`` / ``--no-decimal-comma``
says otherwise, and under it a point parts thousands: ``1.250`` is 1250. A file written with
decimal points (``1.000``, ``1.250``) then reads, every value of it, as a thousand times too
much, and nothing in it is invalid. :func:`check_thousands` reads the input once more before
a run (stopping as soon as each amount column has a value that tells), and refuses it when
every value of an amount column is ``d.ddd``: one to three digits, a point, three digits.
The message shows both readings and the flag that picks each; nothing is sent.
"""

from __future__ import annotations

import re
from typing import Any

from importer.entities import Entity
from importer.errors import ConfigError
from importer.mapping import CoerceOptions
from importer.mapping.coerce import read_number
from importer.mapping.columns import field_for_column
from importer.mapping.inputmap import bind_input
from importer.sources import SourceOptions, open_input

__all__ = ["check_thousands", "ThousandsOnly"]

_D_DDD = re.compile(r"-?[0-9]{1,3}\.[0-9]{3}\Z")
SHOWN = 2  # example values named in the message


class ThousandsOnly(ConfigError):
    """An amount column whose every value reads as thousands under the default decimal comma."""


def _amount_columns(entity: Entity, columns: list[str] | None) -> list[str]:
    amounts = []
    for column in columns or ():
        field = field_for_column(entity, column)
        if field is not None and field.type == "number":
            amounts.append(column)
    return amounts


async def check_thousands(source: Any, read_as: SourceOptions, entity: Entity, map_path: str | None,
                          name: str) -> None:
    """Raise :class:`ThousandsOnly` when an amount column of the ``;`` file ``source`` (read with
    the default decimal comma) has only ``d.ddd`` values; return at once when it cannot."""
    with open_input(source, read_as) as opened:
        if opened.delimiter != ";":
            return
        bound, _, columns = bind_input(opened.reader, opened.columns, entity, map_path,
                                       CoerceOptions(decimal_comma=True), name)
        open_columns: dict[str, list[str]] = {column: [] for column in _amount_columns(entity, columns)}  # examples
        if not open_columns:
            return
        async for record in opened.records():
            data = bound.map_record(record).data if bound is not None else record.data
            for column in list(open_columns):
                value = data.get(column)
                if value is None or value == "":
                    continue
                if not isinstance(value, str) or not _D_DDD.match(value.strip()):
                    del open_columns[column]  # a value that tells: the column reads as it should
                elif len(open_columns[column]) < SHOWN and value.strip() not in open_columns[column]:
                    open_columns[column].append(value.strip())
            if not open_columns:
                return
    found = {column: examples for column, examples in open_columns.items() if examples}
    if found:
        raise ThousandsOnly(_message(name, found))


def _message(name: str, found: dict[str, list[str]]) -> str:
    parts = []
    for column, examples in found.items():
        comma = ", ".join(f"{v} as {_shown(read_number(v, True))}" for v in examples)
        point = ", ".join(f"{v} as {_shown(read_number(v, False))}" for v in examples)
        parts.append(f"column {column}: every value is d.ddd, which the decimal comma reads as thousands "
                     f"({comma}) and a decimal point as decimals ({point})")
    return (f"{name}: {'; '.join(parts)}. A ';' file is read with the decimal comma by default; "
            "pass --no-decimal-comma to read the point as decimals, or --decimal-comma to keep the "
            "thousands. Nothing was sent.")


def _shown(number: float) -> str:
    return str(number)
