"""What a record *is*, whatever row it is on: its identity and its fingerprint.

The identity names the record in the API's terms, so a rerun, a resume or a plan
finds it again after rows are inserted, deleted or reordered:

========================  ==========================================  ===============
record                    identity                                    example
========================  ==========================================  ===============
keyed customer/document   ``key:`` + number / referenceNumber          ``key:C1001``
auto-numbered document    ``doc:`` + documentKey                      ``doc:INV-7``
dunning letter            ``letter:`` customer, date, levels          ``letter:C1|2024-01-31|1-3``
nothing that names it     ``content:`` + its fingerprint              ``content:9f2c…``
========================  ==========================================  ===============

Both are taken as the API sees the record, so a file re-saved by a spreadsheet is the
same file: keys are trimmed (the mapper trims them before they are sent), a date-time
at midnight is its date (``2024-02-01T00:00:00`` is ``2024-02-01``), and a number is
its value (``1250``, ``1250.0`` and ``"1250.00"`` in an amount field are one amount).
Identities are *compared* by :func:`identity_key`, which also ignores the case of a
key, as the API does; they are written as the input spelled them, less the padding.

The fingerprint is a short hash of the mapped payload (keys sorted) with its dates and
numbers made canonical (:func:`canonical`), taken before the importer adds anything of
its own (``externalReference``): the same record always has the same fingerprint, and
a changed cell changes it. A payload whose values are canonical already hashes as it
always did, so results files written before stay valid; :func:`fingerprint_as_written`
gives the hash of the payload as it came, for lines written from one that was not. A
record that could not be mapped is fingerprinted by its source rows instead, so fixing
it changes it; one the reader could not read (a row cut mid-quote, with the wrong number
of fields, with bytes the encoding cannot read) by its bytes, so each such row is a
record of its own wherever it stands, and two rows of the same bytes are one record.

    identity, fingerprint = identify(entity, work)
    identity_key("key:  c1 ") == identity_key("key:C1")      # True

A second unit of one input with an identity met before is invalid, for the reason
:func:`duplicate_error` gives; its results line names the first in ``duplicate_of``, so a
report counts it as the record of its own it is, not as a later word on the first.
:func:`duplicate_of` reads the first back from the reason, for lines written before that field.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from functools import cache
from hashlib import blake2b
from typing import Any

import orjson

from importer.entities import Entity
from importer.mapping import Work
from importer.schema import fields, unwrap_value
from importer.sources.base import SourceRecord

__all__ = ["identify", "duplicate_error", "duplicate_of", "fingerprint_of", "fingerprint_as_written", "canonical", "canonical_date",
           "canonical_number", "identity_key", "CONTENT"]

CONTENT = "content:"  # the prefix of identities made from the content alone

_MIDNIGHT = re.compile(r"(\d{4}-\d{2}-\d{2})T00:00(?::00(?:\.0+)?)?(?:Z|[+-]00:?00)?")
_NUMBERS = frozenset({"number", "integer"})
_MAX_EXACT = 2**53  # beyond this a float is no exact integer


def fingerprint_of(value: Any) -> str:
    """16 hex digits that change whenever ``value`` does (dict order aside)."""
    try:  # the usual payload, all text keys and JSON values: the same bytes, sooner
        data = orjson.dumps(value, option=orjson.OPT_SORT_KEYS)
    except orjson.JSONEncodeError:
        data = orjson.dumps(value, option=orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS, default=str)
    return blake2b(data, digest_size=8).hexdigest()


def canonical_date(value: Any) -> Any:
    """A date-time at midnight (no offset, or UTC) as its date; any other value as it is."""
    if isinstance(value, str) and len(value) > 10 and (match := _MIDNIGHT.fullmatch(value)):
        return match.group(1)
    return value


def canonical_number(value: Any) -> Any:
    """An amount as one value however it was spelled: a whole number as an int, else a float.

    Values that are not numbers (text that is no number, booleans) are left as they are.
    """
    if isinstance(value, bool):
        return value
    if isinstance(value, float):
        return int(value) if value.is_integer() and abs(value) < _MAX_EXACT else value
    if isinstance(value, str):
        try:
            number = Decimal(value.strip())
        except InvalidOperation:
            return value
        if not number.is_finite() or number.adjusted() > 15:  # no amount: text as it is (and no 1e10000000)
            return value
        if number == number.to_integral_value():
            return int(number)
        return float(number)
    return value


@cache
def _kinds(schema: str) -> dict[str, tuple[str, str | None]]:
    """``name -> (how, ref)`` for the fields of ``schema`` whose values can be spelled two ways
    (nested objects and arrays only where they hold such a field, at any depth)."""
    kinds: dict[str, tuple[str, str | None]] = {}
    for name, spec in fields(schema).items():
        if spec.kind == "scalar" and spec.type in _NUMBERS:
            kinds[name] = ("number", None)
        elif spec.kind == "scalar" and spec.type == "datetime":
            kinds[name] = ("date", None)
        elif spec.kind in ("object", "array") and spec.ref and spec.ref != schema and _spelled(spec.ref, schema):
            kinds[name] = (spec.kind, spec.ref)
    return kinds


def _spelled(ref: str, within: str) -> bool:
    """Whether ``ref`` (a schema nested in ``within``) has a field that can be spelled two ways."""
    try:
        return bool(_kinds(ref))
    except (KeyError, RecursionError):
        return True  # cannot tell: walk it


def canonical(payload: dict[str, Any], schema: str) -> dict[str, Any]:
    """``payload`` with its dates and numbers canonical; the same object when they are already."""
    try:
        kinds = _kinds(schema)
    except KeyError:  # a schema the tables do not have: nothing to go by
        return payload
    changed: dict[str, Any] | None = None
    for name, value in payload.items():
        kind = kinds.get(name)
        if kind is None:
            continue
        new = _canonical_value(value, *kind)
        if new is not value:
            if changed is None:
                changed = dict(payload)
            changed[name] = new
    return payload if changed is None else changed


def _canonical_value(value: Any, how: str, ref: str | None) -> Any:
    kind = value.__class__
    if kind is int or kind is bool or value is None:  # already canonical, whatever the field
        return value
    if kind is dict and how == "number" and value.get("value").__class__ is int:  # {"value": 50000}
        return value
    if isinstance(value, dict) and how in ("number", "date") and "value" in value:  # a wrapper
        inner = _canonical_value(value["value"], how, ref)
        return value if inner is value["value"] else {**value, "value": inner}
    if how == "number":
        new = canonical_number(value)
        return value if new == value and type(new) is type(value) else new
    if how == "date":
        new = canonical_date(value)
        return value if new == value else new
    if how == "object" and isinstance(value, dict) and ref:
        return canonical(value, ref)
    if how == "array" and isinstance(value, list) and ref:
        items = [canonical(item, ref) if isinstance(item, dict) else item for item in value]
        return value if all(a is b for a, b in zip(items, value, strict=True)) else items
    return value


def fingerprint_as_written(work: Work) -> str:
    """The fingerprint of ``work``'s payload as it came, before its values were made canonical."""
    if work.payload is None:
        return fingerprint_of([getattr(r.data, "source", r.data) for r in work.rows])
    return fingerprint_of(work.payload)


