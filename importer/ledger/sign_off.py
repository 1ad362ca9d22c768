"""How a :class:`Reconciliation` is shown: a table to sign off, and every row as CSV.

The table has each currency's total in bold and, above it, the customers whose figures
disagree (documents): the first :data:`~importer.ledger.reconcile.SHOWN` of them, in red,
then how many differ in all and the CSV that holds every row. A ledger of 75,000 customers
that agree prints its totals, not 75,000 rows. Customers have one row per currency. The CSV
(UTF-8, ``,``, a decimal point, two places) has every customer's row and each currency's
total, ``level`` telling them apart (``customer``, ``total``); it is written as the rows are
read back, a page at a time.
"""

from __future__ import annotations

import csv
import os
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

from importer.errors import ImporterError
from importer.ledger.amounts import cents
from importer.ledger.reconcile import NO_VALUE, SHOWN, Figures, Reconciliation
from importer.outputs import printable, written_whole
from importer.sources.cells import neutralise

__all__ = ["print_reconciliation", "csv_rows", "write_csv", "CSV_COLUMNS"]

CSV_COLUMNS = ("entity", "level", "currency", "customer", "count_file", "count_ledger", "missing",
               "sum_file", "sum_ledger", "difference", "agrees")
_SHOWN_MISSING = 10


def _money(value: Decimal) -> str:
    return f"{cents(value):,.2f}"


def _signed(value: Decimal) -> str:
    return f"{cents(value):+,.2f}" if value else "0.00"


def _name(value: str) -> str:
    return "(none)" if value == NO_VALUE else printable(value)


def print_reconciliation(result: Reconciliation, console: Any, csv_path: str | os.PathLike[str] | None = None) -> None:
    """The figures on ``console`` (a :class:`rich.console.Console`), then what stands out;
    ``csv_path``: where every row was written (named when not every differing row is shown)."""
    from rich.table import Table
    from rich.text import Text

    documents = result.is_document
    what = "documents" if documents else "customers"
    sums = "amount" if documents else "credit limits"
    table = Table(title=f"reconcile {result.entity} — {printable(result.input)}",
                  caption="difference = ledger − file")
    table.add_column("currency")
    if documents:
        table.add_column("customer", overflow="fold")
    for column in (f"{what} file", f"{what} ledger", "missing", f"{sums} file", f"{sums} ledger", "difference"):
        table.add_column(column, justify="right")
    table.add_column("")

    def add(currency: str, customer: str | None, figures: Figures, total: bool) -> None:
        style = ("bold " if total else "") + ("" if figures.agrees else "red")
        cells = [Text(_name(currency))]
        if documents:
            cells.append(Text(customer if customer is not None else _name(NO_VALUE)))
        cells += [
            Text(f"{figures.count_file:,}"), Text(f"{figures.count_ledger:,}"),
            Text(f"{figures.missing:,}", style="red" if figures.missing else ""),
            Text(_money(figures.sum_file)), Text(_money(figures.sum_ledger)),
            Text(_signed(figures.difference), style="bold red" if figures.difference else ""),
            Text("ok" if figures.agrees else "DIFFERS"),
        ]
        table.add_row(*cells, style=style or None, end_section=total)

    totals = result.totals()
    first, differing = result.differing(SHOWN) if documents else ([], 0)
    for currency, figures in totals.items():
        for row_currency, customer, row in first:
            if row_currency == currency:
                add(currency, _name(customer), row, total=False)
        add(currency, "all customers" if documents else None, figures, total=True)
    console.print(table)
    if not totals:
        console.print(Text(f"The file has no {what} to reconcile."))
    if differing:
        where = f"every row: {printable(os.fspath(csv_path))}" if csv_path is not None else "every row: --csv FILE"
        shown = f"the first {len(first):,} shown" if differing > len(first) else "all shown"
        console.print(Text(f"customers whose figures differ: {differing:,} of {len(result.rows):,} "
                           f"({shown}; {where})", style="red"))
    _print_notes(result, console)


def _print_notes(result: Reconciliation, console: Any) -> None:
    from rich.text import Text

    missing = sum(f.missing for f in result.totals().values())
    if missing:
        shown = ", ".join(printable(m["key"]) for m in result.missing[:_SHOWN_MISSING])
        more = f" and {missing - _SHOWN_MISSING:,} more" if missing > _SHOWN_MISSING else ""
        console.print(Text(f"missing from the ledger: {missing:,} ({shown}{more})", style="red"))
    if result.invalid_count:
        console.print(Text(f"not counted: {result.invalid_count:,} record(s) of the file could not be read:",
                           style="red"))
        for invalid in result.invalid[:_SHOWN_MISSING]:
            console.print(Text(f"  {printable(invalid['error'])}"))
    for problem in result.problems[:_SHOWN_MISSING]:
        console.print(Text(f"ledger: {printable(problem)}", style="red"))
    if result.error:
        console.print(Text(f"incomplete: {printable(result.error)}", style="bold red"))
    verdict = "the file and the ledger agree" if result.ok else "the file and the ledger DO NOT agree"
    console.print(Text(f"{verdict} ({result.records:,} records read, API calls: {result.calls:,}, "
                       f"{result.elapsed:.1f} s)", style="green" if result.ok else "bold red"))


def csv_rows(result: Reconciliation) -> Iterator[dict[str, str]]:
    """Every row as CSV cells, read back a page at a time: each currency's customers, then its total."""

    def row(level: str, currency: str, customer: str, figures: Figures) -> dict[str, str]:
        return {
            "entity": result.entity, "level": level, "currency": currency, "customer": customer,
            "count_file": str(figures.count_file), "count_ledger": str(figures.count_ledger),
            "missing": str(figures.missing), "sum_file": str(cents(figures.sum_file)),
            "sum_ledger": str(cents(figures.sum_ledger)), "difference": str(figures.difference),
            "agrees": "true" if figures.agrees else "false",
        }

    totals = result.totals()
    if not result.is_document:
        for currency, total in totals.items():
            yield row("total", currency, "", total)
        return
    current: str | None = None
    for currency, customer, figures in result.sorted_rows():
        if current is not None and currency != current:
            yield row("total", current, "", totals[current])
        current = currency
        yield row("customer", currency, customer, figures)
    if current is not None:
        yield row("total", current, "", totals[current])


def write_csv(result: Reconciliation, path: str | os.PathLike[str]) -> None:
    """Every row to ``path``, whole or not at all (written beside it, then renamed)."""
    try:
        with written_whole(path, "w", encoding="utf-8", newline="") as out:
            writer = csv.DictWriter(out, CSV_COLUMNS, lineterminator="\r\n")
            writer.writeheader()
            for cells in csv_rows(result):
                # A customer number such as ``=1+1`` must not run when a spreadsheet opens it.
                writer.writerow({k: neutralise(v) for k, v in cells.items()})
    except OSError as exc:
        raise ImporterError(f"cannot write the CSV {os.fspath(path)}: {exc.strerror}") from None
