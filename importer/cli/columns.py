"""``importer columns ENTITY``: the columns an entity accepts, as help that teaches.

A table on a terminal, plain aligned text in a pipe (one column per line, greppable),
or JSON for tools (see :func:`importer.mapping.columns.describe_columns`).
"""

from __future__ import annotations

import argparse
import sys

import orjson
from rich.table import Table

from importer.cli.common import EXIT_OK
from importer.cli.printing import console
from importer.entities import entity
from importer.mapping.columns import column_details, describe_columns

__all__ = ["columns_command"]


def columns_command(args: argparse.Namespace) -> int:
    infos = describe_columns(entity(args.entity))
    if args.format == "json":
        sys.stdout.write(orjson.dumps([i.to_dict() for i in infos], option=orjson.OPT_INDENT_2).decode() + "\n")
        return EXIT_OK
    heading = ("column", "type", "required", "allowed values, format, range")
    rows = [(i.name, i.type, "yes" if i.required else "", column_details(i)) for i in infos]
    out = console(sys.stdout)
    if out.is_terminal:
        table = Table(title=f"{args.entity} columns")
        for name in heading:
            table.add_column(name, overflow="fold")
        for row in rows:
            table.add_row(*row)
        out.print(table)
        return EXIT_OK
    widths = [max(len(row[n]) for row in (heading, *rows)) for n in range(3)]
    for row in (heading, *rows):
        sys.stdout.write(("  ".join(cell.ljust(w) for cell, w in zip(row, widths)) + "  " + row[3]).rstrip() + "\n")
    return EXIT_OK
