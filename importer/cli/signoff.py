"""``importer reconcile --per-customer`` and ``importer signoff``: receivables per customer.

Both read the inputs (``ENTITY=FILE``, or ``FILE`` with ``--entity``) and the ledger with
:func:`importer.ledger.receivables.reconcile_receivables`; ``reconcile`` prints the table
(or JSON), ``signoff`` writes the sign-off document (:mod:`importer.report.signoff`). The
company that works out the VAT is ``--company FILE`` (a snapshot), else read from the API.
Mistakes in the flags are named before any call.
"""

from __future__ import annotations

import argparse
import os
import sys
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any

import orjson
from rich.table import Table
from rich.text import Text

from importer.cli.common import client_for, company_name, connection_options
from importer.cli.printing import console
from importer.client import ApiClient
from importer.company.file import load_company
from importer.company.model import Company
from importer.entities import ENTITIES
from importer.errors import ConfigError
from importer.ledger.company import read_company
from importer.ledger.receivables import Receivables, fingerprint, owed_dict, reconcile_receivables
from importer.outputs import printable

__all__ = ["per_customer_command", "signoff_command"]

_DOCUMENTS = ("invoice", "credit-note", "debit-note")


def _inputs(args: argparse.Namespace) -> list[tuple[str, str]]:
    """(entity, path) of each INPUT: ``ENTITY=FILE`` or ``FILE`` with ``--entity``."""
    out = []
    for given in args.input:
        name, sep, path = given.partition("=")
        if not sep or name not in ENTITIES:
            name, path = args.entity or "", given
        if name not in _DOCUMENTS:
            raise ConfigError(f"input {given!r}: say what it holds as ENTITY=FILE with ENTITY one of "
                              f"{', '.join(_DOCUMENTS)} (or give --entity)")
        if not Path(path).is_file():
            raise ConfigError(f"input {given!r}: no file at {path}")
        out.append((name, path))
    return out


def _aged_columns(args: argparse.Namespace) -> dict[str, str]:
    columns = {}
    for given in args.aged_column:
        what, sep, column = given.partition("=")
        if not sep or what not in ("customer", "currency", "balance") or not column:
            raise ConfigError(f"--aged-column {given!r}: expected customer=COLUMN, currency=COLUMN or balance=COLUMN")
        columns[what] = column
    return columns


async def _company(args: argparse.Namespace, client: ApiClient) -> Company:
    if args.company_file:
        return load_company(args.company_file)
    return (await read_company(client, name=company_name(connection_options(args)))).company


async def _receivables(args: argparse.Namespace) -> Receivables:
    inputs = _inputs(args)
    columns = _aged_columns(args)
    if args.aged and not Path(args.aged).is_file():
        raise ConfigError(f"--aged: no file at {args.aged}")
    maps = {inputs[0][1]: args.map} if getattr(args, "map", None) and len(inputs) == 1 else None
    async with AsyncExitStack() as stack:
        args.entity = args.entity or inputs[0][0]
        client = await client_for(args, stack, read_only=True)
        company = await _company(args, client)
        return await reconcile_receivables(client, inputs, company, maps=maps, aged=args.aged,
                                           aged_columns=columns, decimal_comma=getattr(args, "decimal_comma", None))


async def per_customer_command(args: argparse.Namespace) -> int:
    result = await _receivables(args)
    if args.output_format == "json":
        sys.stdout.buffer.write(orjson.dumps(result.to_dict(), option=orjson.OPT_INDENT_2) + b"\n")
        sys.stdout.flush()
    else:
        _print(result)
    return result.exit_code


def _print(result: Receivables) -> None:
    out = console(sys.stdout)
    columns = ["customer", "currency", "file_gross", "ledger_gross", "difference", "net_difference",
               "ledger_balance", "legacy_balance", "balance_difference"]
    table = Table(title=f"receivables per customer — {result.company} (ledger − file)")
    for column in columns:
        table.add_column(column.replace("_", " "), justify="left" if column in ("customer", "currency") else "right")
    for customer, currency, owed in result.sorted_rows():
        row: dict[str, Any] = {"customer": customer, "currency": currency, **owed_dict(owed)}
        table.add_row(*(Text(printable(str(row[c] if row[c] is not None else ""))) for c in columns))
    out.print(table)
    for d in result.differences():
        print(f"{d['kind']}: {d['entity']} {d['key']} (customer {d['customer']}, {d['currency']}): "
              f"gross file {d['file_gross'] or '-'} ledger {d['ledger_gross'] or '-'}, "
              f"net file {d['file_net'] or '-'} ledger {d['ledger_net'] or '-'}")
    for problem in result.problems:
        print(f"problem: {problem}")
    print(f"API calls: {result.calls}; {'every customer agrees' if result.ok else 'differences found'}")


def _subledger_check(saft: str | None) -> Any:
    """The SAF-T file's customers against its general ledger's receivables (importer.saft.subledger);
    None when no SAF-T file was given."""
    if saft is None:
        return None
    if not Path(saft).is_file():
        raise ConfigError(f"--saft: no file at {saft}")
    from importer.options import SaftSettings
    from importer.saft.source import SaftSource

    return SaftSource(saft, SaftSettings(entity="invoice")).subledger()


async def signoff_command(args: argparse.Namespace, argv: list[str]) -> int:
    from importer.report.signoff import SignOff, runs_of, write_signoff

    runs = list(args.runs) or [p for _, path in _inputs(args)
                               if Path(p := f"{path}.results.ndjson").is_file()]
    gl_check = _subledger_check(args.saft)
    result = await _receivables(args)
    if args.saft:
        result.inputs.append({"path": os.fspath(args.saft), "entity": "SAF-T", "documents": 0,
                              "sha256": fingerprint(args.saft)})
    written = write_signoff(SignOff(result, runs_of(runs), gl_check), args.out)
    for path in written:
        print(f"{'sign-off' if path.suffix == '.html' else 'csv'}: {path}")
    print(f"{'every customer agrees' if result.ok else 'differences found'}; API calls: {result.calls}")
    return result.exit_code