def identify(entity: Entity, work: Work) -> tuple[str, str]:
    """``(identity, fingerprint)`` of one unit of work (see the module's table)."""
    if work.payload is not None:
        fingerprint = fingerprint_of(canonical(work.payload, entity.schema))
    else:  # invalid: its rows as read stand for it
        fingerprint = _unreadable(work.rows) or fingerprint_of([getattr(r.data, "source", r.data) for r in work.rows])
    if entity.is_action:
        payload = work.payload or {}
        if work.key:
            date = canonical_date(unwrap_value(payload.get("dunningLetterDate")))
            levels = f"{_level(payload.get('levelFrom'))}-{_level(payload.get('levelTo'))}"
            return f"letter:{str(work.key).strip()}|{date}|{levels}", fingerprint
    elif work.key:
        return f"key:{str(work.key).strip()}", fingerprint
    elif work.group:
        return f"doc:{str(work.group).strip()}", fingerprint
    return CONTENT + fingerprint, fingerprint


def _unreadable(rows: list[SourceRecord]) -> str | None:
    """The fingerprint of rows the reader could not read, from their bytes; None when it read them all.

    Their cells say little or nothing (a row cut mid-quote has none), so three such rows
    would be one record; their bytes tell them apart wherever they stand in the file. The
    last line end is left out, so a row that becomes the file's last keeps its identity.
    """
    if all(r.error is None for r in rows):
        return None
    digest = blake2b(b"unread:", digest_size=8)
    for record in rows:
        raw = record.raw
        if raw is None:  # kept no bytes (over --max-field-size): what the reader said of it stands in
            raw = (record.error or "").encode()
        elif raw.endswith(b"\n") or raw.endswith(b"\r"):
            raw = raw[:-2] if raw.endswith(b"\r\n") else raw[:-1]
        digest.update(len(raw).to_bytes(8, "big"))
        digest.update(raw)
    return digest.hexdigest()


def _level(value: Any) -> Any:
    return canonical_number(unwrap_value(value))


def identity_key(identity: str) -> str:
    """``identity`` as identities are compared: a key trimmed and without regard to case, a
    letter's date as a date, its levels as numbers. Identities written by older versions
    (with padding, or a midnight time) compare equal to those written now."""
    kind, sep, rest = identity.partition(":")
    if not sep:
        return identity
    if kind == "key":
        return f"key:{rest.strip().casefold()}"
    if kind == "letter":
        parts = rest.split("|")
        if len(parts) == 3:
            customer, date, levels = parts
            low, dash, high = levels.partition("-")
            if dash:
                levels = f"{canonical_number(low)}-{canonical_number(high)}"
            return f"letter:{customer.strip().casefold()}|{canonical_date(date.strip())}|{levels}"
        return identity
    if kind == "doc":
        return f"doc:{rest.strip()}"
    return identity


_DUPLICATE = re.compile(r"record \d+: same [^;]+ as record (\d+)(?:;|$)")


def duplicate_error(record: int, same: str, first: int, also: str | None = None) -> str:
    """Why record ``record`` is refused: ``same`` (``same number``) as record ``first`` of the input;
    ``also``: what else is wrong with it."""
    return f"record {record}: {same} as record {first}" + (f"; {also}" if also else "")


def duplicate_of(error: str | None) -> int | None:
    """The first record a :func:`duplicate_error` names; None for any other reason."""
    found = _DUPLICATE.match(error or "")
    return int(found.group(1)) if found else None
