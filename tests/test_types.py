"""Types that guard the seams: typed keyword options, a typed package, keys that are text,
and an exception hierarchy in which every exported error is one the importer raises."""

from __future__ import annotations

import asyncio
import dataclasses
import inspect
import re
import subprocess
import sys
import sysconfig
import textwrap
import typing
from pathlib import Path

import pytest

import importer
from importer.api import ImportRecordsKwargs
from importer.options import GROUPS, OPTION_NAMES, ImportOptions, ImportOptionsKwargs
from importer.vocabulary import ACTIONS, EVENTS, LOAD_STATES, MODES, OUTCOMES
from tests.support.hostile_server import created, error, hostile
from tests.support.runs import ROOT, TOKEN, get_json, read_lines

# -- keyword options ---------------------------------------------------------------------


def test_import_records_keywords_are_the_fields_of_import_options() -> None:
    # The TypedDict a type checker holds import_records(**options) to is ImportOptions' groups,
    # field for field and type for type: an option added to one and not the other fails here.
    fields = {"mode": typing.get_type_hints(ImportOptions)["mode"]}
    for attr, group, prefix in GROUPS:
        fields |= {prefix + name: hint for name, hint in typing.get_type_hints(group).items()
                   if prefix + name in OPTION_NAMES}
    assert typing.get_type_hints(ImportOptionsKwargs) == fields
    assert list(OPTION_NAMES) == list(ImportOptionsKwargs.__annotations__)
    assert [f.name for f in dataclasses.fields(ImportOptions)][2:] == [attr for attr, _, _ in GROUPS]


def test_import_records_sync_takes_what_import_records_takes() -> None:
    hints = typing.get_type_hints(importer.import_records)
    own = {name for name, p in inspect.signature(importer.import_records).parameters.items()
           if p.kind is p.KEYWORD_ONLY and name != "entity"}
    kwargs = typing.get_type_hints(ImportRecordsKwargs)
    assert set(kwargs) == own | set(ImportOptionsKwargs.__annotations__)
    assert {name: kwargs[name] for name in own} == {name: hints[name] for name in own}


def test_the_words_on_disk_are_the_ones_files_already_hold() -> None:
    # Results files, summaries and state are read back by older and newer versions alike.
    assert OUTCOMES == ("created", "updated", "done", "renamed", "queued", "failed", "invalid", "skipped", "valid")
    assert EVENTS == {"started", "unsent"}
    assert ACTIONS == ("create", "update", "action", "release")
    assert LOAD_STATES == ("success", "failed", "invalid", "started", "skipped", "queued")
    assert MODES == ("create", "update", "upsert")


# -- a typed package ---------------------------------------------------------------------

_GOOD = """
    import importer

    summary: importer.Summary = importer.import_records_sync(
        "c.csv", entity="customer", base_url="http://127.0.0.1:1", token="t", concurrency=4, mode="upsert")
"""
_BAD = """
    import importer

    importer.import_records_sync("c.csv", entity="customer", concurency=4)
    importer.import_records_sync("c.csv", entity="customer", mode="insert")
"""


def _installed_as_users_have_it(tmp_path: Path) -> Path:
    """A virtual environment in which ``importer`` is an installed package, as a user's is:
    on the path through a ``.pth`` file, its sources not in the checked directory. The
    packages it needs are those of this interpreter."""
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=60)
    python = venv / "bin" / "python"
    site = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                          check=True, capture_output=True, text=True, timeout=30).stdout.strip()
    Path(site, "importer-under-test.pth").write_text(f"{ROOT}\n{sysconfig.get_paths()['purelib']}\n")
    return python


def test_importer_is_typed_for_its_users(tmp_path: Path) -> None:
    pytest.importorskip("mypy", reason="mypy is in the test extras (make test installs it)")
    assert (ROOT / "importer" / "py.typed").is_file()
    assert '"py.typed"' in (ROOT / "pyproject.toml").read_text()  # shipped in the wheel
    python = _installed_as_users_have_it(tmp_path)
    checks = tmp_path / "checks"
    checks.mkdir()
    (checks / "good.py").write_text(textwrap.dedent(_GOOD))
    (checks / "bad.py").write_text(textwrap.dedent(_BAD))
    done = subprocess.run(
        [sys.executable, "-m", "mypy", "--python-executable", str(python), "--no-error-summary",
         "--cache-dir", str(tmp_path / "cache"), "good.py", "bad.py"],
        cwd=checks, capture_output=True, text=True, timeout=300,
    )
    out = done.stdout + done.stderr
    assert "py.typed" not in out and "import-untyped" not in out and "import-not-found" not in out, out
    assert not re.search(r"^good\.py", out, re.M), out
    assert re.search(r'^bad\.py:4: error: Unexpected keyword argument "concurency"', out, re.M), out
    assert re.search(r'^bad\.py:5: error: Argument "mode" .* "Literal\[\'insert\'\]"', out, re.M), out
    assert done.returncode == 1


