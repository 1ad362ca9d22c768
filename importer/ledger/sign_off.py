"""How a :class:`Reconciliation` is shown: a table to sign off, and the same figures as CSV.

The table has one row per currency and customer (documents), then each currency's total in
bold; a row whose figures disagree is red, and so is a non-zero difference. Customers have
one row per currency. The CSV (UTF-8, ``,``, a decimal point, two places) has the same rows,
``level`` telling them apart: ``customer`` for a customer's row, ``total`` for a currency's.
"""

from __future__ import annotations

import csv
import os
from decimal import Decimal
from typing import Any

from importer.errors import ImporterError
from importer.ledger.amounts import cents
from importer.ledger.reconcile import NO_VALUE, Figures, Reconciliation
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


def print_reconciliation(result: Reconciliation, console: Any) -> None:
    """The figures on ``console`` (a :class:`rich.console.Console`), then what stands out."""
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
    for currency, figures in totals.items():
        if documents:
            for row_currency, customer, row in result.sorted_rows():
                if row_currency == currency:
                    add(currency, _name(customer), row, total=False)
        add(currency, "all customers" if documents else None, figures, total=True)
    console.print(table)
    if not totals:
        console.print(Text(f"The file has no {what} to reconcile."))
    _print_notes(result, console)


def _print_notes(result: Reconciliation, console: Any) -> None:
    from rich.text import Text

    missing = sum(f.missing for f in result.rows.values())
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


def csv_rows(result: Reconciliation) -> list[dict[str, str]]:
    """The table's rows as CSV cells: each currency's customers, then its total."""
    rows: list[dict[str, str]] = []

    def row(level: str, currency: str, customer: str, figures: Figures) -> dict[str, str]:
        return {
            "entity": result.entity, "level": level, "currency": currency, "customer": customer,
            "count_file": str(figures.count_file), "count_ledger": str(figures.count_ledger),
            "missing": str(figures.missing), "sum_file": str(cents(figures.sum_file)),
            "sum_ledger": str(cents(figures.sum_ledger)), "difference": str(figures.difference),
            "agrees": "true" if figures.agrees else "false",
        }

    for currency, total in result.totals().items():
        if result.is_document:
            rows += [row("customer", c, k, f) for c, k, f in result.sorted_rows() if c == currency]
        rows.append(row("total", currency, "", total))
    return rows


def write_csv(result: Reconciliation, path: str | os.PathLike[str]) -> None:
    """The figures to ``path``, whole or not at all (written beside it, then renamed)."""
    try:
        with written_whole(path, "w", encoding="utf-8", newline="") as out:
            writer = csv.DictWriter(out, CSV_COLUMNS, lineterminator="\r\n")
            writer.writeheader()
            for cells in csv_rows(result):
                # A customer number such as ``=1+1`` must not run when a spreadsheet opens it.
                writer.writerow({k: neutralise(v) for k, v in cells.items()})
    except OSError as exc:
        raise ImporterError(f"cannot write the CSV {os.fspath(path)}: {exc.strerror}") from None
