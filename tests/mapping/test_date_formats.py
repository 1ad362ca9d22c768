"""Dates are read one way or refused: date formats checked before anything is read."""

from __future__ import annotations

import pytest

from importer.errors import ConfigError, RecordError
from importer.mapping.coerce import CoerceOptions, check_date_format, coercer_for, date_format_problem
from importer.mapping.mapfile import MapError, parse_map
from importer.options import ImportOptions
from importer.schema import fields
from tests.support.runs import run_cli

DOCUMENT_DATE = fields("CustomerInvoiceUpdateDto")["documentDate"]


def read(text: str, fmt: str | None) -> str:
    return coercer_for(DOCUMENT_DATE, CoerceOptions(date_format=fmt))(text)


@pytest.mark.parametrize("spelled,meant", [
    ("dd.mm.yyyy", "%d.%m.%Y"), ("yyyy-mm-dd", "%Y-%m-%d"), ("dd/mm/yy", "%d/%m/%y"),
    ("mm/dd/yyyy", "%m/%d/%Y"), ("yyyymmdd", "%Y%m%d"), ("DD.MM.YYYY", "%d.%m.%Y"),
    ("yyyy-mm-dd hh:mm:ss", "%Y-%m-%d %H:%M:%S"),
])
def test_a_format_without_directives_is_refused_with_the_likely_one(spelled, meant):
    with pytest.raises(ConfigError) as info:
        check_date_format(spelled)
    assert str(info.value) == (f"--date-format: {spelled!r} is not a strptime layout (directives start with %); "
                               f"did you mean {meant!r}?")
    check_date_format(meant)  # the suggestion itself is accepted


@pytest.mark.parametrize("fmt,reason", [
    ("%d.%m.%Q", "%Q is not a date or time directive"),
    ("%d.%m.%Y%", "a lone % at the end"),
    ("%-d.%m.%Y", "%- is not a date or time directive"),
    ("%d.%m", "does not read back the dates it writes"),  # no year: 1900
    ("%Y-%m", "does not read back the dates it writes"),  # no day
    ("%H:%M", "does not read back the dates it writes"),  # a time alone
    ("%d.%m.%Y %I:%M", "does not read back the dates it writes"),  # 23:59 comes back as 11:59
    ("%d.%m.%d", "is not a usable strptime layout"),  # the day twice
    ("nothing", "is not a strptime layout"),
])
def test_formats_that_cannot_read_dates_one_way_are_refused(fmt, reason):
    problem = date_format_problem(fmt)
    assert problem is not None and reason in problem


@pytest.mark.parametrize("fmt", ["%d.%m.%Y", "%Y%m%d", "%d/%m/%y", "%m/%d/%Y %H:%M", "%d.%m.%Y %I:%M %p",
                                 "%Y-%m-%dT%H:%M:%S.%f", "%d %b %Y", "%Y-%j", "%d.%m.%Y %%"])
def test_usable_formats_pass(fmt):
    assert date_format_problem(fmt) is None


def test_the_run_options_check_the_format_before_anything_is_read():
    with pytest.raises(ConfigError, match=r"--date-format: 'dd\.mm\.yyyy' .*did you mean '%d\.%m\.%Y'"):
        ImportOptions(entity="invoice", date_format="dd.mm.yyyy")
    assert ImportOptions(entity="invoice", date_format="%d.%m.%Y").date_format == "%d.%m.%Y"


def test_a_mapping_file_checks_its_formats_globally_and_per_column():
    with pytest.raises(MapError) as info:
        parse_map('[formats]\ndate_format = "yyyy-mm-dd"\ndocumentDueDate = { date_format = "%d.%m" }\n',
                  entity="invoice", path="f.map.toml")
    text = str(info.value)
    assert "formats.date_format: 'yyyy-mm-dd' is not a strptime layout" in text and "'%Y-%m-%d'" in text
    assert "formats.documentDueDate.date_format: '%d.%m' does not read back the dates it writes" in text


def test_an_impossible_date_is_not_a_valid_date_and_a_misfit_does_not_match():
    assert read("29.02.2024", "%d.%m.%Y") == "2024-02-29"
    for text in ("31.02.2024", "29.02.2023", "31.04.2024"):
        with pytest.raises(RecordError, match="is not a valid date"):
            read(text, "%d.%m.%Y")
    for text in ("2024-02-01", "32.01.2024", "1.2.2024x"):
        with pytest.raises(RecordError, match="does not match the date format '%d.%m.%Y'"):
            read(text, "%d.%m.%Y")


def test_two_digit_years_only_under_percent_y():
    with pytest.raises(RecordError, match="four-digit year"):
        read("24.01.24", "%d.%m.%Y")
    with pytest.raises(RecordError, match="four-digit year"):
        read("24.01.0024", "%d.%m.%Y")  # four digits, but the year 24 is no ledger date
    with pytest.raises(RecordError, match="does not match"):
        read("24.01.924", "%d.%m.%Y")
    assert read("24.01.24", "%d.%m.%y") == "2024-01-24"
    assert read("24.01.2024", "%d.%m.%Y") == "2024-01-24"
    with pytest.raises(RecordError, match="does not match"):
        read("24.01.2024", "%d.%m.%y")


def test_iso_dates_stay_as_they_are():
    assert read("2024-02-29", None) == "2024-02-29"
    assert read("2020-01-21T09:39:48.538Z", None) == "2020-01-21T09:39:48.538Z"
    with pytest.raises(RecordError, match="not a valid date"):
        read("2024-02-30", None)
    with pytest.raises(RecordError, match="--date-format"):
        read("27.01.2020", None)


@pytest.mark.one_profile  # what it checks is decided in the files and the CLI, not by the API
async def test_the_cli_stops_with_exit_2_on_a_spelled_out_format(sandbox, tmp_path):
    path = tmp_path / "i.csv"
    path.write_text("referenceNumber,customerNumber,documentDate,line.description\n1,10000,27.01.2020,a\n")
    code, out, err = await run_cli("run", str(path), "--entity", "invoice", "--date-format", "dd.mm.yyyy",
                                   "--base-url", sandbox.url, "--token", "sandbox-token")
    assert code == 2, err
    assert "'%d.%m.%Y'" in err and "Traceback" not in err + out
    assert not (tmp_path / "i.csv.results.ndjson").exists()
