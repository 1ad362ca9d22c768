"""The rows of ``reconcile``, one per currency and customer, kept on disk past a few thousand.

A ledger of 300,000 documents can have 75,000 customers, and a row of figures for each
would cost more memory than the documents' amounts themselves. The rows are added to in
memory, a few thousand at a time, then written to a temporary SQLite database
(:func:`~importer.load.tempdb.temporary_db`) and read back from it in order, a page at a
time: a row costs disk, not memory, however many customers the ledger has. The totals per
currency are kept as they are added to (a currency is one row).

    rows = Rows()
    rows.add("NOK", "10001", Figures(count_file=1, sum_file=Decimal("950.50")))
    for currency, customer, figures in rows.sorted():   # by currency, then customer
        ...
    first, count = rows.differing(20)                   # the first rows that disagree, and how many
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from importer.ledger.amounts import ZERO, cents
from importer.load.tempdb import temporary_db

__all__ = ["Figures", "Rows"]

_CACHED = 4096  # rows added to in memory before they are written to disk
_PAGE = 1024  # rows read back at a time


@dataclass(slots=True)
class Figures:
    """One row: counts and sums of the file and of the ledger."""

    count_file: int = 0
    count_ledger: int = 0
    sum_file: Decimal = ZERO
    sum_ledger: Decimal = ZERO
    missing: int = 0  # records of the file the ledger does not have (counted in the file's figures)
    missing_sum: Decimal = ZERO

    @property
    def difference(self) -> Decimal:
        """Ledger − file, in cents."""
        return cents(self.sum_ledger) - cents(self.sum_file)

    @property
    def agrees(self) -> bool:
        return self.count_file == self.count_ledger and self.difference == 0 and self.missing == 0

    def add(self, other: Figures) -> None:
        self.count_file += other.count_file
        self.count_ledger += other.count_ledger
        self.sum_file += other.sum_file
        self.sum_ledger += other.sum_ledger
        self.missing += other.missing
        self.missing_sum += other.missing_sum

    def to_dict(self) -> dict[str, Any]:
        return {
            "count_file": self.count_file, "count_ledger": self.count_ledger,
            "sum_file": str(cents(self.sum_file)), "sum_ledger": str(cents(self.sum_ledger)),
            "difference": str(self.difference), "missing": self.missing,
            "missing_sum": str(cents(self.missing_sum)), "agrees": self.agrees,
        }


def _cells(figures: Figures) -> tuple[Any, ...]:
    return (figures.count_file, figures.count_ledger, str(figures.sum_file), str(figures.sum_ledger),
            figures.missing, str(figures.missing_sum))


def _figures(cells: tuple[Any, ...]) -> Figures:
    count_file, count_ledger, sum_file, sum_ledger, missing, missing_sum = cells
    return Figures(count_file, count_ledger, Decimal(sum_file), Decimal(sum_ledger), missing, Decimal(missing_sum))


_COLUMNS = "count_file, count_ledger, sum_file, sum_ledger, missing, missing_sum"


class Rows:
    """Figures by (currency, customer): added to, then read back in order; totals per currency."""

    def __init__(self) -> None:
        self._db: sqlite3.Connection | None = None  # made when the rows first outgrow memory
        self._cache: dict[tuple[str, str], Figures] = {}  # added to since the last write
        self._totals: dict[str, Figures] = {}
        self._differing: tuple[list[tuple[str, str, Figures]], int, int] | None = None  # (first, count, limit)

    def add(self, currency: str, customer: str, figures: Figures) -> None:
        """Add ``figures`` to the row of ``currency`` and ``customer`` (made when new)."""
        self._differing = None
        key = (currency, customer)
        row = self._cache.get(key)
        if row is None:
            if len(self._cache) >= _CACHED:
                self._write()
            row = self._cache[key] = Figures()
        row.add(figures)
        self._totals.setdefault(currency, Figures()).add(figures)

    def _write(self) -> None:
        """What memory holds, added to the rows on disk; memory emptied."""
        if not self._cache:
            return
        if self._db is None:
            self._db = temporary_db("the rows of a reconciliation")
            self._db.execute(f"CREATE TABLE rows (currency TEXT, customer TEXT, {_COLUMNS}, "
                             "PRIMARY KEY (currency, customer)) WITHOUT ROWID")
        db = self._db
        keys = list(self._cache)
        with db:
            for start in range(0, len(keys), 256):
                batch = keys[start:start + 256]
                marks = ",".join("(?, ?)" for _ in batch)
                found = db.execute(f"SELECT currency, customer, {_COLUMNS} FROM rows "  # noqa: S608
                                   f"WHERE (currency, customer) IN (VALUES {marks})",
                                   [part for key in batch for part in key]).fetchall()
                for currency, customer, *cells in found:
                    self._cache[(currency, customer)].add(_figures(tuple(cells)))
            db.executemany(f"INSERT OR REPLACE INTO rows (currency, customer, {_COLUMNS}) "  # noqa: S608
                           "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                           ((*key, *_cells(figures)) for key, figures in self._cache.items()))
        self._cache.clear()

    def sorted(self) -> Iterator[tuple[str, str, Figures]]:
        """(currency, customer, figures) of every row, by currency then customer, a page at a time."""
        if self._db is None:
            for (currency, customer), figures in sorted(self._cache.items()):
                yield currency, customer, figures
            return
        self._write()
        after: tuple[str, str] | None = None
        while True:
            if after is None:
                page = self._db.execute(f"SELECT currency, customer, {_COLUMNS} FROM rows "  # noqa: S608
                                        "ORDER BY currency, customer LIMIT ?", (_PAGE,)).fetchall()
            else:
                page = self._db.execute(f"SELECT currency, customer, {_COLUMNS} FROM rows "  # noqa: S608
                                        "WHERE (currency, customer) > (?, ?) ORDER BY currency, customer LIMIT ?",
                                        (*after, _PAGE)).fetchall()
            for currency, customer, *cells in page:
                yield currency, customer, _figures(tuple(cells))
            if len(page) < _PAGE:
                return
            after = (page[-1][0], page[-1][1])

    def totals(self) -> dict[str, Figures]:
        """Per currency, every customer's figures added up; by currency."""
        return {currency: self._totals[currency] for currency in sorted(self._totals)}

    def differing(self, limit: int) -> tuple[list[tuple[str, str, Figures]], int]:
        """The first ``limit`` rows that disagree (in order), and how many disagree in all."""
        if self._differing is None or self._differing[2] < limit:
            first: list[tuple[str, str, Figures]] = []
            count = 0
            for currency, customer, figures in self.sorted():
                if not figures.agrees:
                    count += 1
                    if len(first) < limit:
                        first.append((currency, customer, figures))
            self._differing = (first, count, limit)
        first, count, _ = self._differing
        return first[:limit], count

    def __getitem__(self, key: tuple[str, str]) -> Figures:
        if self._db is not None:
            self._write()
            found = self._db.execute(f"SELECT {_COLUMNS} FROM rows WHERE currency = ? AND customer = ?",  # noqa: S608
                                     key).fetchone()
            if found is not None:
                return _figures(tuple(found))
        elif key in self._cache:
            return self._cache[key]
        raise KeyError(key)

    def __len__(self) -> int:
        if self._db is None:
            return len(self._cache)
        self._write()
        return int(self._db.execute("SELECT COUNT(*) FROM rows").fetchone()[0])

    def close(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None
