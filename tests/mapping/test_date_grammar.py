"""Dates follow one grammar, the API's, and numbers given to a run are finite.

Without ``--date-format`` a date is ``YYYY-MM-DD``, or that with ``T``, hours and minutes,
optional seconds and fraction (up to 7 digits) and an optional ``Z`` or ``±HH:MM`` offset,
between 1753-01-01 and 9999-12-31. Anything else is refused in the dry run already, as the
API would refuse it; what is accepted is sent normalised. ``nan`` and ``inf`` are no rate,
timeout or count, wherever they are written: the command line, the environment, a config
file, a plan, a fleet manifest.
"""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from importer.errors import RecordError
from importer.mapping.coerce import DATE_RANGE, CoerceOptions, coercer_for
from importer.schema import fields
from tests.support.runs import TOKEN, assert_one_final_line_per_record, get_json, read_lines, run_cli

pytestmark = pytest.mark.one_profile  # settled before the API's quirks matter (see conftest)

DOCUMENT_DATE = fields("CustomerInvoiceUpdateDto")["documentDate"]
read = coercer_for(DOCUMENT_DATE, CoerceOptions())
FORMS = "YYYY-MM-DD, or YYYY-MM-DDTHH:MM with optional :SS, a fraction of up to 7 digits and Z or an offset +HH:MM"

# -- the grammar, property by property ------------------------------------------------------

days = st.dates(min_value=DATE_RANGE[0], max_value=DATE_RANGE[1])
offsets = st.one_of(
    st.none(), st.just("Z"),
    st.tuples(st.sampled_from("+-"), st.integers(0, 14), st.integers(0, 59), st.booleans())
    .filter(lambda o: o[1] * 60 + o[2] <= 14 * 60),
)


@st.composite
def written(draw: st.DrawFn) -> tuple[str, str]:
    """A date-time in the grammar, as a file may write it, and as it is sent."""
    day = draw(days)
    if draw(st.booleans()):
        return day.isoformat(), day.isoformat()
    hour, minute = draw(st.integers(0, 23)), draw(st.integers(0, 59))
    second = draw(st.none() | st.integers(0, 59))
    fraction = draw(st.none() | st.text("0123456789", min_size=1, max_size=7)) if second is not None else None
    offset = draw(offsets)
    text = sent = f"{day.isoformat()}T{hour:02d}:{minute:02d}"
    text += "" if second is None else f":{second:02d}"
    sent += f":{second or 0:02d}"
    if fraction:
        text, sent = text + "." + fraction, sent + "." + fraction
    if offset == "Z":
        text, sent = text + "Z", sent + "Z"
    elif offset is not None:
        sign, hours, minutes, colon = offset
        text += f"{sign}{hours:02d}{':' if colon else ''}{minutes:02d}"
        sent += f"{sign}{hours:02d}:{minutes:02d}"
    return text, sent


@given(written())
def test_every_date_in_the_grammar_is_accepted_and_sent_normalised(pair: tuple[str, str]) -> None:
    text, sent = pair
    assert read(text) == sent
    assert read(sent) == sent  # normalised is a fixed point
    parsed = datetime.fromisoformat(sent)  # and what is sent is an ISO 8601 date-time Python reads too
    assert parsed.date().isoformat() == sent[:10]


def _near_misses(day: date, hour: int) -> list[str]:
    iso = day.isoformat()
    year, week, weekday = day.isocalendar()
    return [
        iso.replace("-", ""),  # 20240115
        f"{year:04d}-W{week:02d}", f"{year:04d}-W{week:02d}-{weekday}",  # ISO weeks
        f"{day.year:04d}-{day.timetuple().tm_yday:03d}",  # ordinal date
        iso + "Z", iso + "+01:00",  # an offset without a time
        f"{iso} {hour:02d}:39", f"{iso}t{hour:02d}:39", f"{iso}T{hour:02d}",  # space, lower t, no minutes
        f"{iso}T{hour:02d}:39:48.12345678",  # a fraction of 8 digits
        f"{iso}T{hour:02d}:39+15:00", f"{iso}T{hour:02d}:39+01:60",  # no such offset
        f"{iso}T24:00", f"{iso}T{hour:02d}:60",  # no such time
        f"{day.year:04d}-{day.month}-{day.day}" if day.month < 10 or day.day < 10 else iso + "x",
        iso[2:],  # a two-digit year
        f"{day.day:02d}.{day.month:02d}.{day.year:04d}",  # a layout that needs --date-format
        f"{day.year % 700 + 1000:04d}-01-{day.day:02d}",  # a real day, before the ledger's first
    ]


