"""Turning an element's text into the value its schema type says, or a reason it cannot be."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date
from decimal import Decimal, InvalidOperation

from importer.saft.facts import FieldFact

__all__ = ["BadValue", "Value", "convert", "converter", "Converter"]

Value = str | Decimal | int | date | bool | None
Converter = Callable[[str], Value]

# xs:decimal and xs:integer have no exponent, no thousands separator, no comma.
_DECIMAL = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)")
_INTEGER = re.compile(r"[+-]?\d+")
_DATE = re.compile(r"(\d{4}-\d{2}-\d{2})(Z|[+-]\d{2}:\d{2})?")
_BOOLEANS = {"true": True, "1": True, "false": False, "0": False}


class BadValue(Exception):
    """The text does not fit the element's type; the message says how."""


def converter(fact: FieldFact) -> Converter:
    """``convert`` for one element's facts, made once: the reader calls it for every such element.

    The common types get a function of their own (a string: a strip and a length check; an
    amount without bounds: the pattern and ``Decimal``); the rest go through ``convert``."""
    if fact.kind == "string":
        limit = fact.max_length
        return _string if limit is None else _limited_string(limit)
    if fact.kind == "decimal" and fact.minimum is None and fact.maximum is None:
        return _plain_decimal
    return lambda text: convert(text, fact)


def _string(text: str) -> Value:
    return text.strip() or None


def _limited_string(limit: int) -> Converter:
    def limited(text: str) -> Value:
        if len(text) > limit:  # only then can the stripped text be too long
            text = text.strip()
            if len(text) > limit:
                raise BadValue(f"is {len(text)} characters long; the schema allows {limit}")
        return text.strip() or None
    return limited


def _plain_decimal(text: str) -> Value:
    text = text.strip()
    if not text:
        raise BadValue(f"is empty; the schema wants {_NAMES['decimal']}")
    return _decimal(text)


def convert(text: str, fact: FieldFact) -> Value:
    """The typed value of ``text``; an empty string is no value at all."""
    text = text.strip()
    if fact.kind == "string":
        if not text:
            return None
        if fact.max_length is not None and len(text) > fact.max_length:
            raise BadValue(f"is {len(text)} characters long; the schema allows {fact.max_length}")
        return text
    if not text:
        raise BadValue(f"is empty; the schema wants {_NAMES[fact.kind]}")
    if fact.kind == "decimal":
        return _bounded(_decimal(text), fact)
    if fact.kind == "integer":
        if not _INTEGER.fullmatch(text):
            raise BadValue(f"{text!r} is not a whole number")
        return int(_bounded(Decimal(text), fact))
    if fact.kind == "date":
        return _date(text)
    if fact.kind == "boolean":
        if text not in _BOOLEANS:
            raise BadValue(f"{text!r} is not true or false")
        return _BOOLEANS[text]
    return text


_NAMES = {"decimal": "an amount", "integer": "a whole number", "date": "a date (YYYY-MM-DD)",
          "boolean": "true or false", "string": "text", "group": "elements"}


def _decimal(text: str) -> Decimal:
    if not _DECIMAL.fullmatch(text):
        raise BadValue(f"{text!r} is not an amount (digits with an optional '.' decimal point)")
    try:
        return Decimal(text)
    except InvalidOperation:  # the pattern already excludes this; kept for safety
        raise BadValue(f"{text!r} is not an amount") from None


def _bounded(number: Decimal, fact: FieldFact) -> Decimal:
    if fact.minimum is not None and number < Decimal(fact.minimum):
        raise BadValue(f"{number} is below the schema's minimum {fact.minimum}")
    if fact.maximum is not None and number > Decimal(fact.maximum):
        raise BadValue(f"{number} is above the schema's maximum {fact.maximum}")
    return number


def _date(text: str) -> date:
    found = _DATE.fullmatch(text)
    if not found:
        raise BadValue(f"{text!r} is not a date (YYYY-MM-DD)")
    try:
        return date.fromisoformat(found.group(1))
    except ValueError:
        raise BadValue(f"{text!r} is not a date of the calendar") from None
