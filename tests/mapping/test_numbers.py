"""Numbers in text are read one way or refused: the rule tables, and properties against a reference reader."""

from __future__ import annotations

import re
from decimal import Decimal

import orjson
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from importer.errors import RecordError
from importer.mapping.coerce import CoerceOptions, coercer_for
from importer.schema import Field, fields

CUSTOMER = fields("CustomerUpdateDto")
COMMA, POINT = True, False
# Grouping characters of each convention (no-break and narrow no-break spaces included).
GROUPS = {COMMA: [".", " ", "\u00a0", "\u202f", "'"], POINT: [",", " ", "\u00a0", "\u202f", "'"]}
MARK = {COMMA: ",", POINT: "."}


def number(decimal_comma: bool):
    return coercer_for(CUSTOMER["creditLimit"], CoerceOptions(decimal_comma=decimal_comma))


# -- the rule tables, as the README gives them --------------------------------------------


@pytest.mark.parametrize("text,expected", [
    ("25.000", 25000), ("1.250.000,00", 1250000.0), ("12 500", 12500), ("12 500,50", 12500.5),
    ("2\u00a0000,50", 2000.5), ("1\u202f000", 1000), ("1'250'000,75", 1250000.75),
    ("(500,00)", -500.0), ("500,00-", -500.0), ("-500,00", -500.0), ("+500", 500), ("0,1", 0.1),
    ("1234,50", 1234.5), ("0155", 155), (" 7,5 ", 7.5), (",5", 0.5),
])
def test_decimal_comma_reads(text, expected):
    result = number(COMMA)(text)
    assert result == expected and type(result) is type(expected)


@pytest.mark.parametrize("text,expected", [
    ("25,000", 25000), ("1,250,000.00", 1250000.0), ("12 500", 12500), ("1'000.5", 1000.5),
    ("(500.00)", -500.0), ("500.00-", -500.0), ("1234.5", 1234.5), ("50000", 50000), ("-12.5", -12.5),
])
def test_decimal_point_reads(text, expected):
    result = number(POINT)(text)
    assert result == expected and type(result) is type(expected)


@pytest.mark.parametrize("decimal_comma,text", [
    (COMMA, "12,345.67"),  # a decimal point after the decimal comma
    (COMMA, "1.5"), (COMMA, "1.2345"), (COMMA, "1.25.000"),  # '.' groups in threes only
    (COMMA, "1.234 567"),  # two grouping characters in one value
    (COMMA, "12.34,5.6"), (COMMA, "1,2,3"), (COMMA, "+5-"), (COMMA, "(-5)"), (COMMA, "--5"),
    (POINT, "12,5"), (POINT, "1,2345"), (POINT, "1.234.567"), (POINT, "12.345,67"), (POINT, "1,234 567"),
])
def test_a_value_that_fits_neither_rule_is_refused_naming_the_convention_and_the_switch(decimal_comma, text):
    with pytest.raises(RecordError) as info:
        number(decimal_comma)(text)
    reason = str(info.value)
    if decimal_comma:
        assert "decimal comma" in reason and "--no-decimal-comma" in reason
    else:
        assert "decimal point" in reason and "pass --decimal-comma" in reason


@pytest.mark.parametrize("text", ["1e5", "1E-3", "nan", "inf", "-Infinity", "0x1f"])
def test_exponents_nan_inf_and_hex_are_refused(text):
    for decimal_comma in (COMMA, POINT):
        with pytest.raises(RecordError, match="exponents, hex, nan and inf are not read"):
            number(decimal_comma)(text)


@pytest.mark.parametrize("text", ["-", "()", "+", "tolv", "²", "１２"])
def test_text_without_a_number_is_refused(text):
    with pytest.raises(RecordError, match="is not a number"):
        number(COMMA)(text)


def test_more_digits_than_a_double_keeps_are_refused_not_rounded():
    assert number(POINT)("999999999999999") == 999_999_999_999_999  # 15 digits
    assert number(POINT)("1234567890123.45") == 1234567890123.45
    for text in ("9999999999999999", "12345678901234.567", "0.1234567890123456"):
        with pytest.raises(RecordError, match="more than 15 significant digits"):
            number(POINT)(text)
    assert number(POINT)("0.000000000000000001") == 1e-18  # leading zeros are not digits kept


def test_json_numbers_stay_as_they_are_and_json_strings_follow_the_text_rules():
    for value in (1234.5, 7, -0.25, 10**14):
        assert number(COMMA)(value) == value and type(number(COMMA)(value)) is type(value)
    for bad in (float("nan"), float("inf"), True, 2**70, 10**17):  # 10**17: 18 digits, as a cell would be
        with pytest.raises(RecordError):
            number(COMMA)(bad)
    assert number(COMMA)("25.000") == 25000


def test_integers_follow_the_same_rules_and_refuse_decimals():
    integer = coercer_for(CUSTOMER["numberOfEmployees"], CoerceOptions(decimal_comma=True))
    assert integer("1.000") == 1000 and integer("(12)") == -12 and integer("3 000") == 3000
    for bad in ("4,5", "1.5", "1e3"):
        with pytest.raises(RecordError):
            integer(bad)
    dotted = coercer_for(CUSTOMER["numberOfEmployees"], CoerceOptions())
    assert dotted("1,000") == 1000
    with pytest.raises(RecordError, match="whole number"):
        dotted("1.000")


