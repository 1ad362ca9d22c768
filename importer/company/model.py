"""One company's reference data, as a snapshot holds it, with the lookups checks need.

A ``Company`` keeps each kind's records in the API's own shapes (see kinds.py) and
answers the questions a check or the sandbox asks: does this id exist (``find``), which
ids are closest to a wrong one (``closest``), which financial period holds a date
(``period_of``), how the company numbers a document type (``numbering``).

Ids compare trimmed and without case, as the API compares keys. Besides what the API
exposes, a snapshot holds what only a person can say: which number series each entity
uses and whether that series allows manual numbering on imports (the API has no endpoint
for the customer-ledger preferences, see ``Numbering``).

A kind the API would not let a snapshot read (it answered 403 or 404 for its list) is in
``unavailable`` with that status: the snapshot knows nothing of it, which is not the same
as knowing the company has none.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from importer.company.kinds import KIND_NAMES, kind

__all__ = ["Company", "Numbering", "NUMBERED", "Numbered", "norm_id"]

Numbered = Literal["customer", "invoice", "creditNote", "debitNote"]
NUMBERED: tuple[Numbered, ...] = ("customer", "invoice", "creditNote", "debitNote")

Record = Mapping[str, Any]


def norm_id(value: object) -> str:
    """How the API compares a key: trimmed, without case."""
    return str(value).strip().casefold()


@dataclass(frozen=True, slots=True)
class Numbering:
    """How one entity is numbered: its series and what a person set on it.

    ``series`` names a record of ``numberSeries``; its ``manualNumbering`` says whether the
    series is manual (a number must be sent) or automatic (the company numbers).
    ``allow_manual_on_imports`` is the series setting "Allow manual numbering on imports",
    which the API does not expose. An entity the snapshot says nothing about (no entry in
    ``Company.numbering``, or ``series`` None) is numbered leniently: a number sent is
    kept, a record sent without one gets the next free number.
    """

    series: str | None = None
    allow_manual_on_imports: bool = False


@dataclass(frozen=True, slots=True)
class Company:
    """A company's reference data. Build with ``Company.of(...)``; read only afterwards."""

    name: str
    records: Mapping[str, tuple[Record, ...]]
    customer_dimension: Record | None = None
    numbering: Mapping[str, Numbering] = field(default_factory=dict)
    _index: Mapping[str, Mapping[str, Record]] = field(default_factory=dict, repr=False, compare=False)
    unavailable: Mapping[str, int] = field(default_factory=dict)  # kind -> the status its list answered

    @classmethod
    def of(
        cls,
        name: str,
        records: Mapping[str, Iterable[Record]],
        *,
        customer_dimension: Record | None = None,
        numbering: Mapping[str, Numbering] | None = None,
        unavailable: Mapping[str, int] | None = None,
    ) -> Company:
        unknown = sorted(set(records) - set(KIND_NAMES))
        if unknown:
            raise ValueError(f"unknown reference kind(s) {', '.join(unknown)}")
        kept: dict[str, tuple[Record, ...]] = {}
        index: dict[str, dict[str, Record]] = {}
        for name_ in KIND_NAMES:
            k = kind(name_)
            rows = tuple(sorted(records.get(name_, ()), key=lambda r: norm_id(r.get(k.id_field, ""))))
            kept[name_] = rows
            index[name_] = {norm_id(r[k.id_field]): r for r in rows if r.get(k.id_field) is not None}
        missing = sorted(set(unavailable or {}) - set(KIND_NAMES))
        if missing:
            raise ValueError(f"unknown reference kind(s) {', '.join(missing)}")
        return cls(name, kept, customer_dimension, dict(numbering or {}), index, dict(unavailable or {}))

    def find(self, kind_name: str, value: object) -> Record | None:
        """The record of ``kind_name`` whose id is ``value``, or None."""
        if value is None:
            return None
        return self._index[kind_name].get(norm_id(value))

    def ids(self, kind_name: str) -> list[str]:
        k = kind(kind_name)
        return [str(r[k.id_field]) for r in self.records[kind_name] if r.get(k.id_field) is not None]

    def closest(self, kind_name: str, value: object, n: int = 3) -> list[Record]:
        """Up to ``n`` records whose id or description is nearest ``value`` (for messages)."""
        k = kind(kind_name)
        wanted = norm_id(value)
        scored: list[tuple[float, str, Record]] = []
        for r in self.records[kind_name]:
            key = norm_id(r.get(k.id_field, ""))
            text = norm_id(r.get("description") or r.get("name") or "")
            score = max(
                difflib.SequenceMatcher(None, wanted, key).ratio(),
                difflib.SequenceMatcher(None, wanted, text).ratio() if text else 0.0,
            )
            scored.append((score, key, r))
        scored.sort(key=lambda t: (-t[0], t[1]))
        return [r for _, _, r in scored[:n]]

    def period_of(self, day: str) -> Record | None:
        """The financial period whose dates hold ``day`` (``YYYY-MM-DD``), or None."""
        day = day[:10]
        for r in self.records["financialPeriods"]:
            start, end = str(r.get("startDate") or "")[:10], str(r.get("endDate") or "")[:10]
            if start and end and start <= day <= end:
                return r
        return None

    def numbering_of(self, entity: Numbered) -> tuple[Numbering, Record | None]:
        """An entity's numbering and its series record (None when it has none or it is unknown)."""
        setting = self.numbering.get(entity, Numbering())
        return setting, self.find("numberSeries", setting.series) if setting.series else None

    def currency_precision(self, currency: str | None) -> int:
        """Decimals of ``currency`` (the base currency when None); 2 when unknown."""
        row = self.find("currencies", currency) if currency else next(
            (r for r in self.records["currencies"] if r.get("isBaseCurrency")), None)
        precision = row.get("decimalPrecision") if row else None
        return precision if isinstance(precision, int) else 2
