"""The files ``reconcile --per-customer`` reads: the imported documents, and an aged-receivables list.

Documents are read one at a time, as the import read them (:func:`open_input`, the same ``--map`` and
:class:`RecordMapper` in mode create), and each is keyed as the ledger knows it: the key
the import's results file recorded (``INPUT.results.ndjson``), else the file's own key,
else the ``externalReference`` the import set on an auto-numbered document.

An aged-receivables file is a CSV (or NDJSON) with a row per customer and currency: the
customer's number, the currency and the balance owed. Its columns are named by
``columns`` (``customer``, ``currency``, ``balance`` -> the file's column; each defaults to
its own name); a missing currency column means the company's currency for every row.
Rows of one customer and currency add up. A bad row is a problem naming the row, the
column and the reason.
"""

from __future__ import annotations

import csv
import os
from collections.abc import AsyncGenerator, Mapping
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from importer.entities import Entity
from importer.errors import ConfigError, SourceError
from importer.load.identity import identify
from importer.load.ledger_keys import LedgerKeys
from importer.mapping import CoerceOptions, RecordMapper
from importer.mapping.mapfile import ColumnMap
from importer.mapping.records import Work
from importer.schema import unwrap_value
from importer.sources import SourceOptions, open_input

__all__ = ["read_aged", "read_documents"]

Found = tuple[str, list[int], dict[str, Any]]  # (key, records, payload)


async def read_documents(path: str | os.PathLike[str], entity: Entity, cmap: ColumnMap | None,
                         decimal_comma: bool | None, problems: list[str]) -> AsyncGenerator[Found, None]:
    """Every document of ``path`` with the key the ledger knows it by, as it is read; unreadable
    ones go to ``problems``."""
    prefix = Path(path).stem[:24]
    keys = LedgerKeys.beside(path, None)

    def found(work: Work) -> Found | None:
        if work.error is not None or work.payload is None:
            problems.append(f"{os.fspath(path)} record {work.records[0]}: {work.error or 'unreadable'}")
            return None
        identity = identify(entity, work)[0]
        key = keys.key(identity) if keys is not None else None
        if not key:
            key = str(work.key).strip() if work.key else ""
        if not key:
            given = unwrap_value(work.payload.get("externalReference"))
            recorded = keys.reference(identity) if keys is not None else None
            key = str(given or recorded or f"{prefix}:{identity.split(':', 1)[1][:40]}")
        return key.strip(), work.records, work.payload

    try:
        with open_input(path, SourceOptions()) as opened:
            comma = opened.delimiter == ";" if decimal_comma is None else decimal_comma
            coerce, columns, bound = CoerceOptions(decimal_comma=comma), opened.columns, None
            if cmap is not None:
                bound = cmap.bind(columns, coerce)
                coerce, columns = bound.options, bound.columns
            mapper = RecordMapper(entity, mode="create", options=coerce, columns=columns, check_required=False)
            try:
                async for record in opened.records():
                    for work in mapper.feed(bound.map_record(record) if bound is not None else record):
                        if (done := found(work)) is not None:
                            yield done
            except SourceError as exc:
                problems.append(f"{os.fspath(path)}: {exc}")
            for work in mapper.finish():
                if (done := found(work)) is not None:
                    yield done
    finally:
        if keys is not None:
            keys.close()


def read_aged(path: str | os.PathLike[str], columns: Mapping[str, str],
              decimal_comma: bool | None) -> dict[tuple[str, str], Decimal]:
    """(customer, currency) -> balance of an aged-receivables file (see the module doc)."""
    names = {"customer": "customer", "currency": "currency", "balance": "balance", **columns}
    text = Path(path).read_text(encoding="utf-8-sig")
    sample = text.splitlines()[0] if text else ""
    delimiter = ";" if sample.count(";") > sample.count(",") else ","
    comma = delimiter == ";" if decimal_comma is None else decimal_comma
    reader = csv.DictReader(text.splitlines(), delimiter=delimiter)
    header = reader.fieldnames or []
    for what in ("customer", "balance"):
        if names[what] not in header:
            raise ConfigError(f"{os.fspath(path)}: no column {names[what]!r} for the {what} "
                              f"(columns: {', '.join(header)}); name it with --aged-column {what}=COLUMN")
    out: dict[tuple[str, str], Decimal] = {}
    for number, row in enumerate(reader, 1):
        customer = (row.get(names["customer"]) or "").strip()
        if not customer:
            continue
        currency = (row.get(names["currency"]) or "").strip() if names["currency"] in header else ""
        raw = (row.get(names["balance"]) or "").strip().replace(" ", "").replace("\u00a0", "")
        if comma:
            raw = raw.replace(".", "").replace(",", ".")
        try:
            balance = Decimal(raw)
        except InvalidOperation:
            raise ConfigError(f"{os.fspath(path)} row {number}, column {names['balance']!r}: "
                              f"{raw!r} is not a number") from None
        out[(customer, currency)] = out.get((customer, currency), Decimal(0)) + balance
    return out