def test_the_json_sent_is_the_number_written():
    for text, sent in (("1234.50", b"1234.5"), ("0.10", b"0.1"), ("1,250,000.00", b"1250000.0"),
                       ("1234567890123.45", b"1234567890123.45"), ("25,000", b"25000")):
        assert orjson.dumps(number(POINT)(text)) == sent


# -- properties ------------------------------------------------------------------------


def write(cents: int, decimals: bool, decimal_comma: bool, group: str | None, sign: str, plus: bool) -> str:
    """``cents`` (or whole units) written as an accounting export would in one convention."""
    whole, frac = divmod(abs(cents), 100) if decimals else (abs(cents), 0)
    digits = str(whole)
    if group is not None:
        digits = f"{whole:,}".replace(",", group)
    text = digits + (f"{MARK[decimal_comma]}{frac:02d}" if decimals else "")
    if cents < 0:
        return {"lead": "-" + text, "trail": text + "-", "parens": f"({text})"}[sign]
    return ("+" + text) if plus else text


@settings(max_examples=400, deadline=None)
@given(
    amount=st.one_of(st.integers(-10**14, 10**14), st.integers(-999, 999)),
    decimals=st.booleans(),
    decimal_comma=st.booleans(),
    group_index=st.one_of(st.none(), st.integers(0, 4)),
    sign=st.sampled_from(["lead", "trail", "parens"]),
    plus=st.booleans(),
)
@example(amount=25000, decimals=False, decimal_comma=True, group_index=0, sign="lead", plus=False)
@example(amount=125000000, decimals=True, decimal_comma=True, group_index=0, sign="lead", plus=False)
@example(amount=-50000, decimals=True, decimal_comma=True, group_index=None, sign="parens", plus=False)
def test_every_formatted_amount_reads_as_its_value(amount, decimals, decimal_comma, group_index, sign, plus):
    if not decimals and abs(amount) > 10**12:
        amount //= 100  # whole amounts up to 10^12
    group = None if group_index is None else GROUPS[decimal_comma][group_index]
    text = write(amount, decimals, decimal_comma, group, sign, plus)
    result = number(decimal_comma)(text)
    if decimals:
        exact = Decimal(amount) / 100
        assert type(result) is float and result == float(exact)
        assert Decimal(orjson.dumps(result).decode()) == exact  # the JSON sent reads back as the amount
    else:
        assert type(result) is int and result == amount


def reference(text: str, decimal_comma: bool) -> Decimal | int | None:
    """The rule table, read independently: the value ``text`` stands for, or None."""
    mark = MARK[decimal_comma]
    body, negative = text.strip(), False
    if body[:1] == "(" and body[-1:] == ")":
        body, negative = body[1:-1], True
    elif body[:1] in ("-", "+"):
        body, negative = body[1:], body[0] == "-"
    elif body[-1:] == "-":
        body, negative = body[:-1], True
    whole, _, frac = body.partition(mark)
    if mark in body and not re.fullmatch(r"[0-9]+", frac):
        return None
    separators = set(re.sub(r"[0-9]", "", whole))
    if separators:
        if len(separators) > 1 or separators.pop() not in GROUPS[decimal_comma]:
            return None
        parts = re.split(r"[^0-9]", whole)
        if not (1 <= len(parts[0]) <= 3 and all(len(p) == 3 for p in parts[1:])):
            return None
        whole = "".join(parts)
    if not whole and mark not in body:
        return None
    if len((whole + frac.rstrip("0")).lstrip("0")) > 15:  # more than a double keeps: refused
        return None
    sign = -1 if negative else 1
    if mark in body:
        return sign * Decimal(f"{whole or '0'}.{frac}")
    return sign * int(whole)


NUMBERISH = st.one_of(
    st.text(alphabet="0123456789.,' -()+", max_size=14),
    st.lists(st.sampled_from(["1", "25", "000", "500", "7", ".", ",", "'", " ", "-", "(", ")", "+"]),
             max_size=9).map("".join),
)


@settings(max_examples=1500, deadline=None)
@given(text=NUMBERISH, decimal_comma=st.booleans())
@example(text="12,345.67", decimal_comma=True)
@example(text="25.000", decimal_comma=True)
@example(text="1.2345", decimal_comma=True)
@example(text="1.5", decimal_comma=False)
def test_whatever_is_accepted_is_the_value_the_rule_defines(text, decimal_comma):
    expected = reference(text, decimal_comma)
    try:
        result = number(decimal_comma)(text)
    except RecordError:
        assert expected is None, f"{text!r} reads as {expected} under the rule but was refused"
        return
    assert expected is not None, f"{text!r} was read as {result!r}, but the rule refuses it"
    if isinstance(expected, Decimal):
        assert type(result) is float and result == float(expected)
    else:
        assert type(result) is int and result == expected


def test_a_field_with_bounds_refuses_values_outside_them():
    capped = Field("discountPercent", "scalar", "number", True, None, None, 0, 100)
    percent = coercer_for(capped, CoerceOptions(decimal_comma=True))
    assert percent("12,5") == 12.5
    with pytest.raises(RecordError, match="from 0 to 100"):
        percent("100,5")
