"""The text of a skeleton map: the guesses of :mod:`importer.mapinit.skeleton` as commented TOML.

Every line a person should look at says why it is there: how a column was matched, why
a value maps as it does (``"30 dager netto" = "30"   # dueDay1 30``), what is left to
decide (``TODO``). The text always loads as it is (``write_skeleton`` checks it).
"""

from __future__ import annotations

import os
import re
import shlex
from typing import TYPE_CHECKING, Any

import orjson

from importer.mapinit.scan import DISTINCT_CAP
from importer.mapping.columns import ColumnInfo, describe_columns
from importer.mapping.exprparse import written

if TYPE_CHECKING:
    from importer.mapinit.skeleton import Skeleton

__all__ = ["render"]

_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+\Z")  # TOML keys that need no quotes


def _toml(value: Any) -> str:
    """A TOML value: a JSON string is a TOML basic string (escapes included)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return orjson.dumps(value).decode()


def _key(text: str) -> str:
    return text if _BARE_KEY.match(text) else _toml(text)


def _aligned(rows: list[tuple[str, str]]) -> list[str]:
    """``code   # note`` lines, their notes lined up."""
    width = min(max((len(code) for code, _ in rows), default=0), 44)
    return [f"{code:<{width}}   # {note}" if note else code for code, note in rows]


def render(skeleton: Skeleton, map_name: str = "MAP.toml") -> str:
    """The skeleton as a commented mapping file that :func:`importer.mapping.mapfile.load_map` reads."""
    sk, name = skeleton, skeleton.entity.name
    separator = {None: "", ";": "';'-separated, ", ",": "','-separated, ", "\t": "tab-separated, "}.get(
        sk.delimiter, f"{sk.delimiter!r}-separated, ")
    out = [
        f"# {os.path.basename(sk.input)} → {name}: a skeleton map from the file's header and its {sk.sampled} "
        f"rows ({separator}{sk.format}).",
        "# Check each line marked \"check\" or TODO, then rehearse it:",
        f"#   importer run {shlex.quote(sk.input)}{sk.sheet_flags} --entity {name} --map {shlex.quote(map_name)} --dry-run",
        f"# `importer columns {name}` lists every API column with its type and allowed values.",
        *([f"# Value maps speak the values of {sk.company} (the company file given to map init): each guess "
           "says why; check those marked \"check\"."] if sk.company is not None else []),
        *(f"# TODO: {todo}" for todo in sk.todos),
        "",
        f"entity = {_toml(name)}",
        *([f"encoding = {_toml(sk.encoding)}   # how the file is written: run, plan, check and verify read it so"]
          if sk.encoding is not None else []),
    ]
    if sk.unmatched:
        out.append("# No API column was found for these, so they are ignored; to send one, map it under [columns]:")
        out += [f"#   {g.source}: {g.how}" for g in sk.unmatched]
        out.append("ignore = [" + ", ".join(_toml(g.source) for g in sk.unmatched) + "]")
    out += ['unmapped = "error"   # a column a later export adds stops the run before anything is sent', ""]
    infos = {info.name: info for info in describe_columns(sk.entity)}
    rows = []
    for g in sk.matched:
        assert g.api is not None
        info = infos[g.api]
        notes = [g.how, *(["the record's key"] if info.key else []), *(["required to create"] if info.required else []),
                 *(["check"] if not g.sure else [])]
        rows.append((f"{_key(g.source)} = {_toml(g.api)}", "; ".join(notes)))
    out += ["[columns]   # \"source column\" = \"API column\"", *_aligned(rows), ""]
    out += ["[constants]   # sent on every record, whatever the file says (API values)"]
    out += _aligned([(f"# {api} = \"\"", "TODO: the API refuses a create without it; set it here or map a "
                      "column to it") for api in sk.missing_required])
    out += ["", "[defaults]   # sent where a cell is empty (API values)"]
    out += _aligned([(f"# {_key(api)} = {_toml(value)}", f"the commonest value of {source}, which some rows "
                      "leave empty") for api, (value, source) in sk.defaults.items()])
    out += ["", *_computed_examples(sk, infos)]
    out += ["", "[formats]", *_formats(sk)]
    for suggestion in sk.values:
        out += ["", f"[values.{_toml(suggestion.api)}]   # {suggestion.source} → {suggestion.hint}"]
        why = suggestion.notes
        rows = [(f"{_key(src)} = {_toml(api)}", why.get(src, "")) for src, api in suggestion.mapped.items()]
        rows += [(f"# {_key(src)} = \"\"", "TODO" + (f": {why[src]}" if why.get(src) else ""))
                 for src in suggestion.todo]
        rows.append(('"*" = "*"', "other values pass as they are; the API checks them"))
        out += _aligned(rows)
    for api, (source, row) in sk.crowded.items():
        out += ["", f"# [values.{_toml(api)}]   # not proposed: {source} has more than {DISTINCT_CAP} distinct values "
                f"(past that at row {row}), too many for codes to map one by one; its values pass as they are"]
    return "\n".join(out) + "\n"