@given(days, st.integers(0, 23), st.data())
def test_near_misses_are_refused_naming_the_value_and_the_forms(day: date, hour: int, data: st.DataObject) -> None:
    text = data.draw(st.sampled_from(_near_misses(day, hour)))
    with pytest.raises(RecordError) as info:
        read(text)
    reason = str(info.value)
    assert repr(text) in reason
    assert FORMS in reason or "out of range" in reason or "not a valid date" in reason or "offset" in reason


@pytest.mark.parametrize("text", ["20240115", "2024-W03", "2024-01-15Z", "0001-01-01", "2024-01-31 09:39",
                                  "1752-12-31", "2024-02-30"])
def test_the_reported_forms_are_refused(text: str) -> None:
    with pytest.raises(RecordError):
        read(text)


def test_a_date_format_keeps_to_the_range_too() -> None:
    layout = coercer_for(DOCUMENT_DATE, CoerceOptions(date_format="%d.%m.%Y"))
    assert layout("15.01.2024") == "2024-01-15"
    with pytest.raises(RecordError, match="out of range: the API takes dates from 1753-01-01 to 9999-12-31"):
        layout("01.01.1200")


# -- the dry run refuses what the API would; the ledger holds only the rest -------------------

BAD = ["20240115", "2024-W03", "2024-01-15Z", "0001-01-01", "2024-01-31 09:39"]
GOOD = {"2024-01-15": "2024-01-15", "2024-01-16T09:30+0100": "2024-01-16T09:30:00+01:00"}


async def test_dates_outside_the_grammar_are_refused_in_the_dry_run_and_never_sent(sandbox, tmp_path):
    (tmp_path / "customers.csv").write_text("number,name\n10000,Fjord AS\n", encoding="utf-8")
    rows = [*GOOD, *BAD]
    csv = "referenceNumber,customerNumber,documentDate,line.description,line.quantity\n" + "".join(
        f"D-{i},10000,{value},x,1\n" for i, value in enumerate(rows, 1))
    path = tmp_path / "invoices.csv"
    path.write_text(csv, encoding="utf-8")
    common = ("--base-url", sandbox.url, "--token", TOKEN)
    code, out, err = await run_cli("run", str(path), "--entity", "invoice", "--dry-run", *common)
    assert code == 1 and "Traceback" not in err
    dry = {line["key"]: line for line in read_lines(tmp_path / "invoices.csv.dry-run.ndjson")}
    for i, value in enumerate(rows, 1):
        line = dry[f"D-{i}"]
        if value in GOOD:
            assert line["outcome"] == "valid" and line["payload"]["documentDate"] == {"value": GOOD[value]}
        else:
            assert line["outcome"] == "invalid"
            assert line["error"].startswith(f"record {i}: documentDate: {value!r} ")
            assert FORMS in line["error"] or "out of range: the API takes dates from 1753-01-01" in line["error"]
    assert await get_json(f"{sandbox.url}/sandbox/records/invoice") == []

    code, _, err = await run_cli("run", str(tmp_path / "customers.csv"), "--entity", "customer", *common)
    assert code == 0, err
    code, _, err = await run_cli("run", str(path), "--entity", "invoice", *common)
    assert code == 1 and "Traceback" not in err
    assert_one_final_line_per_record(tmp_path / "invoices.csv.results.ndjson", len(rows))
    stored = {r["referenceNumber"]: r for r in await get_json(f"{sandbox.url}/sandbox/records/invoice")}
    assert set(stored) == {"D-1", "D-2"}
    assert stored["D-1"]["documentDate"] == "2024-01-15"
    assert stored["D-2"]["documentDate"] == "2024-01-16T09:30:00+01:00"


