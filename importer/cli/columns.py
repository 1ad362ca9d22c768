"""``importer columns ENTITY``: the columns an entity accepts, as help that teaches.

A table on a terminal, plain aligned text in a pipe (one column per line, greppable),
or JSON for tools (see :func:`importer.mapping.columns.describe_columns`). With
``--company FILE`` (a snapshot), each column that names one of the company's records
(credit terms, VAT category, class, item, currency, ...) also lists the values the
company allows there: id and description, the first ``SHOWN`` and a count on a terminal
or in a pipe, every one in JSON (``company: {kind, count, values}``).
"""

from __future__ import annotations

import argparse
import sys

import orjson
from rich.table import Table

from importer.cli.common import EXIT_OK, EXIT_USAGE
from importer.cli.printing import console
from importer.company import Company, load_company
from importer.company.columns import allowed, described, plural, reference_kind, shown_values
from importer.company.kinds import kind
from importer.entities import entity
from importer.errors import ConfigError
from importer.mapping.columns import ColumnInfo, column_details, describe_columns

__all__ = ["columns_command", "SHOWN", "COMPUTED_NOTE"]

SHOWN = 10  # a column's company values shown on a terminal or in a pipe; the rest are counted
# Below the table (on stderr in a pipe, so stdout stays one column a line): how a map computes a column.
COMPUTED_NOTE = (
    "A map can also compute any of these columns under [computed]: \"API column\" = 'expression', e.g. "
    "'join(\" \", [Adresse 1], Husnr)', 'Beløp * Antall', 'round(Pris * 1.25, 2)', 'date(Dato) + 30', "
    "'if(Type = \"B\", \"2\", \"1\")', 'lookup(\"kunder\", Kundenr)' with [lookups.kunder] file, key and value "
    "(README: \"Computed columns\")."
)


def columns_command(args: argparse.Namespace) -> int:
    infos = describe_columns(entity(args.entity))
    try:
        company = load_company(args.company) if args.company is not None else None
    except ConfigError as exc:
        print(f"importer: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    if args.format == "json":
        items = [{**i.to_dict(), **_company_json(company, i)} for i in infos]
        sys.stdout.write(orjson.dumps(items, option=orjson.OPT_INDENT_2).decode() + "\n")
        return EXIT_OK
    heading = ("column", "type", "required", "allowed values, format, range")
    rows = [(i.name, i.type, "yes" if i.required else "", _details(company, i)) for i in infos]
    out = console(sys.stdout)
    if out.is_terminal:
        table = Table(title=f"{args.entity} columns")
        for name in heading:
            table.add_column(name, overflow="fold")
        for row in rows:
            table.add_row(*row)
        out.print(table)
        out.print(COMPUTED_NOTE, markup=False, highlight=False)
        return EXIT_OK
    widths = [max(len(row[n]) for row in (heading, *rows)) for n in range(3)]
    for row in (heading, *rows):
        sys.stdout.write(("  ".join(cell.ljust(w) for cell, w in zip(row, widths)) + "  " + row[3]).rstrip() + "\n")
    print(COMPUTED_NOTE, file=sys.stderr)
    return EXIT_OK


def _details(company: Company | None, info: ColumnInfo) -> str:
    """The column's rules in words, then the company's values for a column that names its records."""
    details = column_details(info)
    kind_name = reference_kind(info.name)
    if company is None or kind_name is None:
        return details
    label = kind(kind_name).label
    if kind_name in company.unavailable:
        values = f"{plural(label)} of {company.name}: not known (the API answered {company.unavailable[kind_name]})"
    else:
        values = f"{plural(label)} of {company.name}: {shown_values(company, kind_name, most=SHOWN)}"
    return f"{details}; {values}" if details else values


def _company_json(company: Company | None, info: ColumnInfo) -> dict[str, object]:
    kind_name = reference_kind(info.name)
    if company is None or kind_name is None or kind_name in company.unavailable:
        return {}
    rows = [described(kind_name, r) for r in allowed(company, kind_name)]
    return {"company": {"kind": kind_name, "count": len(rows),
                        "values": [{"id": rid, "description": text} for rid, text in rows]}}
