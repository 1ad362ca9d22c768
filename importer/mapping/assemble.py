"""A column plan compiled into one function that builds a record's payload.

Mapping runs once per record, so it is the importer's own hot path. Walking the
plan column by column (a coercer call, then a generic ``put`` that walks the
dotted path) costs several calls per cell. Instead each plan is turned, once,
into straight-line Python: read the cell, skip it if empty, coerce it (text
fields take a ``str`` as it is), and store it in its parent object, which is
made when its first cell is stored. The result is the same payload, with the
same key order, as the column-by-column walk.

    build = assemble(columns, key_field="number")
    header, line, key, group = build({"number": "C1", "mainAddress.city": "Oslo"})
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from importer.errors import RecordError
from importer.mapping.coerce import is_text_coercer

if TYPE_CHECKING:
    from importer.mapping.columns import Column

__all__ = ["assemble", "Assembled", "ShapedRecord"]

# (header, line fields or None, key, documentKey group); the key is text or None, never another JSON value
Assembled = tuple[dict[str, Any], dict[str, Any] | None, str | None, Any]


class ShapedRecord(Exception):
    """A cell holds a JSON object or array: the record is in the API's shape already."""


def assemble(
    columns: Sequence[Column], key_field: str | None, *, shaped: bool = True
) -> Callable[[dict[str, Any]], Assembled]:
    """Compile ``columns`` into ``build(data) -> (header, line, key, group)``.

    Raises ``RecordError`` naming the column when a cell cannot be coerced. With
    ``shaped``, a cell holding a dict or list raises ``ShapedRecord`` instead (the
    caller takes the record as API-shaped); without, its coercer refuses it.
    """
    scope: dict[str, Any] = {"RecordError": RecordError, "ShapedRecord": ShapedRecord}
    nodes: dict[tuple[str, tuple[str, ...]], str] = {}  # (root, parent path) -> local variable
    body: list[str] = []
    has_lines = any(c.target == "line" for c in columns)

    def node(root: str, segments: tuple[tuple[str, bool], ...], indent: str) -> str:
        """The variable holding the object at ``segments`` under ``root``, made if missing."""
        if not segments:
            return root
        path = tuple(name for name, _ in segments)
        var = nodes.get((root, path))
        if var is None:
            var = nodes[(root, path)] = f"n{len(nodes)}"
        parent = node(root, segments[:-1], indent)
        name, wrapped = segments[-1]
        made = f'{{"value": {var}}}' if wrapped else var
        body.append(f"{indent}if {var} is None:")
        body.append(f"{indent}    {var} = {{}}")
        body.append(f"{indent}    {parent}[{name!r}] = {made}")
        return var

    for i, column in enumerate(columns):
        scope[f"c{i}"] = column.coerce
        name = column.name
        body.append(f"    raw = data[{name!r}]")
        body.append("    if raw.__class__ is str:")
        body.append("        present = raw and not raw.isspace()")
        body.append("    elif raw is None:")
        body.append("        present = False")
        if shaped:
            body.append("    elif isinstance(raw, (dict, list)):")
            body.append("        raise ShapedRecord")
        body.append("    else:")
        body.append("        present = True")
        body.append("    if present:")
        body.append("        try:")
        if is_text_coercer(column.coerce):
            body.append(f"            v = raw if raw.__class__ is str else c{i}(raw)")
        else:
            body.append(f"            v = c{i}(raw)")
        body.append("        except RecordError as exc:")
        body.append(f"            raise RecordError(exc.reason, {name!r}) from None")
        if column.target == "key":
            body.append("        key = v")
            continue
        if column.target == "group":
            body.append("        group = v")
            continue
        root = "line" if column.target == "line" else "header"
        parent = node(root, column.segments[:-1], "        ")
        leaf, wrapped = column.segments[-1]
        body.append(f"        {parent}[{leaf!r}] = {{'value': v}}" if wrapped else f"        {parent}[{leaf!r}] = v")
        if root == "header" and len(column.segments) == 1 and leaf == key_field:
            body.append("        key = v")

    head = ["def build(data):", "    header = {}", f"    line = {'{}' if has_lines else 'None'}", "    key = group = None"]
    head += [f"    {var} = None" for var in nodes.values()]
    tail = ["    return header, line or None, key, group"]
    source = "\n".join(head + body + tail) + "\n"
    exec(compile(source, f"<column plan: {', '.join(c.name for c in columns)[:200]}>", "exec"), scope)
    build: Callable[[dict[str, Any]], Assembled] = scope["build"]
    return build