# -- numbers given to the run -----------------------------------------------------------------

FLAGS = [
    (("--rate", "nan"), "argument --rate: 'nan' is not a finite number"),
    (("--rate", "Infinity"), "argument --rate: 'Infinity' is not a finite number"),
    (("--timeout", "nan"), "argument --timeout: 'nan' is not a finite number"),
    (("--timeout", "inf"), "argument --timeout: 'inf' is not a finite number"),
    (("--timeout", "0"), "argument --timeout: '0' is not above zero"),
    (("--concurrency", "nan"), "argument --concurrency/-c: invalid int value: 'nan'"),
    (("--concurrency", "0"), "--concurrency must be at least 1, not 0"),
    (("--max-attempts", "inf"), "argument --max-attempts: invalid int value: 'inf'"),
]


async def _refused(sandbox, tmp_path: Path, *args: str, env: dict[str, str] | None = None) -> str:
    """Run with ``args``: exit 2 naming the value, nothing sent, no file written."""
    path = tmp_path / "customers.csv"
    path.write_text("number,name\n1,A\n", encoding="utf-8")
    before = sorted(p.name for p in tmp_path.iterdir())
    code, out, err = await run_cli(*args, env=env, cwd=str(tmp_path))
    assert code == 2, (out, err)
    assert "internal error" not in err and "Traceback" not in err
    assert sorted(p.name for p in tmp_path.iterdir()) == before
    assert path.read_bytes() == b"number,name\n1,A\n"
    assert await get_json(f"{sandbox.url}/sandbox/records/customer") == []
    return err


@pytest.mark.parametrize(("flag", "message"), FLAGS)
async def test_nan_and_infinity_are_refused_in_every_numeric_flag(sandbox, tmp_path, flag, message):
    err = await _refused(sandbox, tmp_path, "run", "customers.csv", "--entity", "customer",
                         "--base-url", sandbox.url, "--token", TOKEN, *flag)
    assert message in err


async def test_nan_and_infinity_are_refused_from_the_environment_a_config_file_and_a_plan(sandbox, tmp_path):
    base = ("--base-url", sandbox.url, "--token", TOKEN)
    err = await _refused(sandbox, tmp_path, "run", "customers.csv", "--entity", "customer", *base,
                         env={"IMPORTER_TIMEOUT": "nan"})
    assert "IMPORTER_TIMEOUT='nan' is not a valid value" in err

    (tmp_path / "importer.toml").write_text("timeout = nan\n", encoding="utf-8")
    err = await _refused(sandbox, tmp_path, "run", "customers.csv", "--entity", "customer", *base)
    assert "--timeout must be a finite number, not nan" in err
    (tmp_path / "importer.toml").write_text("rate = true\n", encoding="utf-8")
    err = await _refused(sandbox, tmp_path, "run", "customers.csv", "--entity", "customer", *base)
    assert "a value has the wrong type: --rate takes a number, not True" in err
    (tmp_path / "importer.toml").unlink()

    plan = tmp_path / "plan.toml"
    plan.write_text('[defaults]\nrate = inf\n[[step]]\ninput = "customers.csv"\nentity = "customer"\n',
                    encoding="utf-8")
    err = await _refused(sandbox, tmp_path, "plan", "plan.toml", *base)
    assert "--rate must be a finite number, not inf" in err

    plan.unlink()
    (tmp_path / "fleet.toml").write_text(
        '[defaults]\ntimeout = -inf\n[[company]]\nname = "acme"\ntenant_id = "1"\ntoken_env = "ACME_TOKEN"\n'
        '[[company.step]]\ninput = "customers.csv"\nentity = "customer"\n', encoding="utf-8")
    err = await _refused(sandbox, tmp_path, "fleet", "fleet.toml", "--dry-run", env={"ACME_TOKEN": TOKEN})
    assert "--timeout must be a finite number, not -inf" in err
