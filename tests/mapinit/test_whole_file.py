"""``map init`` reads the whole file: late values get their value maps, late dates decide the
layout, a column of too many values is named as such, and memory stays flat as the file grows."""

from __future__ import annotations

import tracemalloc
from pathlib import Path

import pytest

import importer
from importer.entities import ENTITIES
from importer.mapinit.scan import DISTINCT_CAP
from importer.mapinit.skeleton import render, suggest_map
from importer.mapping.mapfile import load_map
from tests.support.runs import TOKEN, get_json, run_cli

HEADER = "Kundenr;Navn;Land;Status;Kredittgrense;E-post\n"


def _customer(number: int, country: str = "Norge", status: str = "Aktiv") -> str:
    return f"{number};Kunde {number} AS;{country};{status};{number % 997} 000,{number % 100:02d};k{number}@example.no\n"


def _customers(path: Path, rows: int, late: dict[int, str] | None = None) -> Path:
    """``rows`` Norwegian customers, active; the rows in ``late`` written as given."""
    late = late or {}
    with path.open("w", encoding="utf-8") as f:
        f.write(HEADER)
        for n in range(1, rows + 1):
            f.write(late.get(n) or _customer(n))
    return path


@pytest.mark.one_profile  # what it checks is decided before anything is sent
async def test_a_value_first_written_at_row_5000_gets_its_value_map(start_sandbox, tmp_path):
    source = _customers(tmp_path / "kunder.csv", 5000, {5000: _customer(5000, "Sverige", "Sperret")})
    out = tmp_path / "kunder.map.toml"
    code, _, err = await run_cli("map", "init", str(source), "--entity", "customer", "-o", str(out))
    assert code == 0 and "Traceback" not in err, err
    text = out.read_text(encoding="utf-8")
    assert "its 5000 rows" in text
    assert 'Sverige = "SE"' in text and 'Sperret = "OnHold"' in text

    # The map as written imports that last record as the ledger should hold it.
    tail = tmp_path / "tail.csv"
    tail.write_text(HEADER + _customer(4999) + _customer(5000, "Sverige", "Sperret"), encoding="utf-8")
    async with start_sandbox(company=None) as sandbox:
        summary = await importer.import_records(tail, entity="customer", base_url=sandbox.url, token=TOKEN,
                                                map=str(out), results=str(tmp_path / "tail.results.ndjson"))
        assert summary.outcomes["created"] == 2, summary.to_dict()
        stored = {c["number"]: c for c in await get_json(f"{sandbox.url}/sandbox/records/customer")}
    assert (stored["5000"]["mainAddress"]["countryId"], stored["5000"]["status"]) == ("SE", "OnHold")
    assert (stored["4999"]["mainAddress"]["countryId"], stored["4999"]["status"]) == ("NO", "Active")
    assert stored["5000"]["creditLimit"] == 15000.0  # 15 000,00: the decimal comma read from the file


def test_a_late_date_decides_the_layout(tmp_path):
    """Days of 12 or less read either way; the 25th of December at row 4,000 says which."""
    path = tmp_path / "fakturaer.csv"
    with path.open("w", encoding="utf-8") as f:
        f.write("Fakturanr,Kundenr,Fakturadato,Pris\n")
        for n in range(1, 4001):
            day = "25/12/2024" if n == 4000 else f"{1 + n % 12:02d}/{1 + n % 12:02d}/2024"
            f.write(f"{n},1,{day},10.50\n")
    skeleton = suggest_map(path, ENTITIES["invoice"])
    assert skeleton.date_format == "%d/%m/%Y" and skeleton.todos == []
    assert skeleton.decimal_comma is False


def test_a_column_of_more_distinct_values_than_the_cap_gets_no_value_map_and_the_map_says_so(tmp_path):
    crowded = DISTINCT_CAP + 50
    late = {n: _customer(n, f"Landet {n}", "Sperret" if n == crowded else "Aktiv") for n in range(1, crowded + 1)}
    path = _customers(tmp_path / "kunder.csv", crowded, late)
    skeleton = suggest_map(path, ENTITIES["customer"])
    assert {v.api for v in skeleton.values} == {"status"}  # a few values: still mapped
    assert skeleton.crowded == {"mainAddress.countryId": ("Land", DISTINCT_CAP + 1)}  # the first value past the cap
    text = render(skeleton, "kunder.map.toml")
    assert '[values."mainAddress.countryId"]' not in text.replace("# [values", "")
    assert (f'# [values."mainAddress.countryId"]   # not proposed: Land has more than {DISTINCT_CAP} distinct '
            f"values (past that at row {DISTINCT_CAP + 1})") in text
    assert "Navn" not in "".join(line for line in text.splitlines() if "not proposed" in line)  # names: no candidate
    (tmp_path / "kunder.map.toml").write_text(text, encoding="utf-8")
    cmap = load_map(tmp_path / "kunder.map.toml", "customer")
    assert "mainAddress.countryId" not in cmap.values and cmap.values["status"].table["sperret"] == "OnHold"


def _peak(path: Path) -> tuple[int, int]:
    tracemalloc.start()
    try:
        skeleton = suggest_map(path, ENTITIES["customer"])
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return peak, skeleton.sampled


def test_memory_does_not_grow_with_the_file(tmp_path):
    """Distinct names, e-mail addresses and amounts on every row: what is kept of them is capped."""
    small, small_rows = _peak(_customers(tmp_path / "small.csv", 1000))
    large, large_rows = _peak(_customers(tmp_path / "large.csv", 25_000, {24_999: _customer(24_999, "Danmark")}))
    assert (small_rows, large_rows) == (1000, 25_000)
    assert large < 3 * 1024 * 1024, large
    assert large - small < 512 * 1024, (small, large)