# -- the exception hierarchy -------------------------------------------------------------

_EXPORTED_ERRORS = [getattr(importer, name) for name in importer.__all__
                    if isinstance(getattr(importer, name), type) and issubclass(getattr(importer, name), Exception)]


def _raised_in_the_package(name: str) -> list[str]:
    """The places in importer/ that raise ``name`` (or make it, to be raised by a caller)."""
    pattern = re.compile(rf"\b(raise|return)\s+{name}\(")
    return [f"{path.relative_to(ROOT)}:{n}" for path in sorted((ROOT / "importer").rglob("*.py"))
            for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1) if pattern.search(line)]


@pytest.mark.parametrize("error_class", _EXPORTED_ERRORS, ids=lambda c: c.__name__)
def test_every_exported_error_is_an_importer_error_the_importer_raises(error_class: type) -> None:
    assert issubclass(error_class, importer.ImporterError)
    assert _raised_in_the_package(error_class.__name__), f"nothing in importer/ raises {error_class.__name__}"
    assert error_class.__name__ in (importer.errors.__doc__ or "")  # in the documented tree
    assert error_class.__module__ == "importer.errors"


def test_every_error_of_the_hierarchy_is_exported() -> None:
    assert set(importer.errors.__all__) <= set(importer.__all__)
    assert {c.__name__ for c in _EXPORTED_ERRORS} == set(importer.errors.__all__)


async def test_a_bad_header_is_an_unknown_column_error_and_nothing_is_sent(sandbox, tmp_path) -> None:
    path = tmp_path / "c.csv"
    path.write_text("number,nmae,colour\n1,A,red\n", encoding="utf-8")
    with pytest.raises(importer.UnknownColumnError) as info:
        await importer.import_records(path, entity="customer", base_url=sandbox.url, token=TOKEN)
    assert isinstance(info.value, importer.UnknownColumnsError)
    assert info.value.columns == ["nmae", "colour"]
    assert (info.value.column, info.value.suggestion) == ("nmae", "name")
    assert await get_json(f"{sandbox.url}/sandbox/records/customer") == []


async def test_an_upsert_that_cannot_list_the_keys_raises_api_error_before_any_write(tmp_path) -> None:
    path = tmp_path / "c.csv"
    path.write_text("number,name\n1,A\n2,B\n", encoding="utf-8")
    async with hostile({"GET /v1/customer": error(500, "the database is away"),
                        "* /v1/customer*": created()}) as server:
        with pytest.raises(importer.ApiError) as info:
            await importer.import_records(path, entity="customer", mode="upsert", base_url=server.url,
                                          token=TOKEN, max_attempts=1, retry_base=0)
        assert server.count("POST") == 0 and server.count("PUT") == 0  # nothing reached the ledger
    assert info.value.status == 500
    assert str(info.value).startswith("upsert: cannot list the existing customer keys: page 1: HTTP 500")
    assert "the database is away" in str(info.value)


# -- keys are text -----------------------------------------------------------------------


async def test_a_key_that_is_not_text_makes_its_record_invalid(sandbox, tmp_path) -> None:
    await importer.import_records([{"number": "10000", "name": "A"}, {"number": "10003", "name": "B"}],
                                  entity="customer", base_url=sandbox.url, token=TOKEN)
    letter = {"dunningLetterDate": "2020-01-21", "levelFrom": 1, "levelTo": 2}
    records = [{"customerNumber": {"value": 10000}, **letter}, {"customerNumber": {"value": ["10000"]}, **letter},
               {"customerNumber": {"value": True}, **letter}, {"customerNumber": {"value": "10003"}, **letter}]
    results = tmp_path / "d.results.ndjson"
    summary = await importer.import_records(records, entity="dunning-letter", base_url=sandbox.url, token=TOKEN,
                                            results=str(results))
    await asyncio.sleep(0.3)  # the live profile finishes a queued letter a moment later
    finals = {line["records"][0]: line for line in read_lines(results) if line["outcome"] != "started"}
    assert sorted(finals) == [1, 2, 3, 4]
    for number, kind in ((1, "a JSON number (10000)"), (2, "a JSON array"), (3, "a JSON boolean (true)")):
        assert finals[number]["outcome"] == "invalid" and finals[number]["key"] is None
        assert finals[number]["error"] == f"customerNumber: the key takes text, not {kind}"
    assert finals[4]["outcome"] in ("done", "queued") and finals[4]["key"] == "10003"
    letters = await get_json(f"{sandbox.url}/sandbox/records/dunning-letter")
    assert [letter["customerNumber"] for letter in letters] == ["10003"]
    assert summary.outcomes["invalid"] == 3
