"""GET on a collection: the API's query filters, expand flags and page-number pagination.

Filters are compiled per entity from a small table, once. Each list request turns its query
parameters into predicates; a value the API would refuse (an unparseable date, an unknown
condition or enum value, a non-numeric page) is a 400 naming the parameter. Parameters the
sandbox does not simulate (deprecated paging, ``attributes``, other ``expand*`` flags) are
ignored, as the API ignores parameters it does not know: ``numberToRead`` and
``skipRecords`` too, as the live API has ignored them since 2020.

Pages come from the tenant's index (``store.TenantTables.order``: each entity's keys in
the order they were stored), never from a copy of its table: a page of 10 out of 100,000
customers reads 10 records. A filtered list tests every record and keeps only its page.

With ``loose=True`` (the live profile) the ``externalReference`` filter matches as
integrators report the live API does: any document whose reference *contains* the value,
without regard to case, so a lookup by reference may find other documents too.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from importer.entities import Entity
from importer.sandbox.answers import ApiError, ipp_error
from importer.sandbox.dates import parse_datetime, parse_filter_datetime, to_iso
from importer.sandbox.periods import PERIODS, Period
from importer.sandbox.store import Record, TenantTables
from importer.schema import fields, read_fields

__all__ = ["ListQuery", "DOCUMENT_STATUSES", "parse_bool"]

Predicate = Callable[[Record], bool]

# The response DTOs' status enum for documents (request schemas have none).
DOCUMENT_STATUSES: tuple[str, ...] = read_fields("CustomerInvoiceDto")["status"].enum or ()
_CONDITIONS: dict[str, Callable[[Any, Any], bool]] = {
    ">": operator.gt, "<": operator.lt, ">=": operator.ge, "<=": operator.le,
}


@dataclass(frozen=True, slots=True)
class _Equals:
    param: str
    path: tuple[str, ...]  # where the value sits in a stored record
    period: Period | None = None  # the shape a period parameter must have
    loose: bool = False  # case-insensitive substring match instead of equality


@dataclass(frozen=True, slots=True)
class _Enum:
    """A filter on an enum field named like its parameter, matched without regard to case."""

    param: str
    spellings: dict[str, str]  # casefolded -> the API's spelling


def _enum(param: str, values: Iterable[str]) -> _Enum:
    return _Enum(param, {v.casefold(): v for v in values})


@dataclass(frozen=True, slots=True)
class _Since:
    """A date-time filter on the field of its name, with its ``...Condition`` companion."""

    param: str
    system: bool  # a timestamp the sandbox wrote (fixed-width, compared as text)


def _filters(entity: Entity, loose: bool) -> list[_Equals | _Enum | _Since]:
    common: list[_Equals | _Enum | _Since] = [
        _Since("lastModifiedDateTime", True),
        _Since("createdDateTime", True),
    ]
    if entity.is_document:
        return common + [
            _Equals("financialPeriod", ("financialPeriod",), PERIODS["financialPeriod"]),
            _enum("status", DOCUMENT_STATUSES),
            _Equals("project", ("project",)),
            _Equals("customer", ("customerNumber",)),
            _Equals("externalReference", ("externalReference",), loose=loose),
            _Equals("customerRefNumber", ("customerRefNumber",)),
            _Equals("paymentReference", ("paymentReference",)),
            _Equals("branch", ("branchNumber",)),
            _Since("documentDate", False),
            _Since("documentDueDate", False),
        ]
    statuses = fields(entity.schema)["status"].enum or ()
    return common + [
        _Equals("name", ("name",)),
        _enum("status", statuses),
        _Equals("corporateId", ("corporateId",)),
        _Equals("vatRegistrationId", ("vatRegistrationId",)),
        _Equals("email", ("mainContact", "email")),
        _Equals("phone", ("mainContact", "phone1")),
    ]


def _bad(param: str, reason: str) -> ApiError:
    return ipp_error(f"Invalid value for query parameter '{param}': {reason}.")


def parse_bool(query: Mapping[str, str], param: str, default: bool) -> bool:
    """An ``expand*``-style flag: true/false (any case) or 1/0."""
    text = query.get(param)
    if text is None or text == "":
        return default
    low = text.lower()
    if low in ("true", "1"):
        return True
    if low in ("false", "0"):
        return False
    raise _bad(param, f"expected true or false, got {text!r}")


def _positive_int(query: Mapping[str, str], param: str) -> int | None:
    text = query.get(param)
    if text is None or text == "":
        return None
    try:
        value = int(text)
    except ValueError:
        raise _bad(param, f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise _bad(param, "must be 1 or more")
    return value


def _lookup(record: Record, path: tuple[str, ...]) -> Any:
    value: Any = record
    for part in path:
        if type(value) is not dict:
            return None
        value = value.get(part)
    return value


def _contains(value: Any, folded: str) -> bool:
    return type(value) is str and folded in value.casefold()


# One filter each, as a predicate over a stored record.
def _field_is(field: str, want: str) -> Predicate:
    return lambda record: record.get(field) == want


def _path_is(path: tuple[str, ...], want: str) -> Predicate:
    return lambda record: _lookup(record, path) == want


def _path_contains(path: tuple[str, ...], folded: str) -> Predicate:
    return lambda record: _contains(_lookup(record, path), folded)


def _released_is(want: bool) -> Predicate:
    return lambda record: bool(record.get("released")) is want


class ListQuery:
    """The filters of one entity; ``select()`` answers one list request."""

    def __init__(self, entity: Entity, max_page_size: int, *, loose: bool = False) -> None:
        self.entity = entity
        self.max_page_size = max_page_size
        self._filters = _filters(entity, loose)

    def _predicates(self, query: Mapping[str, str]) -> list[Predicate]:
        preds: list[Predicate] = []
        for f in self._filters:
            if isinstance(f, _Since):
                pred = _since(f, query)
                if pred is not None:
                    preds.append(pred)
                continue
            text = query.get(f.param)
            if text is None or text == "":
                continue
            if isinstance(f, _Enum):
                canonical = f.spellings.get(text.casefold())
                if canonical is None:
                    raise _bad(f.param, f"expected one of {', '.join(f.spellings.values())}, got {text!r}")
                preds.append(_field_is(f.param, canonical))
                continue
            if f.period is not None and not f.period.pattern.match(text):
                raise _bad(f.param, f"expected a period as {f.period.shape}, got {text!r}")
            if f.loose:
                folded = text.casefold()
                preds.append(_path_contains(f.path, folded))
            else:
                preds.append(_path_is(f.path, text))
        released = query.get("released") if self.entity.is_document else None
        if released:
            if released not in ("0", "1"):
                raise _bad("released", f"expected 0 or 1, got {released!r}")
            preds.append(_released_is(released == "1"))
        return preds

    def select(self, tables: TenantTables, query: Mapping[str, str]) -> tuple[list[Record], int]:
        """The requested page of matching records and the number of matches in all.

        Without filters the page is read from the entity's index (``TenantTables.page``):
        a page of 10 touches 10 records, however many the tenant holds. With filters every
        record is tested, but only the page's are kept: nothing copies the table.
        """
        preds = self._predicates(query)
        page_number = _positive_int(query, "pageNumber") or 1
        page_size = min(_positive_int(query, "pageSize") or self.max_page_size, self.max_page_size)
        start = (page_number - 1) * page_size
        name = self.entity.name
        if not preds:
            return tables.page(name, start, page_size), len(tables.order[name])
        end = start + page_size
        page: list[Record] = []
        total = 0
        for record in tables.records[name].values():  # stored order, as the index's
            if all(p(record) for p in preds):
                if start <= total < end:
                    page.append(record)
                total += 1
        return page, total


def _since(f: _Since, query: Mapping[str, str]) -> Predicate | None:
    """The predicate of a date filter, or None when neither half of the pair was sent."""
    cond_param = f.param + "Condition"
    text, cond = query.get(f.param), query.get(cond_param)
    if not text and not cond:
        return None
    if not text:
        raise _bad(f.param, f"required together with '{cond_param}'")
    if not cond:
        raise _bad(cond_param, f"required together with '{f.param}' (one of >, <, >=, <=)")
    compare = _CONDITIONS.get(cond.strip())
    if compare is None:
        raise _bad(cond_param, f"expected one of >, <, >=, <=, got {cond!r}")
    when = parse_filter_datetime(text)
    if when is None:
        raise _bad(
            f.param,
            f"expected yyyy-MM-dd, yyyy-MM-dd HH:mm:ss or yyyy-MM-dd HH:mm:ss.FFF, got {text!r}",
        )
    field = f.param
    if f.system:
        bound = to_iso(when)
        return lambda r: (v := r.get(field)) is not None and compare(v, bound)

    def pred(r: Record) -> bool:
        v = r.get(field)
        parsed = parse_datetime(v) if type(v) is str else None
        return parsed is not None and compare(parsed, when)

    return pred