def _formats(sk: Skeleton) -> list[str]:
    rows: list[tuple[str, str]] = []
    if sk.decimal_comma is None:
        rows.append(("# decimal_comma = true", "no number column shows which; the run's default is on for ;-files"))
    else:
        rows.append((f"decimal_comma = {_toml(sk.decimal_comma)}", "as the file writes its numbers"))
    if sk.date_format is not None:
        rows.append((f"date_format = {_toml(sk.date_format)}", "as the file writes its dates"))
    for api, comma in sk.comma_columns.items():
        rows.append((f"{_key(api)} = {{ decimal_comma = {_toml(comma)} }}", "this column differs"))
    for api, layout in sk.date_columns.items():
        rows.append((f"{_key(api)} = {{ date_format = {_toml(layout)} }}", "this column differs"))
    if sk.date_format is None and sk.unmatched_dates:
        source, layout = next(iter(sk.unmatched_dates.items()))
        rows.append((f"# date_format = {_toml(layout)}", f"how {source} writes dates, should you map it"))
    return _aligned(rows)




def _computed_examples(sk: Skeleton, infos: dict[str, ColumnInfo]) -> list[str]:
    """Commented examples of computed and looked-up columns, in the file's own column names."""
    sources = [written(g.source) for g in (*sk.unmatched, *sk.matched)] or ["Kolonne"]
    first, second = sources[0], sources[min(1, len(sources) - 1)]

    taken = {g.api for g in sk.matched}  # examples fill columns no source column fills, so they load as they are

    def targets(kind: str) -> list[str]:
        return [i.name for i in infos.values() if i.type == kind and not i.key and not i.enum and i.name not in taken]

    texts, numbers, days = targets("string"), targets("number"), targets("date")
    padded: list[str | None] = [*texts, None, None, None, None]
    text, choice, looked_up, other = padded[:4]
    number = numbers[0] if numbers else other  # arithmetic shown even where no number column is free
    day = days[0] if days else None
    key = next((i.name for i in infos.values() if i.key and i.name not in taken), looked_up)
    rows: list[tuple[str, str]] = []

    def add(api: str, expression: str, note: str) -> None:
        shown = "'" + expression + "'" if "'" not in expression else _toml(expression)  # TOML literal string
        rows.append((f"# {_key(api)} = {shown}", note))

    if text is not None:
        add(text, 'join(" ", ' + first + ", " + second + ")",
            "the non-empty parts, a space between; concat(a, b) or a & b joins as they are")
    if choice is not None:
        add(choice, "if(" + first + ' = "B", "Bedrift", ' + second + ")",
            "chosen by a condition: = != < > <= >=, empty(x), and, or, not")
    if number is not None:
        add(number, "round(" + first + " * " + second + ", 2)",
            "decimal arithmetic: + - * / ( ); numbers read as [formats] says")
    if day is not None:
        add(day, "date(" + first + ") + 30", "a date read as [formats] says, plus days")
    if key is not None:
        add(key, 'lookup("numbers", ' + first + ")",
            "from a table in another file (below), the record's key too; a key it lacks makes the record invalid")
    return [
        "# [computed]   # API columns worked out from the file's columns (README: \"Computed columns\")",
        *_aligned(rows),
        "# [lookups.numbers]   # a lookup table: key column → value column",
        "# file = \"numbers.csv\"   # relative to this map; CSV or NDJSON",
        "# key = \"old\"",
        "# value = \"new\"",
    ]
