import pytest

from importer.errors import RecordError
from importer.mapping.coerce import CoerceOptions, coercer_for, parse_bool
from importer.schema import Field


def field(type_: str, name: str = "x", enum: tuple[str, ...] | None = None) -> Field:
    return Field(name, "scalar", type_, True, enum, None)


@pytest.mark.parametrize("text,expected", [
    ("true", True), ("FALSE", False), ("1", True), ("0", False),
    ("yes", True), ("no", False), ("ja", True), ("Nei", False), (True, True),
])
def test_booleans(text, expected):
    assert parse_bool(text) is expected


def test_boolean_rejects_other_words():
    with pytest.raises(RecordError, match="not a boolean"):
        parse_bool("kanskje")


def test_decimal_point_and_integers():
    number = coercer_for(field("number"), CoerceOptions())
    assert number("12.5") == 12.5
    assert number("500") == 500 and isinstance(number("500"), int)
    assert number(" 1 234.5 ") == 1234.5
    assert number("0155") == 155
    with pytest.raises(RecordError, match="--decimal-comma"):
        number("12,5")
    with pytest.raises(RecordError, match="not a number"):
        number("²")  # a digit to str.isdigit, not to a number parser


def test_decimal_comma():
    number = coercer_for(field("number"), CoerceOptions(decimal_comma=True))
    assert number("12,5") == 12.5
    assert number("12 500,00") == 12500.0
    assert number("1.234,50") == 1234.5
    assert number("2\u00a0000,50") == 2000.5
    with pytest.raises(RecordError, match="not a number"):
        number("tolv")


def test_integer():
    integer = coercer_for(field("integer"), CoerceOptions())
    assert integer("42") == 42
    assert integer(7) == 7
    with pytest.raises(RecordError, match="whole number"):
        integer("4.5")
    with pytest.raises(RecordError):
        integer(True)


def test_dates_iso_and_custom_format():
    iso = coercer_for(field("datetime"), CoerceOptions())
    assert iso("2020-01-27") == "2020-01-27"
    assert iso("2020-01-21T09:39:48.538Z") == "2020-01-21T09:39:48.538Z"
    with pytest.raises(RecordError, match="--date-format"):
        iso("27.01.2020")
    norwegian = coercer_for(field("datetime"), CoerceOptions(date_format="%d.%m.%Y"))
    assert norwegian("27.01.2020") == "2020-01-27"
    with pytest.raises(RecordError, match="does not match"):
        norwegian("2020-01-27")


def test_periods_stay_strings_and_are_checked():
    fin = coercer_for(field("string", "financialPeriod"), CoerceOptions())
    post = coercer_for(field("string", "postPeriod"), CoerceOptions())
    assert fin("202001") == "202001"
    assert post("012020") == "012020"
    assert fin(202001) == "202001"
    assert fin("202012") == "202012" and post("122020") == "122020"
    for bad in ("12020", "2020011", "20200a", "２０２００１"):
        with pytest.raises(RecordError, match="MMYYYY"):
            post(bad)
        with pytest.raises(RecordError, match="YYYYMM"):
            fin(bad)
    # the month is checked where each layout puts it
    for bad in ("202000", "202013", "202099", "012020", "122020"):
        with pytest.raises(RecordError, match="format YYYYMM"):
            fin(bad)
    for bad in ("002020", "132020", "992020", "202001", "202012"):
        with pytest.raises(RecordError, match="format MMYYYY"):
            post(bad)


def test_enum_is_canonicalised():
    status = coercer_for(field("string", "status", ("Active", "OnHold")), CoerceOptions())
    assert status("onhold") == "OnHold"
    with pytest.raises(RecordError, match="Active, OnHold"):
        status("Sleeping")


def test_strings_keep_their_text():
    text = coercer_for(field("string"), CoerceOptions())
    assert text("Blåbær & Tyttebær") == "Blåbær & Tyttebær"
    assert text(10000) == "10000"
