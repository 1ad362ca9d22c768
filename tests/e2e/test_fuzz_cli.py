"""No traceback, anywhere: random files and random option values through the CLI.

Each example writes a real file and runs ``importer run ... --dry-run`` in this
process (a subprocess per example would take minutes). For every input: no
traceback and no internal error, exit 0, 1 or 2, and when the run ran (0 or 1), one
final results line per record read.
"""

from __future__ import annotations

import contextlib
import io
import os
import tempfile

import orjson
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from importer.cli import main

SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])

COLUMNS = ["number", "name", "creditLimit", "numberOfEmployees", "mainAddress.city", "currencyId",
           "status", "error", "documentKey", "nosuch"]
DELIMITERS = [",", ";", "\t", "|"]
CELL = st.text(alphabet=st.characters(codec="utf-8", exclude_characters="\x00"), max_size=12) | st.sampled_from(
    ["25.000", "1.250.000,00", "(500,00)", "500,00-", "12,345.67", "=HYPERLINK(\"x\")", "'=x", "", " ", "1e5",
     "nan", "2024-02-31", "31.02.2024", "C1", "Åse Øvrebø"])
OPTIONS = st.lists(st.sampled_from([
    ["--decimal-comma"], ["--no-decimal-comma"], ["--date-format", "%d.%m.%Y"], ["--date-format", "dd.mm.yyyy"],
    ["--date-format", "%Q"], ["--encoding", "cp1252"], ["--encoding", "utf-16"], ["--encoding", "nosuch"],
    ["--max-field-size", "8"], ["--max-field-size", "0"], ["--max-field-size", "-1"], ["--delimiter", ";"],
    ["--delimiter", "ab"], ["--mode", "update"], ["--mode", "upsert"], ["--format", "ndjson"],
    ["--concurrency", "0"], ["--entity", "invoice"], ["--entity", "dunning-letter"],
]), max_size=3)


def run_cli(data: bytes, suffix: str, extra: list[list[str]]) -> tuple[int, str, str]:
    with tempfile.TemporaryDirectory(prefix="fuzz-") as folder:
        return _run_in(folder, data, suffix, extra)


def _run_in(folder: str, data: bytes, suffix: str, extra: list[list[str]]) -> tuple[int, str, str]:
    path = os.path.join(folder, f"input{suffix}")
    with open(path, "wb") as f:
        f.write(data)
    summary = os.path.join(folder, "summary.json")
    argv = ["run", path, "--dry-run", "--summary-json", summary]
    entity = ["--entity", "customer"]
    for option in extra:
        if option[0] == "--entity":
            entity = option
        else:
            argv += option
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main(argv + entity)
        except SystemExit as exc:  # argparse: a usage error
            code = exc.code if isinstance(exc.code, int) else 2
    text = out.getvalue() + err.getvalue()
    assert "Traceback" not in text and "internal error" not in text, text
    assert code in (0, 1, 2), (code, text)
    if code in (0, 1) and os.path.exists(summary):
        records = orjson.loads(open(summary, "rb").read())["records"]
        results = path + ".dry-run.ndjson"
        finals = [orjson.loads(x) for x in open(results, "rb").read().splitlines()] if os.path.exists(results) else []
        seen = sorted(r for line in finals if line["outcome"] not in ("started", "unsent") for r in line["records"])
        assert seen == list(range(1, records + 1)), (seen, records, text)
    return code, out.getvalue(), err.getvalue()


@SETTINGS
@given(data=st.binary(max_size=400), suffix=st.sampled_from([".csv", ".ndjson", ".csv.gz", ".txt"]),
       extra=OPTIONS)
def test_random_bytes(data, suffix, extra):
    run_cli(data, suffix, extra)


@st.composite
def csv_files(draw) -> bytes:
    delimiter = draw(st.sampled_from(DELIMITERS))
    end = draw(st.sampled_from(["\n", "\r\n", "\r"]))
    header = draw(st.lists(st.sampled_from(COLUMNS), min_size=1, max_size=5))
    rows = draw(st.lists(st.lists(CELL, min_size=0, max_size=len(header) + 1), max_size=6))

    def cell(text: str) -> str:
        if draw(st.booleans()) or any(c in text for c in (delimiter, '"', "\n", "\r")):
            return '"' + text.replace('"', '""') + '"'
        return text

    lines = [delimiter.join(header)] + [delimiter.join(cell(c) for c in row) for row in rows]
    encoding = draw(st.sampled_from(["utf-8", "utf-8-sig", "cp1252"]))
    return end.join(lines).encode(encoding, "replace") + (end.encode() if draw(st.booleans()) else b"")


@SETTINGS
@given(data=csv_files(), extra=OPTIONS)
def test_random_csv(data, extra):
    run_cli(data, ".csv", extra)


JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**63), 2**63 - 1) | st.floats(allow_nan=False) | CELL,
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.sampled_from(COLUMNS + ["x"]), children,
                                                                       max_size=3),
    max_leaves=10,
)


@SETTINGS
@given(records=st.lists(st.dictionaries(st.sampled_from(COLUMNS), JSON, max_size=5) | JSON, max_size=5),
       extra=OPTIONS)
def test_random_ndjson(records, extra):
    data = b"".join(orjson.dumps(r) + b"\n" for r in records)
    run_cli(data, ".ndjson", extra)


def test_deep_nesting_is_one_invalid_record():
    deep = b"[" * 300 + b"]" * 300
    data = b'{"number": "C1", "name": "A"}\n{"number": "C2", "name": ' + deep + b"}\n"
    code, out, err = run_cli(data, ".ndjson", [])
    assert code == 1
